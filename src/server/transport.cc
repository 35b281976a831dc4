// The transport: Beast HTTP/1.1 and WebSocket sessions (see transport.h).
//
// Ownership. Transport::Impl owns the io_context, the listener and a registry
// of live sessions (strong references). A session leaves the registry when its
// socket is closed and nothing of it is pending; pending handlers keep it alive
// until they have run. Code outside the I/O threads (Responders, WsSinks) holds
// only weak references and posts through a Gate, which stop() closes before
// the io_context is destroyed: a Responder or WsSink kept past stop() never
// touches a dead io_context.
//
// Timeouts. HTTP sessions use one deadline timer per session rather than
// tcp_stream's expiry, because tcp_stream closes the socket when it expires
// and a request timeout deserves a 408 first. WebSocket sessions use Beast's
// own websocket timeouts (handshake, idle with keep-alive pings).
//
// Closing after an error response. Closing a socket with unread bytes in its
// receive buffer sends a RST, and the client may then lose the response it
// has not read yet (a 413 while it is still uploading, a 503 before it sent
// its request). So after such a response the session shuts down its sending
// side and drains what the client still sends, for a bounded time, before it
// closes ("lingering close").
#include <pthread.h>

#include "server/transport.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace stox::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using beast::error_code;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kMaxLinger{2000};
constexpr std::chrono::milliseconds kAcceptRetry{50};

struct Counters {
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> ws_open{0};
  std::atomic<std::uint64_t> ws_closed_slow{0};
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> oversize{0};
};

// Lets other threads post work onto the I/O threads only while the transport
// runs. Thread-safe.
class Gate {
 public:
  // Runs `post_fn` (which posts onto an executor) unless the gate is closed.
  template <typename F>
  void run(F&& post_fn) {
    const std::lock_guard lock(mu_);
    if (open_) std::forward<F>(post_fn)();
  }
  void close() {
    const std::lock_guard lock(mu_);
    open_ = false;
  }

 private:
  std::mutex mu_;
  bool open_ = true;
};

class Session {
 public:
  virtual ~Session() = default;
  // Closes the connection soon, from any thread.
  virtual void shutdown() = 0;
};

// State shared by the listener and every session. Outlives the io_context.
struct Shared {
  Shared(TransportOptions o, HttpHandler& h, WsHandler& w)
      : options(std::move(o)), http(h), ws(w), gate(std::make_shared<Gate>()) {}

  // False when the transport is stopping: the caller closes the session.
  bool add(const std::shared_ptr<Session>& session) {
    const std::lock_guard lock(mu);
    if (stopping) return false;
    live.emplace(session.get(), session);
    return true;
  }
  void remove(Session* session) {
    std::shared_ptr<Session> last;  // released outside the lock
    const std::lock_guard lock(mu);
    auto it = live.find(session);
    if (it == live.end()) return;
    last = std::move(it->second);
    live.erase(it);
  }

  const TransportOptions options;
  HttpHandler& http;
  WsHandler& ws;
  Counters counters;
  std::shared_ptr<Gate> gate;
  std::atomic<std::uint64_t> next_ws_id{1};

  std::mutex mu;
  bool stopping = false;                                          // guarded by mu
  std::unordered_map<Session*, std::shared_ptr<Session>> live;  // guarded by mu
};

// One open connection counted in connections_open; moves from the HTTP
// session to the WebSocket session on upgrade.
class Slot {
 public:
  explicit Slot(Counters* c) : c_(c) {
    if (c_) c_->connections_open.fetch_add(1, std::memory_order_relaxed);
  }
  ~Slot() {
    if (c_) c_->connections_open.fetch_sub(1, std::memory_order_relaxed);
  }
  Slot(Slot&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Slot& operator=(Slot&&) = delete;
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  Counters* c_;
};

HttpResponse error_response(int status, std::string_view code, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body.append(R"({"code":")").append(code).append(R"(","message":")").append(message).append("\"}");
  return r;
}

