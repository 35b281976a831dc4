// The matching engine. The rules it implements, and the exact order of the
// events it emits, are written in docs/design.md; the naive reference
// matcher in src/core/testing/ implements the same rules independently and
// the differential test compares the two event for event.
//
// Shape of the code: apply() dispatches a command to on_<command>(). New
// orders and replaced orders run through execute(), which does the post-only
// and FOK checks, match() against the opposite side, then rests or cancels
// the remainder. Every command that can trade ends with run_elections(),
// which triggers stops (and their cascades). Orders and levels are pooled
// (order_book.h); nothing here allocates per order once the pools are warm.
#include "core/engine.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <unordered_map>

#include "core/order_book.h"

namespace stox {
namespace {

constexpr Price kMaxValue = std::numeric_limits<std::int64_t>::max();

constexpr std::int64_t kPow10[] = {1,         10,         100,         1000,       10000,
                                   100000,    1000000,    10000000,    100000000,  1000000000};

bool is_market_like(OrderType t) { return t == OrderType::kMarket || t == OrderType::kStop; }
bool is_stop(OrderType t) { return t == OrderType::kStop || t == OrderType::kStopLimit; }
bool rests(TimeInForce t) { return t == TimeInForce::kDay || t == TimeInForce::kGtc; }

bool fits(Int128 v) { return v <= kMaxValue; }

// Price acceptable to a taker on `side` with limit (or band edge) `limit`.
bool acceptable(Side side, Price level_price, Price limit) {
  return side == Side::kBuy ? level_price <= limit : level_price >= limit;
}

std::uint64_t hash_client_id(AccountId account, const ClientOrderId& id) {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::memcpy(&a, id.bytes.data(), 8);
  std::memcpy(&b, id.bytes.data() + 8, 8);
  return mix_hash(a ^ mix_hash(b ^ mix_hash(account)));
}

struct Instrument {
  InstrumentId id;
  AddInstrument spec;
  InstrumentStatus status = InstrumentStatus::kTrading;
  Price last = 0;  // last trade price; 0 = none since the last EndOfDay
  Price high = 0;  // highest / lowest trade price since the last stop election check
  Price low = 0;
  Ladder bids{true};
  Ladder asks{false};
  Ladder buy_stops{false};  // the lowest buy stop elects first
  Ladder sell_stops{true};  // the highest sell stop elects first

  Ladder& book(Side s) { return s == Side::kBuy ? bids : asks; }
  const Ladder& book(Side s) const { return s == Side::kBuy ? bids : asks; }
  Ladder& stops(Side s) { return s == Side::kBuy ? buy_stops : sell_stops; }
  const Ladder& stops(Side s) const { return s == Side::kBuy ? buy_stops : sell_stops; }
  Price last_or_reference() const { return last != 0 ? last : spec.reference_price; }
};

struct AccountOrders {
  std::uint32_t head = kNoSlot;
  std::uint32_t tail = kNoSlot;
  std::uint32_t count = 0;
};

// How one order's matching ended.
struct MatchResult {
  bool traded = false;
  bool closed_by_stp = false;  // the taker was cancelled by self-trade prevention
  bool cash_limited = false;   // quote order: could not afford one lot at the best level
};

}  // namespace

struct Engine::Impl {
  explicit Impl(const EngineConfig& c)
      : config(c), orders(c.expected_orders), levels(c.expected_orders / 4 + 64),
        ids(c.expected_orders), client_ids(c.expected_orders / 4 + 64) {}

  EngineConfig config;
  std::vector<Instrument> instruments;  // index = id - 1
  std::unordered_map<std::string, InstrumentId> symbols;
  Pool<Order> orders;
  Pool<Level> levels;
  SlotIndex ids;         // order id -> slot, registered orders
  SlotIndex client_ids;  // (account, client order id) -> slot, registered orders with one
  std::vector<AccountOrders> accounts;  // index = account id
  std::size_t registered = 0;
  OrderId last_order_id = 0;
  TradeId last_trade_id = 0;

  // Per-command context.
  const Command* cmd = nullptr;
  std::vector<Event>* out = nullptr;
  // Scratch space, reused so that no command allocates once warm.
  std::vector<std::uint32_t> scratch_slots;
  struct FokSim {
    AccountId account;
    Quantity visible;
    Quantity leaves;
    Quantity display;
  };
  std::vector<FokSim> fok_queue;

  // ---------------------------------------------------------------- events
  Event& emit(EventType type) {
    Event& e = out->emplace_back();
    std::memset(static_cast<void*>(&e), 0, sizeof e);
    e.seq = cmd->seq;
    e.timestamp = cmd->timestamp;
    e.type = type;
    return e;
  }
  void emit_reject(RejectReason reason, AccountId account, OrderId order_id,
                   const ClientOrderId& client_id) {
    RejectedEvent& r = emit(EventType::kRejected).rejected;
    r.command = cmd->type;
    r.reason = reason;
    r.account = account;
    r.order_id = order_id;
    r.client_order_id = client_id;
  }
  void emit_cancelled(const Order& o, CancelReason reason, Quantity leaves) {
    CancelledEvent& c = emit(EventType::kCancelled).cancelled;
    c.order_id = o.id;
    c.account = o.account;
    c.instrument = o.instrument;
    c.reason = reason;
    c.leaves = leaves;
  }
  void emit_reduced(const Order& o, Quantity by) {
    ReducedEvent& r = emit(EventType::kReduced).reduced;
    r.order_id = o.id;
    r.account = o.account;
    r.instrument = o.instrument;
    r.reduced_by = by;
    r.leaves = o.leaves;
  }
  void emit_level(InstrumentId instrument, Side side, Price price, std::uint32_t level) {
    BookLevelEvent& b = emit(EventType::kBookLevel).book_level;
    b.instrument = instrument;
    b.side = side;
    b.price = price;
    if (level != kNoSlot) {
      b.quantity = levels[level].visible;
      b.count = levels[level].count;
    }
  }

