// The transport against real sockets on 127.0.0.1 (port 0): HTTP keep-alive,
// deferred responders, every limit, slowloris, connection caps, WebSocket
// echo, limits and slow consumers, shutdown with open connections.
//
// Waits are bounded (a condition variable with a deadline, poll() on a
// socket) and only ever wait for an event; none is a sleep that papers over a
// race.
#include "server/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "client/http_client.h"
#include "marketdata/json_writer.h"

namespace stox::server {
namespace {

using namespace std::chrono_literals;
using client::HttpClient;
using client::WsClient;

constexpr auto kWait = 10s;  // upper bound of every wait; never reached when the code works

std::string json_field(const std::string& json, std::string_view key) {
  simdjson::dom::parser parser;
  std::string_view value;
  if (parser.parse(json).at_key(key).get(value) != simdjson::SUCCESS) return "<missing>";
  return std::string(value);
}

// Answers every request with its own fields as JSON. Modes: at once, from
// another thread, or never (the responder is dropped).
class EchoHttp : public HttpHandler {
 public:
  enum class Mode : std::uint8_t { kImmediate, kDeferred, kDrop, kHold };
  explicit EchoHttp(Mode mode = Mode::kImmediate) : mode_(mode) {}
  ~EchoHttp() override {
    for (auto& t : threads_) t.join();
  }
  EchoHttp(const EchoHttp&) = delete;
  EchoHttp& operator=(const EchoHttp&) = delete;

  void handle(HttpRequest request, Responder respond) override {
    HttpResponse response;
    marketdata::JsonWriter w;
    w.begin_object();
    w.key("method").string(request.method);
    w.key("path").string(request.path);
    w.key("query").string(request.query);
    w.key("body").string(request.body);
    w.key("authorization").string(request.authorization);
    w.key("thread").string(mode_ == Mode::kDeferred ? "worker" : "io");
    w.end_object();
    response.body = w.take();
    response.headers.emplace_back("X-Echo", "yes");
    switch (mode_) {
      case Mode::kImmediate: respond(std::move(response)); break;
      case Mode::kDeferred:
        threads_.emplace_back([respond = std::move(respond), response = std::move(response)]() mutable {
          respond(std::move(response));
        });
        break;
      case Mode::kDrop: break;
      case Mode::kHold: {
        const std::lock_guard lock(mu_);
        held_.push_back(std::move(respond));
        break;
      }
    }
  }
  std::vector<Responder> take_held() {
    const std::lock_guard lock(mu_);
    return std::move(held_);
  }

 private:
  const Mode mode_;
  std::vector<std::thread> threads_;  // I/O thread only (one I/O thread in these tests)
  std::mutex mu_;
  std::vector<Responder> held_;
};

// Echoes text messages back (as private messages); counts opens and closes;
// exposes each connection's sink so tests can push messages.
class TestWs : public WsHandler {
 public:
  bool refuse = false;

  std::unique_ptr<WsConnection> on_open(const HttpRequest& request, std::shared_ptr<WsSink> sink,
                                        HttpResponse* refusal) override {
    if (refuse) {
      refusal->status = 401;
      refusal->body = R"({"code":"UNAUTHORIZED","message":"no key"})";
      return nullptr;
    }
    const std::lock_guard lock(mu_);
    sinks_.push_back(sink);
    last_authorization_ = request.authorization;
    cv_.notify_all();
    return std::make_unique<Connection>(this, std::move(sink));
  }

