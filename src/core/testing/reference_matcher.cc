#include "core/testing/reference_matcher.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace stox::testing {
namespace {

constexpr Int128 kInt64Max = std::numeric_limits<std::int64_t>::max();

Int128 pow10(int n) {
  Int128 r = 1;
  while (n-- > 0) r *= 10;
  return r;
}

bool known_side(Side s) { return s == Side::kBuy || s == Side::kSell; }
bool known_type(OrderType t) {
  auto v = static_cast<std::uint8_t>(t);
  return v >= 1 && v <= 4;
}
bool known_tif(TimeInForce t) {
  auto v = static_cast<std::uint8_t>(t);
  return v >= 1 && v <= 4;
}
bool known_stp(StpMode m) { return static_cast<std::uint8_t>(m) <= 3; }
bool known_status(InstrumentStatus s) {
  auto v = static_cast<std::uint8_t>(s);
  return v >= 1 && v <= 3;
}

bool is_stop(OrderType t) { return t == OrderType::kStop || t == OrderType::kStopLimit; }
bool has_limit_price(OrderType t) { return t == OrderType::kLimit || t == OrderType::kStopLimit; }
bool rests(TimeInForce t) { return t == TimeInForce::kDay || t == TimeInForce::kGtc; }

// Rule 4 of order validation.
bool tif_allowed(OrderType type, TimeInForce tif) {
  switch (type) {
    case OrderType::kLimit: return true;
    case OrderType::kMarket: return tif == TimeInForce::kIoc || tif == TimeInForce::kFok;
    case OrderType::kStop:
    case OrderType::kStopLimit: return rests(tif);
  }
  return false;
}

// Both operands are already known to be >= 0.
bool product_overflows(std::int64_t a, std::int64_t b) { return Int128(a) * b > kInt64Max; }

// Field by field, so that the zeroed padding of the destination stays zero.
void copy_fields(NewOrder& d, const NewOrder& s) {
  d.account = s.account;
  d.instrument = s.instrument;
  d.client_order_id = s.client_order_id;
  d.price = s.price;
  d.stop_price = s.stop_price;
  d.quantity = s.quantity;
  d.quote_quantity = s.quote_quantity;
  d.display_quantity = s.display_quantity;
  d.side = s.side;
  d.type = s.type;
  d.time_in_force = s.time_in_force;
  d.stp = s.stp;
  d.post_only = s.post_only;
}

void copy_fields(AddInstrument& d, const AddInstrument& s) {
  d.symbol = s.symbol;
  d.tick_size = s.tick_size;
  d.lot_size = s.lot_size;
  d.reference_price = s.reference_price;
  d.market_band_bps = s.market_band_bps;
  d.maker_fee_bps = s.maker_fee_bps;
  d.taker_fee_bps = s.taker_fee_bps;
  d.price_scale = s.price_scale;
  d.quantity_scale = s.quantity_scale;
}

}  // namespace

ReferenceMatcher::ReferenceMatcher(const EngineConfig& config) : config_(config) {}

void ReferenceMatcher::apply(const Command& c, std::vector<Event>& out) {
  seq_ = c.seq;
  timestamp_ = c.timestamp;
  out_ = &out;
  switch (c.type) {
    case CommandType::kNewOrder: new_order(c.new_order); break;
    case CommandType::kCancel: cancel(c.cancel); break;
    case CommandType::kReplace: replace(c.replace); break;
    case CommandType::kMassCancel: mass_cancel(c.mass_cancel); break;
    case CommandType::kEndOfDay: end_of_day(); break;
    case CommandType::kSetInstrumentStatus: set_status(c.set_status); break;
    case CommandType::kAddInstrument: add_instrument(c.add_instrument); break;
    default: emit_rejected(c.type, RejectReason::kInvalidCommand, 0, 0, {}); break;
  }
  out_ = nullptr;
}

// ---------------------------------------------------------------------------
// Instruments

