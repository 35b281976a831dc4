// Adversarial tests of the accounts mode (docs/design.md, "Accounts, ledger
// and risk"): every way we could think of to overdraw cash or oversell shares,
// first as a seeded random storm over ~50 small accounts, then as scripted
// attacks with exact expectations.
//
// After EVERY command the harness checks, independently of the engine's own
// bookkeeping where it can:
//  - check_ledger() and check_invariants() are empty;
//  - every balance (accounts, fee account) has total >= 0, held >= 0,
//    available >= 0 and available == total - held;
//  - every total equals a shadow ledger replayed from the Transferred and
//    Settled events alone, and each asset sums to zero over all accounts;
//  - every held amount equals the sum of the requirements of the account's
//    open orders, recomputed here from the spec's formulas and the order views;
//  - every Trade has two different accounts, is followed by its Settled, and
//    the Settled notional and fees follow the spec's formulas;
//  - no trade printed beyond the circuit breaker band of the reference price.
#include "core/engine.h"
#include "core/testing/builders.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace stox {
namespace {

constexpr Timestamp kSecond = 1'000'000'000;
constexpr Timestamp kT0 = 1'700'000'000 * kSecond;
constexpr int kCashScale = 4;

Int128 pow10(int n) {
  Int128 r = 1;
  while (n-- > 0) r *= 10;
  return r;
}

AddInstrument make_spec(const char* symbol, std::uint8_t price_scale, std::uint8_t quantity_scale,
                        Price tick, Quantity lot, Price reference, std::int32_t band_bps,
                        std::int32_t maker_bps, std::int32_t taker_bps) {
  return testing::instrument_spec(symbol, tick, lot, reference, band_bps, price_scale,
                                  quantity_scale, maker_bps, taker_bps);
}

// An accounts-mode engine with instruments 1..n and accounts 1..accounts,
// checked after every command (see the top of the file).
class Exchange {
 public:
  Exchange(const std::vector<AddInstrument>& specs, int accounts, std::int32_t breaker_bps = 0,
           Timestamp halt_ns = 0)
      : engine_(config()), accounts_(accounts) {
    for (const AddInstrument& s : specs) {
      apply(s);
      EXPECT_EQ(events_.size(), 1u);
      EXPECT_EQ(events_[0].type, EventType::kInstrumentAdded);
      learn(events_[0].instrument_added).breaker_bps = breaker_bps == 0 ? 1000 : breaker_bps;
      if (breaker_bps != 0 || halt_ns != 0) {
        apply(SetInstrumentLimits{InstrumentId(instruments_.size()), 0, breaker_bps, 0, 0,
                                  halt_ns});
        EXPECT_EQ(events_[0].type, EventType::kLimitsSet);
      }
    }
    for (int a = 1; a <= accounts; ++a) {
      apply(CreateAccount{FixedString<16>::from("acct" + std::to_string(a)), AccountType::kCash});
      EXPECT_EQ(events_[0].type, EventType::kAccountCreated);
      EXPECT_EQ(events_[0].account_created.account, AccountId(a));
    }
  }

  static EngineConfig config() {
    EngineConfig c;
    c.accounts = true;
    c.cash_scale = kCashScale;
    c.expected_orders = 4096;
    return c;
  }

  // --- commands --------------------------------------------------------

  template <class Make>
  const std::vector<Event>& run(Make make) {
    events_.clear();
    ++seq_;
    ts_ = now_;
    now_ += step_;
    last_command_ = make(seq_, ts_);
    engine_.apply(last_command_, events_);
    verify();
    return events_;
  }
  template <class Body>
  const std::vector<Event>& apply(const Body& body) {
    return run([&](SeqNo s, Timestamp t) { return Command::make(s, t, body); });
  }
  const std::vector<Event>& deposit(AccountId account, AssetId asset, Amount amount) {
    return run([&](SeqNo s, Timestamp t) {
      return Command::deposit(s, t, Transfer{account, asset, amount});
    });
  }
  const std::vector<Event>& withdraw(AccountId account, AssetId asset, Amount amount) {
    return run([&](SeqNo s, Timestamp t) {
      return Command::withdraw(s, t, Transfer{account, asset, amount});
    });
  }
  // The id of the order accepted by the last command, else 0.
  OrderId accepted_id() const {
    for (const Event& e : events_) {
      if (e.type == EventType::kAccepted) return e.accepted.order_id;
      if (e.type == EventType::kRejected) return 0;
    }
    return 0;
  }
  OrderId send(const NewOrder& o) {
    apply(o);
    return accepted_id();
  }
  RejectReason reject_reason() const {
    for (const Event& e : events_) {
      if (e.type == EventType::kRejected) return e.rejected.reason;
    }
    return RejectReason::kNone;
  }
  std::size_t count(EventType t) const {
    return std::size_t(std::count_if(events_.begin(), events_.end(),
                                     [t](const Event& e) { return e.type == t; }));
  }

  BalanceView balance(AccountId account, AssetId asset) const {
    const std::optional<BalanceView> b = engine_.balance(account, asset);
    return b ? *b : BalanceView{-1, -1, -1};
  }

  // --- the checks --------------------------------------------------------

  const std::string& failure() const { return failure_; }

