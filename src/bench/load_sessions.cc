#include "bench/load_sessions.h"

#include <pthread.h>
#include <simdjson.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "common/decimal.h"
#include "core/testing/exchange_core.h"

namespace stox::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;

// A request or a connect that takes longer than this fails the run: the
// server is hung, not slow.
constexpr auto kIoTimeout = std::chrono::seconds(30);
constexpr auto kSetupTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxExamples = 5;

enum class Phase : int { kWarmup, kMeasure, kStopping };

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The server stamps trades with CLOCK_REALTIME (journal::Env::now_nanos).
std::int64_t wall_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// splitmix64 (core/testing/exchange_core.h): a fixed seed gives the same order stream.
using stox::testing::Rng;

bool percent(Rng& rng, int p) { return rng.below(100) < static_cast<std::uint64_t>(p); }

void add_example(std::vector<std::string>& examples, std::string text) {
  if (examples.size() < kMaxExamples) examples.push_back(std::move(text));
}

// State shared by every thread of one run.
struct Shared {
  std::atomic<Phase> phase{Phase::kWarmup};
  std::mutex mutex;
  std::condition_variable changed;
  int ws_ready = 0;   // guarded by mutex
  int ws_failed = 0;  // guarded by mutex

  bool measuring() const { return phase.load(std::memory_order_relaxed) == Phase::kMeasure; }
  bool stopping() const { return phase.load(std::memory_order_relaxed) == Phase::kStopping; }
  void ws_setup_done(bool ok) {
    {
      std::lock_guard lock(mutex);
      ++(ok ? ws_ready : ws_failed);
    }
    changed.notify_all();
  }
};

// One client thread: its event loop, its JSON parser and its counters.
// Every session on it touches these from this thread only.
struct Worker {
  asio::io_context ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  simdjson::dom::parser parser;
  OrderResults orders;
  WsResults ws;
  std::thread thread;
};

// The value of a string field of a JSON object body, "" if absent or not JSON.
std::string_view string_field(simdjson::dom::parser& parser, const std::string& body,
                              const char* key) {
  simdjson::dom::element doc;
  std::string_view value;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) return {};
  if (doc[key].get(value) != simdjson::SUCCESS) return {};
  return value;
}

// --- REST order connection ------------------------------------------------

class OrderSession : public std::enable_shared_from_this<OrderSession> {
 public:
  OrderSession(Worker& worker, Shared& shared, const LoadPlan& plan, const LoadAccount& account,
               std::uint64_t seed)
      : worker_(worker), shared_(shared), plan_(plan), stream_(worker.ioc), rng_(seed) {
    request_.version(11);
    request_.keep_alive(true);
    request_.set(http::field::host, plan.host + ":" + std::to_string(plan.port));
    request_.set(http::field::authorization, "Bearer " + account.key);
  }

  void start(const tcp::endpoint& endpoint) {
    stream_.expires_after(kIoTimeout);
    stream_.async_connect(endpoint, [self = shared_from_this()](const ErrorCode& ec) {
      if (ec) return self->fail("connect", ec);
      self->send_next();
    });
  }

 private:
  enum class Kind : std::uint8_t { kOrder, kCancel };

  void send_next() {
    if (shared_.stopping()) return close();
    const bool cancel = !open_.empty() && (open_.size() >= static_cast<std::size_t>(plan_.max_open) ||
                                           percent(rng_, plan_.cancel_percent));
    if (cancel) {
      prepare_cancel();
    } else {
      prepare_order();
    }
    sent_ns_ = steady_ns();
    stream_.expires_after(kIoTimeout);
    http::async_write(stream_, request_,
                      [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
                        if (ec) return self->fail("write", ec);
                        self->read_response();
                      });
  }

  void read_response() {
    response_ = {};
    http::async_read(stream_, buffer_, response_,
                     [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
                       if (ec) return self->fail("read", ec);
                       self->on_response(steady_ns() - self->sent_ns_);
                       self->send_next();
                     });
  }

