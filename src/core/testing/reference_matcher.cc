#include "core/testing/reference_matcher.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <sstream>

namespace stox::testing {
namespace {

constexpr Int128 kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr Int128 kInt64Min = std::numeric_limits<std::int64_t>::min();

Amount clamp64(Int128 v) {
  if (v > kInt64Max) return std::numeric_limits<std::int64_t>::max();
  if (v < -kInt64Max) return -std::numeric_limits<std::int64_t>::max();
  return static_cast<Amount>(v);
}

bool is_account_command(CommandType t) {
  return t == CommandType::kCreateAccount || t == CommandType::kDeposit ||
         t == CommandType::kWithdraw || t == CommandType::kSetAccountLimits ||
         t == CommandType::kSetInstrumentLimits || t == CommandType::kSetKillSwitch;
}

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
  if (config_.accounts) resume_due_instruments();
  if (!config_.accounts && is_account_command(c.type)) {
    emit_rejected(c.type, RejectReason::kInvalidCommand, 0, 0, {});
    out_ = nullptr;
    return;
  }
  switch (c.type) {
    case CommandType::kNewOrder: new_order(c.new_order); break;
    case CommandType::kCancel: cancel(c.cancel); break;
    case CommandType::kReplace: replace(c.replace); break;
    case CommandType::kMassCancel: mass_cancel(c.mass_cancel); break;
    case CommandType::kEndOfDay: end_of_day(); break;
    case CommandType::kSetInstrumentStatus: set_status(c.set_status); break;
    case CommandType::kAddInstrument: add_instrument(c.add_instrument); break;
    case CommandType::kCreateAccount: create_account(c.create_account); break;
    case CommandType::kDeposit:
    case CommandType::kWithdraw: transfer(c.type, c.transfer); break;
    case CommandType::kSetAccountLimits: set_account_limits(c.account_limits); break;
    case CommandType::kSetInstrumentLimits: set_instrument_limits(c.instrument_limits); break;
    case CommandType::kSetKillSwitch: set_kill_switch(c.kill_switch); break;
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
                     c.maker_fee_bps >= -c.taker_fee_bps && c.maker_fee_bps <= 10000 &&
                     (!config_.accounts || c.price_scale <= config_.cash_scale);
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
    inst.breaker_halted = false;  // a manual status ends a breaker halt
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
  if (config_.accounts && find_account(c.account) == nullptr) return R::kUnknownAccount;
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
  RejectReason reason = check_new_order(c);
  if (reason == RejectReason::kNone && config_.accounts) reason = check_risk_new(c);
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
    if (config_.accounts && breaker_stops(inst, maker.price)) {
      result.end = MatchEnd::kBreaker;
      return result;
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
  if (config_.accounts && !trial_) settle(inst, maker, taker, price, qty, e.trade.trade_id);

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
    case MatchEnd::kBreaker: {
      // The trade is not printed: the taker's remainder goes, then the halt.
      emit_cancelled(taker, CancelReason::kCircuitBreaker, taker.leaves);
      const Timestamp halt_ns = inst.limits.breaker_halt_ns != 0
                                    ? inst.limits.breaker_halt_ns
                                    : config_.default_breaker_halt_ns;
      inst.status = InstrumentStatus::kHalted;
      inst.breaker_halted = true;
      inst.resume_at = timestamp_ + halt_ns;
      Event& e = new_event(EventType::kInstrumentStatus);
      e.instrument_status.instrument = inst.id;
      e.instrument_status.status = InstrumentStatus::kHalted;
      return;
    }
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
  // Only the books take part in matching: the trial copies the instruments
  // and ids, not the accounts, and settles nothing.
  ReferenceMatcher trial(config_);
  trial.trial_ = true;
  trial.instruments_ = instruments_;
  trial.next_order_id_ = next_order_id_;
  trial.next_trade_id_ = next_trade_id_;
  trial.next_arrival_ = next_arrival_;
  trial.seq_ = seq_;
  trial.timestamp_ = timestamp_;
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
  // A halted instrument (circuit breaker) postpones its elections to the resume.
  while (inst.printed && inst.status == InstrumentStatus::kTrading) {
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
    // The group waits in `pending` (still open, still holding) until each runs.
    inst.pending = group;
    while (!inst.pending.empty()) {
      if (inst.status != InstrumentStatus::kTrading) {
        // The breaker halted the instrument: the rest of the group goes back
        // to the stop book, and the prices that elected it are kept so that
        // the resume elects it again.
        for (const Order& s : inst.pending) inst.stops.push_back(s);
        inst.pending.clear();
        inst.high = inst.printed ? std::max(inst.high, high) : high;
        inst.low = inst.printed ? std::min(inst.low, low) : low;
        inst.printed = true;
        return;
      }
      Order s = inst.pending.front();
      Event& e = new_event(EventType::kStopTriggered);
      e.stop_triggered.order_id = s.id;
      e.stop_triggered.account = s.account;
      e.stop_triggered.instrument = s.instrument;
      e.stop_triggered.last_price = last;
      s.triggered = true;
      if (config_.accounts && !trial_ && s.type == OrderType::kStop && s.side == Side::kBuy) {
        // Its hold moves from the band of its stop price to the band it will
        // use (from the last price now); s is still pending, so "available"
        // already excludes its old hold.
        const Int128 old_need = need(inst, static_cast<Price>(band_high(inst, s.stop_price)), s.leaves);
        const Int128 new_need =
            need(inst, static_cast<Price>(band_high(inst, last_or_reference(inst))), s.leaves);
        if (new_need - old_need > available(s.account, kCashAsset)) {
          inst.pending.erase(inst.pending.begin());
          emit_cancelled(s, CancelReason::kInsufficientFunds, s.leaves);
          continue;
        }
      }
      inst.pending.erase(inst.pending.begin());
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
  RejectReason reason = check_replace(c);
  if (reason == RejectReason::kNone && config_.accounts) {
    const Order& o = find_open(c.order_id)->order();
    reason = check_risk_replace(o, c.price != 0 ? c.price : o.price,
                                c.stop_price != 0 ? c.stop_price : o.stop_price,
                                c.quantity != 0 ? c.quantity : o.quantity);
  }
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
  } else if (c.account == 0 || c.account > config_.max_accounts ||
             (config_.accounts && find_account(c.account) == nullptr)) {
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
// Accounts mode: account commands

void ReferenceMatcher::create_account(const CreateAccount& c) {
  if (c.type != AccountType::kCash) {
    emit_rejected(CommandType::kCreateAccount, RejectReason::kUnsupportedAccountType, 0, 0, {});
    return;
  }
  Account a;
  a.exists = true;
  accounts_.push_back(a);
  Event& e = new_event(EventType::kAccountCreated);
  e.account_created.account = static_cast<AccountId>(accounts_.size());
  e.account_created.spec.label = c.label;
  e.account_created.spec.type = c.type;
}

void ReferenceMatcher::transfer(CommandType kind, const Transfer& c) {
  const bool deposit = kind == CommandType::kDeposit;
  Account* a = find_account(c.account);
  RejectReason reason = RejectReason::kNone;
  if (a == nullptr) {
    reason = RejectReason::kUnknownAccount;
  } else if (c.asset != kCashAsset && find_instrument(c.asset) == nullptr) {
    reason = RejectReason::kInvalidAsset;
  } else if (c.amount <= 0) {
    reason = RejectReason::kInvalidAmount;
  } else if (!deposit && c.amount > available(c.account, c.asset)) {
    reason = RejectReason::kInsufficientAvailable;
  } else {
    const Int128 account_after = Int128(total_of(*a, c.asset)) + (deposit ? c.amount : -Int128(c.amount));
    const Int128 external_after =
        Int128(total_of(external_account_, c.asset)) + (deposit ? -Int128(c.amount) : c.amount);
    if (account_after > kInt64Max || account_after < kInt64Min || external_after > kInt64Max ||
        external_after < kInt64Min) {
      reason = RejectReason::kBalanceOverflow;
    }
  }
  if (reason != RejectReason::kNone) {
    emit_rejected(kind, reason, c.account, 0, {});
    return;
  }
  Amount& total = total_of(*a, c.asset);
  if (c.asset != kCashAsset) {
    // Positions: deposited shares enter at the reference price, withdrawn
    // ones leave at their average cost.
    const Instrument& inst = *find_instrument(c.asset);
    Int128& cost = a->cost[c.asset];
    if (deposit) {
      cost += notional(inst, inst.spec.reference_price, c.amount);
    } else {
      cost -= cost * c.amount / total;
    }
  }
  total = deposit ? total + c.amount : total - c.amount;
  Amount& external = total_of(external_account_, c.asset);
  external = deposit ? external - c.amount : external + c.amount;

  Event& e = new_event(EventType::kTransferred);
  e.transferred.kind = kind;
  e.transferred.account = c.account;
  e.transferred.asset = c.asset;
  e.transferred.amount = c.amount;
  e.transferred.total_after = total;
}

void ReferenceMatcher::set_account_limits(const SetAccountLimits& c) {
  Account* a = find_account(c.account);
  RejectReason reason = RejectReason::kNone;
  if (a == nullptr) {
    reason = RejectReason::kUnknownAccount;
  } else if (c.max_order_quantity < 0 || c.max_order_notional < 0) {
    reason = RejectReason::kInvalidLimits;
  }
  if (reason != RejectReason::kNone) {
    emit_rejected(CommandType::kSetAccountLimits, reason, c.account, 0, {});
    return;
  }
  a->limits = c;
  Event& e = new_event(EventType::kLimitsSet);
  e.limits_set.command = CommandType::kSetAccountLimits;
  e.limits_set.target = c.account;
}

void ReferenceMatcher::set_instrument_limits(const SetInstrumentLimits& c) {
  Instrument* inst = find_instrument(c.instrument);
  RejectReason reason = RejectReason::kNone;
  if (inst == nullptr) {
    reason = RejectReason::kUnknownSymbol;
  } else if (c.collar_bps < 0 || c.breaker_bps < 0 || c.max_order_quantity < 0 ||
             c.max_order_notional < 0 || c.breaker_halt_ns < 0) {
    reason = RejectReason::kInvalidLimits;
  }
  if (reason != RejectReason::kNone) {
    emit_rejected(CommandType::kSetInstrumentLimits, reason, 0, 0, {});
    return;
  }
  inst->limits = c;
  Event& e = new_event(EventType::kLimitsSet);
  e.limits_set.command = CommandType::kSetInstrumentLimits;
  e.limits_set.target = c.instrument;
}

void ReferenceMatcher::set_kill_switch(const SetKillSwitch& c) {
  Account* a = find_account(c.account);
  if (a == nullptr) {
    emit_rejected(CommandType::kSetKillSwitch, RejectReason::kUnknownAccount, c.account, 0, {});
    return;
  }
  a->killed = c.enabled;
  std::vector<OrderId> ids;
  if (c.enabled) {
    for (const Order* o : open_orders_by_id()) {
      if (o->account == c.account) ids.push_back(o->id);
    }
  }
  for (OrderId id : ids) close_open_order(id, CancelReason::kKillSwitch);
  Event& e = new_event(EventType::kKillSwitch);
  e.kill_switch.account = c.account;
  e.kill_switch.enabled = c.enabled;
  e.kill_switch.cancelled = static_cast<std::uint32_t>(ids.size());
}

// The first command at or after the end of a breaker halt resumes the
// instrument, then runs the stop elections the halt postponed.
void ReferenceMatcher::resume_due_instruments() {
  for (Instrument& inst : instruments_) {
    if (!inst.breaker_halted || timestamp_ < inst.resume_at) continue;
    inst.breaker_halted = false;
    inst.status = InstrumentStatus::kTrading;
    Event& e = new_event(EventType::kInstrumentStatus);
    e.instrument_status.instrument = inst.id;
    e.instrument_status.status = InstrumentStatus::kTrading;
    check_stops(inst);
  }
}

// ---------------------------------------------------------------------------
// Accounts mode: pre-trade risk

RejectReason ReferenceMatcher::check_rate(Account& a) {
  const std::int64_t window = timestamp_ / 1'000'000'000;
  if (a.rate_window != window) {
    a.rate_window = window;
    a.rate_count = 0;
  }
  ++a.rate_count;
  const std::uint32_t limit = a.limits.max_orders_per_second != 0
                                  ? a.limits.max_orders_per_second
                                  : config_.default_max_orders_per_second;
  return a.rate_count > limit ? RejectReason::kRateLimited : RejectReason::kNone;
}

namespace {
// |price - center| more than bps of center.
bool outside(Int128 price, Int128 center, std::int32_t bps) {
  const Int128 distance = price > center ? price - center : center - price;
  return distance * 10000 > center * bps;
}
}  // namespace

RejectReason ReferenceMatcher::check_risk_new(const NewOrder& c) {
  using R = RejectReason;
  Account& a = *find_account(c.account);
  const Instrument& inst = *find_instrument(c.instrument);
  if (a.killed) return R::kAccountDisabled;
  if (check_rate(a) != R::kNone) return R::kRateLimited;
  const std::uint32_t max_open =
      a.limits.max_open_orders != 0 ? a.limits.max_open_orders : config_.default_max_open_orders;
  if (open_orders_of(c.account) + 1 > max_open) return R::kTooManyOpenOrders;
  const bool buy = c.side == Side::kBuy;
  const Int128 ref = last_or_reference(inst);
  const auto band_edge = static_cast<Price>(buy ? band_high(inst, ref) : band_low(inst, ref));
  Int128 value = 0;
  if (c.quote_quantity != 0) {
    value = Int128(c.quote_quantity) * cash_multiplier(inst);
  } else if (c.type == OrderType::kLimit || c.type == OrderType::kStopLimit) {
    value = notional(inst, c.price, c.quantity);
  } else if (c.type == OrderType::kStop) {
    value = notional(inst, c.stop_price, c.quantity);
  } else {
    value = notional(inst, band_edge, c.quantity);
  }
  // The notional in cash must itself be an amount (docs/design.md, "Numbers").
  // The spec does not place this check; the engine does it here, between
  // risk checks 3 and 4.
  if (value > kInt64Max) return R::kValueOverflow;
  if (inst.limits.max_order_quantity != 0 && c.quantity > inst.limits.max_order_quantity) {
    return R::kOrderQuantityTooLarge;
  }
  if (a.limits.max_order_quantity != 0 && c.quantity > a.limits.max_order_quantity) {
    return R::kOrderQuantityTooLarge;
  }
  if (inst.limits.max_order_notional != 0 && value > inst.limits.max_order_notional) {
    return R::kOrderNotionalTooLarge;
  }
  if (a.limits.max_order_notional != 0 && value > a.limits.max_order_notional) {
    return R::kOrderNotionalTooLarge;
  }
  const std::int32_t collar =
      inst.limits.collar_bps != 0 ? inst.limits.collar_bps : config_.default_collar_bps;
  if (c.type == OrderType::kLimit && outside(c.price, ref, collar)) return R::kPriceOutsideCollar;
  if (c.type == OrderType::kStopLimit && outside(c.price, c.stop_price, collar)) {
    return R::kPriceOutsideCollar;
  }
  if (!buy) {
    return c.quantity > available(c.account, c.instrument) ? R::kInsufficientShares : R::kNone;
  }
  Int128 required = 0;
  if (c.quote_quantity != 0) {
    const Int128 q = Int128(c.quote_quantity) * cash_multiplier(inst);
    const std::int32_t b = std::max({inst.spec.maker_fee_bps, inst.spec.taker_fee_bps, 0});
    required = q + q * b / 10000;
  } else if (c.type == OrderType::kLimit || c.type == OrderType::kStopLimit) {
    required = need(inst, c.price, c.quantity);
  } else if (c.type == OrderType::kStop) {
    required = need(inst, static_cast<Price>(band_high(inst, c.stop_price)), c.quantity);
  } else {
    required = need(inst, band_edge, c.quantity);
  }
  return required > available(c.account, kCashAsset) ? R::kInsufficientFunds : R::kNone;
}

RejectReason ReferenceMatcher::check_risk_replace(const Order& o, Price price, Price stop_price,
                                                  Quantity quantity) {
  using R = RejectReason;
  Account& a = *find_account(o.account);
  const Instrument& inst = *find_instrument(o.instrument);
  if (a.killed) return R::kAccountDisabled;
  if (check_rate(a) != R::kNone) return R::kRateLimited;
  const Int128 value = o.type == OrderType::kStop ? notional(inst, stop_price, quantity)
                                                  : notional(inst, price, quantity);
  if (value > kInt64Max) return R::kValueOverflow;
  if (inst.limits.max_order_quantity != 0 && quantity > inst.limits.max_order_quantity) {
    return R::kOrderQuantityTooLarge;
  }
  if (a.limits.max_order_quantity != 0 && quantity > a.limits.max_order_quantity) {
    return R::kOrderQuantityTooLarge;
  }
  if (inst.limits.max_order_notional != 0 && value > inst.limits.max_order_notional) {
    return R::kOrderNotionalTooLarge;
  }
  if (a.limits.max_order_notional != 0 && value > a.limits.max_order_notional) {
    return R::kOrderNotionalTooLarge;
  }
  const std::int32_t collar =
      inst.limits.collar_bps != 0 ? inst.limits.collar_bps : config_.default_collar_bps;
  if (o.type == OrderType::kLimit && outside(price, last_or_reference(inst), collar)) {
    return R::kPriceOutsideCollar;
  }
  if (o.type == OrderType::kStopLimit && outside(price, stop_price, collar)) {
    return R::kPriceOutsideCollar;
  }
  Order changed = o;
  changed.price = price;
  changed.stop_price = stop_price;
  changed.leaves = quantity - (o.quantity - o.leaves);
  changed.quantity = quantity;
  const Int128 increase = requirement(inst, changed) - requirement(inst, o);
  const AssetId asset = o.side == Side::kBuy ? kCashAsset : o.instrument;
  if (increase > 0 && increase > available(o.account, asset)) {
    return o.side == Side::kBuy ? R::kInsufficientFunds : R::kInsufficientShares;
  }
  return R::kNone;
}

// ---------------------------------------------------------------------------
// Accounts mode: money

ReferenceMatcher::Account* ReferenceMatcher::find_account(AccountId id) {
  if (id == 0 || id > accounts_.size()) return nullptr;
  return &accounts_[id - 1];
}

const ReferenceMatcher::Account* ReferenceMatcher::find_account(AccountId id) const {
  if (id == 0 || id > accounts_.size()) return nullptr;
  return &accounts_[id - 1];
}

Amount& ReferenceMatcher::total_of(Account& a, AssetId asset) {
  const std::size_t n = instruments_.size() + 1;
  if (a.total.size() < n) a.total.resize(n, 0);
  if (a.cost.size() < n) a.cost.resize(n, 0);
  if (a.realized.size() < n) a.realized.resize(n, 0);
  return a.total[asset];
}

Int128 ReferenceMatcher::cash_multiplier(const Instrument& inst) const {
  return pow10(config_.cash_scale - inst.spec.price_scale);
}

Int128 ReferenceMatcher::notional(const Instrument& inst, Price price, Quantity qty) const {
  return Int128(price) * qty / pow10(inst.spec.quantity_scale) * cash_multiplier(inst);
}

Int128 ReferenceMatcher::need(const Instrument& inst, Price price, Quantity qty) const {
  const Int128 n = notional(inst, price, qty);
  const std::int32_t b = std::max({inst.spec.maker_fee_bps, inst.spec.taker_fee_bps, 0});
  return n + n * b / 10000;
}

Int128 ReferenceMatcher::band_high(const Instrument& inst, Int128 ref) {
  const Price tick = inst.spec.tick_size;
  const Int128 offset = ref * inst.spec.market_band_bps / 10000;
  return (ref + offset) / tick * tick;
}

Int128 ReferenceMatcher::band_low(const Instrument& inst, Int128 ref) {
  const Price tick = inst.spec.tick_size;
  const Int128 offset = ref * inst.spec.market_band_bps / 10000;
  return std::max<Int128>((ref - offset + tick - 1) / tick * tick, tick);
}

Price ReferenceMatcher::last_or_reference(const Instrument& inst) {
  return inst.last != 0 ? inst.last : inst.spec.reference_price;
}

Int128 ReferenceMatcher::requirement(const Instrument& inst, const Order& o) const {
  if (o.side == Side::kSell) return o.leaves;
  if (o.quote) {
    const Int128 q = Int128(o.leaves) * cash_multiplier(inst);
    const std::int32_t b = std::max({inst.spec.maker_fee_bps, inst.spec.taker_fee_bps, 0});
    return q + q * b / 10000;
  }
  switch (o.type) {
    case OrderType::kLimit:
    case OrderType::kStopLimit:
      return need(inst, o.price, o.leaves);
    case OrderType::kStop:
      // Only untriggered stops are ever open between matching steps.
      return need(inst, static_cast<Price>(band_high(inst, o.stop_price)), o.leaves);
    case OrderType::kMarket:
      break;
  }
  return 0;  // market orders are never open
}

Int128 ReferenceMatcher::held(AccountId account, AssetId asset) const {
  Int128 sum = 0;
  for (const Instrument& inst : instruments_) {
    if (asset != kCashAsset && inst.id != asset) continue;
    for (const std::vector<Order>* list : {&inst.bids, &inst.asks, &inst.stops, &inst.pending}) {
      for (const Order& o : *list) {
        if (o.account != account) continue;
        if ((asset == kCashAsset) != (o.side == Side::kBuy)) continue;
        sum += requirement(inst, o);
      }
    }
  }
  return sum;
}

Int128 ReferenceMatcher::available(AccountId account, AssetId asset) const {
  const Account* a = find_account(account);
  if (a == nullptr) return 0;
  const Amount total = asset < a->total.size() ? a->total[asset] : 0;
  return Int128(total) - held(account, asset);
}

std::size_t ReferenceMatcher::open_orders_of(AccountId account) const {
  std::size_t n = 0;
  for (const Instrument& inst : instruments_) {
    for (const std::vector<Order>* list : {&inst.bids, &inst.asks, &inst.stops, &inst.pending}) {
      for (const Order& o : *list) n += o.account == account ? 1 : 0;
    }
  }
  return n;
}

bool ReferenceMatcher::breaker_stops(const Instrument& inst, Price price) const {
  const std::int32_t bps =
      inst.limits.breaker_bps != 0 ? inst.limits.breaker_bps : config_.default_breaker_bps;
  return outside(price, inst.spec.reference_price, bps);
}

// The posting of one trade, right after its Trade event.
void ReferenceMatcher::settle(Instrument& inst, const Order& maker, const Order& taker,
                              Price price, Quantity qty, TradeId trade_id) {
  const Int128 n = notional(inst, price, qty);
  const Int128 maker_fee = n * inst.spec.maker_fee_bps / 10000;  // truncates toward zero
  const Int128 taker_fee = n * inst.spec.taker_fee_bps / 10000;
  const bool taker_buys = taker.side == Side::kBuy;
  const AccountId buyer_id = taker_buys ? taker.account : maker.account;
  const AccountId seller_id = taker_buys ? maker.account : taker.account;
  const Int128 buyer_fee = taker_buys ? taker_fee : maker_fee;
  const Int128 seller_fee = taker_buys ? maker_fee : taker_fee;
  Account& buyer = *find_account(buyer_id);
  Account& seller = *find_account(seller_id);

  total_of(buyer, kCashAsset) = static_cast<Amount>(total_of(buyer, kCashAsset) - n - buyer_fee);
  total_of(seller, kCashAsset) =
      static_cast<Amount>(total_of(seller, kCashAsset) + n - seller_fee);
  total_of(fee_account_, kCashAsset) =
      static_cast<Amount>(total_of(fee_account_, kCashAsset) + buyer_fee + seller_fee);

  const Amount seller_shares = total_of(seller, inst.id);
  const Int128 removed = seller.cost[inst.id] * qty / seller_shares;
  seller.cost[inst.id] -= removed;
  seller.realized[inst.id] += n - removed;
  buyer.cost[inst.id] += n;
  total_of(seller, inst.id) -= qty;
  total_of(buyer, inst.id) += qty;

  Event& e = new_event(EventType::kSettled);
  e.settled.trade_id = trade_id;
  e.settled.instrument = inst.id;
  e.settled.buyer = buyer_id;
  e.settled.seller = seller_id;
  e.settled.quantity = qty;
  e.settled.notional = static_cast<Amount>(n);
  e.settled.buyer_fee = static_cast<Amount>(buyer_fee);
  e.settled.seller_fee = static_cast<Amount>(seller_fee);
}

std::optional<BalanceView> ReferenceMatcher::balance(AccountId account, AssetId asset) const {
  if (!config_.accounts) return std::nullopt;
  if (asset != kCashAsset && find_instrument(asset) == nullptr) return std::nullopt;
  const Account* a = account == kFeeAccount        ? &fee_account_
                     : account == kExternalAccount ? &external_account_
                                                   : find_account(account);
  if (a == nullptr) return std::nullopt;
  const Amount total = asset < a->total.size() ? a->total[asset] : 0;
  const bool system = account == kFeeAccount || account == kExternalAccount;
  const Amount h = system ? 0 : static_cast<Amount>(held(account, asset));
  return BalanceView{total, h, total - h};
}

std::optional<PositionView> ReferenceMatcher::position(AccountId account,
                                                       InstrumentId instrument) const {
  const Account* a = find_account(account);
  const Instrument* inst = find_instrument(instrument);
  if (!config_.accounts || a == nullptr || inst == nullptr) return std::nullopt;
  const Quantity q = instrument < a->total.size() ? a->total[instrument] : 0;
  const Int128 cost = instrument < a->cost.size() ? a->cost[instrument] : 0;
  const Int128 realized = instrument < a->realized.size() ? a->realized[instrument] : 0;
  PositionView v{};
  v.quantity = q;
  v.cost = clamp64(cost);
  v.realized_pnl = clamp64(realized);
  v.unrealized_pnl = clamp64(notional(*inst, last_or_reference(*inst), q) - cost);
  v.average_cost = q > 0 ? clamp64(cost * pow10(inst->spec.quantity_scale) /
                                   (cash_multiplier(*inst) * q))
                         : 0;
  return v;
}

std::string ReferenceMatcher::check_conservation() const {
  std::ostringstream s;
  for (AssetId asset = 0; asset <= instruments_.size(); ++asset) {
    Int128 sum = 0;
    auto total = [asset](const Account& a) { return asset < a.total.size() ? a.total[asset] : 0; };
    sum += total(fee_account_) + total(external_account_);
    for (AccountId id = 1; id <= accounts_.size(); ++id) {
      const Account& a = accounts_[id - 1];
      sum += total(a);
      if (total(a) < 0 || Int128(total(a)) - held(id, asset) < 0) {
        s << "reference: account " << id << " asset " << asset << " total " << total(a)
          << " held " << static_cast<std::int64_t>(held(id, asset)) << "; ";
      }
    }
    if (sum != 0) s << "reference: asset " << asset << " sums to " << static_cast<std::int64_t>(sum) << "; ";
  }
  return s.str();
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

bool ReferenceMatcher::crosses(const Instrument& inst, Side side, Price price) {
  const std::vector<Order>& opposite_side = book_side(inst, opposite(side));
  if (opposite_side.empty()) return false;
  const Price best = opposite_side.front().price;
  return side == Side::kBuy ? price >= best : price <= best;
}

bool ReferenceMatcher::stop_elected(const Instrument& inst, Side side, Price stop_price) {
  const Price last = inst.last != 0 ? inst.last : inst.spec.reference_price;
  return side == Side::kBuy ? stop_price <= last : stop_price >= last;
}

bool ReferenceMatcher::client_order_id_in_use(AccountId account, const ClientOrderId& id) const {
  if (id.empty()) return false;
  const std::vector<const Order*> open = open_orders_by_id();
  return std::any_of(open.begin(), open.end(), [&](const Order* o) {
    return o->account == account && o->client_order_id == id;
  });
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