  std::shared_ptr<WsSink> sink(std::size_t i) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kWait, [&] { return sinks_.size() > i; });
    return sinks_.size() > i ? sinks_[i] : nullptr;
  }
  // Waits until at least n connections have closed; returns the count.
  int wait_closed(int n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kWait, [&] { return closes_ >= n; });
    return closes_;
  }
  int closes() {
    const std::lock_guard lock(mu_);
    return closes_;
  }
  std::string last_authorization() {
    const std::lock_guard lock(mu_);
    return last_authorization_;
  }

 private:
  class Connection : public WsConnection {
   public:
    Connection(TestWs* owner, std::shared_ptr<WsSink> sink) : owner_(owner), sink_(std::move(sink)) {}
    void on_message(std::string_view text) override {
      EXPECT_FALSE(closed_) << "message after on_close";
      (void)sink_->send(std::make_shared<const std::string>(text), MessageClass::kPrivate);
    }
    void on_close() override {
      EXPECT_FALSE(closed_) << "on_close twice";
      closed_ = true;
      const std::lock_guard lock(owner_->mu_);
      ++owner_->closes_;
      owner_->cv_.notify_all();
    }

   private:
    TestWs* owner_;
    std::shared_ptr<WsSink> sink_;
    bool closed_ = false;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<WsSink>> sinks_;
  std::string last_authorization_;
  int closes_ = 0;
};

// A plain TCP connection for what a well-behaved client cannot do.
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }
  bool send(std::string_view data) const {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Whether bytes (or EOF) are ready within `timeout`.
  bool readable(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
  }
  // Everything until EOF; eof() tells whether EOF came within kWait.
  std::string read_to_eof() {
    std::string data;
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      if (!readable(100ms)) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof_ = true;
        break;
      }
      data.append(buf, static_cast<std::size_t>(n));
    }
    return data;
  }
  bool eof() const { return eof_; }

 private:
  int fd_;
  bool connected_ = false;
  bool eof_ = false;
};