  // A new LIMIT order: a random symbol and side; passive (1..20 ticks from
  // the mid, on its own side) or, for cross_percent of them, 0..4 ticks
  // through the mid so that it trades with the other side's passive orders.
  // Prices stay within 0.2 % of the mid: far inside the collar and breaker.
  void prepare_order() {
    kind_ = Kind::kOrder;
    const std::string& symbol = plan_.symbols[rng_.next() % plan_.symbols.size()];
    const bool buy = percent(rng_, 50);
    const bool cross = percent(rng_, plan_.cross_percent);
    const std::int64_t offset = cross ? -rng_.between(0, 4) : rng_.between(1, 20);
    const std::int64_t price = plan_.mid_ticks + (buy ? -offset : offset);
    const std::int64_t quantity = rng_.between(1, 10);
    request_.method(http::verb::post);
    request_.target("/api/v1/orders");
    request_.set(http::field::content_type, "application/json");
    request_.body() = R"({"symbol":")" + symbol + R"(","side":")" + (buy ? "BUY" : "SELL") +
                      R"(","type":"LIMIT","timeInForce":"GTC","quantity":")" +
                      std::to_string(quantity) + R"(","price":")" + format_decimal(price, 2) +
                      "\"}";
    request_.prepare_payload();
  }

  // Cancels one of its own resting orders, chosen at random.
  void prepare_cancel() {
    kind_ = Kind::kCancel;
    const std::size_t i = rng_.next() % open_.size();
    const OrderId id = open_[i];
    open_[i] = open_.back();
    open_.pop_back();
    request_.method(http::verb::delete_);
    request_.target("/api/v1/orders/" + std::to_string(id));
    request_.erase(http::field::content_type);
    request_.body().clear();
    request_.prepare_payload();
  }

  void on_response(std::int64_t latency_ns) {
    OrderResults& r = worker_.orders;
    const bool measuring = shared_.measuring();
    if (measuring) {
      r.latency_ns.push_back(latency_ns);
      ++r.requests;
      ++(kind_ == Kind::kOrder ? r.orders : r.cancels);
    }
    const auto status = static_cast<int>(response_.result_int());
    if (kind_ == Kind::kOrder && status == 201) return on_accepted(measuring);
    if (kind_ == Kind::kCancel && status == 200) {
      if (measuring) ++r.cancelled;
      return;
    }
    const std::string_view code = string_field(worker_.parser, response_.body(), "code");
    if (kind_ == Kind::kCancel && status == 404 && code == "UNKNOWN_ORDER") {
      if (measuring) ++r.cancel_missed;  // it was filled while the cancel was on its way
      return;
    }
    if (status == 503 && code == "BUSY") {
      if (measuring) ++r.busy;
      return;
    }
    // Engine rejects (422: funds, collar, open orders...) and rate limits (429).
    if ((status == 422 || status == 429) && !code.empty()) {
      if (measuring) ++r.rejects[std::string(code)];
      return;
    }
    unexpected(status);
  }

  void on_accepted(bool measuring) {
    simdjson::dom::element order;
    std::uint64_t id = 0;
    std::string_view status;
    simdjson::dom::array fills;
    if (worker_.parser.parse(response_.body()).get(order) != simdjson::SUCCESS ||
        order["orderId"].get(id) != simdjson::SUCCESS ||
        order["status"].get(status) != simdjson::SUCCESS ||
        order["fills"].get(fills) != simdjson::SUCCESS) {
      return unexpected(201);
    }
    if (status == "NEW" || status == "PARTIALLY_FILLED") open_.push_back(id);
    if (measuring) {
      ++worker_.orders.accepted;
      worker_.orders.trades += fills.size();
    }
  }

  void unexpected(int status) {
    OrderResults& r = worker_.orders;
    ++r.unexpected;
    if (status >= 500) ++r.server_errors;
    add_example(r.examples, std::string(request_.method_string()) + " " +
                                std::string(request_.target()) + " -> " + std::to_string(status) +
                                " " + response_.body());
  }

  void fail(const char* what, const ErrorCode& ec) {
    if (shared_.stopping() && ec == asio::error::operation_aborted) return;
    ++worker_.orders.transport_errors;
    add_example(worker_.orders.examples, std::string(what) + ": " + ec.message());
    close();
  }

  void close() {
    ErrorCode ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  Worker& worker_;
  Shared& shared_;
  const LoadPlan& plan_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  Rng rng_;
  std::vector<OrderId> open_;  // its orders last seen resting
  Kind kind_ = Kind::kOrder;
  std::int64_t sent_ns_ = 0;
};

