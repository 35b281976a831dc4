// Api: the REST and WebSocket API of the exchange (docs/design.md, "REST
// API"), as an HttpHandler and a WsHandler for the transport.
//
// On the I/O thread a request is authenticated (API key), rate-limited,
// routed and parsed; anything wrong is answered there and then, before the
// engine sees it. What needs the exchange's state becomes a Work for the
// engine thread (server/core.h): a command (journaled, then answered from
// its events) or a read (answered from the projections and the engine at a
// point where everything before it is committed). A full queue is a 503
// with Retry-After, at once.
//
// Access rules:
//   public (no key)  GET /health /ready /metrics, market data (orderbook,
//                    trades, ticker, candles, instruments), /ws public channels
//   read             GET of the key's own orders, account, positions, fills;
//                    the ws orders channel
//   trade            POST/PUT/DELETE of the key's own orders
//   admin            /api/v1/admin/* (the admin key, which has no account)
// Another account's order answers exactly like an unknown order (404
// UNKNOWN_ORDER), on every route.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <functional>
#include <memory>
#include <string>

#include "server/core.h"
#include "server/http_types.h"

namespace stox::server {

class KeyStore;
class RateLimiter;
struct KeyInfo;

struct ApiOptions {
  std::string cash_asset = "USD";  // the name of asset 0 (the settlement currency)
  int cash_scale = 4;              // EngineConfig::cash_scale
  std::size_t max_depth = 1000;    // orderbook ?depth= upper bound
  std::size_t max_list = 1000;     // trades/fills/candles ?limit= upper bound
};

// Counters the API keeps itself (rate-limited, refused before the engine).
struct ApiCounters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> rate_limited{0};
  std::atomic<std::uint64_t> busy{0};           // 503: the inbound queue was full
  std::atomic<std::uint64_t> unauthorized{0};   // 401 and 403
  std::atomic<std::uint64_t> bad_requests{0};   // 4xx found on the I/O thread
};

class Api : public HttpHandler, public WsHandler {
 public:
  // `metrics_text` renders GET /metrics.
  Api(Core& core, KeyStore& keys, RateLimiter& limiter, std::function<std::string()> metrics_text,
      ApiOptions options);

  void handle(HttpRequest request, Responder respond) override;
  std::unique_ptr<WsConnection> on_open(const HttpRequest& request, std::shared_ptr<WsSink> sink,
                                        HttpResponse* refusal) override;

  const ApiCounters& counters() const { return counters_; }

  // Access to the engine thread for in-process clients (the demo's market
  // maker): the same queue, the same back-pressure.
  Core& core() { return core_; }

 private:
  struct Call;
  void route(Call& call);
  void route_orders(Call& call, std::string_view rest);
  void route_admin(Call& call, std::string_view rest);
  void route_market(Call& call, std::string_view kind, std::string_view symbol);

  void new_order(Call& call);
  void list_orders(Call& call);
  void cancel_all(Call& call);
  void get_order(Call& call, OrderId id);
  void cancel_order(Call& call, OrderId id);
  void replace_order(Call& call, OrderId id);
  void account(Call& call);
  void positions(Call& call);
  void fills(Call& call);
  void instruments(Call& call);
  void add_instrument(Call& call);
  void create_account(Call& call);
  void transfer(Call& call, bool deposit);
  void set_status(Call& call, std::string_view symbol, InstrumentStatus status);
  void kill_switch(Call& call, std::string_view account_id);
  void account_limits(Call& call, std::string_view account_id);
  void instrument_limits(Call& call, std::string_view symbol);

  // Authenticates and rate-limits; false when it has answered (401/403/429).
  bool authorize(Call& call, std::uint8_t permission);
  bool admit(Call& call, const std::string& bucket);
  // Posts a read or a command; answers 503 when the queue is full.
  void post(Call& call, std::optional<Command> command, std::function<void(CoreContext&)> done);

  Core& core_;
  KeyStore& keys_;
  RateLimiter& limiter_;
  std::function<std::string()> metrics_text_;
  ApiOptions options_;
  ApiCounters counters_;
};

}  // namespace stox::server