std::string remote_of(const tcp::socket& socket) {
  error_code ec;
  const tcp::endpoint ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

// ---------------------------------------------------------------------------
// WebSocket

class WsSession;

// What the session should do after its current write.
struct CloseRequest {
  websocket::close_code code = websocket::close_code::policy_error;
  std::string reason;
  bool slow_consumer = false;
};

// The WsSink handed to the WsHandler. Owns the outgoing queue; the session
// takes messages from it on its strand. Holds only weak references to the
// session, so the handler may keep it past the connection and the transport.
class WsSinkImpl final : public WsSink {
 public:
  WsSinkImpl(std::shared_ptr<Gate> gate, std::uint64_t id, std::size_t soft, std::size_t hard)
      : gate_(std::move(gate)), id_(id), soft_(soft), hard_(hard) {}

  SendResult send(std::shared_ptr<const std::string> text, MessageClass cls) override;
  void close(std::string reason) override;
  bool closed() const override {
    const std::lock_guard lock(mu_);
    return closed_;
  }
  std::size_t buffered_bytes() const override {
    const std::lock_guard lock(mu_);
    return buffered_;
  }
  std::uint64_t id() const override { return id_; }

  // Session side (its strand).
  void attach(const std::shared_ptr<WsSession>& session);
  void pumped() {
    const std::lock_guard lock(mu_);
    pump_posted_ = false;
  }
  // The next message to write (it stays in buffered_bytes() until written()),
  // else a close request once, else neither.
  std::shared_ptr<const std::string> take_next(std::optional<CloseRequest>* close);
  void written(std::size_t bytes) {
    const std::lock_guard lock(mu_);
    buffered_ -= bytes;
  }
  // The connection has ended: later sends return kClosed, the queue is dropped.
  void mark_closed() {
    const std::lock_guard lock(mu_);
    closed_ = true;
    drop_queue_locked();
  }

 private:
  // Claims the right to post the session's pump(); the caller posts it with
  // post_pump() after unlocking mu_ (a session may be destroyed by the
  // post, and its destructor takes mu_).
  std::weak_ptr<WsSession> claim_pump_locked();
  void post_pump(const std::weak_ptr<WsSession>& session);
  void drop_queue_locked() {
    for (const auto& m : queue_) buffered_ -= m->size();
    queue_.clear();
  }

  const std::shared_ptr<Gate> gate_;
  const std::uint64_t id_;
  const std::size_t soft_;
  const std::size_t hard_;

  mutable std::mutex mu_;
  std::weak_ptr<WsSession> session_;                   // guarded by mu_
  std::deque<std::shared_ptr<const std::string>> queue_;  // guarded by mu_
  std::size_t buffered_ = 0;                           // guarded by mu_
  bool closed_ = false;                                // guarded by mu_
  std::optional<CloseRequest> close_;                  // guarded by mu_; not yet taken
  bool pump_posted_ = false;                           // guarded by mu_
};

class WsSession final : public Session, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(beast::tcp_stream stream, Shared& shared, Slot slot,
            std::shared_ptr<WsSinkImpl> sink, std::unique_ptr<WsConnection> connection,
            http::request<http::string_body> upgrade)
      : ws_(std::move(stream)),
        shared_(shared),
        slot_(std::move(slot)),
        sink_(std::move(sink)),
        connection_(std::move(connection)),
        upgrade_(std::move(upgrade)) {}

  ~WsSession() override { finish(); }  // on_close even if a handler never ran

  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  asio::any_io_executor executor() { return ws_.get_executor(); }

  // On the session's strand.
  void start();
  void pump();
  void shutdown() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->teardown();
      self->finish();
      self->maybe_done();
    });
  }

 private:
  void on_accept(const error_code& ec);
  void read();
  void on_read(const error_code& ec);
  void write_next();
  void start_close(const CloseRequest& request);
  void close_now(const CloseRequest& request);
  void teardown() {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }
  // The reading side is over: on_close, exactly once.
  void finish() {
    if (finished_) return;
    finished_ = true;
    sink_->mark_closed();
    if (open_) shared_.counters.ws_open.fetch_sub(1, std::memory_order_relaxed);
    connection_->on_close();
  }
  void maybe_done() {
    if (reading_ || writing_ || closing_) return;
    teardown();
    shared_.remove(this);
  }

  websocket::stream<beast::tcp_stream> ws_;
  Shared& shared_;
  Slot slot_;
  std::shared_ptr<WsSinkImpl> sink_;
  std::unique_ptr<WsConnection> connection_;
  http::request<http::string_body> upgrade_;
  beast::flat_buffer buffer_;
  std::shared_ptr<const std::string> in_flight_;
  bool open_ = false;      // handshake done
  bool reading_ = false;   // an operation of each kind is pending
  bool writing_ = false;
  bool closing_ = false;
  bool close_started_ = false;
  std::optional<CloseRequest> deferred_close_;  // after the write in flight
  bool finished_ = false;  // on_close called
};

