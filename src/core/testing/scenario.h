// The scenario fixture of the engine's rule tests (engine_test.cc,
// accounts_test.cc): commands go in through short verbs, and the test states
// the exact events of the last command with the expected-event makers below.
//
// Every command gets the next seq and the fixture's clock, which starts at
// kScenarioT0 (a whole second) and moves on by 1 µs per command unless a test
// sets it with at(). In accounts mode the ledger is checked after every
// command; every test ends with check_invariants() (and check_ledger()).
//
// Orders are account 1 on the fixture's instrument (inst_) unless changed:
// limit(kBuy, 10000, 5).account(2).tif(TimeInForce::kGtc).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/engine.h"

namespace stox::testing {

inline constexpr Timestamp kScenarioT0 = 1'700'000'000LL * 1'000'000'000LL;

using Levels = std::vector<std::tuple<Price, Quantity, std::uint32_t>>;

// to_string() plus the fields it leaves out, so a failure shows everything
// operator== compares.
inline std::string describe(const Event& e) {
  std::ostringstream s;
  s << to_string(e) << " ts=" << e.timestamp;
  switch (e.type) {
    case EventType::kRejected:
      s << " cmd=" << int(e.rejected.command) << " reason#=" << int(e.rejected.reason)
        << " acct=" << e.rejected.account << " order=" << e.rejected.order_id
        << " clid=" << e.rejected.client_order_id.view();
      break;
    case EventType::kCancelled:
      s << " instr=" << e.cancelled.instrument;
      break;
    case EventType::kReduced:
      s << " acct=" << e.reduced.account << " instr=" << e.reduced.instrument;
      break;
    case EventType::kReplaced:
      s << " acct=" << e.replaced.account << " instr=" << e.replaced.instrument;
      break;
    case EventType::kStopTriggered:
      s << " acct=" << e.stop_triggered.account << " instr=" << e.stop_triggered.instrument;
      break;
    case EventType::kSettled:
      s << " instr=" << e.settled.instrument;
      break;
    case EventType::kInstrumentAdded: {
      const AddInstrument& a = e.instrument_added.spec;
      s << " tick=" << a.tick_size << " lot=" << a.lot_size << " ref=" << a.reference_price
        << " band=" << a.market_band_bps << " pscale=" << int(a.price_scale)
        << " qscale=" << int(a.quantity_scale) << " maker=" << a.maker_fee_bps
        << " taker=" << a.taker_fee_bps;
      break;
    }
    default:
      break;
  }
  return s.str();
}

// A NewOrder under construction: limit(...).account(2).tif(...).
struct OrderBuilder {
  NewOrder o{};

  OrderBuilder& account(AccountId a) { o.account = a; return *this; }
  OrderBuilder& on(InstrumentId i) { o.instrument = i; return *this; }
  OrderBuilder& tif(TimeInForce t) { o.time_in_force = t; return *this; }
  OrderBuilder& stp(StpMode m) { o.stp = m; return *this; }
  OrderBuilder& display(Quantity d) { o.display_quantity = d; return *this; }
  OrderBuilder& post_only() { o.post_only = true; return *this; }
  OrderBuilder& clid(std::string_view c) { o.client_order_id = ClientOrderId::from(c); return *this; }
  OrderBuilder& price(Price p) { o.price = p; return *this; }
  OrderBuilder& stop_price(Price p) { o.stop_price = p; return *this; }
  OrderBuilder& quantity(Quantity q) { o.quantity = q; return *this; }
  OrderBuilder& quote(Amount cash) { o.quote_quantity = cash; return *this; }
  OrderBuilder& side(Side s) { o.side = s; return *this; }
  OrderBuilder& type(OrderType t) { o.type = t; return *this; }
  operator NewOrder() const { return o; }  // NOLINT: implicit on purpose, reads as a script
};

class Scenario : public ::testing::Test {
 protected:
  explicit Scenario(const EngineConfig& config) : accounts_(config.accounts), engine_(config) {}

  void TearDown() override {
    if (accounts_) {
      EXPECT_EQ(engine_.check_ledger(), "");
    }
    EXPECT_EQ(engine_.check_invariants(), "");
  }

  // --- commands --------------------------------------------------------

  template <class Make>
  const std::vector<Event>& run(Make make) {
    events_.clear();
    ++seq_;
    ts_ = now_;
    now_ += 1000;
    engine_.apply(make(seq_, ts_), events_);
    if (accounts_) {
      EXPECT_EQ(engine_.check_ledger(), "") << "after command #" << seq_;
    }
    return events_;
  }
  template <class Body>
  const std::vector<Event>& apply(const Body& body) {
    return run([&](SeqNo s, Timestamp t) { return Command::make(s, t, body); });
  }
  void at(Timestamp t) { now_ = t; }