  std::string events_text() const {
    std::string s;
    for (const Event& e : events_) s += "    " + to_string(e) + "\n";
    return s;
  }

  Engine& engine() { return engine_; }
  const std::vector<Event>& events() const { return events_; }
  const std::set<OrderId>& open() const { return open_; }
  int accounts() const { return accounts_; }
  std::size_t instruments() const { return instruments_.size(); }
  const AddInstrument& spec(InstrumentId i) const { return instruments_[i - 1].spec; }
  Timestamp now() const { return now_; }
  void set_time(Timestamp t) { now_ = t; }
  void set_step(Timestamp step) { step_ = step; }
  SeqNo seq() const { return seq_; }
  std::uint64_t trades() const { return trades_; }

  // What an open order requires, from the spec's formulas: {asset, amount}.
  std::pair<AssetId, Amount> requirement(const OrderView& o) const {
    const AddInstrument& s = spec(o.instrument);
    if (o.side == Side::kSell) return {o.instrument, o.leaves};
    if (o.type == OrderType::kLimit || o.type == OrderType::kStopLimit) {
      return {kCashAsset, need(s, o.price, o.leaves)};
    }
    if (o.type == OrderType::kStop && !o.triggered) {
      const auto offset = Price(Int128(o.stop_price) * s.market_band_bps / 10000);
      const Price edge = (o.stop_price + offset) / s.tick_size * s.tick_size;
      return {kCashAsset, need(s, edge, o.leaves)};
    }
    return {kCashAsset, -1};  // a market order is never open after its command
  }

  static Amount notional(const AddInstrument& s, Price p, Quantity q) {
    const Int128 n = Int128(p) * q / pow10(s.quantity_scale);
    return Amount(n * pow10(kCashScale - s.price_scale));
  }
  static Amount fee(Amount notional, std::int32_t bps) {
    return Amount(Int128(notional) * bps / 10000);  // truncates toward zero
  }
  static Amount need(const AddInstrument& s, Price p, Quantity q) {
    const Amount n = notional(s, p, q);
    return n + fee(n, std::max({s.maker_fee_bps, s.taker_fee_bps, 0}));
  }

 private:
  struct Info {
    AddInstrument spec;
    Price reference;
    Price last = 0;
    std::int32_t breaker_bps;
  };

  // The model's view of an instrument, registered from its InstrumentAdded
  // event (by whichever path added it) with the default breaker band.
  Info& learn(const InstrumentAddedEvent& added) {
    while (instruments_.size() < added.instrument)
      instruments_.push_back(Info{added.spec, added.spec.reference_price, 0, 1000});
    return instruments_[added.instrument - 1];
  }

  void fail(const std::string& what) {
    if (!failure_.empty()) return;
    std::ostringstream s;
    s << "after command #" << seq_ << " (type " << int(last_command_.type) << "): " << what
      << "\n  events:\n"
      << events_text();
    failure_ = s.str();
  }

  Int128& shadow(AccountId a, AssetId asset) { return shadow_[{a, asset}]; }

  void verify() {
    if (!failure_.empty()) return;
    const std::string ledger = engine_.check_ledger();
    if (!ledger.empty()) fail("check_ledger: " + ledger);
    const std::string inv = engine_.check_invariants();
    if (!inv.empty()) fail("check_invariants: " + inv);
    replay_events();
    check_balances();
    check_holds();
  }

  void replay_events() {
    for (std::size_t k = 0; k < events_.size(); ++k) {
      const Event& e = events_[k];
      switch (e.type) {
        case EventType::kAccepted:
          open_.insert(e.accepted.order_id);
          break;
        case EventType::kInstrumentAdded:
          learn(e.instrument_added);
          break;
        case EventType::kAccountCreated:
          created_ = std::max(created_, int(e.account_created.account));
          break;
        case EventType::kTransferred: {
          const TransferredEvent& t = e.transferred;
          const Amount sign = t.kind == CommandType::kDeposit ? 1 : -1;
          shadow(t.account, t.asset) += Int128{sign} * t.amount;
          shadow(kExternalAccount, t.asset) -= Int128{sign} * t.amount;
          if (shadow(t.account, t.asset) != t.total_after) fail("Transferred total_after");
          break;
        }
        case EventType::kTrade: {
          const TradeEvent& t = e.trade;
          ++trades_;
          if (t.maker_account == t.taker_account) fail("a trade with one account on both sides");
          if (k + 1 >= events_.size() || events_[k + 1].type != EventType::kSettled ||
              events_[k + 1].settled.trade_id != t.trade_id) {
            fail("a Trade not followed by its Settled");
            break;
          }
          Info& info = instruments_[t.instrument - 1];
          const Int128 dist = t.price > info.reference ? t.price - info.reference
                                                       : info.reference - t.price;
          if (dist * 10000 > Int128(info.breaker_bps) * info.reference) {
            fail("a trade printed beyond the circuit breaker band");
          }
          info.last = t.price;
          const SettledEvent& st = events_[k + 1].settled;
          const bool buyer_takes = t.aggressor == Side::kBuy;
          const AccountId buyer = buyer_takes ? t.taker_account : t.maker_account;
          const AccountId seller = buyer_takes ? t.maker_account : t.taker_account;
          const Amount n = notional(info.spec, t.price, t.quantity);
          const Amount bf = fee(n, buyer_takes ? info.spec.taker_fee_bps : info.spec.maker_fee_bps);
          const Amount sf = fee(n, buyer_takes ? info.spec.maker_fee_bps : info.spec.taker_fee_bps);
          if (st.buyer != buyer || st.seller != seller || st.quantity != t.quantity ||
              st.instrument != t.instrument || st.notional != n || st.buyer_fee != bf ||
              st.seller_fee != sf) {
            std::ostringstream s;
            s << "Settled differs from the spec: expected notional " << n << " fees " << bf
              << "/" << sf;
            fail(s.str());
          }
          break;
        }
        case EventType::kSettled: {
          const SettledEvent& st = e.settled;
          shadow(st.buyer, kCashAsset) -= Int128(st.notional) + st.buyer_fee;
          shadow(st.seller, kCashAsset) += Int128(st.notional) - st.seller_fee;
          shadow(kFeeAccount, kCashAsset) += Int128(st.buyer_fee) + st.seller_fee;
          shadow(st.seller, st.instrument) -= st.quantity;
          shadow(st.buyer, st.instrument) += st.quantity;
          break;
        }
        case EventType::kDayEnded:
          for (Info& info : instruments_) {
            if (info.last != 0) info.reference = info.last;
            info.last = 0;
          }
          break;
        default:
          break;
      }
    }
  }