void ReferenceMatcher::add_instrument(const AddInstrument& c) {
  const bool valid = !c.symbol.view().empty() && c.price_scale <= kMaxScale &&
                     c.quantity_scale <= kMaxScale && c.tick_size > 0 && c.lot_size > 0 &&
                     c.reference_price > 0 && c.reference_price % c.tick_size == 0 &&
                     c.market_band_bps >= 0 && c.market_band_bps <= 10000 &&
                     c.taker_fee_bps >= 0 && c.taker_fee_bps <= 10000 &&
                     c.maker_fee_bps >= -c.taker_fee_bps && c.maker_fee_bps <= 10000;
  if (!valid) {
    emit_rejected(CommandType::kAddInstrument, RejectReason::kInvalidInstrument, 0, 0, {});
    return;
  }
  for (const Instrument& inst : instruments_) {
    if (inst.spec.symbol.view() == c.symbol.view()) {
      emit_rejected(CommandType::kAddInstrument, RejectReason::kDuplicateSymbol, 0, 0, {});
      return;
    }
  }
  Instrument inst;
  inst.id = static_cast<InstrumentId>(instruments_.size() + 1);
  inst.spec = c;
  if (inst.spec.market_band_bps == 0) inst.spec.market_band_bps = config_.default_market_band_bps;
  instruments_.push_back(inst);

  Event& e = new_event(EventType::kInstrumentAdded);
  e.instrument_added.instrument = inst.id;
  copy_fields(e.instrument_added.spec, inst.spec);
}

// Instrument 0 means every instrument (market-wide halt/resume), one event
// each in id order.
void ReferenceMatcher::set_status(const SetInstrumentStatus& c) {
  RejectReason reason = RejectReason::kNone;
  if (c.instrument != 0 && find_instrument(c.instrument) == nullptr) {
    reason = RejectReason::kUnknownSymbol;
  } else if (!known_status(c.status)) {
    reason = RejectReason::kInvalidStatus;
  }
  if (reason != RejectReason::kNone) {
    emit_rejected(CommandType::kSetInstrumentStatus, reason, 0, 0, {});
    return;
  }
  for (Instrument& inst : instruments_) {
    if (c.instrument != 0 && inst.id != c.instrument) continue;
    inst.status = c.status;
    Event& e = new_event(EventType::kInstrumentStatus);
    e.instrument_status.instrument = inst.id;
    e.instrument_status.status = c.status;
  }
}

// ---------------------------------------------------------------------------
// New orders

RejectReason ReferenceMatcher::check_new_order(const NewOrder& c) const {
  using R = RejectReason;
  const Instrument* inst = find_instrument(c.instrument);
  if (inst == nullptr) return R::kUnknownSymbol;
  if (c.account == 0 || c.account > config_.max_accounts) return R::kUnknownAccount;
  if (inst->status == InstrumentStatus::kHalted) return R::kInstrumentHalted;
  if (inst->status == InstrumentStatus::kClosed) return R::kInstrumentClosed;

  if (!known_side(c.side)) return R::kInvalidSide;
  if (!known_type(c.type)) return R::kInvalidOrderType;
  if (!known_tif(c.time_in_force)) return R::kInvalidTimeInForce;
  if (!known_stp(c.stp)) return R::kInvalidStpMode;
  if (!tif_allowed(c.type, c.time_in_force)) return R::kInvalidTimeInForce;
  if (c.post_only && !(c.type == OrderType::kLimit && rests(c.time_in_force))) {
    return R::kPostOnlyNotAllowed;
  }

  if (has_limit_price(c.type)) {
    if (c.price == 0) return R::kMissingPrice;
    if (c.price < 0) return R::kPriceNotPositive;
  } else if (c.price != 0) {
    return R::kUnexpectedPrice;
  }
  if (is_stop(c.type)) {
    if (c.stop_price == 0) return R::kMissingStopPrice;
    if (c.stop_price < 0) return R::kPriceNotPositive;
  } else if (c.stop_price != 0) {
    return R::kUnexpectedStopPrice;
  }
  const Price tick = inst->spec.tick_size;
  if (c.price % tick != 0 || c.stop_price % tick != 0) return R::kPriceOffTick;

  if (c.quote_quantity != 0) {
    const bool allowed = c.type == OrderType::kMarket && c.side == Side::kBuy &&
                         c.time_in_force == TimeInForce::kIoc && c.stp != StpMode::kDecrement &&
                         c.quantity == 0;
    if (!allowed) return R::kQuoteQuantityNotAllowed;
    if (c.quote_quantity < 0) return R::kQuantityNotPositive;
  } else {
    if (c.quantity <= 0) return R::kQuantityNotPositive;
    if (c.quantity % inst->spec.lot_size != 0) return R::kQuantityOffLot;
  }

  if (c.display_quantity != 0) {
    const bool allowed = c.type == OrderType::kLimit && rests(c.time_in_force) &&
                         c.display_quantity > 0 && c.display_quantity < c.quantity &&
                         c.display_quantity % inst->spec.lot_size == 0;
    if (!allowed) return R::kInvalidDisplayQuantity;
  }

  if (product_overflows(c.price, c.quantity) || product_overflows(c.stop_price, c.quantity)) {
    return R::kValueOverflow;
  }
  if (client_order_id_in_use(c.account, c.client_order_id)) return R::kDuplicateClientOrderId;
  if (is_stop(c.type) && stop_elected(*inst, c.side, c.stop_price)) {
    return R::kStopWouldTriggerImmediately;
  }
  return R::kNone;
}

