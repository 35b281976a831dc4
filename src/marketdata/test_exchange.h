// Test support: a real Engine whose events feed every projection, one
// command per batch, as the dispatch thread will do. Header-only, tests only.
// The members name the projections of `p` the way the tests read them.
#pragma once

#include <string_view>
#include <vector>

#include "core/engine.h"
#include "marketdata/projections.h"

namespace stox::marketdata::testing {

inline constexpr Timestamp kT0 = 1'700'000'000LL * 1'000'000'000;  // a whole second

struct TestExchange {
  explicit TestExchange(const EngineConfig& config = {},
                        const OrderTrackerConfig& tracker_config = {},
                        const TapeConfig& tape_config = {})
      : engine(config),
        p(ProjectionsConfig{tracker_config, tape_config, config.cash_scale}),
        instruments(p.instruments),
        tracker(p.orders),
        book(p.book),
        tape(p.tape) {}

  // Runs one command at the current time (then time moves on by 1 µs) and
  // feeds its events to every projection as one batch.
  const std::vector<Event>& run(const Command& c) {
    events.clear();
    engine.apply(c, events);
    feed(events);
    return events;
  }
  template <class Body>
  const std::vector<Event>& apply(const Body& body) {
    ++seq;
    const Timestamp t = now;
    now += 1000;
    return run(Command::make(seq, t, body));
  }
  void feed(const std::vector<Event>& batch) { p.apply_batch(batch); }

  // The id of the accepted order of the last command, else 0.
  OrderId last_order_id() const {
    for (const Event& e : events)
      if (e.type == EventType::kAccepted) return e.accepted.order_id;
    return 0;
  }

  JsonContext json() const { return p.json(); }

  Engine engine;
  Projections p;
  InstrumentDirectory& instruments;
  OrderTracker& tracker;
  BookView& book;
  Tape& tape;
  std::vector<Event> events;
  SeqNo seq = 0;
  Timestamp now = kT0;
};

inline AddInstrument instrument_spec(std::string_view symbol, std::int32_t maker_bps = 0,
                                     std::int32_t taker_bps = 0) {
  AddInstrument a{};
  a.symbol = Symbol::from(symbol);
  a.tick_size = 5;
  a.lot_size = 1;
  a.reference_price = 10000;  // 100.00
  a.maker_fee_bps = maker_bps;
  a.taker_fee_bps = taker_bps;
  a.price_scale = 2;
  a.quantity_scale = 0;
  return a;
}

// NewOrder builders (instrument 1, DAY limits unless said otherwise).
inline NewOrder limit(AccountId account, Side side, Price price, Quantity qty,
                      TimeInForce tif = TimeInForce::kDay) {
  NewOrder o{};
  o.account = account;
  o.instrument = 1;
  o.side = side;
  o.type = OrderType::kLimit;
  o.time_in_force = tif;
  o.price = price;
  o.quantity = qty;
  return o;
}
inline NewOrder market(AccountId account, Side side, Quantity qty) {
  NewOrder o = limit(account, side, 0, qty, TimeInForce::kIoc);
  o.type = OrderType::kMarket;
  return o;
}
inline NewOrder quote_buy(AccountId account, Amount cash) {
  NewOrder o = market(account, Side::kBuy, 0);
  o.quote_quantity = cash;
  return o;
}
inline NewOrder stop(AccountId account, Side side, Price stop_price, Quantity qty) {
  NewOrder o = limit(account, side, 0, qty);
  o.type = OrderType::kStop;
  o.stop_price = stop_price;
  return o;
}

}  // namespace stox::marketdata::testing
