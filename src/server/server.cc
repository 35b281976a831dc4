#include "server/server.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unordered_map>
#include <utility>

#include "common/reason.h"
#include "journal/env.h"
#include "server/api.h"
#include "server/api_keys.h"
#include "server/core.h"
#include "server/demo_market.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"
#include "server/transport.h"
#include "server/ws_hub.h"

namespace stox::server {
namespace {

// Latency buckets from 50 µs to 5 s: an ack is a journal sync (~1-10 ms on
// this disk) plus queueing; a sync without fsync is tens of microseconds.
const std::vector<double> kLatencyBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                             0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                             0.5,     1.0,    2.5,     5.0};

// The engine thread's counters and histograms (CoreObserver runs there).
class MetricsObserver : public CoreObserver {
 public:
  explicit MetricsObserver(Registry& r)
      : commands_(r.counter("stox_commands_total", "Commands sequenced, journaled and applied.")),
        orders_(r.counter("stox_orders_total", "New orders received by the engine.")),
        trades_(r.counter("stox_trades_total", "Trades printed.")),
        batches_(r.counter("stox_journal_batches_total", "Group commits (one write + sync each).")),
        snapshots_(r.counter("stox_snapshots_total", "Snapshots written by the follower engine.")),
        snapshots_failed_(r.counter("stox_snapshots_failed_total", "Snapshots that could not be written.")),
        ack_(r.histogram("stox_order_ack_latency_seconds",
                         "From a command entering the inbound queue to its answer being handed to "
                         "the network (includes the journal sync).",
                         kLatencyBuckets)),
        commit_(r.histogram("stox_journal_sync_seconds",
                            "Duration of one group commit: journal write and fdatasync.",
                            kLatencyBuckets)),
        snapshot_(r.histogram("stox_snapshot_write_seconds",
                              "Encode + durable write of one snapshot, on the follower engine's "
                              "thread (matching does not pause for it).",
                              kLatencyBuckets)) {
    for (int code = 1000; code < 4000; ++code) {  // every reason the engine can give
      const auto reason = static_cast<RejectReason>(code);
      const std::string_view name = to_string(reason);
      if (name == "UNKNOWN_REASON") continue;
      rejects_[reason] = &r.counter("stox_rejects_total", "Commands rejected by the engine, by reason.",
                                    {{"reason", std::string(name)}});
    }
  }

  void on_batch(std::size_t, std::int64_t commit_ns) override {
    batches_.inc();
    commit_.observe_ns(commit_ns);
  }
  void on_command(const Command& c, std::span<const Event> events) override {
    commands_.inc();
    if (c.type == CommandType::kNewOrder) orders_.inc();
    for (const Event& e : events) {
      if (e.type == EventType::kTrade) trades_.inc();
      if (e.type == EventType::kRejected) {
        auto it = rejects_.find(e.rejected.reason);
        if (it != rejects_.end()) it->second->inc();
      }
    }
  }
  void on_acked(std::int64_t latency_ns) override { ack_.observe_ns(latency_ns); }
  void on_snapshot(std::int64_t write_ns, bool ok) override {  // follower thread: atomics only
    snapshot_.observe_ns(write_ns);
    (ok ? snapshots_ : snapshots_failed_).inc();
  }