SendResult WsSinkImpl::send(std::shared_ptr<const std::string> text, MessageClass cls) {
  if (!text) return SendResult::kDropped;
  SendResult result = SendResult::kQueued;
  std::weak_ptr<WsSession> pump;
  {
    const std::lock_guard lock(mu_);
    if (closed_) return SendResult::kClosed;
    const std::size_t after = buffered_ + text->size();
    // An empty buffer always takes one message, however large: a big
    // snapshot must be sendable to an idle connection.
    if (buffered_ > 0 && cls == MessageClass::kMarketData && after > soft_) return SendResult::kDropped;
    if (buffered_ > 0 && cls == MessageClass::kPrivate && after > hard_) {
      closed_ = true;
      drop_queue_locked();
      close_ = CloseRequest{websocket::close_code::policy_error, "slow consumer", true};
      result = SendResult::kClosed;
    } else {
      buffered_ = after;
      queue_.push_back(std::move(text));
    }
    pump = claim_pump_locked();
  }
  post_pump(pump);
  return result;
}

void WsSinkImpl::close(std::string reason) {
  std::weak_ptr<WsSession> pump;
  {
    const std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    close_ = CloseRequest{websocket::close_code::policy_error, std::move(reason), false};
    pump = claim_pump_locked();
  }
  post_pump(pump);
}

void WsSinkImpl::attach(const std::shared_ptr<WsSession>& session) {
  std::weak_ptr<WsSession> pump;
  {
    const std::lock_guard lock(mu_);
    session_ = session;
    if (!queue_.empty() || close_) pump = claim_pump_locked();
  }
  post_pump(pump);
}

std::shared_ptr<const std::string> WsSinkImpl::take_next(std::optional<CloseRequest>* close) {
  const std::lock_guard lock(mu_);
  if (!queue_.empty()) {
    auto next = std::move(queue_.front());
    queue_.pop_front();
    return next;
  }
  *close = std::exchange(close_, std::nullopt);
  return nullptr;
}

std::weak_ptr<WsSession> WsSinkImpl::claim_pump_locked() {
  // Not attached yet: attach() pumps.
  if (pump_posted_ || session_.expired()) return {};
  pump_posted_ = true;
  return session_;
}

void WsSinkImpl::post_pump(const std::weak_ptr<WsSession>& session) {
  // The session is locked and released under the gate: stop() cannot
  // destroy the io_context while it is held here.
  gate_->run([&] {
    if (auto s = session.lock()) asio::post(s->executor(), [s] { s->pump(); });
  });
}

void WsSession::start() {
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = shared_.options.request_timeout;
  timeout.idle_timeout = std::min<Clock::duration>(shared_.options.idle_timeout,
                                                   2 * shared_.options.ws_ping_interval);
  timeout.keep_alive_pings = true;
  beast::get_lowest_layer(ws_).expires_never();  // the websocket has its own timeouts
  ws_.set_option(timeout);
  ws_.read_message_max(shared_.options.max_ws_message_bytes);
  ws_.text(true);
  reading_ = true;  // the handshake reads
  ws_.async_accept(upgrade_, [self = shared_from_this()](const error_code& ec) { self->on_accept(ec); });
}

void WsSession::on_accept(const error_code& ec) {
  reading_ = false;
  if (ec || finished_) {
    teardown();
    finish();
    maybe_done();
    return;
  }
  open_ = true;
  shared_.counters.ws_open.fetch_add(1, std::memory_order_relaxed);
  sink_->attach(shared_from_this());
  read();
  write_next();
}

