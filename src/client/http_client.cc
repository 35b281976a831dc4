// Synchronous clients over Beast's asynchronous operations: each call starts
// an operation and runs the client's own io_context until it completes or
// its deadline passes. Asynchronous operations are what make the timeouts
// possible (Beast's synchronous calls cannot time out).
#include "client/http_client.h"

#include <charconv>
#include <strings.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace stox::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using beast::error_code;
using Clock = std::chrono::steady_clock;
// A concrete executor rather than any_io_executor: no type erasure is needed
// (one io_context per client), and clang-analyzer misreads any_executor's
// erased target as null inside Beast's operations.
using Stream = beast::basic_stream<tcp, asio::io_context::executor_type>;

constexpr std::size_t kMaxResponseBody = 64 << 20;

Status failure(std::string_view what, const error_code& ec) {
  if (ec == beast::error::timeout) return Status::IOError(std::string(what) + ": timed out", ETIMEDOUT);
  return Status::IOError(std::string(what) + ": " + ec.message(), ec.value());
}

// Names are resolved synchronously (no timeout); IP literals need no lookup.
Result<tcp::resolver::results_type> resolve(asio::io_context& ioc, const std::string& host,
                                            std::uint16_t port) {
  tcp::resolver resolver(ioc);
  error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return failure("resolve " + host, ec);
  return results;
}

// Runs `ioc` until `*done` or the deadline; false on timeout.
bool run_until(asio::io_context& ioc, const bool* done, Clock::time_point deadline) {
  while (!*done) {
    if (ioc.stopped()) ioc.restart();
    if (ioc.run_one_until(deadline) == 0 && Clock::now() >= deadline) return *done;
  }
  return true;
}

}  // namespace

std::optional<std::string> ClientResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  }
  return std::nullopt;
}

