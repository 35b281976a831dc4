// The load itself: closed-loop REST order connections and WebSocket
// market-data subscribers, driven by asynchronous Beast clients on a few
// client threads (src/bench/loadgen.cc sets the server up and reports).
//
// Each order connection is a keep-alive HTTP/1.1 connection that uses one
// account and has exactly one request in flight: it sends, waits for the
// response, records the latency (from starting the write to the whole
// response read) and sends the next. Its mix keeps the book bounded: limit
// orders around a fixed mid on random sides, a share of them crossing
// (trades), and cancels of its own resting orders, always once it has
// `max_open` of them.
//
// Every response is classified; anything the workload cannot legitimately
// get (a 400, 401, 403, a 5xx other than 503 BUSY, a broken connection) is
// "unexpected" and makes the run fail.
//
// The header includes no Boost.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace stox::bench {

struct LoadAccount {
  AccountId id = 0;
  std::string key;
};

// NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding): read once, grouped by meaning
struct LoadPlan {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int client_threads = 1;
  std::uint64_t seed = 42;

  // REST order load
  std::vector<LoadAccount> accounts;  // connection i uses accounts[i % size]
  int connections = 64;
  std::vector<std::string> symbols;   // tick 0.01, lot 1 each
  std::int64_t mid_ticks = 10'000;    // 100.00
  int max_open = 16;                  // resting orders per connection before it must cancel
  int cancel_percent = 25;            // of steps that cancel while below max_open
  int cross_percent = 20;             // of new orders priced through the mid

  // WebSocket fan-out
  int ws_subscribers = 0;
  std::string ws_symbol;  // depth + trades of this symbol
};

// Counters of one run; every count is of the measured window only, except
// `unexpected`, `transport_errors` and `examples`, which count the whole run.
struct OrderResults {
  std::uint64_t requests = 0;
  std::uint64_t orders = 0;       // POST /orders answered (any status)
  std::uint64_t cancels = 0;      // DELETE /orders/{id} answered (any status)
  std::uint64_t accepted = 0;     // 201
  std::uint64_t cancelled = 0;    // 200 to a cancel
  std::uint64_t trades = 0;       // fills in the 201 answers (the order as taker)
  std::uint64_t cancel_missed = 0;             // 404 UNKNOWN_ORDER: filled before the cancel
  std::map<std::string, std::uint64_t> rejects;  // engine or limiter rejects, by code
  std::uint64_t busy = 0;                        // 503 BUSY (documented back-pressure)
  std::uint64_t server_errors = 0;               // 5xx other than 503 BUSY (whole run)
  std::uint64_t unexpected = 0;                  // incl. server_errors (whole run)
  std::uint64_t transport_errors = 0;            // connect/read/write failures (whole run)
  std::vector<std::string> examples;             // the first few unexpected answers
  std::vector<std::int64_t> latency_ns;          // one per request

  std::uint64_t reject_count() const;
};

struct WsResults {
  std::uint64_t messages = 0;         // every data message received
  std::uint64_t trades = 0;
  std::uint64_t depth_updates = 0;
  std::uint64_t resyncs = 0;          // depth snapshots after the first: conflated depth
  std::uint64_t gaps = 0;             // trade gap messages: conflated trades
  std::uint64_t missed_trades = 0;    // sum of the gaps' "missed"
  std::uint64_t sequence_breaks = 0;  // depth update not snapshot.sequence + 1, + 2, ... (whole run)
  std::uint64_t errors = 0;           // error messages, closes, malformed messages (whole run)
  std::vector<std::string> examples;
  std::vector<std::int64_t> trade_delay_ns;  // receipt time - the trade's "time" (same clock)
};

class Load {
 public:
  // Starts the client threads, connects and subscribes every WebSocket
  // subscriber (waiting until each has its depth snapshot), then opens the
  // order connections, which start sending at once (the warm-up). Fails if
  // any connection or subscription fails within 30 s.
  static Result<std::unique_ptr<Load>> start(const LoadPlan& plan);
  ~Load();  // stop()
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  // From now on answers and messages are counted.
  void begin_measuring();
  // Stops counting, lets each order connection finish its request in
  // flight, closes every connection and joins the client threads.
  void stop();

  // After stop(): the counters of every thread, merged.
  OrderResults order_results() const;
  WsResults ws_results() const;

  struct Impl;

 private:
  explicit Load(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stox::bench