class TransportTest : public ::testing::Test {
 protected:
  void start(const TransportOptions& options = {}) {
    auto t = Transport::start(options, http_, ws_);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    transport_ = std::move(*t);
  }
  std::unique_ptr<HttpClient> http_client() {
    auto c = HttpClient::connect("127.0.0.1", transport_->port(), kWait);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::unique_ptr<WsClient> ws_client(std::string_view key = {}) {
    auto c = WsClient::connect("127.0.0.1", transport_->port(), "/ws", key, kWait);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? std::move(*c) : nullptr;
  }

  EchoHttp http_;
  TestWs ws_;
  std::unique_ptr<Transport> transport_;  // destroyed first: stops before the handlers go
};

// --- HTTP -------------------------------------------------------------------

TEST_F(TransportTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  auto c = http_client();
  ASSERT_TRUE(c);
  for (int i = 0; i < 20; ++i) {
    auto r = c->request("GET", "/api/v1/x?n=" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(json_field(r->body, "query"), "n=" + std::to_string(i));
  }
  EXPECT_EQ(transport_->stats().connections_total, 1u);
  EXPECT_EQ(transport_->stats().requests, 20u);
}

TEST_F(TransportTest, RequestFieldsReachTheHandlerAndResponseHeadersComeBack) {
  start();
  auto c = http_client();
  ASSERT_TRUE(c);
  auto r = c->request("POST", "/api/v1/orders?symbol=ACME&x=1", R"({"a":1})", "secret-key");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(json_field(r->body, "method"), "POST");
  EXPECT_EQ(json_field(r->body, "path"), "/api/v1/orders");
  EXPECT_EQ(json_field(r->body, "query"), "symbol=ACME&x=1");
  EXPECT_EQ(json_field(r->body, "body"), R"({"a":1})");
  EXPECT_EQ(json_field(r->body, "authorization"), "Bearer secret-key");
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->header("X-ECHO"), "yes");
  EXPECT_EQ(r->header("Content-Length"), std::to_string(r->body.size()));
}

TEST_F(TransportTest, ResponderCalledFromAnotherThreadAnswers) {
  EchoHttp deferred(EchoHttp::Mode::kDeferred);
  auto t = Transport::start({}, deferred, ws_);
  ASSERT_TRUE(t.ok());
  auto c = HttpClient::connect("127.0.0.1", (*t)->port(), kWait);
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 5; ++i) {
    auto r = (*c)->request("GET", "/deferred/" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(json_field(r->body, "thread"), "worker");
    EXPECT_EQ(json_field(r->body, "path"), "/deferred/" + std::to_string(i));
  }
  (*t)->stop();
}

TEST_F(TransportTest, DroppedResponderAnswers500InsteadOfHanging) {
  EchoHttp dropping(EchoHttp::Mode::kDrop);
  auto t = Transport::start({}, dropping, ws_);
  ASSERT_TRUE(t.ok());
  auto c = HttpClient::connect("127.0.0.1", (*t)->port(), kWait);
  ASSERT_TRUE(c.ok());
  auto r = (*c)->request("GET", "/nobody-answers");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(json_field(r->body, "code"), "INTERNAL");
}

TEST_F(TransportTest, ResponderCalledAfterStopIsHarmless) {
  EchoHttp holding(EchoHttp::Mode::kHold);
  auto t = Transport::start({}, holding, ws_);
  ASSERT_TRUE(t.ok());
  RawSocket s((*t)->port());
  ASSERT_TRUE(s.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n"));
  (*t)->stop();  // the request may or may not have reached the handler
  for (auto& respond : holding.take_held()) respond(HttpResponse{});
  t->reset();
  s.read_to_eof();
  EXPECT_TRUE(s.eof());
}

TEST_F(TransportTest, ConnectionCloseIsHonoured) {
  start();
  RawSocket s(transport_->port());
  ASSERT_TRUE(s.connected());
  ASSERT_TRUE(s.send("GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string response = s.read_to_eof();
  EXPECT_TRUE(s.eof());
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;
}

TEST_F(TransportTest, BodyOverTheLimitGets413) {
  TransportOptions o;
  o.max_body_bytes = 1024;
  start(o);
  auto c = http_client();
  ASSERT_TRUE(c);
  auto r = c->request("POST", "/big", std::string(4096, 'x'));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(json_field(r->body, "code"), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(transport_->stats().oversize, 1u);
  // The client reconnects after the server closed; a body within the limit passes.
  auto ok = c->request("POST", "/small", std::string(1024, 'x'));
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->status, 200);
}

TEST_F(TransportTest, HeadersOverTheLimitGet431) {
  TransportOptions o;
  o.max_header_bytes = 1024;
  start(o);
  RawSocket s(transport_->port());
  ASSERT_TRUE(s.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n"));
  const std::string response = s.read_to_eof();
  EXPECT_TRUE(s.eof());
  EXPECT_TRUE(response.starts_with("HTTP/1.1 431")) << response;
  EXPECT_NE(response.find("HEADERS_TOO_LARGE"), std::string::npos) << response;
}

TEST_F(TransportTest, MalformedRequestGets400AndClose) {
  start();
  RawSocket s(transport_->port());
  ASSERT_TRUE(s.send("THIS IS NOT HTTP\r\n\r\n"));
  const std::string response = s.read_to_eof();
  EXPECT_TRUE(s.eof());
  EXPECT_TRUE(response.starts_with("HTTP/1.1 400")) << response;
  EXPECT_NE(response.find(R"({"code":"BAD_REQUEST","message":)"), std::string::npos) << response;
}

TEST_F(TransportTest, SlowlorisHeaderIsCutOffAfterTheRequestTimeout) {
  TransportOptions o;
  o.request_timeout = 200ms;
  start(o);
  RawSocket s(transport_->port());
  ASSERT_TRUE(s.send("GET / HTTP/1.1\r\nX-Slow: "));
  // One header byte every 20 ms, never finishing, until the server answers.
  bool answered = false;
  for (int i = 0; i < 500 && !answered; ++i) {
    ASSERT_TRUE(s.send("a"));
    answered = s.readable(20ms);
  }
  ASSERT_TRUE(answered) << "the server never gave up on the request";
  const std::string response = s.read_to_eof();
  EXPECT_TRUE(s.eof());
  EXPECT_TRUE(response.starts_with("HTTP/1.1 408")) << response;
  EXPECT_EQ(transport_->stats().timeouts, 1u);
}

TEST_F(TransportTest, ConnectionOverTheMaximumGets503) {
  TransportOptions o;
  o.max_connections = 2;
  start(o);
  auto c1 = http_client();
  auto c2 = http_client();
  ASSERT_TRUE(c1 && c2);
  ASSERT_EQ(c1->request("GET", "/1")->status, 200);  // both are now surely accepted
  ASSERT_EQ(c2->request("GET", "/2")->status, 200);
  auto c3 = http_client();
  ASSERT_TRUE(c3);
  auto r = c3->request("GET", "/3");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(json_field(r->body, "code"), "TOO_MANY_CONNECTIONS");
  EXPECT_EQ(transport_->stats().connections_refused, 1u);
  EXPECT_EQ(transport_->stats().connections_open, 2u);
}

TEST(TransportStart, AddressInUseIsAnError) {
  EchoHttp http;
  TestWs ws;
  auto first = Transport::start({}, http, ws);
  ASSERT_TRUE(first.ok());
  TransportOptions o;
  o.port = (*first)->port();
  auto second = Transport::start(o, http, ws);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().is_io_error()) << second.status().to_string();
}

// --- WebSocket --------------------------------------------------------------

TEST_F(TransportTest, WebSocketEchoesTextInOrder) {
  start();
  auto c = ws_client("ws-key");
  ASSERT_TRUE(c);
  // (std::to_string(i) + "m": GCC 12 -Wrestrict misfires on "m" + std::to_string(i).)
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c->send(std::to_string(i) + "m").ok());
  for (int i = 0; i < 50; ++i) {
    auto m = c->read(kWait);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    EXPECT_EQ(*m, std::to_string(i) + "m");
  }
  EXPECT_EQ(ws_.last_authorization(), "Bearer ws-key");
  EXPECT_EQ(transport_->stats().ws_open, 1u);
  c->close();
  EXPECT_EQ(ws_.wait_closed(1), 1);
}

TEST_F(TransportTest, ReadTimeoutLeavesTheWebSocketUsable) {
  start();
  auto c = ws_client();
  ASSERT_TRUE(c);
  auto nothing = c->read(50ms);
  ASSERT_FALSE(nothing.ok());
  EXPECT_NE(nothing.status().message().find("timed out"), std::string::npos);
  ASSERT_TRUE(c->send("still here").ok());
  auto m = c->read(kWait);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(*m, "still here");
}

TEST_F(TransportTest, RefusedUpgradeGetsTheHandlersResponse) {
  ws_.refuse = true;
  start();
  auto c = WsClient::connect("127.0.0.1", transport_->port(), "/ws", {}, kWait);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("401"), std::string::npos) << c.status().to_string();
  EXPECT_NE(c.status().message().find("UNAUTHORIZED"), std::string::npos) << c.status().to_string();
}

TEST_F(TransportTest, WebSocketMessageOverTheMaximumClosesWith1009) {
  TransportOptions o;
  o.max_ws_message_bytes = 1024;
  start(o);
  auto c = ws_client();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->send(std::string(2048, 'a')).ok());
  auto r = c->read(kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("code 1009"), std::string::npos) << r.status().to_string();
  EXPECT_EQ(ws_.wait_closed(1), 1);
  EXPECT_EQ(transport_->stats().oversize, 1u);
}

TEST_F(TransportTest, BinaryWebSocketMessageIsRefusedWithAReason) {
  start();
  auto c = ws_client();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->send_binary("\x01\x02").ok());
  auto r = c->read(kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("code 1003"), std::string::npos) << r.status().to_string();
  EXPECT_NE(r.status().message().find("binary"), std::string::npos) << r.status().to_string();
  EXPECT_EQ(ws_.wait_closed(1), 1);
}