 private:
  Counter& commands_;
  Counter& orders_;
  Counter& trades_;
  Counter& batches_;
  Counter& snapshots_;
  Counter& snapshots_failed_;
  Histogram& ack_;
  Histogram& commit_;
  Histogram& snapshot_;
  std::unordered_map<RejectReason, Counter*> rejects_;
};

TransportOptions transport_options(const ServerConfig& c) {
  TransportOptions t;
  t.host = c.host;
  t.port = c.port;
  t.io_threads = c.io_threads;
  t.max_body_bytes = c.max_body_bytes;
  t.max_header_bytes = c.max_header_bytes;
  t.max_ws_message_bytes = c.max_ws_message_bytes;
  t.max_connections = c.max_connections;
  t.request_timeout = std::chrono::milliseconds(c.request_timeout_ms);
  t.idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
  t.ws_ping_interval = std::chrono::milliseconds(c.ws_ping_interval_ms);
  t.ws_soft_limit_bytes = c.ws_soft_limit_bytes;
  t.ws_hard_limit_bytes = c.ws_hard_limit_bytes;
  return t;
}

CoreOptions core_options(const ServerConfig& c) {
  CoreOptions o;
  o.data_dir = c.data_dir;
  o.engine = server_engine_config();
  o.durable.journal.sync = c.sync == "none" ? journal::SyncMode::kNone : journal::SyncMode::kBatch;
  o.durable.journal.segment_bytes = c.segment_bytes;
  o.queue_capacity = c.queue_capacity;
  o.snapshots.every_commands = c.snapshot_every_commands;
  o.snapshots.every = std::chrono::seconds(c.snapshot_every_seconds);
  o.projections.cash_scale = o.engine.cash_scale;
  return o;
}

// Gauges read at exposition time from the other parts (thread-safe reads).
void register_gauges(Registry& r, Core& core, Transport& transport, const Api& api) {
  r.gauge_fn("stox_inbound_queue_depth", "Work items waiting for the engine thread.",
             [&core] { return static_cast<double>(core.queue_depth()); });
  r.gauge_fn("stox_inbound_queue_capacity", "Capacity of the inbound queue (503 when full).",
             [&core] { return static_cast<double>(core.queue_capacity()); });
  r.gauge_fn("stox_committed_seq", "Sequence number of the last durable command.",
             [&core] { return static_cast<double>(core.committed_seq()); });
  r.gauge_fn("stox_snapshot_follower_lag_commands",
             "Committed commands the snapshot follower has not applied yet.", [&core] {
               const SeqNo applied = core.snapshots().applied_seq();
               const SeqNo committed = core.committed_seq();
               return static_cast<double>(committed > applied ? committed - applied : 0);
             });
  r.gauge_fn("stox_journal_failed", "1 once the journal failed (fail-stop), else 0.",
             [&core] { return core.failed() ? 1.0 : 0.0; });
  r.gauge_fn("stox_connections_open", "Open HTTP and WebSocket connections.",
             [&transport] { return static_cast<double>(transport.stats().connections_open); });
  r.gauge_fn("stox_websocket_connections_open", "Open WebSocket connections.",
             [&transport] { return static_cast<double>(transport.stats().ws_open); });
  // Counters kept elsewhere, exposed as gauges of their running totals.
  r.gauge_fn("stox_http_requests", "HTTP requests read since start.",
             [&transport] { return static_cast<double>(transport.stats().requests); });
  r.gauge_fn("stox_connections_refused", "Connections refused over the connection limit.",
             [&transport] { return static_cast<double>(transport.stats().connections_refused); });
  r.gauge_fn("stox_websocket_slow_consumers_closed", "WebSocket connections closed as slow consumers.",
             [&transport] { return static_cast<double>(transport.stats().ws_closed_slow); });
  r.gauge_fn("stox_rate_limited_requests", "Requests answered 429 since start.",
             [&api] { return static_cast<double>(api.counters().rate_limited.load()); });
  r.gauge_fn("stox_busy_requests", "Requests answered 503 because the inbound queue was full.",
             [&api] { return static_cast<double>(api.counters().busy.load()); });
}

}  // namespace

struct Server::Parts {
  ServerConfig config;
  std::string admin_key;
  Registry registry;
  std::unique_ptr<KeyStore> keys;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<MetricsObserver> observer;
  WsHub hub;
  std::unique_ptr<Core> core;
  std::unique_ptr<Api> api;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<MarketMaker> market_maker;
  bool stopped = false;
};

