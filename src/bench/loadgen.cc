// stox_loadgen: the server benchmark. Starts `stox serve` in-process (or
// targets a running server with --server), sets up instruments and funded
// accounts through the admin REST API, then drives POST/DELETE /orders over
// closed-loop keep-alive connections, optionally with WebSocket subscribers
// on one symbol, and prints one summary line per run (docs/benchmarks.md).
//
// On a 2-core machine the load generator shares the cores with the server
// it measures; the report says how the CPU time was split.
//
// Exit status: 0 when every answer was one the workload can legitimately
// get; 1 when the set-up failed, an unexpected status (any 5xx but 503 BUSY,
// a 400/401/403...) or a broken connection was seen, a WebSocket depth
// sequence broke, or nothing was accepted; 2 on a usage error.
#include <pthread.h>
#include <simdjson.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_sessions.h"
#include "bench/load_stats.h"
#include "client/http_client.h"
#include "server/server.h"

namespace stox::bench {
namespace {

// NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding): read once, grouped by meaning
struct Options {
  std::string server_url;  // empty: start the server in-process
  std::string admin_key;
  std::string sync = "batch";
  int io_threads = 1;
  std::string data_dir;  // empty: a fresh temporary directory, removed afterwards
  int connections = 64;
  int accounts = 64;
  int symbols = 4;
  int ws_subscribers = 0;
  int client_threads = 1;
  double seconds = 10;
  double warmup = 2;
  std::uint64_t seed = 42;
  int max_open = 16;
  int cancel_percent = 25;
  int cross_percent = 20;
};

int parse_options(int argc, char** argv, Options& o) {
  CLI::App app("stox_loadgen: REST order load and WebSocket fan-out against `stox serve`");
  app.add_option("--server", o.server_url, "target a running server (http://host:port) "
                                           "instead of starting one in-process");
  app.add_option("--admin-key", o.admin_key, "admin key of --server (default: $STOX_ADMIN_KEY)");
  app.add_option("--sync", o.sync, "in-process journal sync: batch | none")
      ->check(CLI::IsMember({"batch", "none"}));
  app.add_option("--io-threads", o.io_threads, "in-process server I/O threads")
      ->check(CLI::Range(1, 64));
  app.add_option("--data-dir", o.data_dir, "in-process data directory (default: a temporary one)");
  app.add_option("--connections", o.connections, "closed-loop order connections")
      ->check(CLI::Range(1, 10000));
  app.add_option("--accounts", o.accounts, "accounts (connection i uses account i mod N)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--symbols", o.symbols, "instruments LOAD0..LOADn-1")->check(CLI::Range(1, 100));
  app.add_option("--ws-subscribers", o.ws_subscribers,
                 "WebSocket connections on depth+trades of LOAD0")
      ->check(CLI::Range(0, 20000));
  app.add_option("--client-threads", o.client_threads, "load generator threads")
      ->check(CLI::Range(1, 64));
  app.add_option("--seconds", o.seconds, "measured time")->check(CLI::Range(0.1, 3600.0));
  app.add_option("--warmup", o.warmup, "load before measuring")->check(CLI::Range(0.0, 3600.0));
  app.add_option("--seed", o.seed, "PRNG seed of the order streams");
  app.add_option("--max-open", o.max_open, "resting orders per connection before it cancels")
      ->check(CLI::Range(1, 1000));
  app.add_option("--cancel-percent", o.cancel_percent, "steps that cancel below --max-open")
      ->check(CLI::Range(0, 100));
  app.add_option("--cross-percent", o.cross_percent, "new orders priced through the mid")
      ->check(CLI::Range(0, 100));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (o.server_url.empty()) return -1;
  if (o.admin_key.empty()) {
    const char* env = std::getenv("STOX_ADMIN_KEY");
    if (env == nullptr) {
      std::cerr << "stox_loadgen: --server needs --admin-key or $STOX_ADMIN_KEY\n";
      return 2;
    }
    o.admin_key = env;
  }
  return -1;  // go on
}

// The in-process server and its temporary data directory.
struct LocalServer {
  std::unique_ptr<server::Server> server;
  std::string temp_dir;  // removed on destruction when non-empty