TEST_F(TransportTest, SlowConsumerOfPrivateMessagesIsDisconnected) {
  TransportOptions o;
  o.ws_soft_limit_bytes = std::size_t{16} << 10;
  o.ws_hard_limit_bytes = std::size_t{64} << 10;
  start(o);
  auto c = ws_client();  // never reads while the server pushes
  ASSERT_TRUE(c);
  auto sink = ws_.sink(0);
  ASSERT_TRUE(sink);
  const auto message = std::make_shared<const std::string>(8192, 'p');
  SendResult result = SendResult::kQueued;
  for (int i = 0; i < 100000 && result == SendResult::kQueued; ++i) {
    result = sink->send(message, MessageClass::kPrivate);
  }
  ASSERT_EQ(result, SendResult::kClosed);
  EXPECT_TRUE(sink->closed());
  EXPECT_EQ(sink->send(message, MessageClass::kPrivate), SendResult::kClosed);
  // What was already on the wire arrives, then the close frame with its reason.
  Result<std::string> r = std::string();
  int received = 0;
  while ((r = c->read(kWait)).ok()) {
    ASSERT_EQ(*r, *message);
    ++received;
  }
  EXPECT_NE(r.status().message().find("code 1008 reason 'slow consumer'"), std::string::npos)
      << r.status().to_string() << " after " << received << " messages";
  EXPECT_EQ(ws_.wait_closed(1), 1);
  EXPECT_EQ(transport_->stats().ws_closed_slow, 1u);
}