void ReferenceMatcher::new_order(const NewOrder& c) {
  const RejectReason reason = check_new_order(c);
  if (reason != RejectReason::kNone) {
    emit_rejected(CommandType::kNewOrder, reason, c.account, 0, c.client_order_id);
    return;
  }
  Instrument& inst = *find_instrument(c.instrument);
  Order o;
  o.id = next_order_id_++;
  o.account = c.account;
  o.instrument = c.instrument;
  o.client_order_id = c.client_order_id;
  o.side = c.side;
  o.type = c.type;
  o.tif = c.time_in_force;
  o.stp = c.stp;
  o.post_only = c.post_only;
  o.quote = c.quote_quantity != 0;
  o.price = c.price;
  o.stop_price = c.stop_price;
  o.quantity = c.quantity;
  o.leaves = o.quote ? c.quote_quantity : c.quantity;
  o.display = c.display_quantity;

  Event& e = new_event(EventType::kAccepted);
  e.accepted.order_id = o.id;
  copy_fields(e.accepted.order, c);

  if (is_stop(o.type)) {
    o.stop_priority = seq_;
    inst.stops.push_back(o);
    return;
  }
  if (o.post_only) {
    if (crosses(inst, o.side, o.price)) {
      emit_cancelled(o, CancelReason::kPostOnlyWouldTake, o.leaves);
    } else {
      rest(inst, o);
    }
    return;
  }
  if (o.tif == TimeInForce::kFok && !fok_fillable(inst, o)) {
    emit_cancelled(o, CancelReason::kFokNotFillable, o.leaves);
    return;
  }
  execute(inst, o);
  check_stops(inst);
}

// ---------------------------------------------------------------------------
// Matching

void ReferenceMatcher::execute(Instrument& inst, Order taker) {
  const MatchResult result = match(inst, taker);
  finish(inst, taker, result);
}

// The matching loop of one taker. A STOP that was elected trades as a MARKET
// order; a STOP_LIMIT as a LIMIT order.
ReferenceMatcher::MatchResult ReferenceMatcher::match(Instrument& inst, Order& taker) {
  MatchResult result;
  std::vector<Order>& makers = book_side(inst, opposite(taker.side));
  const bool market = taker.type == OrderType::kMarket || taker.type == OrderType::kStop;

  // The protection band is fixed once, when matching starts.
  const Price tick = inst.spec.tick_size;
  const Int128 ref = inst.last != 0 ? inst.last : inst.spec.reference_price;
  const Int128 offset = ref * inst.spec.market_band_bps / 10000;
  const Int128 band_high = (ref + offset) / tick * tick;
  const Int128 band_low = std::max<Int128>((ref - offset + tick - 1) / tick * tick, tick);

  while (taker.leaves > 0) {
    if (makers.empty()) {
      result.end = MatchEnd::kExhausted;
      return result;
    }
    const Order& maker = makers.front();
    const bool buy = taker.side == Side::kBuy;
    const Int128 limit = market ? (buy ? band_high : band_low) : Int128(taker.price);
    if (buy ? maker.price > limit : maker.price < limit) {
      result.end = MatchEnd::kExhausted;
      return result;
    }
    Int128 qty = taker.leaves;
    if (taker.quote) {
      const Quantity lot = inst.spec.lot_size;
      qty = Int128(taker.leaves) * pow10(inst.spec.quantity_scale) / maker.price / lot * lot;
      if (qty == 0) {
        result.end = MatchEnd::kQuoteTooSmall;
        return result;
      }
    }
    if (maker.account == taker.account) {
      if (!self_trade(inst, taker)) {
        result.end = MatchEnd::kSelfTrade;
        return result;
      }
      continue;
    }
    trade(inst, taker, static_cast<Quantity>(std::min<Int128>(qty, maker.visible)), result);
  }
  result.end = MatchEnd::kFilled;
  return result;
}

