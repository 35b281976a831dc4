// Request parsing for the REST and WebSocket API: bytes in, typed requests
// or an ApiError out. Pure functions: no threads, no sockets, no clock.
//
// Two steps, on two threads:
//   parse_*  (I/O threads)    JSON text -> a request struct. Checks syntax,
//                              types, enum names, lengths and integer ranges;
//                              decimals are kept as text (DecimalField).
//   to_*     (engine thread)  request + instrument scales -> engine command.
//                              Scales decimals exactly (never rounded) and
//                              applies the defaults documented below.
// The engine still validates every command (docs/design.md, "Rules"); the
// checks here exist so that a client gets an error naming the field.
//
// Rules for every JSON body (what the client sees):
//  - the body is one JSON object of at most kMaxJsonBytes bytes, nested at
//    most kMaxJsonDepth deep, valid UTF-8 (simdjson validates all three).
//    Otherwise: INVALID_JSON with simdjson's error text (413 BODY_TOO_LARGE
//    for size).
//  - unknown members: UNKNOWN_FIELD naming the member (a typo such as
//    "postonly" must never be silently ignored); a member given twice:
//    DUPLICATE_FIELD; a required member absent: MISSING_FIELD; a wrong JSON
//    type, a bad enum name, a length or range violation: INVALID_FIELD. Every
//    message starts with the field's name ("price: ...").
//  - null is never accepted in place of a value: leave the member out.
//  - enums are exact upper-case strings; booleans are JSON true/false;
//    integers are JSON integers (no fraction, no exponent, not strings).
//  - decimals (prices, quantities, amounts) are a JSON string ("150.25") or
//    a JSON number token (150.25), read as text, never as binary floating
//    point; the grammar is src/common/decimal.h's plus an optional '-'.
//    Exponents ("1e3") are refused with a message asking for plain decimal
//    notation; a value whose integer part does not fit in 64 bits is "out
//    of range". Both forms give identical results.
//  - symbol: 1..16 characters of [A-Z0-9._-]; clientOrderId and account
//    label: printable ASCII (0x20..0x7E), clientOrderId 1..16, label 0..16.
//
// Error messages quote client text only after replacing every byte outside
// printable ASCII with '?', so error_json() always produces valid JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/reason.h"
#include "common/types.h"
#include "core/command.h"