void WsSession::read() {
  reading_ = true;
  ws_.async_read(buffer_, [self = shared_from_this()](const error_code& ec, std::size_t) {
    self->on_read(ec);
  });
}

void WsSession::on_read(const error_code& ec) {
  reading_ = false;
  if (ec || finished_) {
    if (ec == websocket::error::message_too_big) {
      shared_.counters.oversize.fetch_add(1, std::memory_order_relaxed);
    } else if (ec == beast::error::timeout) {
      shared_.counters.timeouts.fetch_add(1, std::memory_order_relaxed);
    }
    finish();
    maybe_done();
    return;
  }
  if (!ws_.got_text()) {
    finish();
    start_close({websocket::close_code::unknown_data, "binary messages are not supported", false});
    return;
  }
  const auto data = buffer_.cdata();
  connection_->on_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
  buffer_.clear();
  read();
}

void WsSession::pump() {
  sink_->pumped();
  if (open_ && !writing_ && !close_started_) write_next();
}

void WsSession::write_next() {
  std::optional<CloseRequest> close;
  in_flight_ = sink_->take_next(&close);
  if (!in_flight_) {
    if (close) start_close(*close);
    return;
  }
  writing_ = true;
  ws_.async_write(asio::buffer(*in_flight_), [self = shared_from_this()](const error_code& ec,
                                                                         std::size_t) {
    self->writing_ = false;
    self->sink_->written(self->in_flight_->size());
    self->in_flight_.reset();
    if (ec) {
      self->teardown();
      self->finish();
      self->maybe_done();
      return;
    }
    if (self->deferred_close_) {
      self->close_now(*std::exchange(self->deferred_close_, std::nullopt));
    } else if (!self->close_started_) {
      self->write_next();
    }
    self->maybe_done();
  });
}

void WsSession::start_close(const CloseRequest& request) {
  if (close_started_) return;
  close_started_ = true;
  if (request.slow_consumer) shared_.counters.ws_closed_slow.fetch_add(1, std::memory_order_relaxed);
  if (writing_) {
    deferred_close_ = request;
    return;
  }
  close_now(request);
}

void WsSession::close_now(const CloseRequest& request) {
  closing_ = true;
  ws_.async_close(websocket::close_reason(request.code, request.reason),
                  [self = shared_from_this()](const error_code&) {
                    self->closing_ = false;
                    self->teardown();
                    self->finish();
                    self->maybe_done();
                  });
}

// ---------------------------------------------------------------------------
// HTTP

class HttpSession final : public Session, public std::enable_shared_from_this<HttpSession> {
 public:
  // refuse: answer 503 TOO_MANY_CONNECTIONS at once and close.
  HttpSession(tcp::socket socket, Shared& shared, bool refuse)
      : remote_(remote_of(socket)),
        stream_(std::move(socket)),
        deadline_(stream_.get_executor()),
        shared_(shared),
        slot_(refuse ? nullptr : &shared.counters),
        refuse_(refuse) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->begin(); });
  }
  void shutdown() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }
  // From a Responder, on the strand.
  void deliver(HttpResponse response) {
    if (closed_ || !awaiting_response_) return;
    awaiting_response_ = false;
    send(std::move(response), !keep_alive_);
  }

 private:
  enum class Phase : std::uint8_t { kWaiting, kReading, kWriting, kLingering };

  void begin() {
    if (closed_) return;
    if (refuse_) {
      send(error_response(503, "TOO_MANY_CONNECTIONS", "too many open connections"), true);
      return;
    }
    wait_for_request(shared_.options.request_timeout);
  }
  void wait_for_request(std::chrono::milliseconds timeout);
  void read_request();
  void on_read(const error_code& ec);
  void dispatch_request();
  void upgrade(const HttpRequest& request);
  Responder make_responder();
  void send(HttpResponse response, bool close_after);
  void linger();
  void close() {
    if (closed_) return;
    closed_ = true;
    disarm();
    error_code ignored;
    stream_.socket().close(ignored);
    shared_.remove(this);
  }
  void arm(std::chrono::milliseconds timeout, Phase phase);
  void disarm() {
    ++deadline_generation_;
    deadline_.cancel();
  }
  void on_deadline();

  const std::string remote_;
  beast::tcp_stream stream_;
  asio::steady_timer deadline_;
  Shared& shared_;
  Slot slot_;
  const bool refuse_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::array<char, 4096> drain_{};
  std::uint64_t deadline_generation_ = 0;
  Phase phase_ = Phase::kWaiting;
  bool timed_out_ = false;
  bool keep_alive_ = false;
  bool awaiting_response_ = false;
  bool closed_ = false;
};