TEST_F(TransportTest, MarketDataOverTheSoftLimitIsDroppedNotQueued) {
  TransportOptions o;
  o.ws_soft_limit_bytes = std::size_t{16} << 10;
  o.ws_hard_limit_bytes = std::size_t{1} << 30;
  start(o);
  auto c = ws_client();  // never reads
  ASSERT_TRUE(c);
  auto sink = ws_.sink(0);
  ASSERT_TRUE(sink);
  const auto message = std::make_shared<const std::string>(4096, 'm');
  SendResult result = SendResult::kQueued;
  for (int i = 0; i < 100000 && result == SendResult::kQueued; ++i) {
    result = sink->send(message, MessageClass::kMarketData);
  }
  ASSERT_EQ(result, SendResult::kDropped);
  EXPECT_GT(sink->buffered_bytes(), 0u);
  EXPECT_LE(sink->buffered_bytes(), o.ws_soft_limit_bytes);
  EXPECT_FALSE(sink->closed());
  // Private messages still queue past the soft limit.
  EXPECT_EQ(sink->send(message, MessageClass::kPrivate), SendResult::kQueued);
}

TEST_F(TransportTest, SinkCloseSendsReasonAfterQueuedMessages) {
  start();
  auto c = ws_client();
  ASSERT_TRUE(c);
  auto sink = ws_.sink(0);
  ASSERT_TRUE(sink);
  ASSERT_EQ(sink->send(std::make_shared<const std::string>("last words"), MessageClass::kPrivate),
            SendResult::kQueued);
  sink->close("bye now");
  auto m = c->read(kWait);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(*m, "last words");
  auto r = c->read(kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("code 1008 reason 'bye now'"), std::string::npos)
      << r.status().to_string();
  EXPECT_EQ(ws_.wait_closed(1), 1);
}

TEST_F(TransportTest, StopWithOpenConnectionsReturnsAndClosesEachWebSocketOnce) {
  TransportOptions o;
  o.io_threads = 2;
  start(o);
  auto h = http_client();
  ASSERT_TRUE(h);
  ASSERT_EQ(h->request("GET", "/warm")->status, 200);  // an idle keep-alive connection
  auto w1 = ws_client();
  auto w2 = ws_client();
  ASSERT_TRUE(w1 && w2);
  auto sink = ws_.sink(1);
  ASSERT_TRUE(sink);
  transport_->stop();
  EXPECT_EQ(ws_.closes(), 2);
  EXPECT_EQ(sink->send(std::make_shared<const std::string>("late"), MessageClass::kPrivate),
            SendResult::kClosed);
  transport_->stop();  // idempotent
  transport_.reset();
  EXPECT_EQ(ws_.closes(), 2);
  EXPECT_FALSE(h->request("GET", "/after-stop").ok());
}

}  // namespace
}  // namespace stox::server