  // Returns the order's id if accepted, else 0. (A resume after a circuit
  // breaker halt puts its own events before the Accepted.)
  OrderId send(const NewOrder& o) {
    apply(o);
    for (const Event& e : events_) {
      if (e.type == EventType::kRejected) return 0;
      if (e.type == EventType::kAccepted) {
        sent_[e.accepted.order_id] = o;
        return e.accepted.order_id;
      }
    }
    return 0;
  }
  InstrumentId add(const AddInstrument& a) {
    apply(a);
    if (events_.size() != 1 || events_[0].type != EventType::kInstrumentAdded) return 0;
    return events_[0].instrument_added.instrument;
  }
  void cancel(AccountId account, OrderId id) { apply(Cancel{account, id}); }
  void replace(AccountId account, OrderId id, Quantity quantity, Price price = 0,
               Price stop_price = 0) {
    apply(Replace{account, id, quantity, price, stop_price});
  }
  void mass_cancel(AccountId account, InstrumentId instrument) {
    apply(MassCancel{account, instrument});
  }
  void end_of_day() { apply(EndOfDay{}); }
  void set_status(InstrumentId instrument, InstrumentStatus status) {
    apply(SetInstrumentStatus{instrument, status});
  }

  // --- orders (account 1 on the fixture's instrument unless changed) ------

  OrderBuilder base(Side side, OrderType type, TimeInForce tif) const {
    OrderBuilder b;
    b.o.account = 1;
    b.o.instrument = inst_;
    b.o.side = side;
    b.o.type = type;
    b.o.time_in_force = tif;
    b.o.stp = StpMode::kCancelTaker;
    return b;
  }
  OrderBuilder limit(Side side, Price price, Quantity qty) const {
    return base(side, OrderType::kLimit, TimeInForce::kDay).price(price).quantity(qty);
  }
  OrderBuilder market(Side side, Quantity qty) const {
    return base(side, OrderType::kMarket, TimeInForce::kIoc).quantity(qty);
  }
  OrderBuilder stop(Side side, Price stop_price, Quantity qty) const {
    return base(side, OrderType::kStop, TimeInForce::kDay).stop_price(stop_price).quantity(qty);
  }
  OrderBuilder stop_limit(Side side, Price stop_price, Price price, Quantity qty) const {
    return base(side, OrderType::kStopLimit, TimeInForce::kDay)
        .stop_price(stop_price)
        .price(price)
        .quantity(qty);
  }
  OrderBuilder quote_buy(Amount cash) const {
    return base(Side::kBuy, OrderType::kMarket, TimeInForce::kIoc).quote(cash);
  }

  // --- expected events, stamped with the last command's seq and time -----

  Event stamp(EventType t) const {
    Event e;
    e.seq = seq_;
    e.timestamp = ts_;
    e.type = t;
    return e;
  }
  const NewOrder& known(OrderId id) const { return sent_.at(id); }

