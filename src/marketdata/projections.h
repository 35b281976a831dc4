// Projections: every read model of the outbound API, fed together with the
// events of one command at a time. This is what the dispatch thread owns:
//
//   engine.apply(command, events);
//   projections.apply_batch(events);
//   ... answer the REST call from projections.orders.updates()/rejects(),
//       publish projections.book.updates(), .book.quote_changes(),
//       .tape.batch_trades(), .orders.updates() on the WebSocket channels.
//
// Thread-safety: none; everything stays on the dispatch thread.
#pragma once

#include <span>

#include "marketdata/book_view.h"
#include "marketdata/instruments.h"
#include "marketdata/json_views.h"
#include "marketdata/order_tracker.h"
#include "marketdata/tape.h"

namespace stox::marketdata {

struct ProjectionsConfig {
  OrderTrackerConfig orders;
  TapeConfig tape;
  int cash_scale = 4;  // EngineConfig::cash_scale, for fees in JSON
};

class Projections {
 public:
  explicit Projections(const ProjectionsConfig& config = {})
      : orders(config.orders), tape(config.tape), cash_scale_(config.cash_scale) {}

  // REQUIRES: `events` are all the events of one command, in engine order.
  void apply_batch(std::span<const Event> events) {
    for (const Event& e : events) instruments.apply(e);
    orders.apply_batch(events);
    book.apply_batch(events);
    tape.apply_batch(events);
  }

  JsonContext json() const { return JsonContext{instruments, cash_scale_}; }

  InstrumentDirectory instruments;
  OrderTracker orders;
  BookView book;
  Tape tape;

 private:
  int cash_scale_;
};

}  // namespace stox::marketdata
