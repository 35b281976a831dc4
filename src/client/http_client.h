// Synchronous HTTP and WebSocket clients for the exchange's API: used by the
// tests, the CLI (`stox order ...`) and the load generator.
//
// Every operation has a timeout, so a hung server fails a test instead of
// hanging it. Failures (connect, timeout, closed connection) are a Status;
// an HTTP error status is not a failure, it is a ClientResponse.
//
// Thread-safety: none; one client per thread. The header includes no Boost.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace stox::client {

using namespace std::chrono_literals;

struct ClientResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header of that name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
};

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

// "http://host:port", "http://host" (port 80), "host:port"; a trailing '/'
// is accepted. Anything else (https, a path, a bad port) is InvalidArgument.
Result<Endpoint> parse_server_url(std::string_view url);

class HttpClient {
 public:
  // Connects at once (so a wrong address fails here). Later requests reuse
  // the connection and reconnect when the server has closed it.
  static Result<std::unique_ptr<HttpClient>> connect(const std::string& host, std::uint16_t port,
                                                     std::chrono::milliseconds timeout = 5s);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request and its response, each step within the timeout. Sets
  // "Authorization: Bearer <api_key>" when api_key is given, and
  // Content-Type: application/json when there is a body. A request on a
  // reused connection that the server had closed meanwhile is sent once more
  // on a new connection when it cannot have been acted on (the write
  // failed) or is idempotent (GET, HEAD, PUT, DELETE, OPTIONS) and the
  // connection closed before any response byte; a POST whose connection
  // closed after it was sent is an error, never sent twice.
  Result<ClientResponse> request(std::string_view method, std::string_view target,
                                 std::string_view body = {}, std::string_view api_key = {});

  struct Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class WsClient {
 public:
  // TCP connect and the WebSocket handshake, within the timeout. A refused
  // upgrade is an error carrying the HTTP status and body.
  static Result<std::unique_ptr<WsClient>> connect(const std::string& host, std::uint16_t port,
                                                   std::string_view path = "/ws",
                                                   std::string_view api_key = {},
                                                   std::chrono::milliseconds timeout = 5s);
  ~WsClient();  // closes the socket, without the close handshake of close()
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Sends one text message (within the connect timeout).
  Status send(std::string_view text);
  // Sends one binary message (to test servers that refuse them).
  Status send_binary(std::string_view bytes);

  // The next text message. Errors: "timed out ..." when none arrived in
  // time (the connection stays usable and the read continues on the next
  // call), "closed by server: code C reason 'R'" when the server closed.
  Result<std::string> read(std::chrono::milliseconds timeout);

  // Close handshake (bounded by the connect timeout), then the socket.
  void close();

  struct Impl;

 private:
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stox::client