  void check_balances() {
    for (AssetId asset = 0; asset <= instruments_.size(); ++asset) {
      Int128 sum = 0;
      const auto check = [&](AccountId a, bool may_be_negative) {
        const std::optional<BalanceView> b = engine_.balance(a, asset);
        if (!b) {
          fail("no balance view for account " + std::to_string(a));
          return;
        }
        sum += b->total;
        std::ostringstream s;
        s << "account " << a << " asset " << asset << " total=" << b->total
          << " held=" << b->held << " available=" << b->available;
        if (!may_be_negative && (b->total < 0 || b->held < 0 || b->available < 0)) {
          fail("negative balance: " + s.str());
        }
        if (b->available != b->total - b->held) fail("available != total - held: " + s.str());
        if (Int128(b->total) != shadow(a, asset)) {
          fail("total differs from the replayed postings (" +
               std::to_string(std::int64_t(shadow(a, asset))) + "): " + s.str());
        }
      };
      for (int a = 1; a <= created_; ++a) check(AccountId(a), false);
      check(kFeeAccount, false);
      check(kExternalAccount, true);
      if (sum != 0) fail("asset " + std::to_string(asset) + " does not sum to zero");
    }
  }

  void check_holds() {
    std::map<std::pair<AccountId, AssetId>, Int128> required;
    for (auto it = open_.begin(); it != open_.end();) {
      const std::optional<OrderView> o = engine_.order(*it);
      if (!o) {
        it = open_.erase(it);
        continue;
      }
      const auto [asset, amount] = requirement(*o);
      if (amount < 0) fail("a market order is still open: " + std::to_string(*it));
      required[{o->account, asset}] += amount;
      ++it;
    }
    for (int a = 1; a <= created_; ++a) {
      for (AssetId asset = 0; asset <= instruments_.size(); ++asset) {
        const std::optional<BalanceView> b = engine_.balance(AccountId(a), asset);
        const auto r = required.find({AccountId(a), asset});
        const Int128 want = r == required.end() ? 0 : r->second;
        if (b && Int128(b->held) != want) {
          std::ostringstream s;
          s << "account " << a << " asset " << asset << " holds " << b->held
            << " but its open orders require " << std::int64_t(want);
          fail(s.str());
        }
      }
    }
  }

  Engine engine_;
  int accounts_;
  int created_ = 0;
  std::vector<Info> instruments_;
  std::vector<Event> events_;
  Command last_command_;
  SeqNo seq_ = 0;
  Timestamp now_ = kT0;
  Timestamp ts_ = 0;
  Timestamp step_ = 1'000'000;  // 1 ms per command
  std::map<std::pair<AccountId, AssetId>, Int128> shadow_;
  std::set<OrderId> open_;
  std::string failure_;
  std::uint64_t trades_ = 0;
};

NewOrder order(AccountId account, InstrumentId inst, Side side, OrderType type, TimeInForce tif,
               Quantity qty, Price price = 0, Price stop_price = 0) {
  NewOrder o{};
  o.account = account;
  o.instrument = inst;
  o.side = side;
  o.type = type;
  o.time_in_force = tif;
  o.quantity = qty;
  o.price = price;
  o.stop_price = stop_price;
  o.stp = StpMode::kCancelTaker;
  return o;
}
NewOrder limit(AccountId a, InstrumentId i, Side side, Price price, Quantity qty) {
  return order(a, i, side, OrderType::kLimit, TimeInForce::kDay, qty, price);
}

// =========================================================================
// The random storm
// =========================================================================

std::vector<AddInstrument> storm_instruments() {
  return {
      // whole shares, cents, a small rebate
      make_spec("A", 2, 0, 5, 1, 10000, 500, -2, 5),
      // thousandths of a share: notionals and fees floor and truncate a lot
      make_spec("B", 2, 3, 1, 1, 2550, 800, 3, 7),
      // price scale = cash scale, lots of 0.05, a rebate as large as the fee
      make_spec("C", 4, 2, 25, 5, 123450, 300, -10, 10),
      // whole-unit prices, a wide band, a big taker fee
      make_spec("D", 0, 0, 1, 1, 50, 1000, 0, 30),
  };
}

class Storm {
 public:
  explicit Storm(std::uint64_t seed)
      : ex_(storm_instruments(), kAccounts, 1200, kSecond / 2), rng_(seed) {}