// --- WebSocket subscriber -------------------------------------------------

class WsSubscriber : public std::enable_shared_from_this<WsSubscriber> {
 public:
  WsSubscriber(Worker& worker, Shared& shared, const LoadPlan& plan)
      : worker_(worker), shared_(shared), plan_(plan), ws_(worker.ioc) {
    outbox_ = {R"({"action":"subscribe","channel":"depth","symbols":[")" + plan.ws_symbol + "\"]}",
               R"({"action":"subscribe","channel":"trades","symbols":[")" + plan.ws_symbol +
                   "\"]}"};
  }

  void start(const tcp::endpoint& endpoint) {
    beast::get_lowest_layer(ws_).expires_after(kIoTimeout);
    beast::get_lowest_layer(ws_).async_connect(
        endpoint, [self = shared_from_this()](const ErrorCode& ec) {
          if (ec) return self->fail("connect", ec);
          self->handshake();
        });
  }

  // From any thread: closes the socket on this session's thread; the read
  // in flight then ends with an error that stop() expects.
  void close() {
    asio::post(worker_.ioc, [self = shared_from_this()] {
      ErrorCode ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

 private:
  void handshake() {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_.async_handshake(plan_.host + ":" + std::to_string(plan_.port), "/ws",
                        [self = shared_from_this()](const ErrorCode& ec) {
                          if (ec) return self->fail("handshake", ec);
                          self->send_subscriptions(0);
                          self->read();
                        });
  }

  // One write in flight at a time (a websocket::stream rule).
  void send_subscriptions(std::size_t i) {
    if (i == outbox_.size()) return;
    ws_.async_write(asio::buffer(outbox_[i]),
                    [self = shared_from_this(), i](const ErrorCode& ec, std::size_t) {
                      if (ec) return self->fail("subscribe", ec);
                      self->send_subscriptions(i + 1);
                    });
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
      if (ec) return self->fail("read", ec);
      const std::int64_t received = wall_ns();
      self->on_message(beast::buffers_to_string(self->buffer_.data()), received);
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void on_message(const std::string& text, std::int64_t received_ns) {
    WsResults& r = worker_.ws;
    simdjson::dom::element m;
    std::string_view type;
    if (worker_.parser.parse(text).get(m) != simdjson::SUCCESS ||
        m["type"].get(type) != simdjson::SUCCESS) {
      return error("malformed: " + text);
    }
    std::string_view channel;  // absent on "subscribed" to orders and on errors
    if (m["channel"].get(channel) != simdjson::SUCCESS) channel = {};
    if (type == "subscribed") {
      (channel == "depth" ? depth_subscribed_ : trades_subscribed_) = true;
      return check_ready();
    }
    if (type == "error") {
      error(text);
      return setup_failed();
    }
    const bool measuring = shared_.measuring();
    if (measuring) ++r.messages;
    std::uint64_t sequence = 0;
    std::int64_t time = 0;
    std::uint64_t missed = 0;
    if (channel == "depth" && type == "snapshot" &&
        m["data"]["sequence"].get(sequence) == simdjson::SUCCESS) {
      return on_snapshot(sequence, measuring);
    }
    // Updates and trades come as arrays: the changes of one engine batch.
    simdjson::dom::array items;
    if (channel == "depth" && type == "update" && m["data"].get(items) == simdjson::SUCCESS) {
      for (simdjson::dom::element u : items) {
        if (u["sequence"].get(sequence) != simdjson::SUCCESS) return error("no sequence: " + text);
        on_depth_update(sequence, measuring);
      }
      return;
    }
    if (channel == "trades" && type == "trade" && m["data"].get(items) == simdjson::SUCCESS) {
      for (simdjson::dom::element t : items) {
        if (t["time"].get(time) != simdjson::SUCCESS) return error("no time: " + text);
        if (measuring) {
          ++r.trades;
          r.trade_delay_ns.push_back(received_ns - time);
        }
      }
      return;
    }
    if (channel == "trades" && type == "gap" && m["missed"].get(missed) == simdjson::SUCCESS) {
      if (measuring) {
        ++r.gaps;
        r.missed_trades += missed;
      }
      return;
    }
    error("unknown message: " + text);
  }

  // The first snapshot completes the subscription; a later one is the
  // server's resync after it dropped depth updates for this slow consumer.
  void on_snapshot(std::uint64_t sequence, bool measuring) {
    if (have_snapshot_ && measuring) ++worker_.ws.resyncs;
    next_sequence_ = sequence + 1;
    have_snapshot_ = true;
    check_ready();
  }

  void on_depth_update(std::uint64_t sequence, bool measuring) {
    if (measuring) ++worker_.ws.depth_updates;
    if (!have_snapshot_ || sequence != next_sequence_) {
      ++worker_.ws.sequence_breaks;
      add_example(worker_.ws.examples, "depth update " + std::to_string(sequence) + ", expected " +
                                           std::to_string(next_sequence_));
    }
    next_sequence_ = sequence + 1;
  }

  void check_ready() {
    if (ready_ || !depth_subscribed_ || !trades_subscribed_ || !have_snapshot_) return;
    ready_ = true;
    shared_.ws_setup_done(true);
  }

  void error(std::string text) {
    ++worker_.ws.errors;
    add_example(worker_.ws.examples, std::move(text));
  }

  void fail(const char* what, const ErrorCode& ec) {
    if (shared_.stopping()) return;
    error(std::string(what) + ": " + ec.message());
    setup_failed();
  }

  // A subscriber that fails before it is ready fails the set-up (once).
  void setup_failed() {
    if (ready_) return;
    ready_ = true;
    shared_.ws_setup_done(false);
  }

  Worker& worker_;
  Shared& shared_;
  const LoadPlan& plan_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::vector<std::string> outbox_;
  bool depth_subscribed_ = false;
  bool trades_subscribed_ = false;
  bool have_snapshot_ = false;
  bool ready_ = false;
  std::uint64_t next_sequence_ = 0;
};

template <class T>
void merge_map(std::map<std::string, T>& into, const std::map<std::string, T>& from) {
  for (const auto& [k, v] : from) into[k] += v;
}

void append(std::vector<std::string>& into, const std::vector<std::string>& from) {
  for (const std::string& s : from) add_example(into, s);
}

}  // namespace

std::uint64_t OrderResults::reject_count() const {
  std::uint64_t n = 0;
  for (const auto& [code, count] : rejects) n += count;
  return n;
}

struct Load::Impl {
  LoadPlan plan;
  Shared shared;
  tcp::endpoint endpoint;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::shared_ptr<WsSubscriber>> subscribers;
  bool stopped = false;

  Worker& worker_for(std::size_t i) { return *workers[i % workers.size()]; }

  void start_threads() {
    for (int i = 0; i < plan.client_threads; ++i) {
      auto w = std::make_unique<Worker>();
      w->guard.emplace(w->ioc.get_executor());
      w->orders.latency_ns.reserve(std::size_t{1} << 20);
      Worker* raw = w.get();
      w->thread = std::thread([raw] { raw->ioc.run(); });
      const std::string name = "load-client-" + std::to_string(i);
      pthread_setname_np(w->thread.native_handle(), name.c_str());
      workers.push_back(std::move(w));
    }
  }

  // Waits until every subscriber has its snapshot (or one failed).
  Status subscribe_all() {
    for (int i = 0; i < plan.ws_subscribers; ++i) {
      auto s = std::make_shared<WsSubscriber>(worker_for(static_cast<std::size_t>(i)), shared, plan);
      subscribers.push_back(s);
      asio::post(worker_for(static_cast<std::size_t>(i)).ioc, [s, this] { s->start(endpoint); });
    }
    std::unique_lock lock(shared.mutex);
    const bool done = shared.changed.wait_for(lock, kSetupTimeout, [this] {
      return shared.ws_failed > 0 || shared.ws_ready == plan.ws_subscribers;
    });
    if (done && shared.ws_failed == 0) return Status::OK();
    return Status::IOError(std::to_string(shared.ws_ready) + " of " +
                           std::to_string(plan.ws_subscribers) +
                           " WebSocket subscribers ready (" + std::to_string(shared.ws_failed) +
                           " failed) after the set-up timeout");
  }

  void start_orders() {
    for (int i = 0; i < plan.connections; ++i) {
      const auto n = static_cast<std::size_t>(i);
      Worker& w = worker_for(n);
      auto s = std::make_shared<OrderSession>(w, shared, plan, plan.accounts[n % plan.accounts.size()],
                                              plan.seed * 1000003 + n);
      asio::post(w.ioc, [s, this] { s->start(endpoint); });
    }
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    shared.phase.store(Phase::kStopping);
    for (auto& s : subscribers) s->close();
    for (auto& w : workers) w->guard.reset();
    for (auto& w : workers) w->thread.join();
  }
};

Result<std::unique_ptr<Load>> Load::start(const LoadPlan& plan) {
  if (plan.accounts.empty() || plan.symbols.empty() || plan.connections < 0 ||
      plan.client_threads < 1 || plan.max_open < 1) {
    return Status::InvalidArgument("load plan: needs accounts, symbols and at least one thread");
  }
  auto impl = std::make_unique<Impl>();
  impl->plan = plan;
  ErrorCode ec;
  const auto address = asio::ip::make_address(plan.host, ec);
  if (ec) return Status::InvalidArgument("host must be an IP address: " + plan.host);
  impl->endpoint = tcp::endpoint(address, plan.port);
  impl->start_threads();
  std::unique_ptr<Load> load(new Load(std::move(impl)));
  if (Status s = load->impl_->subscribe_all(); !s.ok()) {
    load->stop();
    const WsResults ws = load->ws_results();
    return Status::IOError(s.message() + (ws.examples.empty() ? "" : ": " + ws.examples.front()));
  }
  load->impl_->start_orders();
  return load;
}

Load::Load(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Load::~Load() {
  try {
    stop();
  } catch (...) {  // a join that fails while destroying has nowhere to go
  }
}

void Load::begin_measuring() { impl_->shared.phase.store(Phase::kMeasure); }

void Load::stop() { impl_->stop(); }

OrderResults Load::order_results() const {
  OrderResults out;
  for (const auto& w : impl_->workers) {
    const OrderResults& r = w->orders;
    out.requests += r.requests;
    out.orders += r.orders;
    out.cancels += r.cancels;
    out.accepted += r.accepted;
    out.cancelled += r.cancelled;
    out.trades += r.trades;
    out.cancel_missed += r.cancel_missed;
    merge_map(out.rejects, r.rejects);
    out.busy += r.busy;
    out.server_errors += r.server_errors;
    out.unexpected += r.unexpected;
    out.transport_errors += r.transport_errors;
    append(out.examples, r.examples);
    out.latency_ns.insert(out.latency_ns.end(), r.latency_ns.begin(), r.latency_ns.end());
  }
  return out;
}

WsResults Load::ws_results() const {
  WsResults out;
  for (const auto& w : impl_->workers) {
    const WsResults& r = w->ws;
    out.messages += r.messages;
    out.trades += r.trades;
    out.depth_updates += r.depth_updates;
    out.resyncs += r.resyncs;
    out.gaps += r.gaps;
    out.missed_trades += r.missed_trades;
    out.sequence_breaks += r.sequence_breaks;
    out.errors += r.errors;
    append(out.examples, r.examples);
    out.trade_delay_ns.insert(out.trade_delay_ns.end(), r.trade_delay_ns.begin(),
                              r.trade_delay_ns.end());
  }
  return out;
}

}  // namespace stox::bench
