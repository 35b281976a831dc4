// Transport: the server's sockets. HTTP/1.1 (keep-alive) and WebSocket over
// TCP, built on Boost.Beast; transport.cc is the only server translation unit
// that includes Beast or Asio, and this header includes neither.
//
// What it does, and nothing more: accept connections, parse requests within
// the limits below, hand each request to the HttpHandler (or an upgrade to
// /ws to the WsHandler), write responses, pump WebSocket messages. Every
// decision about content belongs to the handlers (http_types.h).
//
// Limits are answered with the API's JSON error shape and the connection is
// closed: body too large -> 413 PAYLOAD_TOO_LARGE, headers too large -> 431
// HEADERS_TOO_LARGE, malformed -> 400 BAD_REQUEST, request not complete
// within request_timeout (slowloris) -> 408 REQUEST_TIMEOUT, more than
// max_connections open -> 503 TOO_MANY_CONNECTIONS.
//
// Threads: io_threads threads run every socket; each connection lives on its
// own strand, so one connection's handlers never run concurrently. Handlers
// are called on those threads and must not block.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/http_types.h"

namespace stox::server {

struct TransportOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = any free port (tests); Transport::port() tells which
  int io_threads = 1;
  std::size_t max_body_bytes = std::size_t{64} << 10;
  std::size_t max_header_bytes = std::size_t{8} << 10;
  std::size_t max_ws_message_bytes = std::size_t{16} << 10;  // a bigger incoming message: close 1009
  std::size_t max_connections = 2048;
  // A request (headers and body) must arrive within this from its first
  // byte; a new connection must start its first request within it too.
  std::chrono::milliseconds request_timeout{10000};
  // A keep-alive connection waiting for its next request; a WebSocket whose
  // peer stopped answering pings.
  std::chrono::milliseconds idle_timeout{60000};
  // Beast pings an idle WebSocket at half its idle timeout, so the
  // WebSocket's timeout is min(idle_timeout, 2 * ws_ping_interval): a dead
  // peer is dropped one ping interval after the unanswered ping.
  std::chrono::milliseconds ws_ping_interval{15000};
  // Bytes queued on one WebSocket and not yet written: over the soft limit
  // market data is dropped (SendResult::kDropped); over the hard limit a
  // private message closes the connection ("slow consumer", code 1008).
  std::size_t ws_soft_limit_bytes = std::size_t{1} << 20;
  std::size_t ws_hard_limit_bytes = std::size_t{8} << 20;
};

// Counters for /metrics; a snapshot, each field read atomically on its own.
struct TransportStats {
  std::uint64_t connections_open = 0;     // HTTP and WebSocket, now
  std::uint64_t connections_total = 0;    // accepted since start (refused ones excluded)
  std::uint64_t connections_refused = 0;  // over max_connections (503)
  std::uint64_t requests = 0;             // complete HTTP requests read (upgrades included)
  std::uint64_t ws_open = 0;              // WebSocket connections now
  std::uint64_t ws_closed_slow = 0;       // closed as slow consumers
  std::uint64_t timeouts = 0;             // request, idle and write timeouts
  std::uint64_t oversize = 0;             // 413 + 431 + WebSocket messages over the max
};

class Transport {
 public:
  // Binds host:port, listens, and starts io_threads threads. Fails (e.g.
  // address in use, bad host) with a Status. The handlers must outlive the
  // Transport.
  static Result<std::unique_ptr<Transport>> start(const TransportOptions& options,
                                                  HttpHandler& http, WsHandler& ws);

  ~Transport();  // stop()
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // The port actually bound (useful with options.port == 0).
  std::uint16_t port() const;

  // Stops accepting, closes every connection (each WsConnection gets its
  // on_close), joins the I/O threads. Idempotent. Responders and WsSinks used
  // afterwards do nothing. REQUIRES: not called from an I/O thread.
  void stop();

  TransportStats stats() const;

  struct Impl;  // transport.cc

 private:
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stox::server