  static constexpr int kAccounts = 50;

  void fund_everyone() {
    for (int a = 1; a <= kAccounts; ++a) {
      ex_.deposit(AccountId(a), kCashAsset, uni(1, 20'000'000));
      for (InstrumentId i = 1; i <= ex_.instruments(); ++i) {
        ex_.deposit(AccountId(a), i, ex_.spec(i).lot_size * uni(1, 30));
      }
    }
  }

  void step() {
    const int r = int(uni(0, 999));
    if (r < 280) return new_limit(false);
    if (r < 340) return new_limit(true);
    if (r < 400) return new_market();
    if (r < 440) return new_quote();
    if (r < 520) return new_stop();
    if (r < 680) return replace();
    if (r < 750) return cancel();
    if (r < 800) return deposit();
    if (r < 880) return withdraw();
    if (r < 890) return mass_cancel();
    if (r < 893) return (void)ex_.apply(EndOfDay{});
    if (r < 898) return kill_switch(true);
    if (r < 920) return kill_switch(false);
    if (r < 930) return limits();
    if (r < 940) return ex_.set_time(ex_.now() + kSecond / 2);
    return new_limit(true);
  }

  Exchange& exchange() { return ex_; }

 private:
  std::int64_t uni(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  bool coin(int percent) { return uni(0, 99) < percent; }

  // Mostly a few hot accounts, so that they meet their own orders.
  AccountId account() { return AccountId(coin(70) ? uni(1, 8) : uni(1, kAccounts)); }
  InstrumentId instrument() { return InstrumentId(uni(1, std::int64_t(ex_.instruments()))); }
  Price last(InstrumentId i) {
    const std::optional<InstrumentView> v = ex_.engine().instrument(i);
    if (v && v->last_price != 0) return v->last_price;
    return v ? v->spec.reference_price : ex_.spec(i).reference_price;
  }
  Price snap(InstrumentId i, Price p) {
    const Price tick = ex_.spec(i).tick_size;
    p = p / tick * tick;
    return p < tick ? tick : p;
  }
  Price near(InstrumentId i, int spread_bps) {
    const Price l = last(i);
    return snap(i, l + l * uni(-spread_bps, spread_bps) / 10000);
  }
  Quantity lots(InstrumentId i, int max_lots) { return ex_.spec(i).lot_size * uni(1, max_lots); }
  Side side() { return coin(50) ? Side::kBuy : Side::kSell; }
  StpMode stp() { return StpMode(uni(0, 3)); }

  void new_limit(bool aggressive) {
    const InstrumentId i = instrument();
    NewOrder o = limit(account(), i, side(), near(i, 1100), lots(i, 12));
    if (aggressive) {
      // Cross the best opposite level, up to a few ticks through it.
      const std::vector<LevelView> best = ex_.engine().depth(i, opposite(o.side), 1);
      if (!best.empty()) {
        const Price through = ex_.spec(i).tick_size * uni(0, 4);
        o.price = o.side == Side::kBuy ? best[0].price + through
                                       : std::max(best[0].price - through, ex_.spec(i).tick_size);
      }
    }
    const int t = int(uni(0, 9));
    o.time_in_force = t < 4 ? TimeInForce::kDay : t < 6 ? TimeInForce::kGtc
                    : t < 8 ? TimeInForce::kIoc : TimeInForce::kFok;
    const bool rests = o.time_in_force == TimeInForce::kDay || o.time_in_force == TimeInForce::kGtc;
    const Quantity lot = ex_.spec(i).lot_size;
    if (rests && o.quantity >= 2 * lot && coin(15)) o.display_quantity = lot * uni(1, o.quantity / lot - 1);
    if (rests && coin(5)) o.post_only = true;
    o.stp = stp();
    ex_.apply(o);
  }
  void new_market() {
    const InstrumentId i = instrument();
    NewOrder o = order(account(), i, side(), OrderType::kMarket,
                       coin(80) ? TimeInForce::kIoc : TimeInForce::kFok, lots(i, 12));
    o.stp = stp();
    ex_.apply(o);
  }
  void new_quote() {
    const InstrumentId i = instrument();
    const AddInstrument& s = ex_.spec(i);
    const auto per_lot = Amount(Int128(last(i)) * s.lot_size / pow10(s.quantity_scale));
    NewOrder o = order(account(), i, Side::kBuy, OrderType::kMarket, TimeInForce::kIoc, 0);
    o.quote_quantity = uni(1, std::max<Amount>(per_lot * 12, 20));
    o.stp = StpMode(uni(0, 2));
    ex_.apply(o);
  }
  void new_stop() {
    const InstrumentId i = instrument();
    const Side sd = side();
    const Price l = last(i);
    const Price tick = ex_.spec(i).tick_size;
    const Price dist = std::max(tick, snap(i, l * uni(1, 400) / 10000));
    const Price stop = sd == Side::kBuy ? l + dist : std::max(tick, l - dist);
    const bool with_limit = coin(50);
    NewOrder o = order(account(), i, sd, with_limit ? OrderType::kStopLimit : OrderType::kStop,
                       coin(50) ? TimeInForce::kDay : TimeInForce::kGtc, lots(i, 10), 0, stop);
    if (with_limit) o.price = snap(i, stop + stop * uni(-300, 300) / 10000);
    o.stp = stp();
    ex_.apply(o);
  }
  std::optional<OrderView> some_open_order() {
    const std::set<OrderId>& open = ex_.open();
    if (open.empty()) return std::nullopt;
    auto it = open.begin();
    std::advance(it, uni(0, std::int64_t(open.size()) - 1));
    return ex_.engine().order(*it);
  }
  void replace() {
    const std::optional<OrderView> o = some_open_order();
    if (!o) return new_limit(false);
    Replace r{};
    r.account = coin(92) ? o->account : account();
    r.order_id = o->id;
    const Quantity lot = ex_.spec(o->instrument).lot_size;
    const Price tick = ex_.spec(o->instrument).tick_size;
    if (coin(60)) r.quantity = (o->quantity - o->leaves) + lot * uni(1, 15);  // often up
    if ((o->type == OrderType::kLimit || o->type == OrderType::kStopLimit) && coin(60)) {
      // Mostly raising a buy's price (or lowering a sell's) to need more.
      const Price move = tick * uni(-3, 25);
      r.price = std::max(tick, o->side == Side::kBuy ? o->price + move : o->price - move);
    }
    if (!o->triggered && o->stop_price != 0 && coin(40)) {
      r.stop_price = std::max(tick, o->stop_price + tick * uni(-10, 10));
    }
    ex_.apply(r);
  }
  void cancel() {
    const std::optional<OrderView> o = some_open_order();
    if (!o) return;
    ex_.apply(Cancel{coin(90) ? o->account : account(), o->id});
  }
  void deposit() {
    const AccountId a = account();
    if (coin(60)) {
      ex_.deposit(a, kCashAsset, uni(1, 5'000'000));
    } else {
      const InstrumentId i = instrument();
      ex_.deposit(a, i, lots(i, 8));
    }
  }
  void withdraw() {
    const AccountId a = account();
    const AssetId asset = coin(60) ? kCashAsset : instrument();
    const BalanceView b = ex_.balance(a, asset);
    const int how = int(uni(0, 4));
    Amount amount = b.available;
    if (how == 1) amount = b.available + 1;
    if (how == 2) amount = b.total;
    if (how == 3 && b.available > 1) amount = uni(1, b.available);
    if (how == 4) amount = b.available + b.held / 2 + 1;
    ex_.withdraw(a, asset, amount);
  }
  void mass_cancel() { ex_.apply(MassCancel{account(), coin(50) ? 0 : instrument()}); }
  // Switched on rarely and lifted soon, so that the storm keeps trading.
  void kill_switch(bool on) {
    if (on) {
      const AccountId a = account();
      killed_.push_back(a);
      ex_.apply(SetKillSwitch{a, true});
    } else if (!killed_.empty()) {
      ex_.apply(SetKillSwitch{killed_.back(), false});
      killed_.pop_back();
    } else {
      ex_.apply(SetKillSwitch{account(), false});
    }
  }
  void limits() {
    SetAccountLimits l{};
    l.account = account();
    if (coin(50)) {
      l.max_open_orders = std::uint32_t(uni(0, 6));
      l.max_orders_per_second = std::uint32_t(coin(50) ? 0 : uni(1, 20));
      l.max_order_quantity = coin(50) ? 0 : uni(1, 5000);
      l.max_order_notional = coin(50) ? 0 : uni(1, 5'000'000);
    }
    ex_.apply(l);
  }

  Exchange ex_;
  std::mt19937_64 rng_;
  std::vector<AccountId> killed_;
};

TEST(AccountsAdversarialTest, RandomStormNeverOverdrawsNorOversells) {
  constexpr int kCommands = 4000;
  std::uint64_t total_trades = 0;
  for (std::uint64_t seed : {1u, 2u, 3u, 42u, 1234u, 987654u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Storm storm(seed);
    storm.fund_everyone();
    Exchange& ex = storm.exchange();
    for (int n = 0; n < kCommands && ex.failure().empty(); ++n) storm.step();
    // Closing every order frees every hold.
    for (int a = 1; a <= Storm::kAccounts && ex.failure().empty(); ++a) {
      ex.apply(SetKillSwitch{AccountId(a), false});
      ex.apply(MassCancel{AccountId(a), 0});
      for (AssetId asset = 0; asset <= ex.instruments(); ++asset) {
        EXPECT_EQ(ex.balance(AccountId(a), asset).held, 0) << "account " << a;
      }
    }
    ASSERT_EQ(ex.failure(), "") << "seed " << seed;
    total_trades += ex.trades();
  }
  // The storm must actually trade, or it proves nothing.
  EXPECT_GT(total_trades, 1000u);
}

// =========================================================================
// Scripted attacks
// =========================================================================

constexpr AccountId kAlice = 1;
constexpr AccountId kBob = 2;
constexpr AccountId kCarol = 3;

// One zero-fee instrument like engine_test's ACME: price scale 2, quantity
// scale 0, tick 5, reference 100.00; 1 share at 100.00 is 1,000,000 in cash.
std::vector<AddInstrument> plain() { return {make_spec("ACME", 2, 0, 5, 1, 10000, 500, 0, 0)}; }

#define EXPECT_CLEAN(ex) EXPECT_EQ((ex).failure(), "")

TEST(AccountsAdversarialTest, ReplaceChainRaisingThePriceStopsAtTheCash) {
  Exchange ex(plain(), 3);
  ex.deposit(kAlice, kCashAsset, 1'050'000);
  const OrderId b = ex.send(limit(kAlice, 1, Side::kBuy, 10000, 1));
  ASSERT_NE(b, 0u);
  for (Price p = 10100; p <= 10500; p += 100) {
    ex.apply(Replace{kAlice, b, 0, p, 0});
    EXPECT_EQ(ex.count(EventType::kReplaced), 1u) << p;
  }
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).available, 0);
  ex.apply(Replace{kAlice, b, 0, 10505, 0});
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientFunds);
  ex.apply(Replace{kAlice, b, 2, 0, 0});
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientFunds);
  ex.apply(Replace{kAlice, b, 2, 5250, 0});  // within funds but outside the collar
  EXPECT_EQ(ex.reject_reason(), RejectReason::kPriceOutsideCollar);
  EXPECT_EQ(ex.engine().order(b)->price, 10500);
  EXPECT_EQ(ex.engine().order(b)->quantity, 1);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).held, 1'050'000);
  // Coming back down is always possible.
  ex.apply(Replace{kAlice, b, 0, 10000, 0});
  EXPECT_EQ(ex.count(EventType::kReplaced), 1u);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).held, 1'000'000);
  EXPECT_CLEAN(ex);
}

