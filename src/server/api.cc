#include "server/api.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/decimal.h"
#include "marketdata/json_views.h"
#include "marketdata/json_writer.h"
#include "server/api_keys.h"
#include "server/rate_limiter.h"
#include "server/request_parser.h"
#include "server/ws_hub.h"

namespace stox::server {
namespace {

using marketdata::JsonWriter;

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse error_response(const ApiError& e) { return json_response(e.status, error_json(e)); }

HttpResponse error_response(int status, std::string code, std::string message) {
  return error_response(ApiError{status, std::move(code), std::move(message)});
}

HttpResponse not_found() { return error_response(404, "NOT_FOUND", "no such endpoint"); }

// The queue to the engine thread is full: retry shortly.
HttpResponse busy() {
  HttpResponse r = error_response(503, "BUSY", "the exchange is at capacity; retry shortly");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse unknown_order() {
  return error_response(404, "UNKNOWN_ORDER", "no such order");
}

HttpResponse failure_response(const Status& s) {
  return error_response(503, "EXCHANGE_STOPPED",
                        "the journal failed; the exchange accepts nothing until it is restarted: " +
                            s.to_string());
}

// "a/b/c" -> {"a","b","c"}; empty segments are kept (so "a//b" does not route).
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

// The rate-limit bucket of an unauthenticated client: its address without
// the port (HttpRequest::remote is "address:port"), so that opening more
// connections does not buy more requests.
std::string address_bucket(std::string_view remote) {
  const std::size_t colon = remote.rfind(':');
  return "ip:" + std::string(remote.substr(0, colon == std::string_view::npos ? remote.size() : colon));
}

// The first event of that type of the command, if any.
const Event* find_event(std::span<const Event> events, EventType type) {
  for (const Event& e : events) {
    if (e.type == type) return &e;
  }
  return nullptr;
}

// Answers a command that did not become durable (503) or that the engine
// rejected (its reason); false if it did neither.
bool answered_failure(const Responder& respond, const CoreContext& c) {
  if (c.failure != nullptr) {
    respond(failure_response(*c.failure));
    return true;
  }
  if (const Event* r = find_event(c.events, EventType::kRejected)) {
    respond(error_response(engine_reject(r->rejected.reason)));
    return true;
  }
  return false;
}

InstrumentScales scales_of(const marketdata::InstrumentInfo& info, int cash_scale) {
  return InstrumentScales{info.id, info.price_scale(), info.quantity_scale(), cash_scale};
}

void write_instrument(JsonWriter& w, const marketdata::InstrumentInfo& i) {
  const AddInstrument& s = i.spec;
  w.begin_object();
  w.key("symbol").string(i.symbol()).key("instrumentId").unsigned_integer(i.id);
  w.key("tickSize").decimal(s.tick_size, s.price_scale);
  w.key("lotSize").decimal(s.lot_size, s.quantity_scale);
  w.key("referencePrice").decimal(s.reference_price, s.price_scale);
  w.key("makerFeeBps").integer(s.maker_fee_bps).key("takerFeeBps").integer(s.taker_fee_bps);
  w.key("priceScale").integer(s.price_scale).key("quantityScale").integer(s.quantity_scale);
  w.key("status").string(i.status == InstrumentStatus::kTrading  ? "TRADING"
                         : i.status == InstrumentStatus::kHalted ? "HALTED"
                                                                 : "CLOSED");
  w.end_object();
}

void write_balance(JsonWriter& w, std::string_view asset, const BalanceView& b, int scale) {
  w.begin_object().key("asset").string(asset);
  w.key("total").decimal(b.total, scale).key("held").decimal(b.held, scale);
  w.key("available").decimal(b.available, scale).end_object();
}

}  // namespace

struct Api::Call {
  HttpRequest request;
  Responder respond;
  std::optional<KeyInfo> key;
  QueryParams query;