void HttpSession::arm(std::chrono::milliseconds timeout, Phase phase) {
  phase_ = phase;
  const std::uint64_t generation = ++deadline_generation_;
  deadline_.expires_after(timeout);
  deadline_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
    if (!ec && generation == self->deadline_generation_ && !self->closed_) self->on_deadline();
  });
}

void HttpSession::on_deadline() {
  if (phase_ == Phase::kReading) {
    // The read handler answers 408: cancelling makes it complete now.
    shared_.counters.timeouts.fetch_add(1, std::memory_order_relaxed);
    timed_out_ = true;
    error_code ignored;
    stream_.socket().cancel(ignored);
    return;
  }
  if (phase_ != Phase::kLingering) shared_.counters.timeouts.fetch_add(1, std::memory_order_relaxed);
  close();
}

// Waits for the first bytes of the next request within `timeout` (idle
// keep-alive connections end here), then reads it within request_timeout.
void HttpSession::wait_for_request(std::chrono::milliseconds timeout) {
  if (buffer_.size() > 0) {  // pipelined bytes already read
    read_request();
    return;
  }
  arm(timeout, Phase::kWaiting);
  stream_.async_read_some(buffer_.prepare(shared_.options.max_header_bytes),
                          [self = shared_from_this()](const error_code& ec, std::size_t n) {
                            self->disarm();
                            if (self->closed_) return;
                            if (ec) {
                              self->close();
                              return;
                            }
                            self->buffer_.commit(n);
                            self->read_request();
                          });
}

void HttpSession::read_request() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(shared_.options.max_header_bytes, UINT32_MAX)));
  parser_->body_limit(shared_.options.max_body_bytes);
  timed_out_ = false;
  arm(shared_.options.request_timeout, Phase::kReading);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_read(ec); });
}

void HttpSession::on_read(const error_code& ec) {
  disarm();
  if (closed_) return;
  if (timed_out_ && ec) {
    send(error_response(408, "REQUEST_TIMEOUT", "the request did not arrive in time"), true);
    return;
  }
  const bool cut_short = ec == http::error::end_of_stream || ec == http::error::partial_message;
  if (ec == http::error::header_limit) {
    shared_.counters.oversize.fetch_add(1, std::memory_order_relaxed);
    send(error_response(431, "HEADERS_TOO_LARGE", "request headers are too large"), true);
  } else if (ec == http::error::body_limit) {
    shared_.counters.oversize.fetch_add(1, std::memory_order_relaxed);
    send(error_response(413, "PAYLOAD_TOO_LARGE", "request body is too large"), true);
  } else if (ec && !cut_short && is_parse_error(ec)) {
    send(error_response(400, "BAD_REQUEST", "malformed HTTP request"), true);
  } else if (ec) {
    close();
  } else {
    shared_.counters.requests.fetch_add(1, std::memory_order_relaxed);
    dispatch_request();
  }
}

void HttpSession::dispatch_request() {
  const auto& req = parser_->get();
  keep_alive_ = req.keep_alive();
  HttpRequest request;
  request.method = std::string(req.method_string());
  const std::string_view target = req.target();
  const std::size_t q = target.find('?');
  request.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
  request.authorization = std::string(req[http::field::authorization]);
  request.remote = remote_;
  if (request.path == "/ws" && websocket::is_upgrade(req)) {
    upgrade(request);
    return;
  }
  request.body = std::move(parser_->get().body());
  awaiting_response_ = true;
  shared_.http.handle(std::move(request), make_responder());
}