  // ----------------------------------------------------------- lookups
  Instrument* instrument(InstrumentId id) {
    return (id >= 1 && id <= instruments.size()) ? &instruments[id - 1] : nullptr;
  }
  const Instrument* instrument(InstrumentId id) const {
    return (id >= 1 && id <= instruments.size()) ? &instruments[id - 1] : nullptr;
  }
  std::uint32_t find_order(OrderId id) const {
    return ids.find(mix_hash(id), [&](std::uint32_t s) { return orders[s].id == id; });
  }
  std::uint32_t find_client_id(AccountId account, const ClientOrderId& cid) const {
    return client_ids.find(hash_client_id(account, cid), [&](std::uint32_t s) {
      return orders[s].account == account && orders[s].client_order_id == cid;
    });
  }
  bool account_in_range(AccountId a) const { return a >= 1 && a <= config.max_accounts; }

  // ------------------------------------------------- registration (open orders)
  void register_order(std::uint32_t slot) {
    Order& o = orders[slot];
    o.registered = true;
    ids.insert(mix_hash(o.id), slot, [&](std::uint32_t s) { return mix_hash(orders[s].id); });
    if (!o.client_order_id.empty()) {
      client_ids.insert(hash_client_id(o.account, o.client_order_id), slot, [&](std::uint32_t s) {
        return hash_client_id(orders[s].account, orders[s].client_order_id);
      });
    }
    if (o.account >= accounts.size()) accounts.resize(o.account + 1);
    AccountOrders& a = accounts[o.account];
    o.account_prev = a.tail;
    o.account_next = kNoSlot;
    if (a.tail != kNoSlot) orders[a.tail].account_next = slot; else a.head = slot;
    a.tail = slot;
    ++a.count;
    ++registered;
  }
  void unregister_order(std::uint32_t slot) {
    Order& o = orders[slot];
    ids.erase(mix_hash(o.id), slot, [&](std::uint32_t s) { return mix_hash(orders[s].id); });
    if (!o.client_order_id.empty()) {
      client_ids.erase(hash_client_id(o.account, o.client_order_id), slot, [&](std::uint32_t s) {
        return hash_client_id(orders[s].account, orders[s].client_order_id);
      });
    }
    AccountOrders& a = accounts[o.account];
    if (o.account_prev != kNoSlot) orders[o.account_prev].account_next = o.account_next;
    else a.head = o.account_next;
    if (o.account_next != kNoSlot) orders[o.account_next].account_prev = o.account_prev;
    else a.tail = o.account_prev;
    --a.count;
    --registered;
    o.registered = false;
  }
  // The order is finished: forget it and give its slot back.
  void close_order(std::uint32_t slot) {
    if (orders[slot].registered) unregister_order(slot);
    orders.release(slot);
  }

  // -------------------------------------------------------- level lists
  // Appends the order at the back of the level at its price on `ladder`,
  // creating the level if needed. Returns the level slot.
  std::uint32_t append_to_level(Ladder& ladder, Price price, std::uint32_t slot,
                                Quantity visible, Quantity total) {
    std::uint32_t lv = ladder.find(price);
    if (lv == kNoSlot) {
      lv = levels.alloc();
      levels[lv] = Level{price, 0, 0, 0, kNoSlot, kNoSlot};
      ladder.insert(price, lv);
    }
    Level& l = levels[lv];
    Order& o = orders[slot];
    o.level = lv;
    o.prev = l.tail;
    o.next = kNoSlot;
    if (l.tail != kNoSlot) orders[l.tail].next = slot; else l.head = slot;
    l.tail = slot;
    ++l.count;
    l.visible += visible;
    l.total += total;
    return lv;
  }
  // Unlinks the order from its level (its visible/leaves leave the totals).
  // Returns the level slot, or kNoSlot if the level is now gone.
  std::uint32_t unlink_from_level(Ladder& ladder, std::uint32_t slot, Quantity visible,
                                  Quantity total) {
    Order& o = orders[slot];
    const std::uint32_t lv = o.level;
    Level& l = levels[lv];
    if (o.prev != kNoSlot) orders[o.prev].next = o.next; else l.head = o.next;
    if (o.next != kNoSlot) orders[o.next].prev = o.prev; else l.tail = o.prev;
    --l.count;
    l.visible -= visible;
    l.total -= total;
    if (l.count == 0) {
      ladder.erase(l.price);
      levels.release(lv);
      return kNoSlot;
    }
    return lv;
  }
  std::uint32_t unlink_resting(Instrument& ins, std::uint32_t slot) {
    const Order& o = orders[slot];
    return unlink_from_level(ins.book(o.side), slot, o.visible, o.leaves);
  }
  void unlink_stop(Instrument& ins, std::uint32_t slot) {
    unlink_from_level(ins.stops(orders[slot].side), slot, 0, 0);
  }

  // Cancels an open order (resting or untriggered stop): Cancelled, then the
  // level update for a resting order.
  void cancel_open(std::uint32_t slot, CancelReason reason) {
    Order& o = orders[slot];
    Instrument& ins = *instrument(o.instrument);
    emit_cancelled(o, reason, o.leaves);
    if (o.place == OrderPlace::kBook) {
      const Price price = o.price;
      const Side side = o.side;
      const std::uint32_t lv = unlink_resting(ins, slot);
      emit_level(ins.id, side, price, lv);
    } else if (o.place == OrderPlace::kStops) {
      unlink_stop(ins, slot);
    }
    close_order(slot);
  }

  // --------------------------------------------------------------- apply
  void apply(const Command& c, std::vector<Event>& events) {
    cmd = &c;
    out = &events;
    switch (c.type) {
      case CommandType::kNewOrder: on_new_order(c.new_order); break;
      case CommandType::kCancel: on_cancel(c.cancel); break;
      case CommandType::kReplace: on_replace(c.replace); break;
      case CommandType::kMassCancel: on_mass_cancel(c.mass_cancel); break;
      case CommandType::kEndOfDay: on_end_of_day(); break;
      case CommandType::kSetInstrumentStatus: on_set_status(c.set_status); break;
      case CommandType::kAddInstrument: on_add_instrument(c.add_instrument); break;
      default: emit_reject(RejectReason::kInvalidCommand, 0, 0, ClientOrderId{}); break;
    }
  }

  // ------------------------------------------------------ instruments
  static bool valid_instrument(const AddInstrument& a) {
    if (a.symbol.empty()) return false;
    if (a.price_scale > kMaxScale || a.quantity_scale > kMaxScale) return false;
    if (a.tick_size <= 0 || a.lot_size <= 0 || a.reference_price <= 0) return false;
    if (a.reference_price % a.tick_size != 0) return false;
    return a.market_band_bps >= 0 && a.market_band_bps <= 10000;
  }