TEST(AccountsAdversarialTest, HeldCashCannotBeWithdrawnButReleasedImprovementCan) {
  Exchange ex(plain(), 3);
  ex.deposit(kAlice, kCashAsset, 2'000'000);
  const OrderId b = ex.send(limit(kAlice, 1, Side::kBuy, 10000, 2));
  ASSERT_NE(b, 0u);
  ex.withdraw(kAlice, kCashAsset, 1);
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientAvailable);
  // Bob sells into it at 99.00 via a resting order that Alice's replace hits.
  ex.deposit(kBob, 1, 2);
  ASSERT_NE(ex.send(limit(kBob, 1, Side::kSell, 9900, 2)), 0u);
  EXPECT_EQ(ex.count(EventType::kTrade), 1u);  // crosses Alice's bid at 100.00
  // Bob was the taker at Alice's price: no improvement for her.
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).total, 0);
  ex.withdraw(kAlice, kCashAsset, 1);
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientAvailable);

  // Now Alice is the taker and improves: the improvement is hers at once.
  ex.deposit(kCarol, 1, 2);
  ASSERT_NE(ex.send(limit(kCarol, 1, Side::kSell, 9900, 2)), 0u);
  ex.deposit(kAlice, kCashAsset, 2'000'000);
  ASSERT_NE(ex.send(limit(kAlice, 1, Side::kBuy, 10000, 2)), 0u);
  EXPECT_EQ(ex.count(EventType::kTrade), 1u);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).available, 20'000);
  ex.withdraw(kAlice, kCashAsset, 20'001);
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientAvailable);
  ex.withdraw(kAlice, kCashAsset, 20'000);
  EXPECT_EQ(ex.count(EventType::kTransferred), 1u);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).total, 0);
  EXPECT_CLEAN(ex);
}

