// The seam between the network transport (server/transport.cc, the only
// translation unit that includes Boost.Beast) and the exchange's API logic
// (server/api.cc). Nothing here depends on Beast or Asio, so the API can be
// unit-tested and fuzzed without sockets, and the transport can be tested
// with a trivial handler.
//
// Threads: the transport calls HttpHandler and WsHandler from its I/O
// threads. A Responder and a WsSink may be used from any thread (the engine's
// dispatch thread answers through them); they never block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stox::server {

struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string path;           // the target before '?', percent-decoding not applied
  std::string query;          // after '?', without it; "" if none
  std::string authorization;  // the Authorization header's value, "" if absent
  std::string body;
  std::string remote;         // peer address, for logs
};

struct HttpResponse {
  int status = 200;
  std::string body;  // JSON unless content_type says otherwise
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Retry-After
};

// Called exactly once per request, from any thread. The transport writes
// the response on the connection's own executor; calling it after the
// connection closed is harmless.
using Responder = std::function<void(HttpResponse)>;

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Must not block: either respond at once or hand `respond` to another
  // thread. Requests of one connection are handled one at a time (the next
  // is read after the response was written).
  virtual void handle(HttpRequest request, Responder respond) = 0;
};

// What a slow WebSocket consumer may lose. kMarketData may be dropped when
// the connection's buffer is over its soft limit; kPrivate is never dropped:
// over the hard limit the connection is closed with a reason instead.
enum class MessageClass : std::uint8_t { kMarketData, kPrivate };

enum class SendResult : std::uint8_t {
  kQueued,   // will be written in order
  kDropped,  // market data over the soft limit: not queued (the caller may conflate)
  kClosed,   // the connection is closed or closing; nothing was queued
};

// The sending side of one WebSocket connection. Thread-safe, never blocks.
class WsSink {
 public:
  virtual ~WsSink() = default;
  virtual SendResult send(std::shared_ptr<const std::string> text, MessageClass cls) = 0;
  // Sends a close frame with `reason` (policy violation) after what is queued.
  virtual void close(std::string reason) = 0;
  virtual bool closed() const = 0;
  // Bytes queued and not yet written (for conflation decisions).
  virtual std::size_t buffered_bytes() const = 0;
  virtual std::uint64_t id() const = 0;  // unique per connection within a process
};

// The receiving side of one WebSocket connection (I/O thread).
class WsConnection {
 public:
  virtual ~WsConnection() = default;
  virtual void on_message(std::string_view text) = 0;  // one complete text message
  virtual void on_close() = 0;                         // once, after the last on_message
};

class WsHandler {
 public:
  virtual ~WsHandler() = default;
  // An upgrade to /ws was requested. `request` carries the upgrade request's
  // path, query and Authorization header (no body). Returns the connection
  // handler, or nullptr to refuse the upgrade (401/403 decided by `refusal`).
  virtual std::unique_ptr<WsConnection> on_open(const HttpRequest& request,
                                                std::shared_ptr<WsSink> sink,
                                                HttpResponse* refusal) = 0;
};

}  // namespace stox::server