  void on_add_instrument(const AddInstrument& a) {
    if (!valid_instrument(a)) {
      emit_reject(RejectReason::kInvalidInstrument, 0, 0, ClientOrderId{});
      return;
    }
    const std::string symbol(a.symbol.view());
    if (symbols.count(symbol) != 0) {
      emit_reject(RejectReason::kDuplicateSymbol, 0, 0, ClientOrderId{});
      return;
    }
    Instrument& ins = instruments.emplace_back();
    ins.id = static_cast<InstrumentId>(instruments.size());
    ins.spec = a;
    if (ins.spec.market_band_bps == 0) ins.spec.market_band_bps = config.default_market_band_bps;
    symbols.emplace(symbol, ins.id);
    InstrumentAddedEvent& e = emit(EventType::kInstrumentAdded).instrument_added;
    e.instrument = ins.id;
    e.spec = ins.spec;
  }

  void on_set_status(const SetInstrumentStatus& s) {
    Instrument* ins = instrument(s.instrument);
    if (ins == nullptr) return emit_reject(RejectReason::kUnknownSymbol, 0, 0, ClientOrderId{});
    const auto v = static_cast<std::uint8_t>(s.status);
    if (v < 1 || v > 3) return emit_reject(RejectReason::kInvalidStatus, 0, 0, ClientOrderId{});
    ins->status = s.status;
    InstrumentStatusEvent& e = emit(EventType::kInstrumentStatus).instrument_status;
    e.instrument = ins->id;
    e.status = s.status;
  }

  static RejectReason status_reject(const Instrument& ins) {
    switch (ins.status) {
      case InstrumentStatus::kTrading: return RejectReason::kNone;
      case InstrumentStatus::kHalted: return RejectReason::kInstrumentHalted;
      case InstrumentStatus::kClosed: return RejectReason::kInstrumentClosed;
    }
    return RejectReason::kInstrumentHalted;
  }

  // -------------------------------------------------------- validation
  // A stop that the current last price (or reference) already elects.
  static bool stop_elected_now(const Instrument& ins, Side side, Price stop) {
    const Price last = ins.last_or_reference();
    return side == Side::kBuy ? stop <= last : stop >= last;
  }

  // Would a limit order at `price` take liquidity on entry?
  bool crosses(const Instrument& ins, Side side, Price price) const {
    const Ladder& opp = ins.book(opposite(side));
    if (opp.empty()) return false;
    return acceptable(side, levels[opp.best()].price, price);
  }

  static RejectReason validate_enums(const NewOrder& o) {
    const auto side = static_cast<std::uint8_t>(o.side);
    const auto type = static_cast<std::uint8_t>(o.type);
    const auto tif = static_cast<std::uint8_t>(o.time_in_force);
    if (side < 1 || side > 2) return RejectReason::kInvalidSide;
    if (type < 1 || type > 4) return RejectReason::kInvalidOrderType;
    if (tif < 1 || tif > 4) return RejectReason::kInvalidTimeInForce;
    if (static_cast<std::uint8_t>(o.stp) > 3) return RejectReason::kInvalidStpMode;
    const bool tif_ok = o.type == OrderType::kLimit ||
                        (o.type == OrderType::kMarket ? !rests(o.time_in_force)
                                                      : rests(o.time_in_force));
    if (!tif_ok) return RejectReason::kInvalidTimeInForce;
    if (o.post_only && !(o.type == OrderType::kLimit && rests(o.time_in_force)))
      return RejectReason::kPostOnlyNotAllowed;
    return RejectReason::kNone;
  }

  static RejectReason validate_prices(const NewOrder& o, const Instrument& ins) {
    const bool needs_price = o.type == OrderType::kLimit || o.type == OrderType::kStopLimit;
    if (needs_price) {
      if (o.price == 0) return RejectReason::kMissingPrice;
      if (o.price < 0) return RejectReason::kPriceNotPositive;
    } else if (o.price != 0) {
      return RejectReason::kUnexpectedPrice;
    }
    if (is_stop(o.type)) {
      if (o.stop_price == 0) return RejectReason::kMissingStopPrice;
      if (o.stop_price < 0) return RejectReason::kPriceNotPositive;
    } else if (o.stop_price != 0) {
      return RejectReason::kUnexpectedStopPrice;
    }
    const Price tick = ins.spec.tick_size;
    if (o.price % tick != 0 || o.stop_price % tick != 0) return RejectReason::kPriceOffTick;
    return RejectReason::kNone;
  }

  static RejectReason validate_quantities(const NewOrder& o, const Instrument& ins) {
    const Quantity lot = ins.spec.lot_size;
    if (o.quote_quantity != 0) {
      const bool allowed = o.type == OrderType::kMarket && o.side == Side::kBuy &&
                           o.time_in_force == TimeInForce::kIoc && o.stp != StpMode::kDecrement &&
                           o.quantity == 0;
      if (!allowed) return RejectReason::kQuoteQuantityNotAllowed;
      if (o.quote_quantity < 0) return RejectReason::kQuantityNotPositive;
    } else {
      if (o.quantity <= 0) return RejectReason::kQuantityNotPositive;
      if (o.quantity % lot != 0) return RejectReason::kQuantityOffLot;
    }
    if (o.display_quantity != 0) {
      const bool ok = o.type == OrderType::kLimit && rests(o.time_in_force) &&
                      o.display_quantity > 0 && o.display_quantity < o.quantity &&
                      o.display_quantity % lot == 0;
      if (!ok) return RejectReason::kInvalidDisplayQuantity;
    }
    if (!fits(Int128{o.price} * o.quantity) || !fits(Int128{o.stop_price} * o.quantity))
      return RejectReason::kValueOverflow;
    return RejectReason::kNone;
  }