// Self-trade prevention against the front maker. Returns whether matching
// goes on.
bool ReferenceMatcher::self_trade(Instrument& inst, Order& taker) {
  std::vector<Order>& makers = book_side(inst, opposite(taker.side));
  const Order maker = makers.front();
  switch (taker.stp) {
    case StpMode::kCancelTaker:
      emit_cancelled(taker, CancelReason::kSelfTrade, taker.leaves);
      return false;
    case StpMode::kCancelMaker:
    case StpMode::kCancelBoth:
      makers.erase(makers.begin());
      emit_cancelled(maker, CancelReason::kSelfTrade, maker.leaves);
      emit_book_level(inst, maker.side, maker.price);
      if (taker.stp == StpMode::kCancelMaker) return true;
      emit_cancelled(taker, CancelReason::kSelfTrade, taker.leaves);
      return false;
    case StpMode::kDecrement: {
      const Quantity d = std::min(taker.leaves, maker.leaves);
      if (maker.leaves == d) {
        makers.erase(makers.begin());
        emit_cancelled(maker, CancelReason::kSelfTrade, d);
      } else {
        Order& m = makers.front();
        m.leaves -= d;
        m.quantity -= d;
        m.visible = std::min(m.visible, m.leaves);
        emit_reduced(m, d);
      }
      emit_book_level(inst, maker.side, maker.price);
      if (taker.leaves == d) {
        emit_cancelled(taker, CancelReason::kSelfTrade, d);
        taker.leaves = 0;
        return false;
      }
      taker.leaves -= d;
      taker.quantity -= d;
      emit_reduced(taker, d);
      return true;
    }
  }
  return false;
}

void ReferenceMatcher::trade(Instrument& inst, Order& taker, Quantity qty, MatchResult& result) {
  std::vector<Order>& makers = book_side(inst, opposite(taker.side));
  Order& maker = makers.front();
  const Price price = maker.price;
  const Side maker_side = maker.side;

  maker.leaves -= qty;
  maker.visible -= qty;
  if (taker.quote) {
    taker.leaves -= static_cast<Amount>(Int128(price) * qty / pow10(inst.spec.quantity_scale));
  } else {
    taker.leaves -= qty;
  }
  result.traded = true;
  result.executed += qty;
  inst.last = price;
  inst.high = inst.printed ? std::max(inst.high, price) : price;
  inst.low = inst.printed ? std::min(inst.low, price) : price;
  inst.printed = true;

  Event& e = new_event(EventType::kTrade);
  e.trade.trade_id = next_trade_id_++;
  e.trade.instrument = inst.id;
  e.trade.aggressor = taker.side;
  e.trade.price = price;
  e.trade.quantity = qty;
  e.trade.maker_order = maker.id;
  e.trade.taker_order = taker.id;
  e.trade.maker_account = maker.account;
  e.trade.taker_account = taker.account;
  e.trade.maker_leaves = maker.leaves;
  e.trade.taker_leaves = taker.leaves;

  if (maker.leaves == 0) {
    makers.erase(makers.begin());
  } else if (maker.visible == 0) {
    // Iceberg refresh: a new visible slice, at the back of the level.
    maker.visible = std::min(maker.display, maker.leaves);
    maker.arrival = next_arrival_++;
    sort_side(makers, maker_side);
  }
  emit_book_level(inst, maker_side, price);
}