  void answer(HttpResponse r) const { respond(std::move(r)); }
  void fail(const ApiError& e) const { respond(error_response(e)); }
};

Api::Api(Core& core, KeyStore& keys, RateLimiter& limiter,
         std::function<std::string()> metrics_text, ApiOptions options)
    : core_(core),
      keys_(keys),
      limiter_(limiter),
      metrics_text_(std::move(metrics_text)),
      options_(std::move(options)) {}

void Api::handle(HttpRequest request, Responder respond) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  Call call{std::move(request), std::move(respond), std::nullopt, {}};
  Parsed<QueryParams> query = parse_query(call.request.query);
  if (auto* e = std::get_if<ApiError>(&query)) {
    counters_.bad_requests.fetch_add(1, std::memory_order_relaxed);
    return call.fail(*e);
  }
  call.query = std::move(std::get<QueryParams>(query));
  route(call);
}

bool Api::admit(Call& call, const std::string& bucket) {
  const RateDecision d = limiter_.check(bucket, steady_now_ns());
  if (d.allowed) return true;
  counters_.rate_limited.fetch_add(1, std::memory_order_relaxed);
  HttpResponse r = error_response(429, "RATE_LIMITED", "too many requests; retry later");
  r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
  call.answer(std::move(r));
  return false;
}

bool Api::authorize(Call& call, std::uint8_t permission) {
  call.key = keys_.authenticate(call.request.authorization);
  if (!call.key) {
    counters_.unauthorized.fetch_add(1, std::memory_order_relaxed);
    HttpResponse r = error_response(
        401, "UNAUTHORIZED",
        call.request.authorization.empty() ? "this endpoint needs an API key: Authorization: Bearer <key>"
                                           : "invalid API key");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    call.answer(std::move(r));
    return false;
  }
  if (!admit(call, "key:" + call.key->key_id)) return false;
  const bool account_route = (permission & (kRead | kTrade)) != 0;
  if ((call.key->permissions & permission) == 0 || (account_route && call.key->account == 0)) {
    counters_.unauthorized.fetch_add(1, std::memory_order_relaxed);
    call.fail(ApiError{403, "FORBIDDEN",
                       call.key->account == 0 && account_route
                           ? "the admin key has no account; use an account's key"
                           : "this API key lacks the permission for this endpoint"});
    return false;
  }
  return true;
}

void Api::post(Call& call, std::optional<Command> command,
               std::function<void(CoreContext&)> done) {
  if (core_.failed()) return call.answer(failure_response(Status::IOError(core_.failure_reason())));
  Work w;
  w.command = command;
  w.done = std::move(done);
  if (!core_.post(std::move(w))) {
    counters_.busy.fetch_add(1, std::memory_order_relaxed);
    call.answer(busy());
  }
}

// --- routing -------------------------------------------------------------

void Api::route(Call& call) {
  const std::string_view path = call.request.path;
  const std::string_view method = call.request.method;
  if (path == "/health" || path == "/ready") {
    if (method != "GET") return call.answer(not_found());
    JsonWriter w;
    const bool failed = core_.failed();
    w.begin_object().key("status").string(failed ? "failed" : "ok");
    if (failed) w.key("reason").string(core_.failure_reason());
    w.key("committedSeq").unsigned_integer(core_.committed_seq()).end_object();
    return call.answer(json_response(failed ? 503 : 200, w.take()));
  }
  if (path == "/metrics" && method == "GET") {
    HttpResponse r = json_response(200, metrics_text_());
    r.content_type = "text/plain; version=0.0.4";
    return call.answer(std::move(r));
  }
  constexpr std::string_view kPrefix = "/api/v1/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return call.answer(not_found());
  const std::string_view rest = path.substr(kPrefix.size());
  const std::vector<std::string_view> seg = split_path(rest);
  if (seg[0] == "orders") return route_orders(call, rest.substr(6));
  if (seg[0] == "admin") return route_admin(call, rest.substr(5));
  if (method == "GET" && seg.size() == 1) {
    if (seg[0] == "account" && authorize(call, kRead)) return account(call);
    if (seg[0] == "positions" && authorize(call, kRead)) return positions(call);
    if (seg[0] == "fills" && authorize(call, kRead)) return fills(call);
    if (seg[0] == "instruments" && admit(call, address_bucket(call.request.remote))) return instruments(call);
    if (seg[0] == "account" || seg[0] == "positions" || seg[0] == "fills" ||
        seg[0] == "instruments") {
      return;  // answered by authorize/admit
    }
  }
  if (method == "GET" && seg.size() == 2 && !seg[1].empty()) {
    return route_market(call, seg[0], seg[1]);
  }
  call.answer(not_found());
}

void Api::route_orders(Call& call, std::string_view rest) {
  const std::string_view method = call.request.method;
  if (rest.empty()) {  // /orders
    if (method == "POST" && authorize(call, kTrade)) return new_order(call);
    if (method == "GET" && authorize(call, kRead)) return list_orders(call);
    if (method == "DELETE" && authorize(call, kTrade)) return cancel_all(call);
    if (method != "POST" && method != "GET" && method != "DELETE") call.answer(not_found());
    return;
  }
  if (rest[0] != '/' || rest.find('/', 1) != std::string_view::npos) return call.answer(not_found());
  const std::uint8_t needed = method == "GET" ? kRead : kTrade;
  if (method != "GET" && method != "DELETE" && method != "PUT") return call.answer(not_found());
  if (!authorize(call, needed)) return;
  Parsed<std::uint64_t> id = parse_uint(rest.substr(1), "orderId", 1, UINT64_MAX);
  // A malformed id cannot name an order: the same answer as an unknown one.
  if (std::holds_alternative<ApiError>(id)) return call.answer(unknown_order());
  const OrderId order = std::get<std::uint64_t>(id);
  if (method == "GET") return get_order(call, order);
  if (method == "DELETE") return cancel_order(call, order);
  replace_order(call, order);
}

void Api::route_admin(Call& call, std::string_view rest) {
  if (call.request.method != "POST") return call.answer(not_found());
  if (!authorize(call, kAdmin)) return;
  const std::vector<std::string_view> seg = split_path(rest.substr(rest.empty() ? 0 : 1));
  if (seg.size() == 1 && seg[0] == "instruments") return add_instrument(call);
  if (seg.size() == 1 && seg[0] == "accounts") return create_account(call);
  if (seg.size() == 1 && seg[0] == "deposits") return transfer(call, true);
  if (seg.size() == 1 && seg[0] == "withdrawals") return transfer(call, false);
  if (seg.size() == 3 && seg[0] == "instruments" && seg[2] == "halt") {
    return set_status(call, seg[1], InstrumentStatus::kHalted);
  }
  if (seg.size() == 3 && seg[0] == "instruments" && seg[2] == "resume") {
    return set_status(call, seg[1], InstrumentStatus::kTrading);
  }
  if (seg.size() == 3 && seg[0] == "accounts" && seg[2] == "kill-switch") {
    return kill_switch(call, seg[1]);
  }
  if (seg.size() == 3 && seg[0] == "accounts" && seg[2] == "limits") {
    return account_limits(call, seg[1]);
  }
  if (seg.size() == 3 && seg[0] == "instruments" && seg[2] == "limits") {
    return instrument_limits(call, seg[1]);
  }
  call.answer(not_found());
}

// --- orders --------------------------------------------------------------

void Api::new_order(Call& call) {
  Parsed<OrderRequest> parsed = parse_order_request(call.request.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return call.fail(*e);
  const OrderRequest& request = std::get<OrderRequest>(parsed);
  auto info = core_.symbols().find(request.symbol);
  if (!info) return call.fail(ApiError{400, "UNKNOWN_SYMBOL", "unknown symbol: " + request.symbol});
  Parsed<NewOrder> order =
      to_new_order(request, call.key->account, scales_of(*info, options_.cash_scale));
  if (auto* e = std::get_if<ApiError>(&order)) return call.fail(*e);
  auto respond = call.respond;
  post(call, Command::make(0, 0, std::get<NewOrder>(order)), [respond](CoreContext& c) {
    if (answered_failure(respond, c)) return;
    const Event* accepted = find_event(c.events, EventType::kAccepted);
    const marketdata::TrackedOrder* o =
        accepted != nullptr ? c.md.orders.find(accepted->accepted.order_id) : nullptr;
    if (o == nullptr) return respond(error_response(500, "INTERNAL", "order not tracked"));
    respond(json_response(201, marketdata::to_json(*o, c.md.json())));
  });
}

void Api::list_orders(Call& call) {
  const auto status = call.query.get("status");
  if (status && *status != "open") {
    return call.fail(ApiError{400, "INVALID_PARAMETER",
                              "status: only 'open' is supported; closed orders are looked up by id"});
  }
  const std::string symbol(call.query.get("symbol").value_or(""));
  const AccountId account = call.key->account;
  auto respond = call.respond;
  post(call, std::nullopt, [symbol, account, respond](CoreContext& ctx) {
    InstrumentId instrument = 0;
    if (!symbol.empty()) {
      const marketdata::InstrumentInfo* info = ctx.md.instruments.find(symbol);
      if (info == nullptr) return respond(error_response(404, "UNKNOWN_SYMBOL", "unknown symbol: " + symbol));
      instrument = info->id;
    }
    JsonWriter w;
    w.begin_array();
    for (const marketdata::TrackedOrder* o : ctx.md.orders.open_orders(account, instrument)) {
      marketdata::write(w, *o, ctx.md.json());
    }
    w.end_array();
    respond(json_response(200, w.take()));
  });
}

void Api::cancel_all(Call& call) {
  InstrumentId instrument = 0;
  if (auto symbol = call.query.get("symbol")) {
    auto info = core_.symbols().find(*symbol);
    if (!info) return call.fail(ApiError{404, "UNKNOWN_SYMBOL", "unknown symbol: " + std::string(*symbol)});
    instrument = info->id;
  }
  auto respond = call.respond;
  post(call, Command::make(0, 0, MassCancel{call.key->account, instrument}), [respond](CoreContext& c) {
    if (answered_failure(respond, c)) return;
    const Event* m = find_event(c.events, EventType::kMassCancelled);
    JsonWriter out;
    out.begin_object().key("cancelled").unsigned_integer(m != nullptr ? m->mass_cancelled.count : 0);
    out.end_object();
    respond(json_response(200, out.take()));
  });
}

void Api::get_order(Call& call, OrderId id) {
  const AccountId account = call.key->account;
  auto respond = call.respond;
  post(call, std::nullopt, [id, account, respond](CoreContext& ctx) {
    const marketdata::TrackedOrder* o = ctx.md.orders.find(id);
    if (o == nullptr || o->state.account != account) return respond(unknown_order());
    respond(json_response(200, marketdata::to_json(*o, ctx.md.json())));
  });
}

namespace {

// The answer to a Cancel or Replace: the order as it is now, or the reject.
void answer_order_command(const Responder& respond, CoreContext& c, OrderId id) {
  if (answered_failure(respond, c)) return;
  const marketdata::TrackedOrder* o = c.md.orders.find(id);
  if (o == nullptr) return respond(unknown_order());
  respond(json_response(200, marketdata::to_json(*o, c.md.json())));
}

}  // namespace

void Api::cancel_order(Call& call, OrderId id) {
  auto respond = call.respond;
  post(call, Command::make(0, 0, Cancel{call.key->account, id}),
       [respond, id](CoreContext& c) { answer_order_command(respond, c, id); });
}

void Api::replace_order(Call& call, OrderId id) {
  Parsed<ReplaceRequest> parsed = parse_replace_request(call.request.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return call.fail(*e);
  const AccountId account = call.key->account;
  const int cash_scale = options_.cash_scale;
  auto respond = call.respond;
  auto request = std::make_shared<ReplaceRequest>(std::move(std::get<ReplaceRequest>(parsed)));
  // The scales are those of the order's instrument: resolved on the engine thread.
  post(call, std::nullopt, [this, request, id, account, cash_scale, respond](CoreContext& ctx) {
    const marketdata::TrackedOrder* o = ctx.md.orders.find(id);
    if (o == nullptr || o->state.account != account || !o->state.is_open()) {
      return respond(unknown_order());
    }
    const marketdata::InstrumentInfo* info = ctx.md.instruments.find(o->state.instrument);
    if (info == nullptr) return respond(unknown_order());
    Parsed<Replace> replace = to_replace(*request, account, id, scales_of(*info, cash_scale));
    if (auto* e = std::get_if<ApiError>(&replace)) return respond(error_response(*e));
    Work w;
    w.command = Command::make(0, 0, std::get<Replace>(replace));
    w.done = [respond, id](CoreContext& c) { answer_order_command(respond, c, id); };
    if (!core_.post(std::move(w))) {
      respond(busy());
    }
  });
}

// --- account -------------------------------------------------------------

void Api::account(Call& call) {
  const AccountId account = call.key->account;
  auto respond = call.respond;
  const std::string cash_asset = options_.cash_asset;
  const int cash_scale = options_.cash_scale;
  post(call, std::nullopt, [account, respond, cash_asset, cash_scale](CoreContext& ctx) {
    JsonWriter w;
    w.begin_object().key("accountId").unsigned_integer(account).key("balances").begin_array();
    if (auto cash = ctx.engine.balance(account, kCashAsset)) {
      write_balance(w, cash_asset, *cash, cash_scale);
    }
    for (const marketdata::InstrumentInfo& i : ctx.md.instruments.all()) {
      auto b = ctx.engine.balance(account, i.id);
      if (!b || (b->total == 0 && b->held == 0)) continue;
      write_balance(w, i.symbol(), *b, i.quantity_scale());
    }
    w.end_array().end_object();
    respond(json_response(200, w.take()));
  });
}

void Api::positions(Call& call) {
  const AccountId account = call.key->account;
  auto respond = call.respond;
  const int cash_scale = options_.cash_scale;
  post(call, std::nullopt, [account, respond, cash_scale](CoreContext& ctx) {
    JsonWriter w;
    w.begin_array();
    for (const marketdata::InstrumentInfo& i : ctx.md.instruments.all()) {
      auto p = ctx.engine.position(account, i.id);
      if (!p || (p->quantity == 0 && p->realized_pnl == 0 && p->cost == 0)) continue;
      w.begin_object().key("symbol").string(i.symbol());
      w.key("quantity").decimal(p->quantity, i.quantity_scale());
      w.key("averageCost");
      if (p->quantity != 0) {
        w.decimal(p->average_cost, i.price_scale());
      } else {
        w.null();
      }
      w.key("costBasis").decimal(p->cost, cash_scale);
      w.key("realizedPnl").decimal(p->realized_pnl, cash_scale);
      w.key("unrealizedPnl").decimal(p->unrealized_pnl, cash_scale).end_object();
    }
    w.end_array();
    respond(json_response(200, w.take()));
  });
}

void Api::fills(Call& call) {
  Parsed<std::uint64_t> limit = parse_uint(call.query.get("limit").value_or("100"), "limit", 1,
                                           options_.max_list);
  if (auto* e = std::get_if<ApiError>(&limit)) return call.fail(*e);
  const std::size_t n = std::get<std::uint64_t>(limit);
  const AccountId account = call.key->account;
  auto respond = call.respond;
  post(call, std::nullopt, [account, respond, n](CoreContext& ctx) {
    const auto& all = ctx.md.orders.fills(account);
    JsonWriter w;
    w.begin_array();
    std::size_t written = 0;
    for (auto it = all.rbegin(); it != all.rend() && written < n; ++it, ++written) {
      marketdata::write(w, *it, ctx.md.json());  // newest first
    }
    w.end_array();
    respond(json_response(200, w.take()));
  });
}

// --- market data (public) ------------------------------------------------

void Api::instruments(Call& call) {
  auto respond = call.respond;
  post(call, std::nullopt, [respond](CoreContext& ctx) {
    JsonWriter w;
    w.begin_array();
    for (const marketdata::InstrumentInfo& i : ctx.md.instruments.all()) write_instrument(w, i);
    w.end_array();
    respond(json_response(200, w.take()));
  });
}

void Api::route_market(Call& call, std::string_view kind, std::string_view symbol_view) {
  if (kind != "orderbook" && kind != "trades" && kind != "ticker" && kind != "candles") {
    return call.answer(not_found());
  }
  if (!admit(call, address_bucket(call.request.remote))) return;
  std::size_t limit = 0;
  marketdata::CandleInterval interval = marketdata::CandleInterval::k1m;
  if (kind == "orderbook" || kind == "trades" || kind == "candles") {
    const std::string_view name = kind == "orderbook" ? "depth" : "limit";
    Parsed<std::uint64_t> n = parse_uint(call.query.get(name).value_or(kind == "orderbook" ? "10" : "100"),
                                         name, 1, kind == "orderbook" ? options_.max_depth : options_.max_list);
    if (auto* e = std::get_if<ApiError>(&n)) return call.fail(*e);
    limit = std::get<std::uint64_t>(n);
  }
  if (kind == "candles") {
    auto parsed = marketdata::parse_candle_interval(call.query.get("interval").value_or("1m"));
    if (!parsed) {
      return call.fail(ApiError{400, "INVALID_PARAMETER", "interval: one of 1m, 5m, 1h, 1d"});
    }
    interval = *parsed;
  }
  const std::string symbol(symbol_view);
  const std::string what(kind);
  auto respond = call.respond;
  post(call, std::nullopt, [symbol, what, limit, interval, respond](CoreContext& ctx) {
    const marketdata::InstrumentInfo* info = ctx.md.instruments.find(symbol);
    if (info == nullptr) return respond(error_response(404, "UNKNOWN_SYMBOL", "unknown symbol: " + symbol));
    const marketdata::JsonContext jc = ctx.md.json();
    if (what == "orderbook") {
      auto book = ctx.md.book.snapshot(info->id, limit);
      return respond(json_response(200, marketdata::to_json(*book, jc)));
    }
    if (what == "ticker") {
      return respond(json_response(200, marketdata::to_json(ctx.md.tape.ticker(info->id, ctx.md.book), jc)));
    }
    JsonWriter w;
    if (what == "trades") {
      w.begin_array();
      for (const auto& t : ctx.md.tape.recent_trades(info->id, limit)) marketdata::write(w, t, jc);
      w.end_array();
    } else {
      marketdata::CandleSeries series{info->id, interval, ctx.md.tape.candles(info->id, interval, limit)};
      marketdata::write(w, series, jc);
    }
    respond(json_response(200, w.take()));
  });
}

// --- admin ---------------------------------------------------------------

void Api::add_instrument(Call& call) {
  Parsed<InstrumentRequest> parsed = parse_instrument_request(call.request.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return call.fail(*e);
  Parsed<AddInstrument> spec = to_add_instrument(std::get<InstrumentRequest>(parsed));
  if (auto* e = std::get_if<ApiError>(&spec)) return call.fail(*e);
  auto respond = call.respond;
  post(call, Command::make(0, 0, std::get<AddInstrument>(spec)), [respond](CoreContext& c) {
    if (answered_failure(respond, c)) return;
    const Event* added = find_event(c.events, EventType::kInstrumentAdded);
    const marketdata::InstrumentInfo* info =
        added != nullptr ? c.md.instruments.find(added->instrument_added.instrument) : nullptr;
    if (info == nullptr) return respond(error_response(500, "INTERNAL", "instrument not added"));
    JsonWriter w;
    write_instrument(w, *info);
    respond(json_response(201, w.take()));
  });
}

void Api::create_account(Call& call) {
  Parsed<AccountRequest> parsed = parse_account_request(call.request.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return call.fail(*e);
  const std::string label = std::get<AccountRequest>(parsed).label;
  CreateAccount spec{};
  spec.label = FixedString<16>::from(label);
  spec.type = AccountType::kCash;
  auto respond = call.respond;
  KeyStore* keys = &keys_;
  post(call, Command::make(0, 0, spec), [respond, keys, label](CoreContext& c) {
    if (answered_failure(respond, c)) return;
    const Event* created = find_event(c.events, EventType::kAccountCreated);
    if (created == nullptr) return respond(error_response(500, "INTERNAL", "account not created"));
    const AccountId id = created->account_created.account;
    Result<std::string> key = keys->create_key(id, kRead | kTrade, label);
    if (!key.ok()) {
      return respond(error_response(500, "KEY_STORE_FAILED",
                                    "account " + std::to_string(id) +
                                        " was created but its key could not be stored: " +
                                        key.status().to_string()));
    }
    JsonWriter w;
    w.begin_object().key("accountId").unsigned_integer(id).key("label").string(label);
    w.key("apiKey").string(key.value()).end_object();
    respond(json_response(201, w.take()));
  });
}

void Api::transfer(Call& call, bool deposit) {
  Parsed<TransferRequest> parsed = parse_transfer_request(call.request.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return call.fail(*e);
  const TransferRequest& request = std::get<TransferRequest>(parsed);
  AssetId asset = kCashAsset;
  int scale = options_.cash_scale;
  if (request.asset != options_.cash_asset) {
    auto info = core_.symbols().find(request.asset);
    if (!info) {
      return call.fail(ApiError{400, "INVALID_ASSET",
                                "asset: '" + options_.cash_asset + "' or a listed symbol"});
    }
    asset = info->id;
    scale = info->quantity_scale();
  }
  Parsed<std::int64_t> amount = to_scaled(request.amount, "amount", scale);
  if (auto* e = std::get_if<ApiError>(&amount)) return call.fail(*e);
  const Transfer t{request.account, asset, std::get<std::int64_t>(amount)};
  auto respond = call.respond;
  const std::string asset_name = request.asset;
  post(call, deposit ? Command::deposit(0, 0, t) : Command::withdraw(0, 0, t),
       [respond, t, scale, asset_name](CoreContext& c) {
         if (answered_failure(respond, c)) return;
         auto b = c.engine.balance(t.account, t.asset);
         if (!b) return respond(error_response(500, "INTERNAL", "no balance after transfer"));
         JsonWriter w;
         w.begin_object().key("accountId").unsigned_integer(t.account).key("balance");
         write_balance(w, asset_name, *b, scale);
         w.end_object();
         respond(json_response(200, w.take()));
       });
}

void Api::set_status(Call& call, std::string_view symbol, InstrumentStatus status) {
  auto info = core_.symbols().find(symbol);
  if (!info) return call.fail(ApiError{404, "UNKNOWN_SYMBOL", "unknown symbol: " + std::string(symbol)});
  const InstrumentId id = info->id;
  auto respond = call.respond;
  post(call, Command::make(0, 0, SetInstrumentStatus{id, status}), [respond, id](CoreContext& c) {
    if (answered_failure(respond, c)) return;
    JsonWriter w;
    write_instrument(w, *c.md.instruments.find(id));
    respond(json_response(200, w.take()));
  });
}

void Api::kill_switch(Call& call, std::string_view account_id) {
  Parsed<std::uint64_t> id = parse_uint(account_id, "accountId", 1, UINT32_MAX);
  if (auto* e = std::get_if<ApiError>(&id)) return call.answer(error_response(404, "UNKNOWN_ACCOUNT", e->message));
  Parsed<KillSwitchRequest> parsed = parse_kill_switch_request(call.request.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return call.fail(*e);
  const SetKillSwitch k{static_cast<AccountId>(std::get<std::uint64_t>(id)),
                        std::get<KillSwitchRequest>(parsed).enabled};
  auto respond = call.respond;
  post(call, Command::make(0, 0, k), [respond, k](CoreContext& c) {
    if (answered_failure(respond, c)) return;
    JsonWriter w;
    w.begin_object().key("accountId").unsigned_integer(k.account);
    w.key("killSwitch").boolean(k.enabled).end_object();
    respond(json_response(200, w.take()));
  });
}

void Api::account_limits(Call& call, std::string_view account_id) {
  Parsed<std::uint64_t> id = parse_uint(account_id, "accountId", 1, UINT32_MAX);
  if (auto* e = std::get_if<ApiError>(&id)) return call.answer(error_response(404, "UNKNOWN_ACCOUNT", e->message));
  Parsed<AccountLimitsRequest> parsed = parse_account_limits_request(call.request.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return call.fail(*e);
  const AccountLimitsRequest& r = std::get<AccountLimitsRequest>(parsed);
  SetAccountLimits limits{};
  limits.account = static_cast<AccountId>(std::get<std::uint64_t>(id));
  limits.max_open_orders = r.max_open_orders;
  limits.max_orders_per_second = r.max_orders_per_second;
  if (r.max_order_notional.present) {
    Parsed<std::int64_t> notional =
        to_scaled(r.max_order_notional, "maxOrderNotional", options_.cash_scale);
    if (auto* e = std::get_if<ApiError>(&notional)) return call.fail(*e);
    limits.max_order_notional = std::get<std::int64_t>(notional);
  }
  auto respond = call.respond;
  const int cash_scale = options_.cash_scale;
  post(call, Command::make(0, 0, limits), [respond, limits, cash_scale](CoreContext& c) {
    if (answered_failure(respond, c)) return;
    JsonWriter w;  // 0 / null: the engine default applies
    w.begin_object().key("accountId").unsigned_integer(limits.account);
    w.key("maxOpenOrders").unsigned_integer(limits.max_open_orders);
    w.key("maxOrdersPerSecond").unsigned_integer(limits.max_orders_per_second);
    w.key("maxOrderNotional");
    if (limits.max_order_notional != 0) {
      w.decimal(limits.max_order_notional, cash_scale);
    } else {
      w.null();
    }
    w.end_object();
    respond(json_response(200, w.take()));
  });
}

void Api::instrument_limits(Call& call, std::string_view symbol) {
  auto info = core_.symbols().find(symbol);
  if (!info) return call.fail(ApiError{404, "UNKNOWN_SYMBOL", "unknown symbol: " + std::string(symbol)});
  Parsed<InstrumentLimitsRequest> parsed = parse_instrument_limits_request(call.request.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return call.fail(*e);
  const InstrumentLimitsRequest& r = std::get<InstrumentLimitsRequest>(parsed);
  Parsed<std::int64_t> quantity =
      to_scaled(r.max_order_quantity, "maxOrderQuantity", info->quantity_scale());
  if (auto* e = std::get_if<ApiError>(&quantity)) return call.fail(*e);
  Parsed<std::int64_t> notional =
      to_scaled(r.max_order_notional, "maxOrderNotional", options_.cash_scale);
  if (auto* e = std::get_if<ApiError>(&notional)) return call.fail(*e);
  SetInstrumentLimits limits{};
  limits.instrument = info->id;
  limits.collar_bps = r.collar_bps;
  limits.breaker_bps = r.breaker_bps;
  limits.max_order_quantity = std::get<std::int64_t>(quantity);
  limits.max_order_notional = std::get<std::int64_t>(notional);
  limits.breaker_halt_ns = r.breaker_halt_seconds * 1'000'000'000;
  auto respond = call.respond;
  const int cash_scale = options_.cash_scale;
  const int quantity_scale = info->quantity_scale();
  const std::string name(symbol);
  post(call, Command::make(0, 0, limits),
       [respond, limits, cash_scale, quantity_scale, name](CoreContext& c) {
         if (answered_failure(respond, c)) return;
         JsonWriter w;  // 0 / null: the engine default applies
         w.begin_object().key("symbol").string(name);
         w.key("collarBps").integer(limits.collar_bps);
         w.key("breakerBps").integer(limits.breaker_bps);
         w.key("maxOrderQuantity");
         if (limits.max_order_quantity != 0) {
           w.decimal(limits.max_order_quantity, quantity_scale);
         } else {
           w.null();
         }
         w.key("maxOrderNotional");
         if (limits.max_order_notional != 0) {
           w.decimal(limits.max_order_notional, cash_scale);
         } else {
           w.null();
         }
         w.key("breakerHaltSeconds").integer(limits.breaker_halt_ns / 1'000'000'000);
         w.end_object();
         respond(json_response(200, w.take()));
       });
}

// --- WebSocket -----------------------------------------------------------

namespace {

class ApiWsConnection : public WsConnection {
 public:
  ApiWsConnection(Core& core, std::shared_ptr<WsSink> sink) : core_(core), sink_(std::move(sink)) {}

  void on_message(std::string_view text) override {
    Parsed<WsRequest> parsed = parse_ws_request(text);
    if (auto* e = std::get_if<ApiError>(&parsed)) return reply_error(e->code, e->message);
    auto request = std::make_shared<WsRequest>(std::move(std::get<WsRequest>(parsed)));
    const std::uint64_t id = sink_->id();
    Work w;
    w.done = [request, id](CoreContext& ctx) { ctx.hub.handle(id, *request, ctx.md); };
    if (!core_.post(std::move(w))) reply_error("BUSY", "the exchange is at capacity; retry shortly");
  }
  void on_close() override {}  // the hub forgets closed sinks itself

 private:
  void reply_error(std::string_view code, std::string_view message) {
    JsonWriter w;
    w.begin_object().key("type").string("error").key("code").string(code);
    w.key("message").string(message).end_object();
    (void)sink_->send(std::make_shared<const std::string>(w.take()), MessageClass::kPrivate);
  }

  Core& core_;
  std::shared_ptr<WsSink> sink_;
};

}  // namespace

std::unique_ptr<WsConnection> Api::on_open(const HttpRequest& request, std::shared_ptr<WsSink> sink,
                                           HttpResponse* refusal) {
  AccountId account = 0;
  if (!request.authorization.empty()) {
    auto key = keys_.authenticate(request.authorization);
    if (!key) {
      *refusal = error_response(401, "UNAUTHORIZED", "invalid API key");
      return nullptr;
    }
    account = key->account;
  }
  Work w;
  w.done = [sink, account](CoreContext& ctx) { ctx.hub.attach(sink, account); };
  if (!core_.post(std::move(w))) {
    *refusal = busy();
    return nullptr;
  }
  return std::make_unique<ApiWsConnection>(core_, std::move(sink));
}

}  // namespace stox::server
