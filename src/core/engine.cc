// The matching engine: command dispatch, validation, cancel/replace, mass
// cancel, end of day, the state hash and the invariant checks. The rules it
// implements, and the exact order of the events it emits, are written in
// docs/design.md; the naive reference matcher in src/core/testing/ implements
// the same rules independently and the differential test compares the two
// event for event.
//
// New orders and replaced orders run through execute() (matching.cc), which
// does the post-only and FOK checks, matches against the opposite side, then
// rests or cancels the remainder. Every command that can trade ends with
// run_elections(), which triggers stops and their cascades. In accounts mode
// the ledger (ledger.cc) and pre-trade risk (risk.cc) hook into the same
// paths. Orders and levels are pooled (order_book.h); nothing allocates per
// order once the pools are warm.
#include "core/engine.h"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <string>

#include "core/engine_impl.h"

namespace stox {
namespace {

std::uint64_t hash_client_id(AccountId account, const ClientOrderId& id) {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::memcpy(&a, id.bytes.data(), 8);
  std::memcpy(&b, id.bytes.data() + 8, 8);
  return mix_hash(a ^ mix_hash(b ^ mix_hash(account)));
}

RejectReason status_reject(const Instrument& ins) {
  switch (ins.status) {
    case InstrumentStatus::kTrading: return RejectReason::kNone;
    case InstrumentStatus::kHalted: return RejectReason::kInstrumentHalted;
    case InstrumentStatus::kClosed: return RejectReason::kInstrumentClosed;
  }
  return RejectReason::kInstrumentHalted;
}

RejectReason validate_enums(const NewOrder& o) {
  const auto side = static_cast<std::uint8_t>(o.side);
  const auto type = static_cast<std::uint8_t>(o.type);
  const auto tif = static_cast<std::uint8_t>(o.time_in_force);
  if (side < 1 || side > 2) return RejectReason::kInvalidSide;
  if (type < 1 || type > 4) return RejectReason::kInvalidOrderType;
  if (tif < 1 || tif > 4) return RejectReason::kInvalidTimeInForce;
  if (static_cast<std::uint8_t>(o.stp) > 3) return RejectReason::kInvalidStpMode;
  const bool tif_ok =
      o.type == OrderType::kLimit ||
      (o.type == OrderType::kMarket ? !rests(o.time_in_force) : rests(o.time_in_force));
  if (!tif_ok) return RejectReason::kInvalidTimeInForce;
  if (o.post_only && !(o.type == OrderType::kLimit && rests(o.time_in_force)))
    return RejectReason::kPostOnlyNotAllowed;
  return RejectReason::kNone;
}

RejectReason validate_prices(const NewOrder& o, const Instrument& ins) {
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

RejectReason validate_quantities(const NewOrder& o, const Instrument& ins) {
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

bool valid_instrument(const AddInstrument& a, const EngineConfig& config) {
  if (a.symbol.empty()) return false;
  if (a.price_scale > kMaxScale || a.quantity_scale > kMaxScale) return false;
  if (config.accounts && a.price_scale > config.cash_scale) return false;
  if (a.tick_size <= 0 || a.lot_size <= 0 || a.reference_price <= 0) return false;
  if (a.reference_price % a.tick_size != 0) return false;
  if (a.taker_fee_bps < 0 || a.taker_fee_bps > 10000) return false;
  if (a.maker_fee_bps < -a.taker_fee_bps || a.maker_fee_bps > 10000) return false;
  return a.market_band_bps >= 0 && a.market_band_bps <= 10000;
}

}  // namespace

Engine::Impl::Impl(const EngineConfig& c)
    : config(c), orders(c.expected_orders), levels(c.expected_orders / 16 + 64),
      ids(c.expected_orders), client_ids(1024) {
  fee_balances.resize(1);
  external_balances.resize(1);
}

// ------------------------------------------------------------------ events
Event& Engine::Impl::emit(EventType type) {  // NOLINT(readability-make-member-function-const)
  Event& e = out->emplace_back();  // all bytes zero (event.h)
  e.seq = cmd->seq;
  e.timestamp = cmd->timestamp;
  e.type = type;
  return e;
}

void Engine::Impl::emit_reject(RejectReason reason, AccountId account, OrderId order_id,
                               const ClientOrderId& client_id) {
  RejectedEvent& r = emit(EventType::kRejected).rejected;
  r.command = cmd->type;
  r.reason = reason;
  r.account = account;
  r.order_id = order_id;
  r.client_order_id = client_id;
}

void Engine::Impl::emit_cancelled(const Order& o, CancelReason reason, Quantity leaves) {
  CancelledEvent& c = emit(EventType::kCancelled).cancelled;
  c.order_id = o.id;
  c.account = o.account;
  c.instrument = o.instrument;
  c.reason = reason;
  c.leaves = leaves;
}

void Engine::Impl::emit_reduced(const Order& o, Quantity by) {
  ReducedEvent& r = emit(EventType::kReduced).reduced;
  r.order_id = o.id;
  r.account = o.account;
  r.instrument = o.instrument;
  r.reduced_by = by;
  r.leaves = o.leaves;
}

void Engine::Impl::emit_level(InstrumentId instrument, Side side, Price price,
                              std::uint32_t level) {
  BookLevelEvent& b = emit(EventType::kBookLevel).book_level;
  b.instrument = instrument;
  b.side = side;
  b.price = price;
  if (level != kNoSlot) {
    b.quantity = levels[level].visible;
    b.count = levels[level].count;
  }
}

void Engine::Impl::emit_replaced(const Order& o, bool kept) {
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

void Engine::Impl::emit_status(const Instrument& ins) {
  InstrumentStatusEvent& e = emit(EventType::kInstrumentStatus).instrument_status;
  e.instrument = ins.id;
  e.status = ins.status;
}

// ----------------------------------------------------------------- lookups
Instrument* Engine::Impl::instrument(InstrumentId id) {
  return (id >= 1 && id <= instruments.size()) ? &instruments[id - 1] : nullptr;
}
const Instrument* Engine::Impl::instrument(InstrumentId id) const {
  return (id >= 1 && id <= instruments.size()) ? &instruments[id - 1] : nullptr;
}

// Order ids are hashed even though they are sequential: keyed by the raw id,
// one old resting order in the slot the current window of ids wraps onto
// shifts every later id by one, and under linear probing the whole window
// becomes a single cluster (replay of 10 M commands fell to 0.09 M/s).
std::uint32_t Engine::Impl::find_order(OrderId id) const {
  return ids.find(mix_hash(id), [&](std::uint32_t s) { return orders[s].id == id; });
}

std::uint32_t Engine::Impl::find_client_id(AccountId account, const ClientOrderId& cid) const {
  return client_ids.find(hash_client_id(account, cid), [&](std::uint32_t s) {
    return orders[s].account == account && orders[s].client_order_id == cid;
  });
}

// An open order of `account`, or kNoSlot: unknown, closed and foreign orders
// look the same.
std::uint32_t Engine::Impl::own_open_order(AccountId account, OrderId id) const {
  const std::uint32_t slot = find_order(id);
  return (slot != kNoSlot && orders[slot].account == account) ? slot : kNoSlot;
}

bool Engine::Impl::account_exists(AccountId a) const {
  if (config.accounts) return account(a) != nullptr;
  return a >= 1 && a <= config.max_accounts;
}

// ------------------------------------------------------ replay look-ahead
// On a book far larger than the cache a command's misses form chains: an
// order id's index bucket, then the order record it names, then the order's
// FIFO and account-list neighbours and its level. Engine::prefetch issues
// each stage for a command at a different distance ahead (far: buckets; mid:
// the records the buckets name, the levels; near: what those records link
// to), so that each stage reads what the one before brought in and apply()
// finds the whole chain in cache. It follows links that later commands may
// change before the one it prefetches for runs, so it only prefetches
// (bounds-checked) and never relies on what it read. (prefetch_line, not
// __builtin_prefetch: see slot_index.h.)
namespace {

constexpr std::size_t kPrefetchFar = 12;  // distances, in commands ahead
constexpr std::size_t kPrefetchMid = 6;
constexpr std::size_t kPrefetchNear = 2;
constexpr OrderId kIdsAhead = 8;          // new ids: the bucket of the id this many ahead

template <class T>
void prefetch_if(const T* p) {
  if (p != nullptr) prefetch_line(p);
}

}  // namespace

void Engine::Impl::prefetch_far(const Command& c) const {
  if (c.type == CommandType::kCancel) ids.prefetch(mix_hash(c.cancel.order_id));
  if (c.type == CommandType::kReplace) ids.prefetch(mix_hash(c.replace.order_id));
}

void Engine::Impl::prefetch_mid(const Command& c) const {
  if (c.type == CommandType::kCancel) return prefetch_order_run(c.cancel.order_id);
  if (c.type == CommandType::kReplace) return prefetch_order_run(c.replace.order_id);
  if (c.type != CommandType::kNewOrder) return;
  const NewOrder& n = c.new_order;
  if (n.account < account_orders.size()) {
    const Order* tail = orders.at_or_null(account_orders[n.account].tail);
    if (tail != nullptr) prefetch_if(&tail->account_next);
  }
  prefetch_if(levels.at_or_null(level_at(n.instrument, n.side, n.price)));
  prefetch_if(levels.at_or_null(best_opposite(n.instrument, n.side)));
}

void Engine::Impl::prefetch_near(const Command& c) const {
  if (c.type == CommandType::kCancel || c.type == CommandType::kReplace) {
    const OrderId id = c.type == CommandType::kCancel ? c.cancel.order_id : c.replace.order_id;
    const std::uint32_t slot = find_order(id);
    if (slot != kNoSlot) prefetch_neighbours(slot);
    return;
  }
  if (c.type != CommandType::kNewOrder) return;
  const NewOrder& n = c.new_order;
  if (const Level* l = levels.at_or_null(level_at(n.instrument, n.side, n.price))) {
    if (const Order* tail = orders.at_or_null(l->tail)) prefetch_if(&tail->next);
  }
  if (const Level* l = levels.at_or_null(best_opposite(n.instrument, n.side))) {
    prefetch_if(orders.at_or_null(l->head));
  }
}

// What cancelling or moving the order touches besides the order itself.
void Engine::Impl::prefetch_neighbours(std::uint32_t slot) const {
  const Order& o = orders[slot];
  for (std::uint32_t s : {o.prev, o.next, o.account_prev, o.account_next}) {
    if (const Order* n = orders.at_or_null(s)) {
      prefetch_if(&n->prev);
      prefetch_if(&n->account_next);
    }
  }
  prefetch_if(levels.at_or_null(o.level));
}

void Engine::Impl::prefetch(std::span<const Command> upcoming) const {
  if (registered < config.prefetch_min_open_orders) return;  // in cache: hints only cost
  // Accepted orders take consecutive ids, so the bucket an insert will use
  // is known a few new orders ahead without knowing which command it is.
  ids.prefetch(mix_hash(last_order_id + kIdsAhead));
  if (upcoming.size() > kPrefetchFar) prefetch_far(upcoming[kPrefetchFar]);
  if (upcoming.size() > kPrefetchMid) prefetch_mid(upcoming[kPrefetchMid]);
  if (upcoming.size() > kPrefetchNear) prefetch_near(upcoming[kPrefetchNear]);
}

std::uint32_t Engine::Impl::level_at(InstrumentId instrument, Side side, Price price) const {
  const Instrument* ins = this->instrument(instrument);
  return ins != nullptr ? ins->book(side).find(price) : kNoSlot;
}

std::uint32_t Engine::Impl::best_opposite(InstrumentId instrument, Side side) const {
  const Instrument* ins = this->instrument(instrument);
  if (ins == nullptr) return kNoSlot;
  const Ladder& opp = ins->book(opposite(side));
  return opp.empty() ? kNoSlot : opp.best();
}

// ----------------------------------------------------- open-order registry
void Engine::Impl::register_order(std::uint32_t slot) {
  Order& o = orders[slot];
  o.registered = true;
  ids.insert(mix_hash(o.id), slot, [&](std::uint32_t s) { return mix_hash(orders[s].id); });
  if (!o.client_order_id.empty()) {
    client_ids.insert(hash_client_id(o.account, o.client_order_id), slot, [&](std::uint32_t s) {
      return hash_client_id(orders[s].account, orders[s].client_order_id);
    });
  }
  if (o.account >= account_orders.size()) account_orders.resize(o.account + 1);
  AccountOrders& a = account_orders[o.account];
  o.account_prev = a.tail;
  o.account_next = kNoSlot;
  if (a.tail != kNoSlot) orders[a.tail].account_next = slot; else a.head = slot;
  a.tail = slot;
  ++a.count;
  ++registered;
}

void Engine::Impl::unregister_order(std::uint32_t slot) {
  Order& o = orders[slot];
  ids.erase(mix_hash(o.id), slot);
  if (!o.client_order_id.empty()) client_ids.erase(hash_client_id(o.account, o.client_order_id), slot);
  AccountOrders& a = account_orders[o.account];
  if (o.account_prev != kNoSlot) orders[o.account_prev].account_next = o.account_next;
  else a.head = o.account_next;
  if (o.account_next != kNoSlot) orders[o.account_next].account_prev = o.account_prev;
  else a.tail = o.account_prev;
  --a.count;
  --registered;
  o.registered = false;
}

// The order is finished: release what it still holds, forget it, free its slot.
void Engine::Impl::close_order(std::uint32_t slot) {
  Order& o = orders[slot];
  if (config.accounts) adjust_hold(o, -requirement(*instrument(o.instrument), o));
  if (o.registered) unregister_order(slot);
  orders.release(slot);
}

// --------------------------------------------------------------- levels
std::uint32_t Engine::Impl::append_to_level(Ladder& ladder, Price price, std::uint32_t slot,
                                            Quantity visible, Quantity total) {
  const std::uint32_t lv = ladder.find_or_insert(price, [&] {
    const std::uint32_t fresh = levels.alloc();
    levels[fresh] = Level{price, 0, 0, 0, kNoSlot, kNoSlot};
    return fresh;
  });
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

// Unlinks the order from its level, taking `visible`/`total` off the level's
// sums. Returns the level, or kNoSlot if the level is now gone.
std::uint32_t Engine::Impl::unlink_from_level(Ladder& ladder, std::uint32_t slot,
                                              Quantity visible, Quantity total) {
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

std::uint32_t Engine::Impl::unlink_resting(Instrument& ins, std::uint32_t slot) {
  const Order& o = orders[slot];
  return unlink_from_level(ins.book(o.side), slot, o.visible, o.leaves);
}

void Engine::Impl::unlink_stop(Instrument& ins, std::uint32_t slot) {
  unlink_from_level(ins.stops(orders[slot].side), slot, 0, 0);
}

// Cancels an open order (resting or untriggered stop): Cancelled, then the
// level update for a resting order.
void Engine::Impl::cancel_open(std::uint32_t slot, CancelReason reason) {
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

void Engine::Impl::cancel_in_id_order(std::vector<std::uint32_t>& slots, CancelReason reason) {
  std::sort(slots.begin(), slots.end(),
            [&](std::uint32_t a, std::uint32_t b) { return orders[a].id < orders[b].id; });
  for (std::uint32_t s : slots) cancel_open(s, reason);
}

// ------------------------------------------------------------------ apply
void Engine::Impl::apply(const Command& c, std::vector<Event>& events) {
  cmd = &c;
  out = &events;
  if (breaker_halts != 0) resume_breaker_halts();
  if (!config.accounts && c.type >= CommandType::kCreateAccount)  // no ledger in this mode
    return emit_reject(RejectReason::kInvalidCommand, 0, 0, ClientOrderId{});
  switch (c.type) {
    case CommandType::kNewOrder: return on_new_order(c.new_order);
    case CommandType::kCancel: return on_cancel(c.cancel);
    case CommandType::kReplace: return on_replace(c.replace);
    case CommandType::kMassCancel: return on_mass_cancel(c.mass_cancel);
    case CommandType::kEndOfDay: return on_end_of_day();
    case CommandType::kSetInstrumentStatus: return on_set_status(c.set_status);
    case CommandType::kAddInstrument: return on_add_instrument(c.add_instrument);
    case CommandType::kCreateAccount: return on_create_account(c.create_account);
    case CommandType::kDeposit: return on_transfer(c.transfer, true);
    case CommandType::kWithdraw: return on_transfer(c.transfer, false);
    case CommandType::kSetAccountLimits: return on_account_limits(c.account_limits);
    case CommandType::kSetInstrumentLimits: return on_instrument_limits(c.instrument_limits);
    case CommandType::kSetKillSwitch: return on_kill_switch(c.kill_switch);
  }
  emit_reject(RejectReason::kInvalidCommand, 0, 0, ClientOrderId{});
}

// ------------------------------------------------------------ instruments
void Engine::Impl::on_add_instrument(const AddInstrument& a) {
  if (!valid_instrument(a, config))
    return emit_reject(RejectReason::kInvalidInstrument, 0, 0, ClientOrderId{});
  const std::string symbol(a.symbol.view());
  if (symbols.contains(symbol))
    return emit_reject(RejectReason::kDuplicateSymbol, 0, 0, ClientOrderId{});
  Instrument& ins = instruments.emplace_back();
  ins.id = static_cast<InstrumentId>(instruments.size());
  ins.spec = a;
  if (ins.spec.market_band_bps == 0) ins.spec.market_band_bps = config.default_market_band_bps;
  symbols.emplace(symbol, ins.id);
  fee_balances.resize(instruments.size() + 1);
  external_balances.resize(instruments.size() + 1);
  grow_accounts();
  InstrumentAddedEvent& e = emit(EventType::kInstrumentAdded).instrument_added;
  e.instrument = ins.id;
  e.spec = ins.spec;
}

void Engine::Impl::on_set_status(const SetInstrumentStatus& s) {
  const auto v = static_cast<std::uint8_t>(s.status);
  if (s.instrument == 0) {  // market-wide
    if (v < 1 || v > 3) return emit_reject(RejectReason::kInvalidStatus, 0, 0, ClientOrderId{});
    for (Instrument& ins : instruments) set_status(ins, s.status);
    return;
  }
  Instrument* ins = instrument(s.instrument);
  if (ins == nullptr) return emit_reject(RejectReason::kUnknownSymbol, 0, 0, ClientOrderId{});
  if (v < 1 || v > 3) return emit_reject(RejectReason::kInvalidStatus, 0, 0, ClientOrderId{});
  set_status(*ins, s.status);
}

// An operator's status decision overrides a pending circuit-breaker resume;
// trading again runs any stop elections a halt postponed.
void Engine::Impl::set_status(Instrument& ins, InstrumentStatus status) {
  if (ins.resume_at != 0) {
    ins.resume_at = 0;
    --breaker_halts;
  }
  ins.status = status;
  emit_status(ins);
  if (status == InstrumentStatus::kTrading) run_elections(ins);
}

// -------------------------------------------------------------- validation
// A stop that the current last price (or reference) already elects.
bool Engine::Impl::stop_elected_now(const Instrument& ins, Side side, Price stop) {
  const Price last = ins.last_or_reference();
  return side == Side::kBuy ? stop <= last : stop >= last;
}

// Would a limit order at `price` take liquidity on entry?
bool Engine::Impl::crosses(const Instrument& ins, Side side, Price price) const {
  const Ladder& opp = ins.book(opposite(side));
  return !opp.empty() && acceptable(side, levels[opp.best()].price, price);
}

RejectReason Engine::Impl::validate_new_order(const NewOrder& o) const {
  const Instrument* ins = instrument(o.instrument);
  if (ins == nullptr) return RejectReason::kUnknownSymbol;
  if (!account_exists(o.account)) return RejectReason::kUnknownAccount;
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

// --------------------------------------------------------------- new order
void Engine::Impl::on_new_order(const NewOrder& n) {
  RejectReason why = validate_new_order(n);
  if (why == RejectReason::kNone && config.accounts)
    why = check_risk_new(n, *instrument(n.instrument));
  if (why != RejectReason::kNone) return emit_reject(why, n.account, 0, n.client_order_id);

  Instrument& ins = *instrument(n.instrument);
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
  if (n.type == OrderType::kMarket) start_market(ins, o);
  if (config.accounts) adjust_hold(o, requirement(ins, o));

  AcceptedEvent& a = emit(EventType::kAccepted).accepted;
  a.order_id = o.id;
  a.order = n;

  if (is_stop(n.type)) {
    register_order(slot);
    return add_stop(ins, slot);
  }
  execute(ins, slot);
  run_elections(ins);
}

// ------------------------------------------------------------------ cancel
void Engine::Impl::on_cancel(const Cancel& c) {
  const std::uint32_t slot = own_open_order(c.account, c.order_id);
  if (slot == kNoSlot)
    return emit_reject(RejectReason::kUnknownOrder, c.account, c.order_id, ClientOrderId{});
  cancel_open(slot, CancelReason::kUser);
}

void Engine::Impl::on_mass_cancel(const MassCancel& m) {
  if (m.instrument != 0 && instrument(m.instrument) == nullptr)
    return emit_reject(RejectReason::kUnknownSymbol, m.account, 0, ClientOrderId{});
  if (!account_exists(m.account))
    return emit_reject(RejectReason::kUnknownAccount, m.account, 0, ClientOrderId{});
  std::vector<std::uint32_t>& victims = scratch_slots;
  victims.clear();
  if (m.account < account_orders.size()) {
    for (std::uint32_t s = account_orders[m.account].head; s != kNoSlot; s = orders[s].account_next)
      if (m.instrument == 0 || orders[s].instrument == m.instrument) victims.push_back(s);
  }
  const auto count = static_cast<std::uint32_t>(victims.size());
  cancel_in_id_order(victims, CancelReason::kMassCancel);
  MassCancelledEvent& e = emit(EventType::kMassCancelled).mass_cancelled;
  e.account = m.account;
  e.instrument = m.instrument;
  e.count = count;
}

void Engine::Impl::on_end_of_day() {
  std::vector<std::uint32_t>& expiring = scratch_slots;
  expiring.clear();
  for (const AccountOrders& a : account_orders)
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

// ----------------------------------------------------------------- replace
RejectReason Engine::Impl::validate_replace(const Replace& r, const Order& o,
                                            const Instrument& ins, ReplaceTarget& t) const {
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

void Engine::Impl::on_replace(const Replace& r) {
  const std::uint32_t slot = own_open_order(r.account, r.order_id);
  if (slot == kNoSlot)
    return emit_reject(RejectReason::kUnknownOrder, r.account, r.order_id, ClientOrderId{});
  Order& o = orders[slot];
  Instrument& ins = *instrument(o.instrument);
  ReplaceTarget t{};
  RejectReason why = validate_replace(r, o, ins, t);
  if (why == RejectReason::kNone && config.accounts) why = check_risk_replace(o, ins, t);
  if (why != RejectReason::kNone) return emit_reject(why, r.account, r.order_id, ClientOrderId{});

  const bool keep = t.price == o.price && t.stop_price == o.stop_price && t.quantity <= o.quantity;
  const Quantity leaves = t.quantity - (o.quantity - o.leaves);
  const Amount old_requirement = config.accounts ? requirement(ins, o) : 0;
  if (o.place == OrderPlace::kStops) {
    replace_stop(ins, slot, t, leaves, keep);
  } else if (keep) {
    replace_in_place(ins, slot, t, leaves);
  } else {
    const Price old_price = o.price;
    const std::uint32_t old_level = unlink_resting(ins, slot);
    o.place = OrderPlace::kInFlight;
    o.price = t.price;
    o.quantity = t.quantity;
    o.leaves = leaves;
    if (config.accounts) adjust_hold(o, requirement(ins, o) - old_requirement);
    emit_replaced(o, false);
    emit_level(ins.id, o.side, old_price, old_level);
    execute(ins, slot);
    return run_elections(ins);
  }
  if (config.accounts) adjust_hold(o, requirement(ins, o) - old_requirement);
}

void Engine::Impl::replace_stop(Instrument& ins, std::uint32_t slot, const ReplaceTarget& t,
                                Quantity leaves, bool keep) {
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

void Engine::Impl::replace_in_place(Instrument& ins, std::uint32_t slot, const ReplaceTarget& t,
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

// -------------------------------------------------------------- state hash
namespace {

struct Hasher {
  std::uint64_t h = 0x243F6A8885A308D3ull;
  void add(std::uint64_t v) { h = mix_hash(h ^ v) + 0x9E3779B97F4A7C15ull; }
  void add_signed(std::int64_t v) { add(static_cast<std::uint64_t>(v)); }
};

void hash_order(Hasher& x, const Order& o) {
  std::uint64_t cid[2];
  std::memcpy(cid, o.client_order_id.bytes.data(), sizeof cid);
  x.add(o.id);
  x.add(cid[0]);
  x.add(cid[1]);
  x.add(o.account);
  for (std::int64_t v : {o.price, o.stop_price, o.quantity, o.leaves, o.display, o.visible})
    x.add_signed(v);
  x.add(o.stop_priority);
  x.add(std::uint64_t{static_cast<std::uint8_t>(o.side)} |
        std::uint64_t{static_cast<std::uint8_t>(o.type)} << 8 |
        std::uint64_t{static_cast<std::uint8_t>(o.time_in_force)} << 16 |
        std::uint64_t{static_cast<std::uint8_t>(o.stp)} << 24 |
        std::uint64_t{o.post_only} << 32 | std::uint64_t{o.triggered} << 40);
}

}  // namespace

std::uint64_t Engine::Impl::state_hash() const {
  Hasher x;
  auto hash_ladder = [&](const Ladder& ladder) {
    x.add(ladder.size());
    ladder.for_each_from_best([&](std::uint32_t lv) {
      const Level& l = levels[lv];
      x.add_signed(l.price);
      x.add_signed(l.visible);
      x.add(l.count);
      for (std::uint32_t s = l.head; s != kNoSlot; s = orders[s].next) hash_order(x, orders[s]);
      return true;
    });
  };
  x.add(last_order_id);
  x.add(last_trade_id);
  x.add(instruments.size());
  for (const Instrument& ins : instruments) {
    x.add(ins.id);
    x.add(static_cast<std::uint64_t>(ins.status));
    for (std::int64_t v : {ins.spec.reference_price, ins.last, ins.high, ins.low, ins.resume_at,
                           std::int64_t{ins.limits.collar_bps}, std::int64_t{ins.limits.breaker_bps},
                           ins.limits.max_order_quantity, ins.limits.max_order_notional,
                           ins.limits.breaker_halt_ns})
      x.add_signed(v);
    hash_ladder(ins.bids);
    hash_ladder(ins.asks);
    hash_ladder(ins.buy_stops);
    hash_ladder(ins.sell_stops);
  }
  for (AccountId a = 0; a < account_orders.size(); ++a) {
    if (account_orders[a].count == 0) continue;
    x.add(a);
    for (std::uint32_t s = account_orders[a].head; s != kNoSlot; s = orders[s].account_next)
      x.add(orders[s].id);
  }
  x.add(accounts.size());
  for (const Account& a : accounts) {
    x.add(static_cast<std::uint64_t>(a.spec.type) | std::uint64_t{a.killed} << 8);
    for (std::int64_t v : {std::int64_t{a.limits.max_open_orders},
                           std::int64_t{a.limits.max_orders_per_second},
                           a.limits.max_order_quantity, a.limits.max_order_notional,
                           a.rate_window, std::int64_t{a.rate_count}})
      x.add_signed(v);
    for (const Balance& b : a.balances) {
      x.add_signed(b.total);
      x.add_signed(b.held);
    }
    for (const Position& p : a.positions)
      for (Int128 v : {p.cost, p.realized}) {
        x.add(static_cast<std::uint64_t>(v));
        x.add(static_cast<std::uint64_t>(v >> 64));
      }
  }
  for (const auto* system : {&fee_balances, &external_balances})
    for (const Balance& b : *system) x.add_signed(b.total);
  return x.h;
}

// -------------------------------------------------------------- invariants
namespace {

struct LadderCheck {
  const Engine::Impl& e;
  const Instrument& ins;
  Side side;
  bool stops;
  std::size_t& seen;
  std::ostringstream err;

  void order(const Order& o, std::uint32_t s, std::uint32_t lv, std::uint32_t back, Price price) {
    if (o.prev != back) err << "broken prev link in order " << o.id << "; ";
    if (o.level != lv) err << "order " << o.id << " points at the wrong level; ";
    if (o.side != side || o.instrument != ins.id) err << "order " << o.id << " misplaced; ";
    if ((stops ? o.stop_price : o.price) != price)
      err << "order " << o.id << " at a level of another price; ";
    if (o.place != (stops ? OrderPlace::kStops : OrderPlace::kBook) || !o.registered)
      err << "order " << o.id << " has a wrong place/registration; ";
    if (!stops && (o.visible <= 0 || o.visible > o.leaves ||
                   (o.display != 0 && o.visible > o.display) ||
                   (o.display == 0 && o.visible != o.leaves)))
      err << "order " << o.id << " has a bad visible quantity; ";
    if (e.find_order(o.id) != s) err << "order " << o.id << " missing from the id index; ";
    if (!o.client_order_id.empty() && e.find_client_id(o.account, o.client_order_id) != s)
      err << "order " << o.id << " missing from the client id index; ";
  }

  std::string run(const Ladder& ladder) {
    Price prev = 0;
    bool first = true;
    ladder.for_each_from_best([&](std::uint32_t lv) {
      const Level& l = e.levels[lv];
      const bool ascending = stops ? side == Side::kBuy : side == Side::kSell;
      if (!first && (ascending ? l.price <= prev : l.price >= prev))
        err << "ladder out of order at " << l.price << "; ";
      first = false;
      prev = l.price;
      Quantity visible = 0;
      Quantity total = 0;
      std::uint32_t count = 0;
      std::uint32_t back = kNoSlot;
      for (std::uint32_t s = l.head; s != kNoSlot; back = s, s = e.orders[s].next) {
        const Order& o = e.orders[s];
        ++count;
        ++seen;
        visible += o.visible;
        total += stops ? 0 : o.leaves;
        order(o, s, lv, back, l.price);
      }
      if (back != l.tail) err << "level " << l.price << " has a wrong tail; ";
      if (count == 0 || count != l.count) err << "level " << l.price << " count mismatch; ";
      if (!stops && (visible != l.visible || total != l.total))
        err << "level " << l.price << " totals mismatch; ";
      return true;
    });
    return err.str();
  }
};

}  // namespace

std::string Engine::Impl::check_invariants() const {
  std::string err;
  std::size_t seen = 0;
  for (const Instrument& ins : instruments) {
    err += LadderCheck{*this, ins, Side::kBuy, false, seen, {}}.run(ins.bids);
    err += LadderCheck{*this, ins, Side::kSell, false, seen, {}}.run(ins.asks);
    err += LadderCheck{*this, ins, Side::kBuy, true, seen, {}}.run(ins.buy_stops);
    err += LadderCheck{*this, ins, Side::kSell, true, seen, {}}.run(ins.sell_stops);
    if (!ins.bids.empty() && !ins.asks.empty() &&
        levels[ins.bids.best()].price >= levels[ins.asks.best()].price)
      err += "book crossed for instrument " + std::to_string(ins.id) + "; ";
  }
  if (seen != registered || ids.size() != registered)
    err += "registered orders (" + std::to_string(registered) + ") != orders in books (" +
           std::to_string(seen) + ") or id index (" + std::to_string(ids.size()) + "); ";
  std::size_t in_lists = 0;
  for (AccountId a = 0; a < account_orders.size(); ++a) {
    std::uint32_t n = 0;
    for (std::uint32_t s = account_orders[a].head; s != kNoSlot; s = orders[s].account_next, ++n)
      if (orders[s].account != a) err += "order in another account's list; ";
    if (n != account_orders[a].count) err += "account list count mismatch; ";
    in_lists += n;
  }
  if (in_lists != registered) err += "account lists do not hold every open order; ";
  std::size_t with_client_id = 0;
  client_ids.for_each([&](std::uint32_t) { ++with_client_id; });
  std::size_t expected_client_ids = 0;
  ids.for_each([&](std::uint32_t s) { expected_client_ids += !orders[s].client_order_id.empty(); });
  if (with_client_id != expected_client_ids) err += "client id index size mismatch; ";
  return err;
}

// -------------------------------------------------------------- public API
Engine::Engine(const EngineConfig& config) : impl_(std::make_unique<Impl>(config)) {}
Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::clone() const {
  return std::unique_ptr<Engine>(new Engine(std::make_unique<Impl>(*impl_)));
}

void Engine::apply(const Command& command, std::vector<Event>& out) { impl_->apply(command, out); }

void Engine::prefetch(std::span<const Command> upcoming) const { impl_->prefetch(upcoming); }

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
  return OrderView{o.id,    o.account,       o.instrument, o.client_order_id, o.side,
                   o.type,  o.time_in_force, o.price,      o.stop_price,      o.quantity,
                   o.leaves, o.display,      o.visible,    o.triggered,       o.post_only};
}

std::size_t Engine::open_orders() const { return impl_->registered; }

std::string Engine::check_invariants() const { return impl_->check_invariants(); }

std::string Engine::check_ledger() const { return impl_->check_ledger(); }

}  // namespace stox