  ~LocalServer() {
    if (server) server->stop();
    server.reset();
    std::error_code ignored;
    if (!temp_dir.empty()) std::filesystem::remove_all(temp_dir, ignored);
  }
};

Status start_local(const Options& o, LocalServer& local) {
  server::ServerConfig c;
  c.port = 0;
  c.sync = o.sync;
  c.io_threads = o.io_threads;
  c.data_dir = o.data_dir;
  if (c.data_dir.empty()) {
    char tmpl[] = "/tmp/stox-loadgen-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return Status::IOError("mkdtemp", errno);
    local.temp_dir = tmpl;
    c.data_dir = local.temp_dir + "/data";
  }
  // Measure the server, not the per-key limiter (the engine's own per-account
  // order rate limit still applies: 1,000/s by default).
  c.rate_limit_per_second = 1e9;
  c.rate_limit_burst = 1e9;
  c.max_connections = static_cast<std::size_t>(o.connections) +
                      static_cast<std::size_t>(o.ws_subscribers) + 64;
  std::ostringstream log;
  auto s = server::Server::start(c, log);
  if (!s.ok()) return Status::IOError(s.status().to_string() + "\n" + log.str());
  local.server = std::move(s.value());
  return Status::OK();
}

// --- set-up through the admin API -------------------------------------------

class Admin {
 public:
  Admin(client::HttpClient& http, std::string key) : http_(http), key_(std::move(key)) {}

  // A duplicate symbol is fine: a rerun against the same --server reuses it.
  Status list(const std::string& symbol) {
    auto r = call("/api/v1/admin/instruments",
                  R"({"symbol":")" + symbol +
                      R"(","tickSize":"0.01","lotSize":"1","referencePrice":"100.00",)"
                      R"("makerFeeBps":0,"takerFeeBps":0})");
    if (!r.ok()) return r.status();
    if (r.value().status == 201 || r.value().status == 409) return Status::OK();
    return failed("list " + symbol, r.value());
  }

  Result<LoadAccount> open_account(int i) {
    auto r = call("/api/v1/admin/accounts", R"({"label":"load-)" + std::to_string(i) + "\"}");
    if (!r.ok()) return r.status();
    if (r.value().status != 201) return failed("open account", r.value());
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::uint64_t id = 0;
    std::string_view key;
    if (parser.parse(r.value().body).get(doc) != simdjson::SUCCESS ||
        doc["accountId"].get(id) != simdjson::SUCCESS ||
        doc["apiKey"].get(key) != simdjson::SUCCESS) {
      return failed("open account (answer)", r.value());
    }
    return LoadAccount{static_cast<AccountId>(id), std::string(key)};
  }

  Status deposit(const LoadAccount& a, const std::string& asset, const std::string& amount) {
    auto r = call("/api/v1/admin/deposits", R"({"accountId":)" + std::to_string(a.id) +
                                                R"(,"asset":")" + asset + R"(","amount":")" +
                                                amount + "\"}");
    if (!r.ok()) return r.status();
    if (r.value().status != 200) return failed("deposit " + asset, r.value());
    return Status::OK();
  }

 private:
  Result<client::ClientResponse> call(std::string_view target, std::string_view body) {
    return http_.request("POST", target, body, key_);
  }
  static Status failed(const std::string& what, const client::ClientResponse& r) {
    return Status::IOError(what + ": HTTP " + std::to_string(r.status) + " " + r.body);
  }

  client::HttpClient& http_;
  std::string key_;
};

// Symbols LOAD0.., and accounts funded far beyond what a run can move:
// 100,000,000 USD and 1,000,000 shares of every symbol each.
Status set_up(const Options& o, client::HttpClient& http, const std::string& admin_key,
              LoadPlan& plan) {
  Admin admin(http, admin_key);
  for (int i = 0; i < o.symbols; ++i) {
    plan.symbols.push_back("LOAD" + std::to_string(i));
    if (Status s = admin.list(plan.symbols.back()); !s.ok()) return s;
  }
  for (int i = 0; i < o.accounts; ++i) {
    auto a = admin.open_account(i);
    if (!a.ok()) return a.status();
    if (Status s = admin.deposit(a.value(), "USD", "100000000"); !s.ok()) return s;
    for (const std::string& symbol : plan.symbols) {
      if (Status s = admin.deposit(a.value(), symbol, "1000000"); !s.ok()) return s;
    }
    plan.accounts.push_back(a.value());
  }
  return Status::OK();
}