// What happens to a taker once its matching loop has stopped.
void ReferenceMatcher::finish(Instrument& inst, Order& taker, const MatchResult& result) {
  switch (result.end) {
    case MatchEnd::kFilled:
    case MatchEnd::kSelfTrade:
      return;
    case MatchEnd::kQuoteTooSmall:
      if (!result.traded) emit_cancelled(taker, CancelReason::kQuoteTooSmall, taker.leaves);
      return;
    case MatchEnd::kExhausted:
      break;
  }
  if (taker.type == OrderType::kMarket || taker.type == OrderType::kStop) {
    const CancelReason reason =
        result.traded ? CancelReason::kMarketRemainder : CancelReason::kMarketNoLiquidity;
    emit_cancelled(taker, reason, taker.leaves);
  } else if (!rests(taker.tif)) {
    emit_cancelled(taker, CancelReason::kIocRemainder, taker.leaves);
  } else {
    rest(inst, taker);
  }
}

// The spec's definition, taken literally: run the order as IOC on a copy of
// the whole state and see whether it fills completely.
bool ReferenceMatcher::fok_fillable(const Instrument& inst, const Order& taker) const {
  ReferenceMatcher trial = *this;
  std::vector<Event> discarded;
  trial.out_ = &discarded;
  Order ioc = taker;
  ioc.tif = TimeInForce::kIoc;
  const MatchResult result = trial.match(*trial.find_instrument(inst.id), ioc);
  return result.executed == taker.quantity;
}

void ReferenceMatcher::rest(Instrument& inst, Order o) {
  o.visible = o.display != 0 ? std::min(o.display, o.leaves) : o.leaves;
  o.arrival = next_arrival_++;
  std::vector<Order>& orders = book_side(inst, o.side);
  orders.push_back(o);
  sort_side(orders, o.side);
  emit_book_level(inst, o.side, o.price);
}

// Elects stops from the trade prices printed since the previous check, runs
// the elected group farthest-first-then-oldest, and repeats (cascade).
void ReferenceMatcher::check_stops(Instrument& inst) {
  while (inst.printed) {
    inst.printed = false;
    const Price high = inst.high;
    const Price low = inst.low;
    auto elected = [&](const Order& s) {
      return s.side == Side::kBuy ? s.stop_price <= high : s.stop_price >= low;
    };
    std::vector<Order> group;
    std::copy_if(inst.stops.begin(), inst.stops.end(), std::back_inserter(group), elected);
    std::erase_if(inst.stops, elected);
    if (group.empty()) return;

    const Price last = inst.last;
    auto distance = [last](const Order& s) {
      return s.stop_price > last ? s.stop_price - last : last - s.stop_price;
    };
    std::sort(group.begin(), group.end(), [&](const Order& a, const Order& b) {
      if (distance(a) != distance(b)) return distance(a) > distance(b);
      if (a.stop_priority != b.stop_priority) return a.stop_priority < b.stop_priority;
      return a.id < b.id;
    });
    for (Order& s : group) {
      Event& e = new_event(EventType::kStopTriggered);
      e.stop_triggered.order_id = s.id;
      e.stop_triggered.account = s.account;
      e.stop_triggered.instrument = s.instrument;
      e.stop_triggered.last_price = last;
      s.triggered = true;
      execute(inst, s);
    }
  }
}

// ---------------------------------------------------------------------------
// Cancel, replace, mass cancel, end of day

void ReferenceMatcher::cancel(const Cancel& c) {
  const std::optional<Location> loc = find_open(c.order_id);
  if (!loc || loc->order().account != c.account) {
    emit_rejected(CommandType::kCancel, RejectReason::kUnknownOrder, c.account, c.order_id, {});
    return;
  }
  close_open_order(c.order_id, CancelReason::kUser);
}