Result<Endpoint> parse_server_url(std::string_view url) {
  const std::string original(url);
  const bool http_scheme = url.starts_with("http://");
  if (http_scheme) url.remove_prefix(7);
  if (url.ends_with('/')) url.remove_suffix(1);
  if (url.empty() || url.find_first_of("/?#@ ") != std::string_view::npos || url.find("://") != std::string_view::npos) {
    return Status::InvalidArgument("bad server URL '" + original + "' (expected http://host:port)");
  }
  const std::size_t colon = url.rfind(':');
  if (colon == std::string_view::npos) {
    if (!http_scheme) return Status::InvalidArgument("server URL '" + original + "' has no port");
    return Endpoint{std::string(url), 80};
  }
  const std::string_view port_text = url.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (colon == 0 || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Status::InvalidArgument("bad host or port in server URL '" + original + "'");
  }
  return Endpoint{std::string(url.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

// ---------------------------------------------------------------------------
// HttpClient

struct HttpClient::Impl {
  std::string host;
  std::uint16_t port = 0;
  std::chrono::milliseconds timeout{};
  asio::io_context ioc;
  std::optional<Stream> stream;
  beast::flat_buffer buffer;
  bool reused = false;  // a response was already read on this connection

  // Runs one operation of `stream` to completion (its expiry bounds it).
  template <typename Initiate>
  error_code run(Initiate&& initiate) {
    error_code result;
    std::forward<Initiate>(initiate)([&result](const error_code& ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  Status open() {
    auto endpoints = resolve(ioc, host, port);
    if (!endpoints.ok()) return endpoints.status();
    stream.emplace(ioc);
    buffer.clear();
    reused = false;
    stream->expires_after(timeout);
    const error_code ec = run([&](auto handler) { stream->async_connect(*endpoints, std::move(handler)); });
    if (ec) {
      stream.reset();
      return failure("connect " + host + ":" + std::to_string(port), ec);
    }
    return Status::OK();
  }

  void drop() {
    if (!stream) return;
    error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->socket().close(ignored);
    stream.reset();
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() { impl_->drop(); }

Result<std::unique_ptr<HttpClient>> HttpClient::connect(const std::string& host, std::uint16_t port,
                                                        std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->host = host;
  impl->port = port;
  impl->timeout = timeout;
  if (Status s = impl->open(); !s.ok()) return s;
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

namespace {
bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS";
}
}  // namespace

Result<ClientResponse> HttpClient::request(std::string_view method, std::string_view target,
                                           std::string_view body, std::string_view api_key) {
  Impl& c = *impl_;
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, c.host + ":" + std::to_string(c.port));
  if (!api_key.empty()) req.set(http::field::authorization, "Bearer " + std::string(api_key));
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::string(body);
  req.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    if (!c.stream) {
      if (Status s = c.open(); !s.ok()) return s;
    }
    const bool retryable = c.reused && attempt == 0;
    c.stream->expires_after(c.timeout);
    error_code ec = c.run([&](auto handler) { http::async_write(*c.stream, req, std::move(handler)); });
    if (ec) {
      c.drop();
      if (retryable && ec != beast::error::timeout) continue;
      return failure("send request", ec);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    c.stream->expires_after(c.timeout);
    ec = c.run([&](auto handler) { http::async_read(*c.stream, c.buffer, parser, std::move(handler)); });
    if (ec) {
      c.drop();
      const bool closed_before_answer =
          !parser.got_some() && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                                 ec == asio::error::eof);
      // The server may have acted on a request it read before closing: only
      // an idempotent one may be sent again (RFC 9110, 9.2.2). A POST (a new
      // order) fails here instead of being placed twice.
      if (retryable && closed_before_answer && idempotent(method)) continue;
      return failure("read response", ec);
    }
    c.reused = true;
    auto res = parser.release();
    ClientResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) out.headers.emplace_back(field.name_string(), field.value());
    out.body = std::move(res.body());
    if (!res.keep_alive()) c.drop();
    return out;
  }
}

// ---------------------------------------------------------------------------
// WsClient

struct WsClient::Impl {
  std::chrono::milliseconds timeout{};
  asio::io_context ioc;
  websocket::stream<Stream> ws{ioc};
  beast::flat_buffer buffer;
  bool read_pending = false;
  bool read_done = false;
  error_code read_ec;
  bool closed = false;

  void teardown() {
    error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    closed = true;
  }

  Status write(std::string_view data, bool text) {
    if (closed) return Status::IOError("WebSocket is closed");
    ws.text(text);
    bool done = false;
    error_code result;
    ws.async_write(asio::buffer(data), [&](const error_code& ec, std::size_t) {
      result = ec;
      done = true;
    });
    if (!run_until(ioc, &done, Clock::now() + timeout)) {
      teardown();
      run_until(ioc, &done, Clock::now() + timeout);  // the aborted write completes
      return Status::IOError("send: timed out", ETIMEDOUT);
    }
    if (result) return failure("send", result);
    return Status::OK();
  }
};

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
// Without a close handshake: call close() first for a polite goodbye.
WsClient::~WsClient() { impl_->teardown(); }

Result<std::unique_ptr<WsClient>> WsClient::connect(const std::string& host, std::uint16_t port,
                                                    std::string_view path, std::string_view api_key,
                                                    std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->timeout = timeout;
  Impl& c = *impl;
  auto endpoints = resolve(c.ioc, host, port);
  if (!endpoints.ok()) return endpoints.status();
  auto& tcp_layer = beast::get_lowest_layer(c.ws);
  error_code result;
  tcp_layer.expires_after(timeout);
  tcp_layer.async_connect(*endpoints, [&](const error_code& ec, const tcp::endpoint&) { result = ec; });
  c.ioc.run();
  if (result) return failure("connect " + host + ":" + std::to_string(port), result);

  if (!api_key.empty()) {
    c.ws.set_option(websocket::stream_base::decorator(
        [auth = "Bearer " + std::string(api_key)](websocket::request_type& req) {
          req.set(http::field::authorization, auth);
        }));
  }
  websocket::response_type response;
  tcp_layer.expires_after(timeout);
  c.ws.async_handshake(response, host + ":" + std::to_string(port), path,
                       [&](const error_code& ec) { result = ec; });
  c.ioc.restart();
  c.ioc.run();
  if (result == websocket::error::upgrade_declined) {
    return Status::IOError("upgrade refused: HTTP " + std::to_string(response.result_int()) + " " +
                           response.body());
  }
  if (result) return failure("WebSocket handshake", result);
  tcp_layer.expires_never();  // each call below has its own deadline
  return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
}

Status WsClient::send(std::string_view text) { return impl_->write(text, true); }
Status WsClient::send_binary(std::string_view bytes) { return impl_->write(bytes, false); }

Result<std::string> WsClient::read(std::chrono::milliseconds timeout) {
  Impl& c = *impl_;
  if (!c.read_pending) {
    if (c.closed) return Status::IOError("WebSocket is closed");
    c.read_pending = true;
    c.read_done = false;
    c.ws.async_read(c.buffer, [&c](const error_code& ec, std::size_t) {
      c.read_ec = ec;
      c.read_done = true;
    });
  }
  if (!run_until(c.ioc, &c.read_done, Clock::now() + timeout)) {
    return Status::IOError("timed out waiting for a message", ETIMEDOUT);
  }
  c.read_pending = false;
  // A close frame arrived (the error may still be the socket's: the server
  // may tear the connection down right after its close frame).
  if (c.read_ec == websocket::error::closed || (c.read_ec && c.ws.reason().code != websocket::close_code::none)) {
    c.closed = true;
    const websocket::close_reason& why = c.ws.reason();
    return Status::IOError("closed by server: code " + std::to_string(why.code) + " reason '" +
                           std::string(why.reason.data(), why.reason.size()) + "'");
  }
  if (c.read_ec) {
    c.teardown();
    return failure("connection lost", c.read_ec);
  }
  std::string message = beast::buffers_to_string(c.buffer.cdata());
  c.buffer.clear();
  return message;
}

void WsClient::close() {
  Impl& c = *impl_;
  if (c.closed) return;
  bool done = false;
  c.ws.async_close(websocket::close_code::normal, [&done](const error_code&) { done = true; });
  if (!run_until(c.ioc, &done, Clock::now() + c.timeout)) c.teardown();
  c.teardown();
  // Let aborted operations complete while `done` and the buffers still exist.
  c.ioc.restart();
  c.ioc.poll();
}

}  // namespace stox::client