TEST(AccountsAdversarialTest, TheSameSharesCannotBeSoldTwice) {
  Exchange ex(plain(), 3);
  ex.deposit(kBob, 1, 5);
  const OrderId s = ex.send(limit(kBob, 1, Side::kSell, 10100, 5));
  ASSERT_NE(s, 0u);
  ex.apply(limit(kBob, 1, Side::kSell, 10200, 1));
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientShares);
  ex.apply(order(kBob, 1, Side::kSell, OrderType::kMarket, TimeInForce::kIoc, 1));
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientShares);
  ex.apply(order(kBob, 1, Side::kSell, OrderType::kStop, TimeInForce::kGtc, 1, 0, 9900));
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientShares);
  ex.apply(Replace{kBob, s, 6, 0, 0});
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientShares);
  ex.withdraw(kBob, 1, 1);
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientAvailable);
  // Replacing a sell's price changes nothing about shares.
  ex.apply(Replace{kBob, s, 0, 10300, 0});
  EXPECT_EQ(ex.count(EventType::kReplaced), 1u);
  EXPECT_EQ(ex.balance(kBob, 1).held, 5);
  EXPECT_CLEAN(ex);
}

TEST(AccountsAdversarialTest, WashTradesAreImpossibleInEveryStpMode) {
  for (int mode = 0; mode <= 3; ++mode) {
    SCOPED_TRACE("stp " + std::to_string(mode));
    Exchange ex({make_spec("FEE", 2, 0, 5, 1, 10000, 500, -5, 10)}, 3);
    ex.deposit(kAlice, kCashAsset, 5'000'000);
    ex.deposit(kAlice, 1, 5);
    ASSERT_NE(ex.send(limit(kAlice, 1, Side::kBuy, 10000, 3)), 0u);
    ASSERT_NE(ex.send(limit(kAlice, 1, Side::kSell, 10100, 2)), 0u);
    NewOrder sell = order(kAlice, 1, Side::kSell, OrderType::kMarket, TimeInForce::kIoc, 5);
    sell.stp = StpMode(mode);
    ex.apply(sell);
    EXPECT_EQ(ex.count(EventType::kTrade), 0u);
    NewOrder buy = limit(kAlice, 1, Side::kBuy, 10100, 4);
    buy.stp = StpMode(mode);
    ex.apply(buy);
    EXPECT_EQ(ex.count(EventType::kTrade), 0u);
    // No fee was paid, no rebate earned, nothing moved.
    EXPECT_EQ(ex.balance(kAlice, kCashAsset).total, 5'000'000);
    EXPECT_EQ(ex.balance(kAlice, 1).total, 5);
    EXPECT_EQ(ex.balance(kFeeAccount, kCashAsset).total, 0);
    EXPECT_CLEAN(ex);
  }
}