// Calls deliver() on the session's strand, once. A responder dropped without
// being called answers 500, so a handler bug cannot hang a connection.
Responder HttpSession::make_responder() {
  struct State {
    std::shared_ptr<Gate> gate;
    std::weak_ptr<HttpSession> session;
    std::atomic<bool> done{false};

    void respond(HttpResponse response) {
      if (done.exchange(true)) return;
      gate->run([&] {
        auto s = session.lock();  // released under the gate, see post_pump()
        if (!s) return;
        asio::post(s->stream_.get_executor(),
                   [s, r = std::move(response)]() mutable { s->deliver(std::move(r)); });
      });
    }
    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State() {
      try {
        if (!done) respond(error_response(500, "INTERNAL", "the request was not answered"));
      } catch (...) {
        std::terminate();  // out of memory in a destructor
      }
    }
  };
  auto state = std::make_shared<State>();
  state->gate = shared_.gate;
  state->session = shared_from_this();
  return [state](HttpResponse response) { state->respond(std::move(response)); };
}

void HttpSession::upgrade(const HttpRequest& request) {
  auto sink = std::make_shared<WsSinkImpl>(
      shared_.gate, shared_.next_ws_id.fetch_add(1, std::memory_order_relaxed),
      shared_.options.ws_soft_limit_bytes, shared_.options.ws_hard_limit_bytes);
  HttpResponse refusal = error_response(403, "FORBIDDEN", "WebSocket upgrade refused");
  std::unique_ptr<WsConnection> connection = shared_.ws.on_open(request, sink, &refusal);
  if (!connection) {
    sink->mark_closed();
    send(std::move(refusal), true);
    return;
  }
  closed_ = true;  // the socket now belongs to the WebSocket session
  disarm();
  auto ws = std::make_shared<WsSession>(std::move(stream_), shared_, std::move(slot_), sink,
                                        std::move(connection), parser_->release());
  shared_.remove(this);
  if (!shared_.add(ws)) {
    ws->shutdown();
    return;
  }
  ws->start();
}

void HttpSession::send(HttpResponse response, bool close_after) {
  if (response.status < 100 || response.status > 599) {
    response = error_response(500, "INTERNAL", "invalid response status");
  }
  response_ = http::response<http::string_body>{};
  response_.version(11);
  response_.result(static_cast<unsigned>(response.status));
  response_.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) response_.insert(name, value);
  response_.body() = std::move(response.body);
  response_.keep_alive(!close_after);
  response_.prepare_payload();
  arm(shared_.options.request_timeout, Phase::kWriting);
  http::async_write(stream_, response_,
                    [self = shared_from_this(), close_after](const error_code& ec, std::size_t) {
                      self->disarm();
                      if (self->closed_) return;
                      if (ec) {
                        self->close();
                      } else if (close_after) {
                        self->linger();
                      } else {
                        self->wait_for_request(self->shared_.options.idle_timeout);
                      }
                    });
}

void HttpSession::linger() {
  if (phase_ != Phase::kLingering) {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    arm(std::min(shared_.options.request_timeout, kMaxLinger), Phase::kLingering);
  }
  stream_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](const error_code& ec,
                                                                            std::size_t) {
    if (self->closed_) return;
    if (ec) {
      self->close();
    } else {
      self->linger();
    }
  });
}