namespace stox::server {

inline constexpr std::size_t kMaxJsonBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxJsonDepth = 16;
inline constexpr std::size_t kMaxSymbolLength = 16;
inline constexpr std::size_t kMaxClientOrderIdLength = 16;
inline constexpr std::size_t kMaxLabelLength = 16;
inline constexpr std::size_t kMaxWsSymbols = 100;  // symbols in one subscribe/unsubscribe
inline constexpr int kMinWsDepth = 1;
inline constexpr int kMaxWsDepth = 50;
inline constexpr int kDefaultWsDepth = 10;
inline constexpr std::size_t kMaxQueryParams = 16;

// An error for the client: HTTP status, a stable upper-case code and a
// human message. Codes used here: INVALID_JSON, BODY_TOO_LARGE (413),
// UNKNOWN_FIELD, DUPLICATE_FIELD, MISSING_FIELD, INVALID_FIELD,
// INVALID_QUERY, DUPLICATE_PARAMETER, UNKNOWN_PARAMETER, INVALID_PARAMETER,
// INTERNAL (500, a caller bug such as a scale outside 0..9), and the
// RejectReason names of engine_reject().
struct ApiError {
  int status = 400;
  std::string code;
  std::string message;
};

template <class T>
using Parsed = std::variant<T, ApiError>;

// {"code":"...","message":"..."}
std::string error_json(const ApiError& e);

// True if `s` is 1..16 characters of [A-Z0-9._-] (the symbol rule).
bool valid_symbol(std::string_view s);

// ---------------------------------------------------------------------------
// Decimals

// A decimal as the client sent it (a JSON string's content, or a JSON
// number's raw token), syntax-checked only. absent: present == false.
struct DecimalField {
  bool present = false;
  std::string text;
};

// The value of `f` at `scale` decimals (parse_decimal: exact, never
// rounded); 0 when absent (the engine's "absent"). Errors name the field:
// "price: more than 2 decimals", "quantity: out of range",
// "price: must not be negative" (unless allow_negative). A scale outside
// 0..9 is a caller bug: status 500, code INTERNAL.
Parsed<std::int64_t> to_scaled(const DecimalField& f, std::string_view field_name, int scale,
                               bool allow_negative = false);

// The scales of the instrument a request is for, looked up by the caller
// (engine thread) from the request's symbol.
struct InstrumentScales {
  InstrumentId id = 0;
  int price_scale = 0;
  int quantity_scale = 0;
  int cash_scale = 0;
};

// ---------------------------------------------------------------------------
// Orders

// POST /api/v1/orders
//   {"symbol":"ACME","side":"BUY","type":"LIMIT","timeInForce":"GTC",
//    "quantity":"10","price":"150.25","postOnly":false,"clientOrderId":"c-1",
//    "selfTradePrevention":"CANCEL_TAKER"}
// Members: symbol, side (BUY|SELL), type (LIMIT|MARKET|STOP|STOP_LIMIT)
// required; timeInForce (DAY|GTC|IOC|FOK), quantity, quoteQuantity, price,
// stopPrice, displayQuantity, postOnly, clientOrderId,
// selfTradePrevention (CANCEL_TAKER|CANCEL_MAKER|CANCEL_BOTH|DECREMENT, the
// engine's StpMode names; CANCEL_TAKER cancels the incoming = newest order)
// optional. Exactly one of quantity and quoteQuantity is required.
// Which fields a type needs (price for LIMIT, ...) is the engine's rule and
// comes back as its reject reason (400), not checked here.
struct OrderRequest {
  std::string symbol;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  std::optional<TimeInForce> time_in_force;
  DecimalField quantity, quote_quantity, price, stop_price, display_quantity;
  bool post_only = false;
  std::string client_order_id;  // empty = none
  StpMode stp = StpMode::kCancelTaker;  // the engine's default
};
Parsed<OrderRequest> parse_order_request(std::string_view body);

// The engine command for `r`. Scales: price, stopPrice and quoteQuantity
// (cash to spend, docs/design.md "Numbers") at the price scale; quantity and
// displayQuantity at the quantity scale. Defaults: timeInForce GTC for
// LIMIT, STOP and STOP_LIMIT, IOC for MARKET; selfTradePrevention
// CANCEL_TAKER; postOnly false. A decimal given explicitly must be > 0 (zero
// means "absent" to the engine, so "price":"0" would otherwise silently
// mean no price).
Parsed<NewOrder> to_new_order(const OrderRequest& r, AccountId account, const InstrumentScales& s);

// PUT /api/v1/orders/{id}: {"quantity":"20","price":"151","stopPrice":"149"},
// at least one member. quantity is the new total (filled part included).
struct ReplaceRequest {
  DecimalField quantity, price, stop_price;
};
Parsed<ReplaceRequest> parse_replace_request(std::string_view body);
// Absent members are 0 ("unchanged"); present ones must be > 0.
Parsed<Replace> to_replace(const ReplaceRequest& r, AccountId account, OrderId id,
                           const InstrumentScales& s);

// ---------------------------------------------------------------------------
// Admin

// POST /api/v1/admin/instruments
//   {"symbol":"ACME","tickSize":"0.01","lotSize":"1","referencePrice":"150",
//    "makerFeeBps":-2,"takerFeeBps":10,"priceScale":2,"quantityScale":0,
//    "marketBandBps":500}
// Required: symbol, tickSize, lotSize, referencePrice. makerFeeBps in
// -10000..10000 and takerFeeBps in 0..10000 default to 0; priceScale and
// quantityScale (0..9) default to the number of decimals of tickSize and
// lotSize as written ("0.010" has 3); marketBandBps (1..10000) defaults to
// the engine's band.
struct InstrumentRequest {
  std::string symbol;
  DecimalField tick_size, lot_size, reference_price;
  std::int32_t maker_fee_bps = 0, taker_fee_bps = 0;
  std::optional<int> price_scale, quantity_scale;
  std::optional<std::int32_t> market_band_bps;
};
Parsed<InstrumentRequest> parse_instrument_request(std::string_view body);
// tickSize, lotSize and referencePrice must be > 0 at their scales;
// makerFeeBps must not be below -takerFeeBps.
Parsed<AddInstrument> to_add_instrument(const InstrumentRequest& r);

// POST /api/v1/admin/accounts: {"label":"desk-1"} or an empty body (no label).
struct AccountRequest {
  std::string label;  // 0..16 printable ASCII
};
Parsed<AccountRequest> parse_account_request(std::string_view body);
// A CASH account (the only type the engine accepts today).
CreateAccount to_create_account(const AccountRequest& r);

// POST /api/v1/admin/deposits and /withdrawals:
//   {"accountId":1,"asset":"USD","amount":"1000.50"}
// accountId is 1..0xFFFFFFFD (the two system accounts above are refused);
// asset is the cash asset's name or an instrument symbol (symbol rule);
// amount is required. The caller resolves the asset and its scale.
struct TransferRequest {
  AccountId account = 0;
  std::string asset;
  DecimalField amount;
};
Parsed<TransferRequest> parse_transfer_request(std::string_view body);
// amount at `scale` (the cash scale, or the instrument's quantity scale for
// shares), > 0.
Parsed<Transfer> to_transfer(const TransferRequest& r, AssetId asset, int scale);

// {"enabled":true}
struct KillSwitchRequest {
  bool enabled = false;
};
Parsed<KillSwitchRequest> parse_kill_switch_request(std::string_view body);

// POST /api/v1/admin/accounts/{id}/limits: {maxOpenOrders, maxOrdersPerSecond,
// maxOrderNotional}. Every field is optional; an absent one is 0, the
// engine default (so an empty object resets the account to the defaults).
// maxOrderNotional is a decimal at the cash scale.
struct AccountLimitsRequest {
  std::uint32_t max_open_orders = 0;
  std::uint32_t max_orders_per_second = 0;
  DecimalField max_order_notional;
};
Parsed<AccountLimitsRequest> parse_account_limits_request(std::string_view body);

// POST /api/v1/admin/instruments/{symbol}/limits: {collarBps, breakerBps,
// maxOrderQuantity, maxOrderNotional, breakerHaltSeconds}. Every field is
// optional; an absent one is 0, the engine default (an empty object resets
// the instrument to the defaults). Bps are integers 0..10000;
// maxOrderQuantity is a decimal at the instrument's quantity scale,
// maxOrderNotional at the cash scale; breakerHaltSeconds 0..604800.
struct InstrumentLimitsRequest {
  std::int32_t collar_bps = 0;
  std::int32_t breaker_bps = 0;
  DecimalField max_order_quantity;
  DecimalField max_order_notional;
  std::int64_t breaker_halt_seconds = 0;
};
Parsed<InstrumentLimitsRequest> parse_instrument_limits_request(std::string_view body);

// ---------------------------------------------------------------------------
// WebSocket

// {"action":"subscribe"|"unsubscribe","channel":"quotes"|"trades"|"depth"|"orders",
//  "symbols":["ACME",...],"depth":10}
// symbols: 1..kMaxWsSymbols distinct symbols, required except for "orders"
// (absent or empty = all of the account's orders). depth: 1..50, only on
// the depth channel, default 10.
enum class WsAction : std::uint8_t { kSubscribe, kUnsubscribe };
enum class WsChannel : std::uint8_t { kQuotes, kTrades, kDepth, kOrders };
std::string_view to_string(WsAction a);
std::string_view to_string(WsChannel c);

struct WsRequest {
  WsAction action = WsAction::kSubscribe;
  WsChannel channel = WsChannel::kQuotes;
  std::vector<std::string> symbols;
  int depth = kDefaultWsDepth;
};
Parsed<WsRequest> parse_ws_request(std::string_view text);

// ---------------------------------------------------------------------------
// Query strings and path parameters

// The parameters of a query string, decoded. Names are unique.
class QueryParams {
 public:
  // The decoded value of `name`, or nullopt if absent. The view lives as
  // long as this object.
  std::optional<std::string_view> get(std::string_view name) const;
  std::size_t size() const { return params_.size(); }
  bool empty() const { return params_.empty(); }
  const std::vector<std::pair<std::string, std::string>>& params() const { return params_; }
  // UNKNOWN_PARAMETER naming the first parameter not in `allowed`, if any.
  std::optional<ApiError> only(std::initializer_list<std::string_view> allowed) const;

