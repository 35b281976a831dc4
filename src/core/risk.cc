// Accounts mode: pre-trade risk checks, risk limits, the kill switch and the
// circuit breaker. Every check is deterministic: it reads only engine state
// and the command's own timestamp. Order of checks and defaults:
// docs/design.md ("Pre-trade risk").
#include <algorithm>

#include "core/engine_impl.h"

namespace stox {
namespace {

template <class T>
T or_default(T value, T fallback) {
  return value != 0 ? value : fallback;
}

// |a − b| > ref × bps / 10000, without rounding.
bool beyond_bps(Price a, Price b, Price ref, std::int32_t bps) {
  const Int128 diff = a > b ? Int128{a} - b : Int128{b} - a;
  return diff * 10000 > Int128{ref} * bps;
}

}  // namespace

RejectReason Engine::Impl::check_rate(Account& a) const {
  const std::int64_t window = cmd->timestamp / 1'000'000'000;
  if (window != a.rate_window) {
    a.rate_window = window;
    a.rate_count = 0;
  }
  ++a.rate_count;
  const std::uint32_t limit =
      or_default(a.limits.max_orders_per_second, config.default_max_orders_per_second);
  return a.rate_count > limit ? RejectReason::kRateLimited : RejectReason::kNone;
}

RejectReason Engine::Impl::check_size(const Instrument& ins, const Account& a, Quantity qty,
                                      Amount notional_cash) {
  for (Quantity max : {ins.limits.max_order_quantity, a.limits.max_order_quantity})
    if (max != 0 && qty > max) return RejectReason::kOrderQuantityTooLarge;
  for (Amount max : {ins.limits.max_order_notional, a.limits.max_order_notional})
    if (max != 0 && notional_cash > max) return RejectReason::kOrderNotionalTooLarge;
  return RejectReason::kNone;
}

bool Engine::Impl::outside_collar(const Instrument& ins, OrderType type, Price price,
                                  Price stop) const {
  const std::int32_t bps = or_default(ins.limits.collar_bps, config.default_collar_bps);
  if (type == OrderType::kLimit) {
    const Price ref = ins.last_or_reference();
    return beyond_bps(price, ref, ref, bps);
  }
  if (type == OrderType::kStopLimit) return beyond_bps(price, stop, stop, bps);
  return false;
}

RejectReason Engine::Impl::check_risk_new(const NewOrder& n, const Instrument& ins) {
  Account& a = *account(n.account);
  if (a.killed) return RejectReason::kAccountDisabled;
  if (RejectReason r = check_rate(a); r != RejectReason::kNone) return r;
  const std::uint32_t open =
      n.account < account_orders.size() ? account_orders[n.account].count : 0;
  if (open >= or_default(a.limits.max_open_orders, config.default_max_open_orders))
    return RejectReason::kTooManyOpenOrders;

  // The order as it would be accepted, to price its size and requirement.
  Order o{};
  o.side = n.side;
  o.type = n.type;
  o.quote = n.quote_quantity != 0;
  o.price = n.type == OrderType::kMarket ? band_edge(ins, n.side, ins.last_or_reference())
                                         : n.price;
  o.stop_price = n.stop_price;
  o.leaves = o.quote ? n.quote_quantity : n.quantity;
  o.instrument = ins.id;
  const Amount size_notional = o.quote ? to_cash(ins, n.quote_quantity)
                                       : cash_notional(ins, o.price != 0 ? o.price : o.stop_price,
                                                       n.quantity);
  if (size_notional == kMaxValue) return RejectReason::kValueOverflow;
  if (RejectReason r = check_size(ins, a, n.quantity, size_notional); r != RejectReason::kNone)
    return r;
  if (outside_collar(ins, n.type, n.price, n.stop_price)) return RejectReason::kPriceOutsideCollar;

  const Amount need = requirement(ins, o);
  if (need == kMaxValue) return RejectReason::kValueOverflow;
  if (need > available(n.account, hold_asset(o)))
    return n.side == Side::kBuy ? RejectReason::kInsufficientFunds
                                : RejectReason::kInsufficientShares;
  return RejectReason::kNone;
}

RejectReason Engine::Impl::check_risk_replace(const Order& o, const Instrument& ins,
                                              const ReplaceTarget& t) {
  Account& a = *account(o.account);
  if (a.killed) return RejectReason::kAccountDisabled;
  if (RejectReason r = check_rate(a); r != RejectReason::kNone) return r;
  Order after = o;
  after.price = t.price;
  after.stop_price = t.stop_price;
  after.quantity = t.quantity;
  after.leaves = t.quantity - (o.quantity - o.leaves);
  const Amount size_notional =
      cash_notional(ins, t.price != 0 ? t.price : t.stop_price, t.quantity);
  if (size_notional == kMaxValue) return RejectReason::kValueOverflow;
  if (RejectReason r = check_size(ins, a, t.quantity, size_notional); r != RejectReason::kNone)
    return r;
  if (outside_collar(ins, o.type, t.price, t.stop_price)) return RejectReason::kPriceOutsideCollar;
  const Amount need = requirement(ins, after);
  if (need == kMaxValue) return RejectReason::kValueOverflow;
  if (need - requirement(ins, o) > available(o.account, hold_asset(o)))
    return o.side == Side::kBuy ? RejectReason::kInsufficientFunds
                                : RejectReason::kInsufficientShares;
  return RejectReason::kNone;
}

// ---------------------------------------------------------------- limits
void Engine::Impl::on_account_limits(const SetAccountLimits& l) {
  Account* a = account(l.account);
  if (a == nullptr) return emit_reject(RejectReason::kUnknownAccount, l.account, 0, ClientOrderId{});
  if (l.max_order_quantity < 0 || l.max_order_notional < 0)
    return emit_reject(RejectReason::kInvalidLimits, l.account, 0, ClientOrderId{});
  a->limits = l;
  LimitsSetEvent& e = emit(EventType::kLimitsSet).limits_set;
  e.command = cmd->type;
  e.target = l.account;
}

void Engine::Impl::on_instrument_limits(const SetInstrumentLimits& l) {
  Instrument* ins = instrument(l.instrument);
  if (ins == nullptr) return emit_reject(RejectReason::kUnknownSymbol, 0, 0, ClientOrderId{});
  const bool valid = l.collar_bps >= 0 && l.breaker_bps >= 0 && l.max_order_quantity >= 0 &&
                     l.max_order_notional >= 0 && l.breaker_halt_ns >= 0;
  if (!valid) return emit_reject(RejectReason::kInvalidLimits, 0, 0, ClientOrderId{});
  ins->limits = InstrumentLimits{l.collar_bps, l.breaker_bps, l.max_order_quantity,
                                 l.max_order_notional, l.breaker_halt_ns};
  LimitsSetEvent& e = emit(EventType::kLimitsSet).limits_set;
  e.command = cmd->type;
  e.target = l.instrument;
}

// ------------------------------------------------------------ kill switch
void Engine::Impl::on_kill_switch(const SetKillSwitch& k) {
  Account* a = account(k.account);
  if (a == nullptr) return emit_reject(RejectReason::kUnknownAccount, k.account, 0, ClientOrderId{});
  a->killed = k.enabled;
  std::vector<std::uint32_t>& victims = scratch_slots;
  victims.clear();
  if (k.enabled && k.account < account_orders.size())
    for (std::uint32_t s = account_orders[k.account].head; s != kNoSlot; s = orders[s].account_next)
      victims.push_back(s);
  const auto count = static_cast<std::uint32_t>(victims.size());
  cancel_in_id_order(victims, CancelReason::kKillSwitch);
  KillSwitchEvent& e = emit(EventType::kKillSwitch).kill_switch;
  e.account = k.account;
  e.enabled = k.enabled;
  e.cancelled = count;
}

// -------------------------------------------------------- circuit breaker
bool Engine::Impl::breaker_trips(const Instrument& ins, Price price) const {
  const std::int32_t bps = or_default(ins.limits.breaker_bps, config.default_breaker_bps);
  const Price ref = ins.spec.reference_price;
  return beyond_bps(price, ref, ref, bps);
}

void Engine::Impl::trip_breaker(Instrument& ins) {
  ins.status = InstrumentStatus::kHalted;
  ins.resume_at =
      cmd->timestamp + or_default(ins.limits.breaker_halt_ns, config.default_breaker_halt_ns);
  ++breaker_halts;
  emit_status(ins);
}

// Runs at the start of every command while an instrument is breaker-halted:
// the first command at or after the resume time resumes it.
void Engine::Impl::resume_breaker_halts() {
  for (Instrument& ins : instruments)
    if (ins.resume_at != 0 && cmd->timestamp >= ins.resume_at)
      set_status(ins, InstrumentStatus::kTrading);
}

}  // namespace stox