  RejectReason validate_new_order(const NewOrder& o) const {
    const Instrument* ins = instrument(o.instrument);
    if (ins == nullptr) return RejectReason::kUnknownSymbol;
    if (!account_in_range(o.account)) return RejectReason::kUnknownAccount;
    if (RejectReason r = status_reject(*ins); r != RejectReason::kNone) return r;
    if (RejectReason r = validate_enums(o); r != RejectReason::kNone) return r;
    if (RejectReason r = validate_prices(o, *ins); r != RejectReason::kNone) return r;
    if (RejectReason r = validate_quantities(o, *ins); r != RejectReason::kNone) return r;
    if (!o.client_order_id.empty() && find_client_id(o.account, o.client_order_id) != kNoSlot)
      return RejectReason::kDuplicateClientOrderId;
    if (is_stop(o.type) && stop_elected_now(*ins, o.side, o.stop_price))
      return RejectReason::kStopWouldTriggerImmediately;
    return RejectReason::kNone;
  }

  // --------------------------------------------------------- new order
  void on_new_order(const NewOrder& n) {
    if (RejectReason r = validate_new_order(n); r != RejectReason::kNone) {
      emit_reject(r, n.account, 0, n.client_order_id);
      return;
    }
    const std::uint32_t slot = orders.alloc();
    Order& o = orders[slot];
    o = Order{};
    o.id = ++last_order_id;
    o.client_order_id = n.client_order_id;
    o.account = n.account;
    o.instrument = n.instrument;
    o.price = n.price;
    o.stop_price = n.stop_price;
    o.stop_priority = cmd->seq;
    o.quote = n.quote_quantity != 0;
    o.quantity = o.quote ? n.quote_quantity : n.quantity;
    o.leaves = o.quantity;
    o.display = n.display_quantity;
    o.side = n.side;
    o.type = n.type;
    o.time_in_force = n.time_in_force;
    o.stp = n.stp;
    o.post_only = n.post_only;
    o.place = OrderPlace::kInFlight;

    AcceptedEvent& a = emit(EventType::kAccepted).accepted;
    a.order_id = o.id;
    a.order = n;

    Instrument& ins = *instrument(n.instrument);
    if (is_stop(n.type)) {
      register_order(slot);
      add_stop(ins, slot);
      return;
    }
    execute(ins, slot);
    run_elections(ins);
  }

  void add_stop(Instrument& ins, std::uint32_t slot) {
    Order& o = orders[slot];
    o.place = OrderPlace::kStops;
    append_to_level(ins.stops(o.side), o.stop_price, slot, 0, 0);
  }

  // ----------------------------------------------------------- matching
  // The price bound a taker matches against: its limit, or for a market
  // order (and a triggered stop-market) the protection band edge.
  Price match_limit(const Instrument& ins, const Order& o) const {
    if (!is_market_like(o.type)) return o.price;
    const Price ref = ins.last_or_reference();
    const Price tick = ins.spec.tick_size;
    const Int128 offset = Int128{ref} * ins.spec.market_band_bps / 10000;
    if (o.side == Side::kBuy) {
      const Int128 hi = Int128{ref} + offset;
      return fits(hi) ? static_cast<Price>(hi / tick * tick) : kMaxValue / tick * tick;
    }
    const Int128 lo = Int128{ref} - offset;  // >= 0 because band <= 100 %
    const Int128 up = (lo + tick - 1) / tick * tick;
    return std::max(static_cast<Price>(up), tick);
  }

  // Runs an accepted (or replaced, or triggered) order as a taker, then
  // rests or cancels what is left.
  void execute(Instrument& ins, std::uint32_t slot) {
    Order& o = orders[slot];
    if (o.post_only && crosses(ins, o.side, o.price)) {
      emit_cancelled(o, CancelReason::kPostOnlyWouldTake, o.leaves);
      return close_order(slot);
    }
    const Price limit = match_limit(ins, o);
    if (o.time_in_force == TimeInForce::kFok && !fok_fillable(ins, o, limit)) {
      emit_cancelled(o, CancelReason::kFokNotFillable, o.leaves);
      return close_order(slot);
    }
    const MatchResult r = match(ins, slot, limit);
    if (r.closed_by_stp) return close_order(slot);
    finish(ins, slot, r);
  }

  void finish(Instrument& ins, std::uint32_t slot, const MatchResult& r) {
    Order& o = orders[slot];
    if (is_market_like(o.type)) {
      if (o.quote && r.cash_limited) {
        if (!r.traded) emit_cancelled(o, CancelReason::kQuoteTooSmall, o.leaves);
      } else if (o.leaves > 0 || o.quote) {
        emit_cancelled(o, r.traded ? CancelReason::kMarketRemainder
                                   : CancelReason::kMarketNoLiquidity, o.leaves);
      }
      return close_order(slot);
    }
    if (o.leaves == 0) return close_order(slot);
    if (!rests(o.time_in_force)) {
      emit_cancelled(o, CancelReason::kIocRemainder, o.leaves);
      return close_order(slot);
    }
    rest(ins, slot);
  }

  void rest(Instrument& ins, std::uint32_t slot) {
    Order& o = orders[slot];
    o.visible = o.display != 0 ? std::min(o.display, o.leaves) : o.leaves;
    o.place = OrderPlace::kBook;
    if (!o.registered) register_order(slot);
    const std::uint32_t lv = append_to_level(ins.book(o.side), o.price, slot, o.visible, o.leaves);
    emit_level(ins.id, o.side, o.price, lv);
  }

  MatchResult match(Instrument& ins, std::uint32_t taker_slot, Price limit) {
    MatchResult r;
    Ladder& opp = ins.book(opposite(orders[taker_slot].side));
    while (!opp.empty()) {
      Order& taker = orders[taker_slot];
      if (!taker.quote && taker.leaves == 0) break;
      const std::uint32_t lv = opp.best();
      Level& level = levels[lv];
      if (!acceptable(taker.side, level.price, limit)) break;
      const std::uint32_t maker_slot = level.head;
      Order& maker = orders[maker_slot];
      if (maker.account == taker.account) {
        if (!prevent_self_trade(ins, taker_slot, maker_slot)) {
          r.closed_by_stp = true;
          return r;
        }
        continue;
      }
      Quantity qty = std::min(taker.leaves, maker.visible);
      if (taker.quote) {
        qty = std::min(affordable(ins, taker.leaves, level.price), maker.visible);
        if (qty == 0) {
          r.cash_limited = true;
          return r;
        }
      }
      fill(ins, taker_slot, maker_slot, lv, qty);
      r.traded = true;
    }
    return r;
  }