TEST(AccountsAdversarialTest, TwoStopsOfOneAccountCannotBothSpendTheCashAGapNeeds) {
  Exchange ex(plain(), 3);
  // Two stop buys at 101.00 hold 1,060,500 each (band edge 106.05). Beyond
  // that Alice has 41,999: enough for the first to move to the band of the
  // gap (108.15, +21,000) but not for the second (band from 108.15, 113.55,
  // +75,000 with 20,999 left).
  ex.deposit(kAlice, kCashAsset, 2'121'000 + 41'999);
  const NewOrder st = order(kAlice, 1, Side::kBuy, OrderType::kStop, TimeInForce::kDay, 1, 0, 10100);
  const OrderId s1 = ex.send(st);
  const OrderId s2 = ex.send(st);
  ASSERT_NE(s2, 0u);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).held, 2'121'000);
  ex.deposit(kBob, 1, 2);
  ASSERT_NE(ex.send(limit(kBob, 1, Side::kSell, 10300, 1)), 0u);
  ASSERT_NE(ex.send(limit(kBob, 1, Side::kSell, 10815, 1)), 0u);
  ex.deposit(kCarol, kCashAsset, 2'000'000);
  ASSERT_NE(ex.send(limit(kCarol, 1, Side::kBuy, 10300, 1)), 0u);

  std::vector<std::pair<EventType, OrderId>> got;
  for (const Event& e : ex.events()) {
    if (e.type == EventType::kStopTriggered) got.emplace_back(e.type, e.stop_triggered.order_id);
    if (e.type == EventType::kTrade) got.emplace_back(e.type, e.trade.taker_order);
    if (e.type == EventType::kCancelled) {
      got.emplace_back(e.type, e.cancelled.order_id);
      EXPECT_EQ(e.cancelled.reason, CancelReason::kInsufficientFunds);
    }
  }
  const std::vector<std::pair<EventType, OrderId>> want = {
      {EventType::kTrade, 3 + 2},  // Carol's order is id 5
      {EventType::kStopTriggered, s1}, {EventType::kTrade, s1},
      {EventType::kStopTriggered, s2}, {EventType::kCancelled, s2}};
  EXPECT_EQ(got, want) << ex.events_text();
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).total, 2'162'999 - 1'081'500);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).held, 0);
  EXPECT_EQ(ex.balance(kAlice, 1).total, 1);
  EXPECT_CLEAN(ex);
}

TEST(AccountsAdversarialTest, MarketBuyOnAThinBookSpendsNoMoreThanItsBandHold) {
  Exchange ex(plain(), 3);
  ex.deposit(kBob, 1, 6);
  ASSERT_NE(ex.send(limit(kBob, 1, Side::kSell, 10000, 2)), 0u);
  ASSERT_NE(ex.send(limit(kBob, 1, Side::kSell, 10500, 3)), 0u);
  ASSERT_NE(ex.send(limit(kBob, 1, Side::kSell, 10505, 1)), 0u);  // outside the band
  ex.deposit(kAlice, kCashAsset, 6'300'000 - 1);
  ex.apply(order(kAlice, 1, Side::kBuy, OrderType::kMarket, TimeInForce::kIoc, 6));
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientFunds);
  ex.apply(order(kAlice, 1, Side::kBuy, OrderType::kMarket, TimeInForce::kIoc, 5));
  EXPECT_EQ(ex.count(EventType::kTrade), 2u);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).total, 6'299'999 - 2'000'000 - 3'150'000);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).held, 0);
  // The ask beyond the band was not touched.
  const std::vector<LevelView> asks = ex.engine().depth(1, Side::kSell, 10);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].price, 10505);
  EXPECT_EQ(ex.balance(kAlice, 1).total, 5);
  EXPECT_CLEAN(ex);
}

