// Matching: running a taker against the opposite side, fills, self-trade
// prevention, FOK pre-checks, icebergs, and stop elections. The rules are in
// docs/design.md ("Matching", "Stops", "Event order").
#include <algorithm>

#include "core/engine_impl.h"

namespace stox {

// ------------------------------------------------------------------- band
// The protection band edge for a market order on `side` around `ref`.
Price Engine::Impl::band_edge(const Instrument& ins, Side side, Price ref) {
  const Price tick = ins.spec.tick_size;
  const Int128 offset = Int128{ref} * ins.spec.market_band_bps / 10000;
  if (side == Side::kBuy) {
    const Int128 hi = Int128{ref} + offset;
    return fits(hi) ? static_cast<Price>(hi / tick * tick) : kMaxValue / tick * tick;
  }
  const Int128 lo = Int128{ref} - offset;  // >= 0 because the band is at most 100 %
  const Int128 up = (lo + tick - 1) / tick * tick;
  return std::max(static_cast<Price>(up), tick);
}

// A market order (or a triggered stop-market) matches up to the band edge
// computed when it starts; the edge is kept in its price.
void Engine::Impl::start_market(const Instrument& ins, Order& o) {
  o.price = band_edge(ins, o.side, ins.last_or_reference());
}

// ---------------------------------------------------------------- execute
// Runs an accepted (or replaced, or triggered) order as a taker, then rests
// or cancels what is left.
void Engine::Impl::execute(Instrument& ins, std::uint32_t slot) {
  Order& o = orders[slot];
  if (o.post_only && crosses(ins, o.side, o.price)) {
    emit_cancelled(o, CancelReason::kPostOnlyWouldTake, o.leaves);
    return close_order(slot);
  }
  if (o.time_in_force == TimeInForce::kFok && !fok_fillable(ins, o)) {
    emit_cancelled(o, CancelReason::kFokNotFillable, o.leaves);
    return close_order(slot);
  }
  const MatchResult r = match(ins, slot);
  if (r.closed) return close_order(slot);
  finish(ins, slot, r);
}

void Engine::Impl::finish(Instrument& ins, std::uint32_t slot, const MatchResult& r) {
  Order& o = orders[slot];
  if (is_market_like(o.type)) {
    if (o.quote && r.cash_limited) {
      if (!r.traded) emit_cancelled(o, CancelReason::kQuoteTooSmall, o.leaves);
    } else if (o.leaves > 0) {  // a quote order whose cash is all spent is complete
      emit_cancelled(o, r.traded ? CancelReason::kMarketRemainder : CancelReason::kMarketNoLiquidity,
                     o.leaves);
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

void Engine::Impl::rest(Instrument& ins, std::uint32_t slot) {
  Order& o = orders[slot];
  o.visible = o.display != 0 ? std::min(o.display, o.leaves) : o.leaves;
  o.place = OrderPlace::kBook;
  if (!o.registered) register_order(slot);
  const std::uint32_t lv = append_to_level(ins.book(o.side), o.price, slot, o.visible, o.leaves);
  emit_level(ins.id, o.side, o.price, lv);
}

// ------------------------------------------------------------------ match
MatchResult Engine::Impl::match(Instrument& ins, std::uint32_t taker_slot) {
  MatchResult r;
  Ladder& opp = ins.book(opposite(orders[taker_slot].side));
  while (!opp.empty()) {
    Order& taker = orders[taker_slot];
    if (!taker.quote && taker.leaves == 0) break;
    const std::uint32_t lv = opp.best();
    const Level& level = levels[lv];
    if (!acceptable(taker.side, level.price, taker.price)) break;
    // Whether the price is affordable at all is decided before self-trade
    // prevention, so an unaffordable level never costs the owner an order.
    const Quantity can_buy =
        taker.quote ? affordable(ins, taker.leaves, level.price) : taker.leaves;
    if (can_buy == 0) {
      r.cash_limited = true;
      return r;
    }
    const std::uint32_t maker_slot = level.head;
    if (orders[maker_slot].account == taker.account) {
      if (!prevent_self_trade(ins, taker_slot, maker_slot)) {
        r.closed = true;
        return r;
      }
      continue;
    }
    const Quantity qty = std::min(can_buy, orders[maker_slot].visible);
    if (config.accounts && breaker_trips(ins, level.price)) {
      emit_cancelled(taker, CancelReason::kCircuitBreaker, taker.leaves);
      trip_breaker(ins);
      r.closed = true;
      return r;
    }
    fill(ins, taker_slot, maker_slot, lv, qty);
    r.traded = true;
  }
  return r;
}

// Whole lots that a quote order's cash buys at `price`.
Quantity Engine::Impl::affordable(const Instrument& ins, Amount cash, Price price) {
  const Int128 q = Int128{cash} * kPow10[ins.spec.quantity_scale] / price;
  const Quantity capped = fits(q) ? static_cast<Quantity>(q) : kMaxValue;
  return capped - capped % ins.spec.lot_size;
}

// Notional at price scale: floor(price × qty / 10^quantity_scale),
// saturated at kMaxValue, which every caller treats as "does not fit" (a fill's
// notional always fits: it is bounded by what the order was checked for).
Amount Engine::Impl::notional(const Instrument& ins, Price price, Quantity qty) {
  const Int128 v = Int128{price} * qty / kPow10[ins.spec.quantity_scale];
  return fits(v) ? static_cast<Amount>(v) : kMaxValue;
}

void Engine::Impl::fill(Instrument& ins, std::uint32_t taker_slot, std::uint32_t maker_slot,
                        std::uint32_t lv, Quantity qty) {
  Order& taker = orders[taker_slot];
  Order& maker = orders[maker_slot];
  Level& level = levels[lv];
  const Price price = level.price;
  const Amount taker_before = config.accounts ? requirement(ins, taker) : 0;
  const Amount maker_before = config.accounts ? requirement(ins, maker) : 0;
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
  if (config.accounts)
    settle(ins, taker, maker, price, qty, taker_before, maker_before, last_trade_id);

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

// An iceberg whose visible part is gone shows a new slice at the back of its
// level, losing time priority.
void Engine::Impl::refresh_iceberg(std::uint32_t slot) {
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

// ------------------------------------------------------- self-trade prevention
// Returns true if matching goes on.
bool Engine::Impl::prevent_self_trade(Instrument& ins, std::uint32_t taker_slot,
                                      std::uint32_t maker_slot) {
  switch (orders[taker_slot].stp) {
    case StpMode::kCancelTaker:
      emit_cancelled(orders[taker_slot], CancelReason::kSelfTrade, orders[taker_slot].leaves);
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

bool Engine::Impl::decrement(Instrument& ins, std::uint32_t taker_slot, std::uint32_t maker_slot) {
  const Quantity d = std::min(orders[taker_slot].leaves, orders[maker_slot].leaves);
  Order& maker = orders[maker_slot];
  if (maker.leaves == d) {
    cancel_open(maker_slot, CancelReason::kSelfTrade);
  } else {
    const Amount before = config.accounts ? requirement(ins, maker) : 0;
    Level& level = levels[maker.level];
    maker.quantity -= d;  // a decrement shrinks the order; its filled part is unchanged
    maker.leaves -= d;
    const Quantity visible = std::min(maker.visible, maker.leaves);
    level.total -= d;
    level.visible -= maker.visible - visible;
    maker.visible = visible;
    if (config.accounts) adjust_hold(maker, requirement(ins, maker) - before);
    emit_reduced(maker, d);
    emit_level(ins.id, maker.side, maker.price, maker.level);
  }
  Order& taker = orders[taker_slot];
  if (taker.leaves == d) {
    emit_cancelled(taker, CancelReason::kSelfTrade, d);
    return false;
  }
  const Amount before = config.accounts ? requirement(ins, taker) : 0;
  taker.quantity -= d;
  taker.leaves -= d;
  if (config.accounts) adjust_hold(taker, requirement(ins, taker) - before);
  emit_reduced(taker, d);
  return true;
}

// -------------------------------------------------------------------- FOK
// Would this order, run as IOC, fill completely? A level without an own
// order that blocks (every STP mode but CANCEL_MAKER blocks) gives all its
// other-account quantity, hidden parts included; a level with a blocking own
// order is simulated order by order, icebergs refreshing to the back, up to
// the own order.
bool Engine::Impl::fok_fillable(const Instrument& ins, const Order& taker) {
  Quantity need = taker.leaves;
  bool blocked = false;
  ins.book(opposite(taker.side)).for_each_from_best([&](std::uint32_t lv) {
    const Level& level = levels[lv];
    if (!acceptable(taker.side, level.price, taker.price)) return false;
    if (config.accounts && breaker_trips(ins, level.price)) {
      blocked = true;  // the trade would not print
      return false;
    }
    Quantity others = 0;
    bool own = false;
    for (std::uint32_t s = level.head; s != kNoSlot; s = orders[s].next) {
      if (orders[s].account == taker.account) own = true; else others += orders[s].leaves;
    }
    if (!own || taker.stp == StpMode::kCancelMaker) {
      need -= std::min(need, others);
    } else {
      need = simulate_level_until_own(level, taker.account, need);
      blocked = need > 0;
    }
    return need > 0 && !blocked;
  });
  return need == 0;
}

// Takes from the level in matching order until `need` is met or an order of
// `account` comes up. Returns what is still needed.
Quantity Engine::Impl::simulate_level_until_own(const Level& level, AccountId account,
                                                Quantity need) {
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

// ------------------------------------------------------------------ stops
void Engine::Impl::add_stop(Instrument& ins, std::uint32_t slot) {
  Order& o = orders[slot];
  o.place = OrderPlace::kStops;
  append_to_level(ins.stops(o.side), o.stop_price, slot, 0, 0);
}

// Triggers every stop elected by the trades since the last check, farthest
// from the last price first, then oldest; repeats while triggered stops
// trade (cascade). A halted instrument keeps its elections for its resume.
void Engine::Impl::run_elections(Instrument& ins) {
  while (ins.high != 0 && ins.status == InstrumentStatus::kTrading) {
    const Price high = ins.high;
    const Price low = ins.low;
    ins.high = 0;
    ins.low = 0;
    group.clear();
    auto collect = [&](Ladder& ladder, auto elected) {
      while (!ladder.empty() && elected(levels[ladder.best()].price)) {
        const std::uint32_t lv = ladder.best();
        for (std::uint32_t s = levels[lv].head; s != kNoSlot; s = orders[s].next) {
          orders[s].place = OrderPlace::kInFlight;
          group.push_back(s);
        }
        ladder.pop_best();
        levels.release(lv);
      }
    };
    collect(ins.buy_stops, [&](Price stop) { return stop <= high; });
    collect(ins.sell_stops, [&](Price stop) { return stop >= low; });
    const Price last = ins.last;
    auto distance = [&](std::uint32_t s) {
      const Price d = orders[s].stop_price - last;
      return d < 0 ? -d : d;
    };
    std::sort(group.begin(), group.end(), [&](std::uint32_t a, std::uint32_t b) {
      const Price da = distance(a);
      const Price db = distance(b);
      return da != db ? da > db : orders[a].stop_priority < orders[b].stop_priority;
    });
    // Triggered orders never run elections themselves, so `group` stays
    // intact while they execute.
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (ins.status != InstrumentStatus::kTrading) {
        // A circuit breaker tripped: the rest wait, still elected, for the resume.
        for (std::size_t j = i; j < group.size(); ++j) add_stop(ins, group[j]);
        ins.high = std::max(ins.high, high);
        ins.low = ins.low == 0 ? low : std::min(ins.low, low);
        return;
      }
      trigger(ins, group[i], last);
    }
  }
}

void Engine::Impl::trigger(Instrument& ins, std::uint32_t slot, Price last) {
  Order& o = orders[slot];
  StopTriggeredEvent& e = emit(EventType::kStopTriggered).stop_triggered;
  e.order_id = o.id;
  e.account = o.account;
  e.instrument = o.instrument;
  e.last_price = last;
  o.triggered = true;
  if (o.type == OrderType::kStop) {
    const Amount before = config.accounts ? requirement(ins, o) : 0;
    start_market(ins, o);
    if (config.accounts) {
      const Amount delta = requirement(ins, o) - before;
      if (delta > available(o.account, hold_asset(o))) {
        o.price = 0;  // back to the requirement it holds, which close_order releases
        emit_cancelled(o, CancelReason::kInsufficientFunds, o.leaves);
        return close_order(slot);
      }
      adjust_hold(o, delta);
    }
  }
  execute(ins, slot);
}

}  // namespace stox