  // Whole lots a quote order's cash buys at `price`.
  static Quantity affordable(const Instrument& ins, Amount cash, Price price) {
    const Int128 q = Int128{cash} * kPow10[ins.spec.quantity_scale] / price;
    const Quantity capped = fits(q) ? static_cast<Quantity>(q) : kMaxValue;
    return capped - capped % ins.spec.lot_size;
  }
  static Amount notional(const Instrument& ins, Price price, Quantity qty) {
    return static_cast<Amount>(Int128{price} * qty / kPow10[ins.spec.quantity_scale]);
  }

  void fill(Instrument& ins, std::uint32_t taker_slot, std::uint32_t maker_slot, std::uint32_t lv,
            Quantity qty) {
    Order& taker = orders[taker_slot];
    Order& maker = orders[maker_slot];
    Level& level = levels[lv];
    const Price price = level.price;
    maker.leaves -= qty;
    maker.visible -= qty;
    level.visible -= qty;
    level.total -= qty;
    taker.leaves -= taker.quote ? notional(ins, price, qty) : qty;
    ins.last = price;
    ins.high = ins.high == 0 ? price : std::max(ins.high, price);
    ins.low = ins.low == 0 ? price : std::min(ins.low, price);

    TradeEvent& t = emit(EventType::kTrade).trade;
    t.trade_id = ++last_trade_id;
    t.instrument = ins.id;
    t.aggressor = taker.side;
    t.price = price;
    t.quantity = qty;
    t.maker_order = maker.id;
    t.taker_order = taker.id;
    t.maker_account = maker.account;
    t.taker_account = taker.account;
    t.maker_leaves = maker.leaves;
    t.taker_leaves = taker.leaves;

    const Side maker_side = maker.side;
    std::uint32_t after = lv;
    if (maker.leaves == 0) {
      after = unlink_from_level(ins.book(maker_side), maker_slot, 0, 0);
      close_order(maker_slot);
    } else if (maker.visible == 0) {
      refresh_iceberg(maker_slot);
    }
    emit_level(ins.id, maker_side, price, after);
  }

  // An iceberg whose visible part is gone shows a new slice at the back of
  // its level (losing time priority).
  void refresh_iceberg(std::uint32_t slot) {
    Order& o = orders[slot];
    Level& l = levels[o.level];
    o.visible = std::min(o.display, o.leaves);
    l.visible += o.visible;
    if (l.tail == slot) return;
    if (o.prev != kNoSlot) orders[o.prev].next = o.next; else l.head = o.next;
    orders[o.next].prev = o.prev;
    o.prev = l.tail;
    o.next = kNoSlot;
    orders[l.tail].next = slot;
    l.tail = slot;
  }

  // Returns true if matching goes on.
  bool prevent_self_trade(Instrument& ins, std::uint32_t taker_slot, std::uint32_t maker_slot) {
    Order& taker = orders[taker_slot];
    switch (taker.stp) {
      case StpMode::kCancelTaker:
        emit_cancelled(taker, CancelReason::kSelfTrade, taker.leaves);
        return false;
      case StpMode::kCancelMaker:
        cancel_open(maker_slot, CancelReason::kSelfTrade);
        return true;
      case StpMode::kCancelBoth:
        cancel_open(maker_slot, CancelReason::kSelfTrade);
        emit_cancelled(orders[taker_slot], CancelReason::kSelfTrade, orders[taker_slot].leaves);
        return false;
      case StpMode::kDecrement:
        return decrement(ins, taker_slot, maker_slot);
    }
    return false;
  }

  bool decrement(Instrument& ins, std::uint32_t taker_slot, std::uint32_t maker_slot) {
    const Quantity d = std::min(orders[taker_slot].leaves, orders[maker_slot].leaves);
    Order& maker = orders[maker_slot];
    if (maker.leaves == d) {
      cancel_open(maker_slot, CancelReason::kSelfTrade);
    } else {
      Level& level = levels[maker.level];
      maker.leaves -= d;
      const Quantity visible = std::min(maker.visible, maker.leaves);
      level.total -= d;
      level.visible -= maker.visible - visible;
      maker.visible = visible;
      emit_reduced(maker, d);
      emit_level(ins.id, maker.side, maker.price, maker.level);
    }
    Order& taker = orders[taker_slot];
    if (taker.leaves == d) {
      emit_cancelled(taker, CancelReason::kSelfTrade, d);
      return false;
    }
    taker.leaves -= d;
    emit_reduced(taker, d);
    return true;
  }

  // FOK: would this order, run as IOC, fill completely? Levels without an
  // own-account order that blocks (any STP mode but CANCEL_MAKER) give all
  // their other-account quantity, hidden parts included; a level with a
  // blocking own order is simulated order by order, icebergs refreshing to
  // the back, up to the own order.
  bool fok_fillable(const Instrument& ins, const Order& taker, Price limit) {
    Quantity need = taker.leaves;
    bool filled = false;
    bool blocked = false;
    ins.book(opposite(taker.side)).for_each_from_best([&](std::uint32_t lv) {
      const Level& level = levels[lv];
      if (!acceptable(taker.side, level.price, limit)) return false;
      Quantity others = 0;
      bool own = false;
      for (std::uint32_t s = level.head; s != kNoSlot; s = orders[s].next) {
        if (orders[s].account == taker.account) own = true; else others += orders[s].leaves;
      }
      if (!own || taker.stp == StpMode::kCancelMaker) {
        need -= std::min(need, others);
      } else {
        need = simulate_level_until_own(level, taker.account, need);
        if (need > 0) blocked = true;
      }
      filled = need == 0;
      return !filled && !blocked;
    });
    return filled;
  }

  // Takes from the level in matching order until `need` is met or an order
  // of `account` comes up. Returns what is still needed.
  Quantity simulate_level_until_own(const Level& level, AccountId account, Quantity need) {
    fok_queue.clear();
    for (std::uint32_t s = level.head; s != kNoSlot; s = orders[s].next) {
      const Order& o = orders[s];
      fok_queue.push_back({o.account, o.visible, o.leaves, o.display});
    }
    for (std::size_t i = 0; i < fok_queue.size() && need > 0; ++i) {
      FokSim o = fok_queue[i];
      if (o.account == account) return need;
      const Quantity q = std::min(need, o.visible);
      need -= q;
      o.visible -= q;
      o.leaves -= q;
      if (o.visible == 0 && o.leaves > 0) {
        o.visible = std::min(o.display, o.leaves);
        fok_queue.push_back(o);
      }
    }
    return need;
  }