// The wiring, in the order data flows (docs/design.md, "The server").
namespace {

// What the operator needs to know about a start: where the state came from,
// how long it took, and every snapshot that was passed over and why.
void log_recovery(const store::Recovered& r, std::ostream& log) {
  char line[256];
  std::snprintf(line, sizeof line,
                "stox: recovered to seq %llu: %s in %.2f s, then %llu journal commands in %.2f s\n",
                static_cast<unsigned long long>(r.last_seq),
                r.snapshot_path.empty() ? "no snapshot" : "snapshot restored",
                static_cast<double>(r.restore_ns) / 1e9,
                static_cast<unsigned long long>(r.replayed), static_cast<double>(r.replay_ns) / 1e9);
  log << line;
  if (!r.snapshot_path.empty()) log << "stox: snapshot " << r.snapshot_path << '\n';
  for (const std::string& skipped : r.skipped_snapshots) log << "stox: skipped " << skipped << '\n';
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerConfig& config, std::ostream& log) {
  auto p = std::make_unique<Parts>();
  p->config = config;

  const char* env_key = std::getenv("STOX_ADMIN_KEY");
  std::string generated;
  auto keys = KeyStore::open(config.data_dir,
                             env_key != nullptr ? std::optional<std::string>(env_key) : std::nullopt,
                             &generated);
  if (!keys.ok()) return keys.status();
  p->keys = std::move(keys.value());
  p->admin_key = env_key != nullptr ? env_key : generated;
  if (!generated.empty()) {
    log << "admin key (written to " << config.data_dir << "/admin.key): " << generated << '\n';
  }
  p->limiter = std::make_unique<RateLimiter>(config.rate_limit_per_second, config.rate_limit_burst);
  p->observer = std::make_unique<MetricsObserver>(p->registry);

  auto core = Core::open(*journal::posix_env(), core_options(config), p->hub, p->observer.get());
  if (!core.ok()) return core.status();
  p->core = std::move(core.value());
  log_recovery(p->core->recovery(), log);
  p->core->start();

  Registry* registry = &p->registry;
  ApiOptions api_options;
  api_options.cash_scale = server_engine_config().cash_scale;
  p->api = std::make_unique<Api>(*p->core, *p->keys, *p->limiter,
                                 [registry] { return registry->expose(); }, api_options);

  auto transport = Transport::start(transport_options(config), *p->api, *p->api);
  if (!transport.ok()) {
    p->core->stop();
    return transport.status();
  }
  p->transport = std::move(transport.value());
  register_gauges(p->registry, *p->core, *p->transport, *p->api);

  std::unique_ptr<Server> server(new Server(std::move(p)));
  Parts& parts = *server->parts_;
  log << "stox: listening on " << server->base_url() << ", data in " << config.data_dir
      << " (journal sync: " << config.sync << ")\n";
  if (config.demo) {
    auto demo = set_up_demo(*parts.core, *parts.keys, config.data_dir);
    if (!demo.ok()) return demo.status();
    print_demo(demo.value(), server->base_url(), log);
    parts.market_maker = std::make_unique<MarketMaker>(*parts.core, demo.value(), 20261122);
    parts.market_maker->start();
  }
  log.flush();
  return server;
}

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { stop(); }

void Server::stop() {
  if (parts_->stopped) return;
  parts_->stopped = true;
  if (parts_->market_maker) parts_->market_maker->stop();
  parts_->transport->stop();
  parts_->core->stop();
}

std::uint16_t Server::port() const { return parts_->transport->port(); }

std::string Server::base_url() const {
  return "http://" + parts_->config.host + ":" + std::to_string(port());
}

const std::string& Server::admin_key() const { return parts_->admin_key; }
Core& Server::core() { return *parts_->core; }
KeyStore& Server::keys() { return *parts_->keys; }

int run_serve(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err) {
  const std::vector<std::string> words(args.begin(), args.end());
  Result<ServerConfig> config = parse_serve_args(words);
  if (!config.ok()) {
    err << "stox serve: " << config.status().message() << "\n\n" << serve_usage();
    return 2;
  }
  if (config.value().show_help) {
    out << serve_usage();
    return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a peer that went away is an error value, not a death
  // Block SIGINT/SIGTERM in every thread (threads inherit the mask), then
  // wait for them here: shutdown runs on this thread, never in a handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = Server::start(config.value(), out);
  if (!server.ok()) {
    err << "stox serve: " << server.status().to_string() << '\n';
    return 1;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  out << "stox: " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down\n";
  server.value()->stop();
  out << "stox: stopped at seq " << server.value()->core().committed_seq() << '\n';
  return 0;
}

}  // namespace stox::server