RejectReason ReferenceMatcher::check_replace(const Replace& c) {
  using R = RejectReason;
  const std::optional<Location> loc = find_open(c.order_id);
  if (!loc || loc->order().account != c.account) return R::kUnknownOrder;
  const Instrument& inst = *loc->instrument;
  const Order& o = loc->order();
  if (inst.status == InstrumentStatus::kHalted) return R::kInstrumentHalted;
  if (inst.status == InstrumentStatus::kClosed) return R::kInstrumentClosed;

  const Price tick = inst.spec.tick_size;
  if (c.price != 0) {
    if (!has_limit_price(o.type)) return R::kUnexpectedPrice;
    if (c.price < 0) return R::kPriceNotPositive;
    if (c.price % tick != 0) return R::kPriceOffTick;
  }
  const bool untriggered_stop = is_stop(o.type) && !o.triggered;
  if (c.stop_price != 0) {
    if (!untriggered_stop) return R::kUnexpectedStopPrice;
    if (c.stop_price < 0) return R::kPriceNotPositive;
    if (c.stop_price % tick != 0) return R::kPriceOffTick;
  }
  if (c.quantity != 0) {
    if (c.quantity < 0) return R::kQuantityNotPositive;
    if (c.quantity % inst.spec.lot_size != 0) return R::kQuantityOffLot;
    if (c.quantity <= o.quantity - o.leaves) return R::kQuantityNotAboveFilled;
  }
  const Price price = c.price != 0 ? c.price : o.price;
  const Price stop_price = c.stop_price != 0 ? c.stop_price : o.stop_price;
  const Quantity quantity = c.quantity != 0 ? c.quantity : o.quantity;
  if (product_overflows(price, quantity) || product_overflows(stop_price, quantity)) {
    return R::kValueOverflow;
  }
  if (o.post_only && crosses(inst, o.side, price)) return R::kPostOnlyWouldTake;
  if (untriggered_stop && stop_elected(inst, o.side, stop_price)) {
    return R::kStopWouldTriggerImmediately;
  }
  return R::kNone;
}

void ReferenceMatcher::replace(const Replace& c) {
  const RejectReason reason = check_replace(c);
  if (reason != RejectReason::kNone) {
    emit_rejected(CommandType::kReplace, reason, c.account, c.order_id, {});
    return;
  }
  const Location loc = *find_open(c.order_id);
  Order& o = loc.order();
  const Price price = c.price != 0 ? c.price : o.price;
  const Price stop_price = c.stop_price != 0 ? c.stop_price : o.stop_price;
  const Quantity quantity = c.quantity != 0 ? c.quantity : o.quantity;
  const bool keeps_priority =
      price == o.price && stop_price == o.stop_price && quantity <= o.quantity;
  if (!keeps_priority) {
    replace_losing_priority(loc, price, stop_price, quantity);
    return;
  }
  o.leaves = quantity - (o.quantity - o.leaves);
  o.quantity = quantity;
  o.visible = std::min(o.visible, o.leaves);
  emit_replaced(o, true);
  if (loc.resting()) emit_book_level(*loc.instrument, o.side, o.price);
}

void ReferenceMatcher::replace_losing_priority(Location loc, Price price, Price stop_price,
                                               Quantity quantity) {
  Instrument& inst = *loc.instrument;
  Order o = loc.order();
  const Price old_price = o.price;
  o.leaves = quantity - (o.quantity - o.leaves);
  o.quantity = quantity;
  o.price = price;
  o.stop_price = stop_price;
  if (!loc.resting()) {
    // An untriggered stop: back of its stop price, no public level.
    o.stop_priority = seq_;
    loc.order() = o;
    emit_replaced(o, false);
    return;
  }
  loc.list->erase(loc.list->begin() + static_cast<std::ptrdiff_t>(loc.index));
  emit_replaced(o, false);
  emit_book_level(inst, o.side, old_price);
  execute(inst, o);
  check_stops(inst);
}

void ReferenceMatcher::mass_cancel(const MassCancel& c) {
  RejectReason reason = RejectReason::kNone;
  if (c.instrument != 0 && find_instrument(c.instrument) == nullptr) {
    reason = RejectReason::kUnknownSymbol;
  } else if (c.account == 0 || c.account > config_.max_accounts) {
    reason = RejectReason::kUnknownAccount;
  }
  if (reason != RejectReason::kNone) {
    emit_rejected(CommandType::kMassCancel, reason, c.account, 0, {});
    return;
  }
  std::vector<OrderId> ids;
  for (const Order* o : open_orders_by_id()) {
    if (o->account == c.account && (c.instrument == 0 || o->instrument == c.instrument)) {
      ids.push_back(o->id);
    }
  }
  for (OrderId id : ids) close_open_order(id, CancelReason::kMassCancel);
  Event& e = new_event(EventType::kMassCancelled);
  e.mass_cancelled.account = c.account;
  e.mass_cancelled.instrument = c.instrument;
  e.mass_cancelled.count = static_cast<std::uint32_t>(ids.size());
}