  // ------------------------------------------------------------- stops
  void run_elections(Instrument& ins) {
    while (ins.high != 0) {
      const Price high = ins.high;
      const Price low = ins.low;
      ins.high = 0;
      ins.low = 0;
      std::vector<std::uint32_t>& elected = scratch_slots;
      elected.clear();
      collect_elected(ins.buy_stops, [&](Price stop) { return stop <= high; });
      collect_elected(ins.sell_stops, [&](Price stop) { return stop >= low; });
      if (elected.empty()) continue;
      const Price last = ins.last;
      auto distance = [&](std::uint32_t s) {
        const Price d = orders[s].stop_price - last;
        return d < 0 ? -d : d;
      };
      std::sort(elected.begin(), elected.end(), [&](std::uint32_t a, std::uint32_t b) {
        const Price da = distance(a);
        const Price db = distance(b);
        return da != db ? da > db : orders[a].stop_priority < orders[b].stop_priority;
      });
      // The group is copied because triggering runs whole orders, which must
      // be free to use the scratch space.
      group.assign(elected.begin(), elected.end());
      for (std::uint32_t slot : group) trigger(ins, slot, last);
    }
  }
  std::vector<std::uint32_t> group;

  template <class Elected>
  void collect_elected(Ladder& ladder, Elected elected) {
    while (!ladder.empty()) {
      const std::uint32_t lv = ladder.best();
      if (!elected(levels[lv].price)) return;
      for (std::uint32_t s = levels[lv].head; s != kNoSlot; s = orders[s].next) {
        orders[s].place = OrderPlace::kInFlight;
        scratch_slots.push_back(s);
      }
      ladder.pop_best();
      levels.release(lv);
    }
  }

  void trigger(Instrument& ins, std::uint32_t slot, Price last) {
    Order& o = orders[slot];
    o.triggered = true;
    StopTriggeredEvent& e = emit(EventType::kStopTriggered).stop_triggered;
    e.order_id = o.id;
    e.account = o.account;
    e.instrument = o.instrument;
    e.last_price = last;
    execute(ins, slot);
  }

  // ------------------------------------------------------------ cancel
  // An open order of `account`, or kNoSlot (unknown, closed and foreign
  // orders look the same).
  std::uint32_t own_open_order(AccountId account, OrderId id) const {
    const std::uint32_t slot = find_order(id);
    return (slot != kNoSlot && orders[slot].account == account) ? slot : kNoSlot;
  }

  void on_cancel(const Cancel& c) {
    const std::uint32_t slot = own_open_order(c.account, c.order_id);
    if (slot == kNoSlot)
      return emit_reject(RejectReason::kUnknownOrder, c.account, c.order_id, ClientOrderId{});
    cancel_open(slot, CancelReason::kUser);
  }

  void on_mass_cancel(const MassCancel& m) {
    if (m.instrument != 0 && instrument(m.instrument) == nullptr)
      return emit_reject(RejectReason::kUnknownSymbol, m.account, 0, ClientOrderId{});
    if (!account_in_range(m.account))
      return emit_reject(RejectReason::kUnknownAccount, m.account, 0, ClientOrderId{});
    std::vector<std::uint32_t>& victims = scratch_slots;
    victims.clear();
    if (m.account < accounts.size()) {
      for (std::uint32_t s = accounts[m.account].head; s != kNoSlot; s = orders[s].account_next)
        if (m.instrument == 0 || orders[s].instrument == m.instrument) victims.push_back(s);
    }
    const auto count = static_cast<std::uint32_t>(victims.size());
    cancel_in_id_order(victims, CancelReason::kMassCancel);
    MassCancelledEvent& e = emit(EventType::kMassCancelled).mass_cancelled;
    e.account = m.account;
    e.instrument = m.instrument;
    e.count = count;
  }

  void cancel_in_id_order(std::vector<std::uint32_t>& slots, CancelReason reason) {
    std::sort(slots.begin(), slots.end(),
              [&](std::uint32_t a, std::uint32_t b) { return orders[a].id < orders[b].id; });
    for (std::uint32_t s : slots) cancel_open(s, reason);
  }

  void on_end_of_day() {
    std::vector<std::uint32_t>& expiring = scratch_slots;
    expiring.clear();
    for (const AccountOrders& a : accounts)
      for (std::uint32_t s = a.head; s != kNoSlot; s = orders[s].account_next)
        if (orders[s].time_in_force == TimeInForce::kDay) expiring.push_back(s);
    const auto count = static_cast<std::uint32_t>(expiring.size());
    cancel_in_id_order(expiring, CancelReason::kExpired);
    for (Instrument& ins : instruments) {
      if (ins.last != 0) ins.spec.reference_price = ins.last;
      ins.last = 0;
    }
    emit(EventType::kDayEnded).day_ended.expired = count;
  }

  // ----------------------------------------------------------- replace
  struct ReplaceTarget {
    Price price;
    Price stop_price;
    Quantity quantity;
  };

  RejectReason validate_replace(const Replace& r, const Order& o, const Instrument& ins,
                                ReplaceTarget& t) const {
    if (RejectReason s = status_reject(ins); s != RejectReason::kNone) return s;
    const bool waiting_stop = o.place == OrderPlace::kStops;
    const Price tick = ins.spec.tick_size;
    if (r.price != 0) {
      if (o.type != OrderType::kLimit && o.type != OrderType::kStopLimit)
        return RejectReason::kUnexpectedPrice;
      if (r.price < 0) return RejectReason::kPriceNotPositive;
      if (r.price % tick != 0) return RejectReason::kPriceOffTick;
    }
    if (r.stop_price != 0) {
      if (!waiting_stop) return RejectReason::kUnexpectedStopPrice;
      if (r.stop_price < 0) return RejectReason::kPriceNotPositive;
      if (r.stop_price % tick != 0) return RejectReason::kPriceOffTick;
    }
    if (r.quantity != 0) {
      if (r.quantity < 0) return RejectReason::kQuantityNotPositive;
      if (r.quantity % ins.spec.lot_size != 0) return RejectReason::kQuantityOffLot;
      if (r.quantity <= o.quantity - o.leaves) return RejectReason::kQuantityNotAboveFilled;
    }
    t.price = r.price != 0 ? r.price : o.price;
    t.stop_price = r.stop_price != 0 ? r.stop_price : o.stop_price;
    t.quantity = r.quantity != 0 ? r.quantity : o.quantity;
    if (!fits(Int128{t.price} * t.quantity) || !fits(Int128{t.stop_price} * t.quantity))
      return RejectReason::kValueOverflow;
    if (o.post_only && crosses(ins, o.side, t.price)) return RejectReason::kPostOnlyWouldTake;
    if (waiting_stop && stop_elected_now(ins, o.side, t.stop_price))
      return RejectReason::kStopWouldTriggerImmediately;
    return RejectReason::kNone;
  }