 private:
  friend Parsed<QueryParams> parse_query(std::string_view query);
  std::vector<std::pair<std::string, std::string>> params_;  // in query order
};

// `query` is the text after '?' ("" = no parameters). Parameters are
// "name=value" or "name" (empty value) separated by '&'; '+' is a space;
// %XX is a byte (two hex digits, either case). Names must be non-empty and
// unique (DUPLICATE_PARAMETER); at most kMaxQueryParams; decoded names and
// values must be printable ASCII (no API parameter needs more), so "%00" or
// "%FF" is INVALID_QUERY, as are bad escapes ("%4", "%zz").
Parsed<QueryParams> parse_query(std::string_view query);

// Strict unsigned decimal integer in [min, max]: digits only, no sign, no
// spaces, no leading zeros ("0" itself is fine). For query values ("depth",
// "limit") and ids in paths. INVALID_PARAMETER naming `name`.
Parsed<std::uint64_t> parse_uint(std::string_view text, std::string_view name, std::uint64_t min,
                                 std::uint64_t max);

// ---------------------------------------------------------------------------
// Engine rejects

// HTTP status of an engine reject:
//   400 the command itself is malformed (validation: side, type, time in
//       force, prices, quantities, ticks, lots, value overflow, bad
//       instrument/limits/status/amount fields, unsupported account type);
//   404 it names something that does not exist (UNKNOWN_ORDER,
//       UNKNOWN_ACCOUNT, UNKNOWN_SYMBOL, INVALID_ASSET);
//   409 it conflicts with an existing name (DUPLICATE_CLIENT_ORDER_ID,
//       DUPLICATE_SYMBOL);
//   429 RATE_LIMITED;
//   422 every other business rule: the request is well-formed but the state
//       of the exchange refuses it (halted, closed, funds, shares, collar,
//       limits, kill switch, post-only would take, stop would trigger, ...).
// kNone is not a reject: 500.
int http_status(RejectReason r);
// ApiError{http_status(r), to_string(r), a human sentence}.
ApiError engine_reject(RejectReason r);

}  // namespace stox::server