  Event accepted(OrderId id) const {
    Event e = stamp(EventType::kAccepted);
    e.accepted = AcceptedEvent{id, known(id)};
    return e;
  }
  Event rejected(CommandType command, RejectReason reason, AccountId account, OrderId id = 0,
                 std::string_view clid = {}) const {
    Event e = stamp(EventType::kRejected);
    // from() of a default string_view would memcpy from a null pointer.
    const ClientOrderId c = clid.empty() ? ClientOrderId{} : ClientOrderId::from(clid);
    e.rejected = RejectedEvent{command, reason, account, id, c};
    return e;
  }
  Event order_rejected(const NewOrder& o, RejectReason reason) const {
    Event e = stamp(EventType::kRejected);
    e.rejected = RejectedEvent{CommandType::kNewOrder, reason, o.account, 0, o.client_order_id};
    return e;
  }
  Event trade(TradeId id, OrderId maker, OrderId taker, Price price, Quantity qty,
              Quantity maker_leaves, Quantity taker_leaves) const {
    Event e = stamp(EventType::kTrade);
    const NewOrder& m = known(maker);
    const NewOrder& t = known(taker);
    e.trade = TradeEvent{id,    t.instrument, t.side,    price,        qty,         maker,
                         taker, m.account,    t.account, maker_leaves, taker_leaves};
    return e;
  }
  Event settled(TradeId id, InstrumentId inst, AccountId buyer, AccountId seller, Quantity qty,
                Amount notional, Amount buyer_fee, Amount seller_fee) const {
    Event e = stamp(EventType::kSettled);
    e.settled = SettledEvent{id, inst, buyer, seller, qty, notional, buyer_fee, seller_fee};
    return e;
  }
  Event cancelled(OrderId id, CancelReason reason, Quantity leaves) const {
    Event e = stamp(EventType::kCancelled);
    e.cancelled = CancelledEvent{id, known(id).account, known(id).instrument, reason, leaves};
    return e;
  }
  Event reduced(OrderId id, Quantity by, Quantity leaves) const {
    Event e = stamp(EventType::kReduced);
    e.reduced = ReducedEvent{id, known(id).account, known(id).instrument, by, leaves};
    return e;
  }
  Event replaced(OrderId id, Price price, Price stop_price, Quantity qty, Quantity leaves,
                 bool kept_priority) const {
    Event e = stamp(EventType::kReplaced);
    e.replaced = ReplacedEvent{id,  known(id).account, known(id).instrument, price, stop_price,
                               qty, leaves,            kept_priority};
    return e;
  }
  Event triggered(OrderId id, Price last) const {
    Event e = stamp(EventType::kStopTriggered);
    e.stop_triggered = StopTriggeredEvent{id, known(id).account, known(id).instrument, last};
    return e;
  }
  Event level_on(InstrumentId inst, Side side, Price price, Quantity qty,
                 std::uint32_t count) const {
    Event e = stamp(EventType::kBookLevel);
    e.book_level = BookLevelEvent{inst, side, price, qty, count};
    return e;
  }
  Event level(Side side, Price price, Quantity qty, std::uint32_t count) const {
    return level_on(inst_, side, price, qty, count);
  }
  Event mass_cancelled(AccountId account, InstrumentId inst, std::uint32_t count) const {
    Event e = stamp(EventType::kMassCancelled);
    e.mass_cancelled = MassCancelledEvent{account, inst, count};
    return e;
  }
  Event day_ended(std::uint32_t expired) const {
    Event e = stamp(EventType::kDayEnded);
    e.day_ended = DayEndedEvent{expired};
    return e;
  }
  // A band of 0 is resolved to the engine default (500 bps), as the engine does.
  Event instrument_added(InstrumentId id, AddInstrument resolved) const {
    if (resolved.market_band_bps == 0) resolved.market_band_bps = 500;
    Event e = stamp(EventType::kInstrumentAdded);
    e.instrument_added = InstrumentAddedEvent{id, resolved};
    return e;
  }
  Event status_changed(InstrumentId id, InstrumentStatus status) const {
    Event e = stamp(EventType::kInstrumentStatus);
    e.instrument_status = InstrumentStatusEvent{id, status};
    return e;
  }
  Event account_created(AccountId id, std::string_view label) const {
    Event e = stamp(EventType::kAccountCreated);
    e.account_created = AccountCreatedEvent{id, CreateAccount{FixedString<16>::from(label),
                                                              AccountType::kCash}};
    return e;
  }
  Event transferred(CommandType kind, AccountId account, AssetId asset, Amount amount,
                    Amount total_after) const {
    Event e = stamp(EventType::kTransferred);
    e.transferred = TransferredEvent{kind, account, asset, amount, total_after};
    return e;
  }
  Event limits_set(CommandType command, std::uint32_t target) const {
    Event e = stamp(EventType::kLimitsSet);
    e.limits_set = LimitsSetEvent{command, target};
    return e;
  }
  Event kill_switch(AccountId account, bool enabled, std::uint32_t count) const {
    Event e = stamp(EventType::kKillSwitch);
    e.kill_switch = KillSwitchEvent{account, enabled, count};
    return e;
  }

  // --- assertions ------------------------------------------------------

  ::testing::AssertionResult events_are(const std::vector<Event>& expected) const {
    bool same = expected.size() == events_.size();
    for (std::size_t i = 0; same && i < expected.size(); ++i) same = expected[i] == events_[i];
    if (same) return ::testing::AssertionSuccess();
    ::testing::AssertionResult r = ::testing::AssertionFailure();
    r << "events of command #" << seq_ << " differ\n  expected:\n";
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const bool differs = i >= events_.size() || !(expected[i] == events_[i]);
      r << (differs ? "  > " : "    ") << describe(expected[i]) << "\n";
    }
    r << "  actual:\n";
    for (std::size_t i = 0; i < events_.size(); ++i) {
      const bool differs = i >= expected.size() || !(expected[i] == events_[i]);
      r << (differs ? "  > " : "    ") << describe(events_[i]) << "\n";
    }
    return r;
  }

  // Sends `o` and expects it to be rejected alone with `reason`.
  ::testing::AssertionResult rejects(const NewOrder& o, RejectReason reason) {
    const OrderId id = send(o);
    if (id != 0) {
      return ::testing::AssertionFailure()
             << "expected " << to_string(reason) << " but accepted as order " << id;
    }
    return events_are({order_rejected(o, reason)});
  }

  Levels depth(Side side, InstrumentId inst = 0) const {
    Levels out;
    for (const LevelView& l : engine_.depth(inst == 0 ? inst_ : inst, side, 1000)) {
      out.emplace_back(l.price, l.quantity, l.count);
    }
    return out;
  }
  Levels bids(InstrumentId inst = 0) const { return depth(Side::kBuy, inst); }
  Levels asks(InstrumentId inst = 0) const { return depth(Side::kSell, inst); }

  const bool accounts_;
  Engine engine_;
  std::vector<Event> events_;  // the events of the last command
  SeqNo seq_ = 0;
  Timestamp now_ = kScenarioT0;
  Timestamp ts_ = 0;  // of the last command
  InstrumentId inst_ = 0;
  std::map<OrderId, NewOrder> sent_;  // accepted orders, as sent
};

#define EXPECT_EVENTS(...) EXPECT_TRUE(events_are({__VA_ARGS__}))

}  // namespace stox::testing