  void on_replace(const Replace& r) {
    const std::uint32_t slot = own_open_order(r.account, r.order_id);
    if (slot == kNoSlot)
      return emit_reject(RejectReason::kUnknownOrder, r.account, r.order_id, ClientOrderId{});
    Order& o = orders[slot];
    Instrument& ins = *instrument(o.instrument);
    ReplaceTarget t{};
    if (RejectReason why = validate_replace(r, o, ins, t); why != RejectReason::kNone)
      return emit_reject(why, r.account, r.order_id, ClientOrderId{});

    const bool keep = t.price == o.price && t.stop_price == o.stop_price && t.quantity <= o.quantity;
    const Quantity leaves = t.quantity - (o.quantity - o.leaves);
    if (o.place == OrderPlace::kStops) return replace_stop(ins, slot, t, leaves, keep);
    if (keep) return replace_in_place(ins, slot, t, leaves);

    const Price old_price = o.price;
    const std::uint32_t old_level = unlink_resting(ins, slot);
    o.place = OrderPlace::kInFlight;
    o.price = t.price;
    o.quantity = t.quantity;
    o.leaves = leaves;
    emit_replaced(o, false);
    emit_level(ins.id, o.side, old_price, old_level);
    execute(ins, slot);
    run_elections(ins);
  }

  void replace_stop(Instrument& ins, std::uint32_t slot, const ReplaceTarget& t, Quantity leaves,
                    bool keep) {
    Order& o = orders[slot];
    if (!keep) unlink_stop(ins, slot);
    o.price = t.price;
    o.stop_price = t.stop_price;
    o.quantity = t.quantity;
    o.leaves = leaves;
    if (!keep) {
      o.stop_priority = cmd->seq;
      add_stop(ins, slot);
    }
    emit_replaced(o, keep);
  }

  void replace_in_place(Instrument& ins, std::uint32_t slot, const ReplaceTarget& t,
                        Quantity leaves) {
    Order& o = orders[slot];
    Level& level = levels[o.level];
    const Quantity visible = std::min(o.visible, leaves);
    level.total -= o.leaves - leaves;
    level.visible -= o.visible - visible;
    o.quantity = t.quantity;
    o.leaves = leaves;
    o.visible = visible;
    emit_replaced(o, true);
    emit_level(ins.id, o.side, o.price, o.level);
  }

  void emit_replaced(const Order& o, bool kept) {
    ReplacedEvent& e = emit(EventType::kReplaced).replaced;
    e.order_id = o.id;
    e.account = o.account;
    e.instrument = o.instrument;
    e.price = o.price;
    e.stop_price = o.stop_price;
    e.quantity = o.quantity;
    e.leaves = o.leaves;
    e.kept_priority = kept;
  }

  // --------------------------------------------------------- state hash
  struct Hasher {
    std::uint64_t h = 0x243F6A8885A308D3ull;
    void add(std::uint64_t v) { h = mix_hash(h ^ v) + 0x9E3779B97F4A7C15ull; }
  };

  void hash_ladder(Hasher& x, const Ladder& ladder) const {
    x.add(ladder.size());
    ladder.for_each_from_best([&](std::uint32_t lv) {
      const Level& l = levels[lv];
      x.add(static_cast<std::uint64_t>(l.price));
      x.add(static_cast<std::uint64_t>(l.visible));
      x.add(l.count);
      for (std::uint32_t s = l.head; s != kNoSlot; s = orders[s].next) hash_order(x, orders[s]);
      return true;
    });
  }
  static void hash_order(Hasher& x, const Order& o) {
    std::uint64_t cid[2];
    std::memcpy(cid, o.client_order_id.bytes.data(), sizeof cid);
    for (std::uint64_t v : {o.id, cid[0], cid[1], std::uint64_t{o.account},
                            static_cast<std::uint64_t>(o.price),
                            static_cast<std::uint64_t>(o.stop_price), o.stop_priority,
                            static_cast<std::uint64_t>(o.quantity),
                            static_cast<std::uint64_t>(o.leaves),
                            static_cast<std::uint64_t>(o.display),
                            static_cast<std::uint64_t>(o.visible)})
      x.add(v);
    x.add(std::uint64_t{static_cast<std::uint8_t>(o.side)} |
          std::uint64_t{static_cast<std::uint8_t>(o.type)} << 8 |
          std::uint64_t{static_cast<std::uint8_t>(o.time_in_force)} << 16 |
          std::uint64_t{static_cast<std::uint8_t>(o.stp)} << 24 |
          std::uint64_t{o.post_only} << 32 | std::uint64_t{o.triggered} << 40);
  }

  std::uint64_t state_hash() const {
    Hasher x;
    x.add(last_order_id);
    x.add(last_trade_id);
    x.add(instruments.size());
    for (const Instrument& ins : instruments) {
      x.add(ins.id);
      x.add(static_cast<std::uint64_t>(ins.status));
      x.add(static_cast<std::uint64_t>(ins.spec.reference_price));
      x.add(static_cast<std::uint64_t>(ins.last));
      hash_ladder(x, ins.bids);
      hash_ladder(x, ins.asks);
      hash_ladder(x, ins.buy_stops);
      hash_ladder(x, ins.sell_stops);
    }
    for (AccountId a = 0; a < accounts.size(); ++a) {
      if (accounts[a].count == 0) continue;
      x.add(a);
      for (std::uint32_t s = accounts[a].head; s != kNoSlot; s = orders[s].account_next)
        x.add(orders[s].id);
    }
    return x.h;
  }