void ReferenceMatcher::end_of_day() {
  std::vector<OrderId> ids;
  for (const Order* o : open_orders_by_id()) {
    if (o->tif == TimeInForce::kDay) ids.push_back(o->id);
  }
  for (OrderId id : ids) close_open_order(id, CancelReason::kExpired);
  for (Instrument& inst : instruments_) {
    if (inst.last != 0) inst.spec.reference_price = inst.last;
    inst.last = 0;
    inst.printed = false;
  }
  Event& e = new_event(EventType::kDayEnded);
  e.day_ended.expired = static_cast<std::uint32_t>(ids.size());
}

// ---------------------------------------------------------------------------
// Helpers

ReferenceMatcher::Instrument* ReferenceMatcher::find_instrument(InstrumentId id) {
  if (id == 0 || id > instruments_.size()) return nullptr;
  return &instruments_[id - 1];
}

const ReferenceMatcher::Instrument* ReferenceMatcher::find_instrument(InstrumentId id) const {
  if (id == 0 || id > instruments_.size()) return nullptr;
  return &instruments_[id - 1];
}

std::optional<ReferenceMatcher::Location> ReferenceMatcher::find_open(OrderId id) {
  for (Instrument& inst : instruments_) {
    for (std::vector<Order>* list : {&inst.bids, &inst.asks, &inst.stops}) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        if ((*list)[i].id == id) return Location{&inst, list, i};
      }
    }
  }
  return std::nullopt;
}

std::vector<const ReferenceMatcher::Order*> ReferenceMatcher::open_orders_by_id() const {
  std::vector<const Order*> all;
  for (const Instrument& inst : instruments_) {
    for (const std::vector<Order>* list : {&inst.bids, &inst.asks, &inst.stops}) {
      for (const Order& o : *list) all.push_back(&o);
    }
  }
  std::sort(all.begin(), all.end(), [](const Order* a, const Order* b) { return a->id < b->id; });
  return all;
}

// Closes an open order with `reason`: Cancelled, then its level if it rested.
void ReferenceMatcher::close_open_order(OrderId id, CancelReason reason) {
  const Location loc = *find_open(id);
  const Order o = loc.order();
  loc.list->erase(loc.list->begin() + static_cast<std::ptrdiff_t>(loc.index));
  emit_cancelled(o, reason, o.leaves);
  if (loc.resting()) emit_book_level(*loc.instrument, o.side, o.price);
}

bool ReferenceMatcher::crosses(const Instrument& inst, Side side, Price price) const {
  const std::vector<Order>& opposite_side = book_side(inst, opposite(side));
  if (opposite_side.empty()) return false;
  const Price best = opposite_side.front().price;
  return side == Side::kBuy ? price >= best : price <= best;
}

bool ReferenceMatcher::stop_elected(const Instrument& inst, Side side, Price stop_price) const {
  const Price last = inst.last != 0 ? inst.last : inst.spec.reference_price;
  return side == Side::kBuy ? stop_price <= last : stop_price >= last;
}

bool ReferenceMatcher::client_order_id_in_use(AccountId account, const ClientOrderId& id) const {
  if (id.empty()) return false;
  for (const Order* o : open_orders_by_id()) {
    if (o->account == account && o->client_order_id == id) return true;
  }
  return false;
}

std::vector<ReferenceMatcher::Order>& ReferenceMatcher::book_side(Instrument& inst, Side side) {
  return side == Side::kBuy ? inst.bids : inst.asks;
}

const std::vector<ReferenceMatcher::Order>& ReferenceMatcher::book_side(const Instrument& inst,
                                                                        Side side) {
  return side == Side::kBuy ? inst.bids : inst.asks;
}

void ReferenceMatcher::sort_side(std::vector<Order>& orders, Side side) {
  std::sort(orders.begin(), orders.end(), [side](const Order& a, const Order& b) {
    if (a.price != b.price) return side == Side::kBuy ? a.price > b.price : a.price < b.price;
    return a.arrival < b.arrival;
  });
}