// Leaves a shared --server as it was found: no resting orders of ours.
void cancel_everything(client::HttpClient& http, const LoadPlan& plan) {
  for (const LoadAccount& a : plan.accounts) (void)http.request("DELETE", "/api/v1/orders", {}, a.key);
}

// --- the report ---------------------------------------------------------------

struct Window {
  double seconds = 0;
  CpuByThread cpu;  // over the window
};

double per_second(std::uint64_t n, const Window& w) { return static_cast<double>(n) / w.seconds; }

std::string cpu_split(const Window& w) {
  double client = 0;
  double other = 0;
  for (const auto& [name, seconds] : w.cpu) {
    (name.rfind("load-", 0) == 0 ? client : other) += seconds;
  }
  char text[160];
  std::snprintf(text, sizeof text, "cpu (100%% = one core): server %.0f%%, load generator %.0f%%",
                100 * other / w.seconds, 100 * client / w.seconds);
  return text;
}

bool report_orders(const Options& o, OrderResults& r, const Window& w) {
  const LatencySummary l = summarize(r.latency_ns);
  std::printf(
      "server: sync=%s conns=%d io_threads=%d client_threads=%d ws=%d orders/s=%.0f req/s=%.0f "
      "p50=%s p99=%s p99.9=%s max=%s rejects=%llu busy=%llu 5xx=%llu\n",
      o.server_url.empty() ? o.sync.c_str() : "external", o.connections, o.io_threads,
      o.client_threads, o.ws_subscribers, per_second(r.orders, w), per_second(r.requests, w),
      format_duration(l.p50).c_str(), format_duration(l.p99).c_str(),
      format_duration(l.p999).c_str(), format_duration(l.max).c_str(),
      static_cast<unsigned long long>(r.reject_count()), static_cast<unsigned long long>(r.busy),
      static_cast<unsigned long long>(r.server_errors));
  std::printf("  %.1f s measured after %.1f s warm-up: %llu orders (%llu accepted, %llu trades), "
              "%llu cancels (%llu done, %llu already filled)",
              w.seconds, o.warmup, static_cast<unsigned long long>(r.orders),
              static_cast<unsigned long long>(r.accepted), static_cast<unsigned long long>(r.trades),
              static_cast<unsigned long long>(r.cancels),
              static_cast<unsigned long long>(r.cancelled),
              static_cast<unsigned long long>(r.cancel_missed));
  for (const auto& [code, n] : r.rejects) {
    std::printf(", %s %llu", code.c_str(), static_cast<unsigned long long>(n));
  }
  std::printf("\n");
  if (o.server_url.empty()) std::printf("  %s\n", cpu_split(w).c_str());
  for (const std::string& e : r.examples) std::printf("  unexpected: %s\n", e.c_str());
  bool ok = true;
  if (r.unexpected > 0 || r.transport_errors > 0) {
    std::printf("FAIL: %llu unexpected answers (%llu 5xx other than 503 BUSY), %llu broken "
                "connections\n",
                static_cast<unsigned long long>(r.unexpected),
                static_cast<unsigned long long>(r.server_errors),
                static_cast<unsigned long long>(r.transport_errors));
    ok = false;
  }
  if (r.accepted == 0) {
    std::printf("FAIL: no order was accepted in the measured window\n");
    ok = false;
  }
  return ok;
}