TEST(AccountsAdversarialTest, QuoteBuyWithFractionalQuantityScaleCannotOverspend) {
  // Price scale 2, quantity scale 3, cash scale 4; taker 7 bps, maker -3 bps.
  Exchange ex({make_spec("FRAC", 2, 3, 1, 1, 2550, 500, -3, 7)}, 3);
  ex.deposit(kBob, 1, 1000);
  ASSERT_NE(ex.send(limit(kBob, 1, Side::kSell, 2551, 1000)), 0u);
  // Q = 1.00 = 100 at price scale = 10,000 cash; hold 10,000 + trunc(7) = 10,007.
  ex.deposit(kAlice, kCashAsset, 10'006);
  NewOrder q = order(kAlice, 1, Side::kBuy, OrderType::kMarket, TimeInForce::kIoc, 0);
  q.quote_quantity = 100;
  ex.apply(q);
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientFunds);
  ex.deposit(kAlice, kCashAsset, 1);
  ex.apply(q);
  // floor(100 × 1000 / 2551) = 39 units for floor(2551 × 39 / 1000) = 0.99;
  // cash 9,900 + fee trunc(6.93) = 6; 1 cent is left and buys nothing.
  ASSERT_EQ(ex.count(EventType::kTrade), 1u);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).total, 10'007 - 9'906);
  EXPECT_EQ(ex.balance(kAlice, 1).total, 39);
  EXPECT_EQ(ex.balance(kBob, kCashAsset).total, 9'902);  // rebate trunc(-2.97) = -2
  EXPECT_EQ(ex.balance(kFeeAccount, kCashAsset).total, 4);
  EXPECT_EQ(ex.count(EventType::kCancelled), 0u);
  EXPECT_CLEAN(ex);
}

TEST(AccountsAdversarialTest, IcebergAndReplaceUpCannotHideARequirement) {
  Exchange ex(plain(), 3);
  ex.deposit(kAlice, kCashAsset, 10'000'000);
  NewOrder ice = limit(kAlice, 1, Side::kBuy, 10000, 10);
  ice.display_quantity = 1;
  const OrderId id = ex.send(ice);
  ASSERT_NE(id, 0u);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).held, 10'000'000);
  ex.apply(Replace{kAlice, id, 11, 0, 0});
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientFunds);
  ex.apply(limit(kAlice, 1, Side::kBuy, 9000, 1));
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientFunds);
  ex.withdraw(kAlice, kCashAsset, 1);
  EXPECT_EQ(ex.reject_reason(), RejectReason::kInsufficientAvailable);
  EXPECT_CLEAN(ex);
}

TEST(AccountsAdversarialTest, SystemAccountsCannotBeWithdrawnFrom) {
  Exchange ex({make_spec("FEE", 2, 0, 5, 1, 10000, 500, 0, 10)}, 3);
  ex.deposit(kAlice, kCashAsset, 5'000'000);
  ex.deposit(kBob, 1, 1);
  ASSERT_NE(ex.send(limit(kBob, 1, Side::kSell, 10000, 1)), 0u);
  ASSERT_NE(ex.send(limit(kAlice, 1, Side::kBuy, 10000, 1)), 0u);
  EXPECT_EQ(ex.balance(kFeeAccount, kCashAsset).total, 1'000);
  ex.withdraw(kExternalAccount, kCashAsset, 1);
  EXPECT_EQ(ex.count(EventType::kRejected), 1u);
  ex.withdraw(kFeeAccount, kCashAsset, 1'000);
  EXPECT_EQ(ex.count(EventType::kRejected), 1u);
  ex.deposit(kExternalAccount, kCashAsset, 1);
  EXPECT_EQ(ex.count(EventType::kRejected), 1u);
  EXPECT_CLEAN(ex);
}

// Regression: the first trade in an asset the buyer never held (an instrument
// added after the account was created) used to settle through a balance
// reference invalidated by growing the buyer's balance table.
TEST(AccountsAdversarialTest, FirstTradeInAnInstrumentAddedAfterTheAccountsSettlesSafely) {
  Exchange ex(plain(), 3);
  ex.apply(make_spec("LATE", 2, 0, 5, 1, 10000, 500, 5, 10));
  ASSERT_EQ(ex.events()[0].type, EventType::kInstrumentAdded);
  ex.deposit(kBob, 2, 5);
  ex.deposit(kAlice, kCashAsset, 5'000'000);
  ASSERT_NE(ex.send(limit(kBob, 2, Side::kSell, 10000, 5)), 0u);
  ASSERT_NE(ex.send(limit(kAlice, 2, Side::kBuy, 10000, 2)), 0u);
  EXPECT_EQ(ex.count(EventType::kSettled), 1u);
  const std::optional<BalanceView> shares = ex.engine().balance(kAlice, 2);
  ASSERT_TRUE(shares.has_value());
  EXPECT_EQ(shares->total, 2);
  EXPECT_EQ(ex.balance(kAlice, kCashAsset).total, 5'000'000 - 2'000'000 - 2'000);
  EXPECT_EQ(ex.engine().check_ledger(), "");
}

}  // namespace
}  // namespace stox