LevelView ReferenceMatcher::level(const Instrument& inst, Side side, Price price) {
  LevelView v{price, 0, 0};
  for (const Order& o : book_side(inst, side)) {
    if (o.price != price) continue;
    v.quantity += o.visible;
    ++v.count;
  }
  return v;
}

// ---------------------------------------------------------------------------
// Events

Event& ReferenceMatcher::new_event(EventType type) {
  Event& e = out_->emplace_back();
  std::memset(static_cast<void*>(&e), 0, sizeof e);
  e.seq = seq_;
  e.timestamp = timestamp_;
  e.type = type;
  return e;
}

void ReferenceMatcher::emit_rejected(CommandType command, RejectReason reason, AccountId account,
                                     OrderId order_id, const ClientOrderId& client_order_id) {
  Event& e = new_event(EventType::kRejected);
  e.rejected.command = command;
  e.rejected.reason = reason;
  e.rejected.account = account;
  e.rejected.order_id = order_id;
  e.rejected.client_order_id = client_order_id;
}

void ReferenceMatcher::emit_cancelled(const Order& o, CancelReason reason, Quantity leaves) {
  Event& e = new_event(EventType::kCancelled);
  e.cancelled.order_id = o.id;
  e.cancelled.account = o.account;
  e.cancelled.instrument = o.instrument;
  e.cancelled.reason = reason;
  e.cancelled.leaves = leaves;
}

void ReferenceMatcher::emit_reduced(const Order& o, Quantity by) {
  Event& e = new_event(EventType::kReduced);
  e.reduced.order_id = o.id;
  e.reduced.account = o.account;
  e.reduced.instrument = o.instrument;
  e.reduced.reduced_by = by;
  e.reduced.leaves = o.leaves;
}

void ReferenceMatcher::emit_replaced(const Order& o, bool kept_priority) {
  Event& e = new_event(EventType::kReplaced);
  e.replaced.order_id = o.id;
  e.replaced.account = o.account;
  e.replaced.instrument = o.instrument;
  e.replaced.price = o.price;
  e.replaced.stop_price = o.stop_price;
  e.replaced.quantity = o.quantity;
  e.replaced.leaves = o.leaves;
  e.replaced.kept_priority = kept_priority;
}

void ReferenceMatcher::emit_book_level(const Instrument& inst, Side side, Price price) {
  const LevelView v = level(inst, side, price);
  Event& e = new_event(EventType::kBookLevel);
  e.book_level.instrument = inst.id;
  e.book_level.side = side;
  e.book_level.price = price;
  e.book_level.quantity = v.quantity;
  e.book_level.count = v.count;
}

// ---------------------------------------------------------------------------
// Views

std::vector<LevelView> ReferenceMatcher::depth(InstrumentId id, Side side) const {
  std::vector<LevelView> levels;
  const Instrument* inst = find_instrument(id);
  if (inst == nullptr) return levels;
  for (const Order& o : book_side(*inst, side)) {
    if (levels.empty() || levels.back().price != o.price) levels.push_back({o.price, 0, 0});
    levels.back().quantity += o.visible;
    ++levels.back().count;
  }
  return levels;
}

std::optional<InstrumentView> ReferenceMatcher::instrument(InstrumentId id) const {
  const Instrument* inst = find_instrument(id);
  if (inst == nullptr) return std::nullopt;
  return InstrumentView{inst->id, inst->spec, inst->status, inst->last};
}

std::optional<OrderView> ReferenceMatcher::order(OrderId id) const {
  for (const Order* o : open_orders_by_id()) {
    if (o->id != id) continue;
    return OrderView{o->id,         o->account,   o->instrument, o->client_order_id,
                     o->side,       o->type,      o->tif,        o->price,
                     o->stop_price, o->quantity,  o->leaves,     o->display,
                     o->visible,    o->triggered, o->post_only};
  }
  return std::nullopt;
}

std::size_t ReferenceMatcher::open_orders() const {
  std::size_t n = 0;
  for (const Instrument& inst : instruments_) {
    n += inst.bids.size() + inst.asks.size() + inst.stops.size();
  }
  return n;
}

std::vector<OrderId> ReferenceMatcher::open_order_ids() const {
  std::vector<OrderId> ids;
  for (const Order* o : open_orders_by_id()) ids.push_back(o->id);
  return ids;
}

}  // namespace stox::testing