bool report_ws(const Options& o, WsResults& r, const Window& w) {
  if (o.ws_subscribers == 0) return true;
  const LatencySummary d = summarize(r.trade_delay_ns);
  std::printf("ws: subscribers=%d msgs/s=%.0f trade_delay_p50=%s p99=%s max=%s trades=%llu "
              "depth_updates=%llu resyncs=%llu gaps=%llu missed_trades=%llu seq_breaks=%llu\n",
              o.ws_subscribers, per_second(r.messages, w), format_duration(d.p50).c_str(),
              format_duration(d.p99).c_str(), format_duration(d.max).c_str(),
              static_cast<unsigned long long>(r.trades),
              static_cast<unsigned long long>(r.depth_updates),
              static_cast<unsigned long long>(r.resyncs), static_cast<unsigned long long>(r.gaps),
              static_cast<unsigned long long>(r.missed_trades),
              static_cast<unsigned long long>(r.sequence_breaks));
  for (const std::string& e : r.examples) std::printf("  ws problem: %s\n", e.c_str());
  if (r.errors > 0 || r.sequence_breaks > 0) {
    std::printf("FAIL: %llu WebSocket errors, %llu depth sequence breaks\n",
                static_cast<unsigned long long>(r.errors),
                static_cast<unsigned long long>(r.sequence_breaks));
    return false;
  }
  return true;
}

// --- the run ------------------------------------------------------------------

std::chrono::duration<double> seconds(double s) { return std::chrono::duration<double>(s); }

int run(const Options& o) {
  LocalServer local;
  std::string url = o.server_url;
  std::string admin_key = o.admin_key;
  if (url.empty()) {
    if (Status s = start_local(o, local); !s.ok()) {
      std::cerr << "stox_loadgen: server: " << s.to_string() << '\n';
      return 1;
    }
    url = local.server->base_url();
    admin_key = local.server->admin_key();
  }
  // Threads take their creator's name: the server's were made above, as
  // "stox_loadgen"; from here on this thread and its children are "load-*".
  pthread_setname_np(pthread_self(), "load-main");

  auto endpoint = client::parse_server_url(url);
  if (!endpoint.ok()) {
    std::cerr << "stox_loadgen: --server: " << endpoint.status().message() << '\n';
    return 2;
  }
  auto http = client::HttpClient::connect(endpoint.value().host, endpoint.value().port);
  if (!http.ok()) {
    std::cerr << "stox_loadgen: " << url << ": " << http.status().to_string() << '\n';
    return 1;
  }
  LoadPlan plan;
  plan.host = endpoint.value().host;
  plan.port = endpoint.value().port;
  plan.client_threads = o.client_threads;
  plan.seed = o.seed;
  plan.connections = o.connections;
  plan.max_open = o.max_open;
  plan.cancel_percent = o.cancel_percent;
  plan.cross_percent = o.cross_percent;
  plan.ws_subscribers = o.ws_subscribers;
  if (Status s = set_up(o, *http.value(), admin_key, plan); !s.ok()) {
    std::cerr << "stox_loadgen: set-up: " << s.to_string() << '\n';
    return 1;
  }
  plan.ws_symbol = plan.symbols.front();

  auto load = Load::start(plan);
  if (!load.ok()) {
    std::cerr << "stox_loadgen: " << load.status().to_string() << '\n';
    return 1;
  }
  std::this_thread::sleep_for(seconds(o.warmup));
  const CpuByThread cpu_before = cpu_by_thread();
  const auto t0 = std::chrono::steady_clock::now();
  load.value()->begin_measuring();
  std::this_thread::sleep_for(seconds(o.seconds));
  Window w;
  w.cpu = cpu_delta(cpu_before, cpu_by_thread());
  w.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  load.value()->stop();
  OrderResults orders = load.value()->order_results();
  WsResults ws = load.value()->ws_results();
  if (!o.server_url.empty()) cancel_everything(*http.value(), plan);

  const bool orders_ok = report_orders(o, orders, w);
  const bool ws_ok = report_ws(o, ws, w);
  std::fflush(stdout);
  return orders_ok && ws_ok ? 0 : 1;
}

}  // namespace
}  // namespace stox::bench

int main(int argc, char** argv) {
  try {
    stox::bench::Options options;
    if (const int done = stox::bench::parse_options(argc, argv, options); done >= 0) return done;
    return stox::bench::run(options);
  } catch (const std::exception& e) {  // out of memory, a thread that cannot start
    std::cerr << "stox_loadgen: " << e.what() << '\n';
    return 1;
  }
}