// ---------------------------------------------------------------------------
// Listener

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& ioc, Shared& shared)
      : ioc_(ioc), acceptor_(asio::make_strand(ioc)), retry_(acceptor_.get_executor()), shared_(shared) {}

  Status listen(const tcp::endpoint& endpoint) {
    error_code ec;
    if (acceptor_.open(endpoint.protocol(), ec); ec) return fail("open", endpoint, ec);
    if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec); ec) {
      return fail("setsockopt", endpoint, ec);
    }
    if (acceptor_.bind(endpoint, ec); ec) return fail("bind", endpoint, ec);
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
      return fail("listen", endpoint, ec);
    }
    port_ = acceptor_.local_endpoint(ec).port();
    return Status::OK();
  }
  std::uint16_t port() const { return port_; }

  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_),
                           [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
                             self->on_accept(ec, std::move(socket));
                           });
  }
  void shutdown() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
    });
  }

 private:
  static Status fail(std::string_view what, const tcp::endpoint& ep, const error_code& ec) {
    return Status::IOError(std::string(what) + " " + ep.address().to_string() + ":" +
                               std::to_string(ep.port()) + ": " + ec.message(),
                           ec.value());
  }

  void on_accept(const error_code& ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;
    if (ec) {  // e.g. out of file descriptors: retry soon rather than spin
      retry_.expires_after(kAcceptRetry);
      retry_.async_wait([self = shared_from_this()](const error_code& wait_ec) {
        if (!wait_ec && self->acceptor_.is_open()) self->accept();
      });
      return;
    }
    Counters& c = shared_.counters;
    const bool refuse = c.connections_open.load(std::memory_order_relaxed) >= shared_.options.max_connections;
    (refuse ? c.connections_refused : c.connections_total).fetch_add(1, std::memory_order_relaxed);
    auto session = std::make_shared<HttpSession>(std::move(socket), shared_, refuse);
    if (shared_.add(session)) session->start();
    accept();
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  Shared& shared_;
  std::uint16_t port_ = 0;
};

Result<tcp::endpoint> resolve(asio::io_context& ioc, const std::string& host, std::uint16_t port) {
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  tcp::resolver resolver(ioc);
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    return Status::InvalidArgument("cannot resolve host '" + host + "': " + ec.message());
  }
  return results.begin()->endpoint();
}

}  // namespace

struct Transport::Impl {
  Impl(const TransportOptions& o, HttpHandler& h, WsHandler& w) : shared(o, h, w) {}

  Shared shared;  // declared before the io_context: outlives every session
  asio::io_context ioc;
  std::shared_ptr<Listener> listener;
  std::vector<std::thread> threads;
  std::mutex stop_mu;
  bool stopped = false;  // guarded by stop_mu
};

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Transport::~Transport() {
  try {
    stop();
  } catch (...) {
    std::terminate();  // a thread that cannot be joined: nothing sane is left to do
  }
}

Result<std::unique_ptr<Transport>> Transport::start(const TransportOptions& options,
                                                    HttpHandler& http, WsHandler& ws) {
  if (options.io_threads < 1) return Status::InvalidArgument("io_threads must be at least 1");
  auto impl = std::make_unique<Impl>(options, http, ws);
  Result<tcp::endpoint> endpoint = resolve(impl->ioc, options.host, options.port);
  if (!endpoint.ok()) return endpoint.status();
  impl->listener = std::make_shared<Listener>(impl->ioc, impl->shared);
  if (Status s = impl->listener->listen(*endpoint); !s.ok()) return s;
  impl->listener->accept();
  for (int i = 0; i < options.io_threads; ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc, i] {
      const std::string name = "stox-io-" + std::to_string(i);  // shows in top/perf
      pthread_setname_np(pthread_self(), name.c_str());
      ioc->run();
    });
  }
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

std::uint16_t Transport::port() const { return impl_->listener->port(); }

void Transport::stop() {
  const std::lock_guard stop_lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  Shared& shared = impl_->shared;
  shared.gate->close();
  std::vector<std::shared_ptr<Session>> sessions;
  {
    const std::lock_guard lock(shared.mu);
    shared.stopping = true;
    for (const auto& [ptr, session] : shared.live) sessions.push_back(session);
  }
  impl_->listener->shutdown();
  for (const auto& session : sessions) session->shutdown();
  sessions.clear();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  std::unordered_map<Session*, std::shared_ptr<Session>> rest;
  {
    const std::lock_guard lock(shared.mu);
    rest.swap(shared.live);
  }
  rest.clear();  // sockets closed while the io_context still exists
}

TransportStats Transport::stats() const {
  const Counters& c = impl_->shared.counters;
  constexpr auto kRelaxed = std::memory_order_relaxed;
  return TransportStats{c.connections_open.load(kRelaxed), c.connections_total.load(kRelaxed),
                        c.connections_refused.load(kRelaxed), c.requests.load(kRelaxed),
                        c.ws_open.load(kRelaxed), c.ws_closed_slow.load(kRelaxed),
                        c.timeouts.load(kRelaxed), c.oversize.load(kRelaxed)};
}

}  // namespace stox::server