  // --------------------------------------------------------- invariants
  std::string check_ladder(const Instrument& ins, const Ladder& ladder, Side side, bool stops,
                           std::size_t& seen) const {
    std::ostringstream err;
    Price prev = 0;
    bool first = true;
    ladder.for_each_from_best([&](std::uint32_t lv) {
      const Level& l = levels[lv];
      const bool ordered = first || (stops ? (side == Side::kBuy ? l.price > prev : l.price < prev)
                                           : (side == Side::kBuy ? l.price < prev : l.price > prev));
      if (!ordered) err << "ladder out of order at " << l.price << "; ";
      first = false;
      prev = l.price;
      Quantity visible = 0;
      Quantity total = 0;
      std::uint32_t count = 0;
      std::uint32_t back = kNoSlot;
      for (std::uint32_t s = l.head; s != kNoSlot; back = s, s = orders[s].next) {
        const Order& o = orders[s];
        ++count;
        ++seen;
        visible += o.visible;
        total += stops ? 0 : o.leaves;
        if (o.prev != back) err << "broken prev link in order " << o.id << "; ";
        if (o.level != lv) err << "order " << o.id << " points at the wrong level; ";
        if (o.side != side || o.instrument != ins.id) err << "order " << o.id << " misplaced; ";
        if ((stops ? o.stop_price : o.price) != l.price)
          err << "order " << o.id << " at a level of another price; ";
        if (o.place != (stops ? OrderPlace::kStops : OrderPlace::kBook) || !o.registered)
          err << "order " << o.id << " has a wrong place/registration; ";
        if (!stops && (o.visible <= 0 || o.visible > o.leaves ||
                       (o.display != 0 && o.visible > o.display) ||
                       (o.display == 0 && o.visible != o.leaves)))
          err << "order " << o.id << " has a bad visible quantity; ";
        if (find_order(o.id) != s) err << "order " << o.id << " missing from the id index; ";
        if (!o.client_order_id.empty() && find_client_id(o.account, o.client_order_id) != s)
          err << "order " << o.id << " missing from the client id index; ";
      }
      if (back != l.tail) err << "level " << l.price << " has a wrong tail; ";
      if (count == 0 || count != l.count) err << "level " << l.price << " count mismatch; ";
      if (!stops && (visible != l.visible || total != l.total))
        err << "level " << l.price << " totals mismatch; ";
      return true;
    });
    return err.str();
  }

  std::string check_invariants() const {
    std::string err;
    std::size_t seen = 0;
    for (const Instrument& ins : instruments) {
      err += check_ladder(ins, ins.bids, Side::kBuy, false, seen);
      err += check_ladder(ins, ins.asks, Side::kSell, false, seen);
      err += check_ladder(ins, ins.buy_stops, Side::kBuy, true, seen);
      err += check_ladder(ins, ins.sell_stops, Side::kSell, true, seen);
      if (!ins.bids.empty() && !ins.asks.empty() &&
          levels[ins.bids.best()].price >= levels[ins.asks.best()].price)
        err += "book crossed for instrument " + std::to_string(ins.id) + "; ";
    }
    if (seen != registered || ids.size() != registered)
      err += "registered orders (" + std::to_string(registered) + ") != orders in books (" +
             std::to_string(seen) + ") or id index (" + std::to_string(ids.size()) + "); ";
    std::size_t in_accounts = 0;
    for (AccountId a = 0; a < accounts.size(); ++a) {
      std::uint32_t n = 0;
      for (std::uint32_t s = accounts[a].head; s != kNoSlot; s = orders[s].account_next, ++n)
        if (orders[s].account != a) err += "order in another account's list; ";
      if (n != accounts[a].count) err += "account list count mismatch; ";
      in_accounts += n;
    }
    if (in_accounts != registered) err += "account lists do not hold every open order; ";
    std::size_t with_client_id = 0;
    client_ids.for_each([&](std::uint32_t) { ++with_client_id; });
    std::size_t expected_client_ids = 0;
    ids.for_each([&](std::uint32_t s) { expected_client_ids += !orders[s].client_order_id.empty(); });
    if (with_client_id != expected_client_ids) err += "client id index size mismatch; ";
    return err;
  }
};

// ------------------------------------------------------------ public API
Engine::Engine(const EngineConfig& config) : impl_(std::make_unique<Impl>(config)) {}
Engine::~Engine() = default;

void Engine::apply(const Command& command, std::vector<Event>& out) { impl_->apply(command, out); }

std::uint64_t Engine::state_hash() const { return impl_->state_hash(); }

std::optional<InstrumentId> Engine::find_symbol(std::string_view symbol) const {
  auto it = impl_->symbols.find(std::string(symbol));
  if (it == impl_->symbols.end()) return std::nullopt;
  return it->second;
}

std::optional<InstrumentView> Engine::instrument(InstrumentId id) const {
  const Instrument* ins = impl_->instrument(id);
  if (ins == nullptr) return std::nullopt;
  return InstrumentView{ins->id, ins->spec, ins->status, ins->last};
}

std::vector<LevelView> Engine::depth(InstrumentId id, Side side, std::size_t max_levels) const {
  std::vector<LevelView> result;
  const Instrument* ins = impl_->instrument(id);
  if (ins == nullptr) return result;
  ins->book(side).for_each_from_best([&](std::uint32_t lv) {
    if (result.size() >= max_levels) return false;
    const Level& l = impl_->levels[lv];
    result.push_back({l.price, l.visible, l.count});
    return true;
  });
  return result;
}

std::optional<OrderView> Engine::order(OrderId id) const {
  const std::uint32_t slot = impl_->find_order(id);
  if (slot == kNoSlot) return std::nullopt;
  const Order& o = impl_->orders[slot];
  return OrderView{o.id,       o.account,  o.instrument, o.client_order_id, o.side,
                   o.type,     o.time_in_force, o.price, o.stop_price, o.quantity,
                   o.leaves,   o.display,  o.visible,    o.triggered,       o.post_only};
}

std::size_t Engine::open_orders() const { return impl_->registered; }

std::string Engine::check_invariants() const { return impl_->check_invariants(); }

}  // namespace stox
