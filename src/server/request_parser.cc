// How a body is read: simdjson twice over one padded copy.
//
//  1. The DOM parser checks the whole document first (size, UTF-8,
//     structure, string escapes, depth), so a malformed body is always
//     INVALID_JSON with simdjson's own error text, whatever member the
//     fault is in.
//  2. The On-Demand parser then walks the root object's members in order.
//     It is used because it exposes a number's raw token, so a decimal sent
//     as a JSON number is read as text and never passes through a double.
//
// One exception to "DOM first": simdjson's DOM refuses a document with a
// number it cannot hold (1e400, 2^70) or a malformed one (007), naming no
// member. Such a document goes on to step 2, where the member holding the
// number gets a precise INVALID_FIELD ("quantity: out of range"). If no
// member explains it, the DOM's error is returned, so every request that
// parses has passed the DOM's full validation.
#include "server/request_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <system_error>

#include "common/decimal.h"
#include "marketdata/json_writer.h"

namespace stox::server {
namespace {

namespace od = simdjson::ondemand;

using MaybeError = std::optional<ApiError>;

// ---------------------------------------------------------------------------
// Errors

bool is_printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u <= 0x7e;
}

// Client text, safe to quote in a message: printable ASCII only (other
// bytes become '?'), at most 64 characters.
std::string quote(std::string_view text) {
  constexpr std::size_t kMaxQuoted = 64;
  std::string out;
  out.reserve(std::min(text.size(), kMaxQuoted) + 3);
  for (const char c : text.substr(0, kMaxQuoted)) out.push_back(is_printable(c) ? c : '?');
  if (text.size() > kMaxQuoted) out += "...";
  return out;
}

ApiError named_error(std::string_view code, std::string_view name, std::string_view what) {
  std::string message = quote(name);
  message += ": ";
  message += what;
  return ApiError{400, std::string(code), std::move(message)};
}

ApiError invalid_field(std::string_view field, std::string_view what) {
  return named_error("INVALID_FIELD", field, what);
}

ApiError not_a_decimal(std::string_view field, std::string_view text) {
  return invalid_field(field, R"(expected a decimal like "150.25", got ")" + quote(text) + "\"");
}

ApiError missing_field(std::string_view field, std::string_view what = "required") {
  return named_error("MISSING_FIELD", field, what);
}

ApiError invalid_json(simdjson::error_code e) {
  return ApiError{400, "INVALID_JSON", std::string(simdjson::error_message(e))};
}

ApiError not_an_object() {
  return ApiError{400, "INVALID_JSON", "the body must be a JSON object"};
}

ApiError internal_error(std::string message) {
  return ApiError{500, "INTERNAL", std::move(message)};
}

template <std::size_t N>
std::string join(const std::array<std::string_view, N>& names) {
  std::string out;
  for (const std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

template <std::size_t N>
ApiError unknown_field(std::string_view key, const std::array<std::string_view, N>& known) {
  return named_error("UNKNOWN_FIELD", key, "unknown field; expected one of " + join(known));
}

// ---------------------------------------------------------------------------
// Documents

// The parsers of one thread, allocated once with the depth limit.
class Parsers {
 public:
  static Parsers& local() {
    thread_local Parsers parsers;
    return parsers;
  }

  simdjson::dom::parser dom{kMaxJsonBytes};
  od::parser ondemand{kMaxJsonBytes};
  simdjson::error_code init_error = simdjson::SUCCESS;

 private:
  Parsers() {
    // Small to start; both parsers grow (keeping the depth) up to kMaxJsonBytes.
    constexpr std::size_t kInitialCapacity = 4096;
    init_error = dom.allocate(kInitialCapacity, kMaxJsonDepth);
    if (init_error == simdjson::SUCCESS) init_error = ondemand.allocate(kInitialCapacity, kMaxJsonDepth);
  }
};

// Calls on_member(key, value) for each member of the JSON object `text`, in
// order, after the document checks described at the top of this file, and
// refuses a key seen before (compared after unescaping). on_member must
// consume the value or return an error, which stops the walk.
template <class OnMember>
MaybeError read_object(std::string_view text, OnMember&& on_member) {
  if (text.size() > kMaxJsonBytes) {
    return ApiError{413, "BODY_TOO_LARGE",
                    "the body is larger than " + std::to_string(kMaxJsonBytes) + " bytes"};
  }
  Parsers& parsers = Parsers::local();
  if (parsers.init_error) return invalid_json(parsers.init_error);
  const simdjson::padded_string padded(text);

  simdjson::dom::element root;
  const simdjson::error_code checked = parsers.dom.parse(padded).get(root);
  const bool bad_number = checked == simdjson::NUMBER_ERROR;
  if (checked && !bad_number) return invalid_json(checked);
  if (!checked && !root.is_object()) return not_an_object();

  od::document doc;
  if (auto e = parsers.ondemand.iterate(padded).get(doc)) return invalid_json(e);
  od::object object;
  if (auto e = doc.get_object().get(object)) {
    return e == simdjson::INCORRECT_TYPE ? not_an_object() : invalid_json(e);
  }
  std::vector<std::string> seen;
  for (auto member : object) {
    od::field field;
    if (auto e = std::move(member).get(field)) return invalid_json(e);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return invalid_json(e);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return named_error("DUPLICATE_FIELD", key, "given more than once");
    }
    seen.emplace_back(key);
    if (MaybeError err = on_member(key, field.value())) return err;
  }
  if (bad_number) return invalid_json(checked);
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Values

MaybeError read_type(od::value& v, od::json_type& type) {
  if (auto e = v.type().get(type)) return invalid_json(e);
  return std::nullopt;
}

MaybeError read_string(od::value& v, std::string_view field, std::string_view expected,
                       std::string_view& out) {
  od::json_type type{};
  if (MaybeError err = read_type(v, type)) return err;
  if (type != od::json_type::string) return invalid_field(field, "expected " + std::string(expected));
  if (auto e = v.get_string().get(out)) return invalid_json(e);
  return std::nullopt;
}

MaybeError read_symbol(od::value& v, std::string_view field, std::string& out) {
  std::string_view text;
  if (MaybeError err = read_string(v, field, "a symbol string", text)) return err;
  if (!valid_symbol(text)) {
    return invalid_field(field, "must be 1..16 characters of A-Z 0-9 . _ -, got \"" + quote(text) + "\"");
  }
  out = text;
  return std::nullopt;
}

// Printable ASCII text of min..max characters.
MaybeError read_printable(od::value& v, std::string_view field, std::size_t min, std::size_t max,
                          std::string& out) {
  std::string_view text;
  if (MaybeError err = read_string(v, field, "a string", text)) return err;
  if (text.size() < min || text.size() > max ||
      !std::all_of(text.begin(), text.end(), is_printable)) {
    return invalid_field(field, "must be " + std::to_string(min) + ".." + std::to_string(max) +
                                    " printable ASCII characters");
  }
  out = text;
  return std::nullopt;
}

template <class E, std::size_t N>
using EnumNames = std::array<std::pair<std::string_view, E>, N>;

template <class E, std::size_t N>
MaybeError read_enum(od::value& v, std::string_view field, const EnumNames<E, N>& names, E& out) {
  std::string allowed;
  for (const auto& [name, value] : names) {
    if (!allowed.empty()) allowed += ", ";
    allowed += name;
  }
  std::string_view text;
  if (MaybeError err = read_string(v, field, "a string, one of " + allowed, text)) return err;
  for (const auto& [name, value] : names) {
    if (text == name) {
      out = value;
      return std::nullopt;
    }
  }
  return invalid_field(field, "expected one of " + allowed + ", got \"" + quote(text) + "\"");
}

MaybeError read_bool(od::value& v, std::string_view field, bool& out) {
  od::json_type type{};
  if (MaybeError err = read_type(v, type)) return err;
  if (type != od::json_type::boolean) return invalid_field(field, "expected true or false");
  if (auto e = v.get_bool().get(out)) return invalid_json(e);
  return std::nullopt;
}

// A JSON integer (no fraction, no exponent) in [min, max].
MaybeError read_integer(od::value& v, std::string_view field, std::int64_t min, std::int64_t max,
                        std::int64_t& out) {
  const std::string expected =
      "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  od::json_type type{};
  if (MaybeError err = read_type(v, type)) return err;
  if (type != od::json_type::number) return invalid_field(field, expected);
  std::int64_t value = 0;
  if (v.get_int64().get(value) || value < min || value > max) return invalid_field(field, expected);
  out = value;
  return std::nullopt;
}

template <class Int>
MaybeError read_integer_as(od::value& v, std::string_view field, std::int64_t min, std::int64_t max,
                           Int& out) {
  std::int64_t value = 0;
  if (MaybeError err = read_integer(v, field, min, max, value)) return err;
  out = static_cast<Int>(value);
  return std::nullopt;
}

// The syntax of a decimal as sent (see the header): decimal.h's grammar
// with an optional '-', no exponent, an integer part that fits in 64 bits,
// and for a JSON number token JSON's "no leading zeros".
MaybeError check_decimal(std::string_view field, std::string_view text, bool json_number) {
  if (text.find_first_of("eE") != std::string_view::npos) {
    return invalid_field(field, "use plain decimal notation like \"150.25\", not an exponent");
  }
  const DecimalError syntax = parse_decimal(text, kMaxDecimalScale, /*allow_negative=*/true).error;
  if (syntax == DecimalError::kEmpty || syntax == DecimalError::kInvalidCharacter) {
    return not_a_decimal(field, text);
  }
  const std::string_view whole = text.substr(0, text.find('.'));
  if (parse_decimal(whole, 0, /*allow_negative=*/true).error == DecimalError::kOverflow) {
    return invalid_field(field, "out of range");
  }
  const std::string_view digits = whole.substr(whole.starts_with('-') ? 1 : 0);
  if (json_number && digits.size() > 1 && digits.front() == '0') {
    return invalid_field(field, "not a valid JSON number (leading zero)");
  }
  return std::nullopt;
}

std::string_view trim_trailing_whitespace(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

MaybeError read_decimal(od::value& v, std::string_view field, DecimalField& out) {
  od::json_type type{};
  if (MaybeError err = read_type(v, type)) return err;
  std::string_view text;
  const bool json_number = type == od::json_type::number;
  if (type == od::json_type::string) {
    if (auto e = v.get_string().get(text)) return invalid_json(e);
  } else if (json_number) {
    // The raw token (with the whitespace after it): never a double.
    text = trim_trailing_whitespace(v.raw_json_token());
  } else {
    return invalid_field(field, "expected a decimal: a string like \"150.25\" or a number");
  }
  if (MaybeError err = check_decimal(field, text, json_number)) return err;
  out.present = true;
  out.text = text;
  return std::nullopt;
}

MaybeError read_symbol_list(od::value& v, std::string_view field, std::vector<std::string>& out) {
  od::json_type type{};
  if (MaybeError err = read_type(v, type)) return err;
  if (type != od::json_type::array) return invalid_field(field, "expected an array of symbols");
  od::array array;
  if (auto e = v.get_array().get(array)) return invalid_json(e);
  for (auto element : array) {
    od::value item;
    if (auto e = element.get(item)) return invalid_json(e);
    if (out.size() == kMaxWsSymbols) {
      return invalid_field(field, "at most " + std::to_string(kMaxWsSymbols) + " symbols");
    }
    std::string symbol;
    if (MaybeError err = read_symbol(item, field, symbol)) return err;
    if (std::find(out.begin(), out.end(), symbol) != out.end()) {
      return invalid_field(field, "\"" + symbol + "\" given more than once");
    }
    out.push_back(std::move(symbol));
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Scaling

std::int64_t value_of(const Parsed<std::int64_t>& p) { return std::get<std::int64_t>(p); }

// `f` at `scale` into `out`; a present value must be > 0.
MaybeError scale_positive(const DecimalField& f, std::string_view field, int scale, std::int64_t& out) {
  const Parsed<std::int64_t> v = to_scaled(f, field, scale);
  if (const auto* e = std::get_if<ApiError>(&v)) return *e;
  if (f.present && value_of(v) == 0) return invalid_field(field, "must be greater than zero");
  out = value_of(v);
  return std::nullopt;
}

// The number of decimals of a decimal's text as written ("0.010" has 3).
int decimals_of(std::string_view text) {
  const std::size_t dot = text.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(text.size() - dot - 1);
}

// ---------------------------------------------------------------------------
// Names

constexpr EnumNames<Side, 2> kSides{{{"BUY", Side::kBuy}, {"SELL", Side::kSell}}};
constexpr EnumNames<OrderType, 4> kOrderTypes{{{"LIMIT", OrderType::kLimit},
                                               {"MARKET", OrderType::kMarket},
                                               {"STOP", OrderType::kStop},
                                               {"STOP_LIMIT", OrderType::kStopLimit}}};
constexpr EnumNames<TimeInForce, 4> kTimesInForce{{{"DAY", TimeInForce::kDay},
                                                   {"GTC", TimeInForce::kGtc},
                                                   {"IOC", TimeInForce::kIoc},
                                                   {"FOK", TimeInForce::kFok}}};
constexpr EnumNames<StpMode, 4> kStpModes{{{"CANCEL_TAKER", StpMode::kCancelTaker},
                                           {"CANCEL_MAKER", StpMode::kCancelMaker},
                                           {"CANCEL_BOTH", StpMode::kCancelBoth},
                                           {"DECREMENT", StpMode::kDecrement}}};
constexpr EnumNames<WsAction, 2> kWsActions{{{"subscribe", WsAction::kSubscribe},
                                             {"unsubscribe", WsAction::kUnsubscribe}}};
constexpr EnumNames<WsChannel, 4> kWsChannels{{{"quotes", WsChannel::kQuotes},
                                               {"trades", WsChannel::kTrades},
                                               {"depth", WsChannel::kDepth},
                                               {"orders", WsChannel::kOrders}}};

constexpr std::array<std::string_view, 12> kOrderFields{
    "symbol",   "side",      "type",           "timeInForce", "quantity",      "quoteQuantity",
    "price",    "stopPrice", "displayQuantity", "postOnly",   "clientOrderId", "selfTradePrevention"};
constexpr std::array<std::string_view, 3> kReplaceFields{"quantity", "price", "stopPrice"};
constexpr std::array<std::string_view, 9> kInstrumentFields{
    "symbol",      "tickSize",    "lotSize",       "referencePrice", "makerFeeBps",
    "takerFeeBps", "priceScale",  "quantityScale", "marketBandBps"};
constexpr std::array<std::string_view, 1> kAccountFields{"label"};
constexpr std::array<std::string_view, 3> kTransferFields{"accountId", "asset", "amount"};
constexpr std::array<std::string_view, 1> kKillSwitchFields{"enabled"};
constexpr std::array<std::string_view, 3> kAccountLimitsFields{"maxOpenOrders",
                                                               "maxOrdersPerSecond",
                                                               "maxOrderNotional"};
constexpr std::array<std::string_view, 5> kInstrumentLimitsFields{
    "collarBps", "breakerBps", "maxOrderQuantity", "maxOrderNotional", "breakerHaltSeconds"};
constexpr std::array<std::string_view, 4> kWsFields{"action", "channel", "symbols", "depth"};

constexpr std::int64_t kMaxBps = 10'000;
constexpr std::int64_t kMaxBreakerHaltSeconds = 604'800;  // a week
constexpr std::int64_t kMaxUserAccount = 0xFFFF'FFFD;  // below the fee and external accounts

// ---------------------------------------------------------------------------
// Query strings

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

ApiError invalid_query(std::string message) {
  return ApiError{400, "INVALID_QUERY", "query: " + std::move(message)};
}

// Percent-decodes `raw` ('+' is a space) into `out`; printable ASCII only.
MaybeError decode_component(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      const int hi = i + 1 < raw.size() ? hex_value(raw[i + 1]) : -1;
      const int lo = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return invalid_query("bad percent escape \"" + quote(raw.substr(i, 3)) +
                             "\" (expected % and two hex digits)");
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (!is_printable(c)) return invalid_query("parameters must decode to printable ASCII");
    out.push_back(c);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Engine rejects

struct RejectInfo {
  int status;
  std::string_view message;
};

// One switch without a default, so a new RejectReason fails to compile
// (-Werror=switch) until it has a status and a message here.
RejectInfo describe(RejectReason r) {
  switch (r) {
    case RejectReason::kNone: return {500, "rejected without a reason"};
    case RejectReason::kUnknownSymbol: return {404, "unknown symbol"};
    case RejectReason::kInstrumentHalted: return {422, "the instrument is halted"};
    case RejectReason::kInstrumentClosed: return {422, "the instrument is closed"};
    case RejectReason::kInvalidSide: return {400, "invalid side"};
    case RejectReason::kInvalidOrderType: return {400, "invalid order type"};
    case RejectReason::kInvalidTimeInForce:
      return {400, "time in force not allowed for this order type (LIMIT: DAY, GTC, IOC, FOK; "
                   "MARKET: IOC, FOK; STOP, STOP_LIMIT: DAY, GTC)"};
    case RejectReason::kInvalidStpMode: return {400, "invalid self-trade prevention mode"};
    case RejectReason::kPostOnlyNotAllowed: return {400, "postOnly is only allowed on LIMIT DAY or GTC"};
    case RejectReason::kMissingPrice: return {400, "LIMIT and STOP_LIMIT orders need a price"};
    case RejectReason::kUnexpectedPrice: return {400, "MARKET and STOP orders take no price"};
    case RejectReason::kMissingStopPrice: return {400, "STOP and STOP_LIMIT orders need a stopPrice"};
    case RejectReason::kUnexpectedStopPrice: return {400, "LIMIT and MARKET orders take no stopPrice"};
    case RejectReason::kPriceNotPositive: return {400, "prices must be greater than zero"};
    case RejectReason::kPriceOffTick: return {400, "price is not a multiple of the tick size"};
    case RejectReason::kQuantityNotPositive: return {400, "quantity must be greater than zero"};
    case RejectReason::kQuantityOffLot: return {400, "quantity is not a multiple of the lot size"};
    case RejectReason::kQuoteQuantityNotAllowed:
      return {400, "quoteQuantity is only allowed on MARKET BUY IOC orders without DECREMENT"};
    case RejectReason::kInvalidDisplayQuantity:
      return {400, "displayQuantity needs LIMIT DAY/GTC, must be below the quantity and a "
                   "multiple of the lot size"};
    case RejectReason::kValueOverflow: return {400, "price x quantity is too large"};
    case RejectReason::kDuplicateClientOrderId:
      return {409, "clientOrderId is already used by an open order of this account"};
    case RejectReason::kStopWouldTriggerImmediately:
      return {422, "the stop price is already reached by the last trade price"};
    case RejectReason::kUnknownOrder: return {404, "no such open order for this account"};
    case RejectReason::kQuantityNotAboveFilled:
      return {422, "the new quantity must be above the quantity already filled"};
    case RejectReason::kPostOnlyWouldTake: return {422, "a post-only order would take liquidity"};
    case RejectReason::kDuplicateSymbol: return {409, "the symbol already exists"};
    case RejectReason::kInvalidInstrument: return {400, "invalid instrument fields"};
    case RejectReason::kInvalidStatus: return {400, "invalid instrument status"};
    case RejectReason::kUnknownAccount: return {404, "unknown account"};
    case RejectReason::kInvalidCommand: return {400, "command not available in this mode"};
    case RejectReason::kInsufficientFunds: return {422, "insufficient funds"};
    case RejectReason::kInsufficientShares: return {422, "insufficient shares"};
    case RejectReason::kOrderQuantityTooLarge: return {422, "order quantity above the limit"};
    case RejectReason::kOrderNotionalTooLarge: return {422, "order notional above the limit"};
    case RejectReason::kPriceOutsideCollar: return {422, "price outside the collar"};
    case RejectReason::kTooManyOpenOrders: return {422, "too many open orders"};
    case RejectReason::kRateLimited: return {429, "too many orders per second"};
    case RejectReason::kAccountDisabled: return {422, "the account's kill switch is on"};
    case RejectReason::kInvalidLimits: return {400, "invalid limits"};
    case RejectReason::kUnsupportedAccountType: return {400, "unsupported account type"};
    case RejectReason::kInvalidAsset: return {404, "unknown asset"};
    case RejectReason::kInvalidAmount: return {400, "amount must be greater than zero"};
    case RejectReason::kInsufficientAvailable: return {422, "amount above the available balance"};
    case RejectReason::kBalanceOverflow: return {422, "the balance would overflow"};
  }
  return {500, "unknown reject reason"};
}

}  // namespace

// ---------------------------------------------------------------------------

std::string error_json(const ApiError& e) {
  marketdata::JsonWriter w;
  w.begin_object();
  w.key("code").string(e.code);
  w.key("message").string(e.message);
  w.end_object();
  return w.take();
}

bool valid_symbol(std::string_view s) {
  return !s.empty() && s.size() <= kMaxSymbolLength && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
         });
}

Parsed<std::int64_t> to_scaled(const DecimalField& f, std::string_view field_name, int scale,
                               bool allow_negative) {
  if (!f.present) return std::int64_t{0};
  const DecimalResult d = parse_decimal(f.text, scale, allow_negative);
  switch (d.error) {
    case DecimalError::kOk: return d.value;
    case DecimalError::kEmpty:
    case DecimalError::kInvalidCharacter:
      return not_a_decimal(field_name, f.text);
    case DecimalError::kTooManyDecimals:
      return invalid_field(field_name, "more than " + std::to_string(scale) + " decimals");
    case DecimalError::kOverflow: return invalid_field(field_name, "out of range");
    case DecimalError::kNegative: return invalid_field(field_name, "must not be negative");
    case DecimalError::kInvalidScale: break;
  }
  return internal_error(quote(field_name) + ": scale " + std::to_string(scale) + " outside 0..9");
}

// ---------------------------------------------------------------------------
// Orders

Parsed<OrderRequest> parse_order_request(std::string_view body) {
  OrderRequest r;
  bool has_side = false;
  bool has_type = false;
  MaybeError err = read_object(body, [&](std::string_view key, od::value& v) -> MaybeError {
    if (key == "symbol") return read_symbol(v, key, r.symbol);
    if (key == "side") {
      has_side = true;
      return read_enum(v, key, kSides, r.side);
    }
    if (key == "type") {
      has_type = true;
      return read_enum(v, key, kOrderTypes, r.type);
    }
    if (key == "timeInForce") {
      TimeInForce tif{};
      MaybeError e = read_enum(v, key, kTimesInForce, tif);
      r.time_in_force = tif;
      return e;
    }
    if (key == "quantity") return read_decimal(v, key, r.quantity);
    if (key == "quoteQuantity") return read_decimal(v, key, r.quote_quantity);
    if (key == "price") return read_decimal(v, key, r.price);
    if (key == "stopPrice") return read_decimal(v, key, r.stop_price);
    if (key == "displayQuantity") return read_decimal(v, key, r.display_quantity);
    if (key == "postOnly") return read_bool(v, key, r.post_only);
    if (key == "clientOrderId") return read_printable(v, key, 1, kMaxClientOrderIdLength, r.client_order_id);
    if (key == "selfTradePrevention") return read_enum(v, key, kStpModes, r.stp);
    return unknown_field(key, kOrderFields);
  });
  if (err) return *std::move(err);
  if (r.symbol.empty()) return missing_field("symbol");
  if (!has_side) return missing_field("side");
  if (!has_type) return missing_field("type");
  if (!r.quantity.present && !r.quote_quantity.present) {
    return missing_field("quantity", "required (or quoteQuantity for a MARKET BUY)");
  }
  if (r.quantity.present && r.quote_quantity.present) {
    return invalid_field("quoteQuantity", "give either quantity or quoteQuantity, not both");
  }
  return r;
}

Parsed<NewOrder> to_new_order(const OrderRequest& r, AccountId account, const InstrumentScales& s) {
  NewOrder o{};
  o.account = account;
  o.instrument = s.id;
  o.client_order_id = ClientOrderId::from(r.client_order_id);
  o.side = r.side;
  o.type = r.type;
  o.time_in_force =
      r.time_in_force.value_or(r.type == OrderType::kMarket ? TimeInForce::kIoc : TimeInForce::kGtc);
  o.stp = r.stp;
  o.post_only = r.post_only;
  if (MaybeError e = scale_positive(r.quantity, "quantity", s.quantity_scale, o.quantity)) return *e;
  if (MaybeError e = scale_positive(r.quote_quantity, "quoteQuantity", s.price_scale, o.quote_quantity)) {
    return *e;
  }
  if (MaybeError e = scale_positive(r.price, "price", s.price_scale, o.price)) return *e;
  if (MaybeError e = scale_positive(r.stop_price, "stopPrice", s.price_scale, o.stop_price)) return *e;
  if (MaybeError e = scale_positive(r.display_quantity, "displayQuantity", s.quantity_scale,
                                    o.display_quantity)) {
    return *e;
  }
  return o;
}

Parsed<ReplaceRequest> parse_replace_request(std::string_view body) {
  ReplaceRequest r;
  MaybeError err = read_object(body, [&](std::string_view key, od::value& v) -> MaybeError {
    if (key == "quantity") return read_decimal(v, key, r.quantity);
    if (key == "price") return read_decimal(v, key, r.price);
    if (key == "stopPrice") return read_decimal(v, key, r.stop_price);
    return unknown_field(key, kReplaceFields);
  });
  if (err) return *std::move(err);
  if (!r.quantity.present && !r.price.present && !r.stop_price.present) {
    return missing_field("quantity", "give at least one of quantity, price, stopPrice");
  }
  return r;
}

Parsed<Replace> to_replace(const ReplaceRequest& r, AccountId account, OrderId id,
                           const InstrumentScales& s) {
  Replace out{};
  out.account = account;
  out.order_id = id;
  if (MaybeError e = scale_positive(r.quantity, "quantity", s.quantity_scale, out.quantity)) return *e;
  if (MaybeError e = scale_positive(r.price, "price", s.price_scale, out.price)) return *e;
  if (MaybeError e = scale_positive(r.stop_price, "stopPrice", s.price_scale, out.stop_price)) return *e;
  return out;
}

// ---------------------------------------------------------------------------
// Admin

Parsed<InstrumentRequest> parse_instrument_request(std::string_view body) {
  InstrumentRequest r;
  MaybeError err = read_object(body, [&](std::string_view key, od::value& v) -> MaybeError {
    if (key == "symbol") return read_symbol(v, key, r.symbol);
    if (key == "tickSize") return read_decimal(v, key, r.tick_size);
    if (key == "lotSize") return read_decimal(v, key, r.lot_size);
    if (key == "referencePrice") return read_decimal(v, key, r.reference_price);
    if (key == "makerFeeBps") return read_integer_as(v, key, -kMaxBps, kMaxBps, r.maker_fee_bps);
    if (key == "takerFeeBps") return read_integer_as(v, key, 0, kMaxBps, r.taker_fee_bps);
    if (key == "priceScale") {
      int scale = 0;
      MaybeError e = read_integer_as(v, key, kMinDecimalScale, kMaxDecimalScale, scale);
      r.price_scale = scale;
      return e;
    }
    if (key == "quantityScale") {
      int scale = 0;
      MaybeError e = read_integer_as(v, key, kMinDecimalScale, kMaxDecimalScale, scale);
      r.quantity_scale = scale;
      return e;
    }
    if (key == "marketBandBps") {
      std::int32_t bps = 0;
      MaybeError e = read_integer_as(v, key, 1, kMaxBps, bps);
      r.market_band_bps = bps;
      return e;
    }
    return unknown_field(key, kInstrumentFields);
  });
  if (err) return *std::move(err);
  if (r.symbol.empty()) return missing_field("symbol");
  if (!r.tick_size.present) return missing_field("tickSize");
  if (!r.lot_size.present) return missing_field("lotSize");
  if (!r.reference_price.present) return missing_field("referencePrice");
  return r;
}

Parsed<AddInstrument> to_add_instrument(const InstrumentRequest& r) {
  if (!r.tick_size.present) return missing_field("tickSize");
  if (!r.lot_size.present) return missing_field("lotSize");
  if (!r.reference_price.present) return missing_field("referencePrice");
  const int price_scale = r.price_scale.value_or(decimals_of(r.tick_size.text));
  const int quantity_scale = r.quantity_scale.value_or(decimals_of(r.lot_size.text));
  if (price_scale > kMaxDecimalScale) return invalid_field("tickSize", "more than 9 decimals");
  if (quantity_scale > kMaxDecimalScale) return invalid_field("lotSize", "more than 9 decimals");
  if (price_scale < kMinDecimalScale || quantity_scale < kMinDecimalScale) {
    return internal_error("negative scale");
  }
  AddInstrument a{};
  a.symbol = Symbol::from(r.symbol);
  a.price_scale = static_cast<std::uint8_t>(price_scale);
  a.quantity_scale = static_cast<std::uint8_t>(quantity_scale);
  if (MaybeError e = scale_positive(r.tick_size, "tickSize", price_scale, a.tick_size)) return *e;
  if (MaybeError e = scale_positive(r.lot_size, "lotSize", quantity_scale, a.lot_size)) return *e;
  if (MaybeError e = scale_positive(r.reference_price, "referencePrice", price_scale, a.reference_price)) {
    return *e;
  }
  if (r.maker_fee_bps < -r.taker_fee_bps) {
    return invalid_field("makerFeeBps", "must not be below -takerFeeBps (a rebate above the taker "
                                        "fee would pay out more than a trade takes in)");
  }
  a.maker_fee_bps = r.maker_fee_bps;
  a.taker_fee_bps = r.taker_fee_bps;
  a.market_band_bps = r.market_band_bps.value_or(0);
  return a;
}

Parsed<AccountRequest> parse_account_request(std::string_view body) {
  AccountRequest r;
  if (body.empty()) return r;
  MaybeError err = read_object(body, [&](std::string_view key, od::value& v) -> MaybeError {
    if (key == "label") return read_printable(v, key, 0, kMaxLabelLength, r.label);
    return unknown_field(key, kAccountFields);
  });
  if (err) return *std::move(err);
  return r;
}

CreateAccount to_create_account(const AccountRequest& r) {
  return CreateAccount{FixedString<16>::from(r.label), AccountType::kCash};
}

Parsed<TransferRequest> parse_transfer_request(std::string_view body) {
  TransferRequest r;
  MaybeError err = read_object(body, [&](std::string_view key, od::value& v) -> MaybeError {
    if (key == "accountId") return read_integer_as(v, key, 1, kMaxUserAccount, r.account);
    if (key == "asset") return read_symbol(v, key, r.asset);
    if (key == "amount") return read_decimal(v, key, r.amount);
    return unknown_field(key, kTransferFields);
  });
  if (err) return *std::move(err);
  if (r.account == 0) return missing_field("accountId");
  if (r.asset.empty()) return missing_field("asset");
  if (!r.amount.present) return missing_field("amount");
  return r;
}

Parsed<Transfer> to_transfer(const TransferRequest& r, AssetId asset, int scale) {
  Transfer t{};
  t.account = r.account;
  t.asset = asset;
  if (!r.amount.present) return missing_field("amount");
  if (MaybeError e = scale_positive(r.amount, "amount", scale, t.amount)) return *e;
  return t;
}

Parsed<KillSwitchRequest> parse_kill_switch_request(std::string_view body) {
  KillSwitchRequest r;
  bool has_enabled = false;
  MaybeError err = read_object(body, [&](std::string_view key, od::value& v) -> MaybeError {
    if (key == "enabled") {
      has_enabled = true;
      return read_bool(v, key, r.enabled);
    }
    return unknown_field(key, kKillSwitchFields);
  });
  if (err) return *std::move(err);
  if (!has_enabled) return missing_field("enabled");
  return r;
}

Parsed<AccountLimitsRequest> parse_account_limits_request(std::string_view body) {
  AccountLimitsRequest r;
  MaybeError err = read_object(body, [&](std::string_view key, od::value& v) -> MaybeError {
    if (key == "maxOpenOrders") return read_integer_as(v, key, 0, 1'000'000, r.max_open_orders);
    if (key == "maxOrdersPerSecond") {
      return read_integer_as(v, key, 0, 1'000'000'000, r.max_orders_per_second);
    }
    if (key == "maxOrderNotional") return read_decimal(v, key, r.max_order_notional);
    return unknown_field(key, kAccountLimitsFields);
  });
  if (err) return *std::move(err);
  return r;
}

Parsed<InstrumentLimitsRequest> parse_instrument_limits_request(std::string_view body) {
  InstrumentLimitsRequest r;
  MaybeError err = read_object(body, [&](std::string_view key, od::value& v) -> MaybeError {
    if (key == "collarBps") return read_integer_as(v, key, 0, kMaxBps, r.collar_bps);
    if (key == "breakerBps") return read_integer_as(v, key, 0, kMaxBps, r.breaker_bps);
    if (key == "maxOrderQuantity") return read_decimal(v, key, r.max_order_quantity);
    if (key == "maxOrderNotional") return read_decimal(v, key, r.max_order_notional);
    if (key == "breakerHaltSeconds") {
      return read_integer_as(v, key, 0, kMaxBreakerHaltSeconds, r.breaker_halt_seconds);
    }
    return unknown_field(key, kInstrumentLimitsFields);
  });
  if (err) return *std::move(err);
  return r;
}

// ---------------------------------------------------------------------------
// WebSocket

std::string_view to_string(WsAction a) {
  switch (a) {
    case WsAction::kSubscribe: return "subscribe";
    case WsAction::kUnsubscribe: return "unsubscribe";
  }
  return "unknown";
}

std::string_view to_string(WsChannel c) {
  switch (c) {
    case WsChannel::kQuotes: return "quotes";
    case WsChannel::kTrades: return "trades";
    case WsChannel::kDepth: return "depth";
    case WsChannel::kOrders: return "orders";
  }
  return "unknown";
}

Parsed<WsRequest> parse_ws_request(std::string_view text) {
  WsRequest r;
  bool has_action = false;
  bool has_channel = false;
  bool has_symbols = false;
  bool has_depth = false;
  MaybeError err = read_object(text, [&](std::string_view key, od::value& v) -> MaybeError {
    if (key == "action") {
      has_action = true;
      return read_enum(v, key, kWsActions, r.action);
    }
    if (key == "channel") {
      has_channel = true;
      return read_enum(v, key, kWsChannels, r.channel);
    }
    if (key == "symbols") {
      has_symbols = true;
      return read_symbol_list(v, key, r.symbols);
    }
    if (key == "depth") {
      has_depth = true;
      return read_integer_as(v, key, kMinWsDepth, kMaxWsDepth, r.depth);
    }
    return unknown_field(key, kWsFields);
  });
  if (err) return *std::move(err);
  if (!has_action) return missing_field("action");
  if (!has_channel) return missing_field("channel");
  if (r.channel != WsChannel::kOrders) {
    if (!has_symbols) return missing_field("symbols");
    if (r.symbols.empty()) return invalid_field("symbols", "at least one symbol");
  }
  if (has_depth && r.channel != WsChannel::kDepth) {
    return invalid_field("depth", "only allowed on the depth channel");
  }
  return r;
}

// ---------------------------------------------------------------------------
// Query strings

std::optional<std::string_view> QueryParams::get(std::string_view name) const {
  for (const auto& [n, v] : params_) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<ApiError> QueryParams::only(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [name, value] : params_) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return named_error("UNKNOWN_PARAMETER", name, "unknown query parameter");
    }
  }
  return std::nullopt;
}

Parsed<QueryParams> parse_query(std::string_view query) {
  QueryParams out;
  if (query.empty()) return out;
  std::size_t start = 0;
  while (true) {
    const std::size_t amp = query.find('&', start);
    const std::string_view part =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (out.params_.size() == kMaxQueryParams) {
      return invalid_query("more than " + std::to_string(kMaxQueryParams) + " parameters");
    }
    const std::size_t eq = part.find('=');
    std::string name;
    std::string value;
    if (MaybeError e = decode_component(part.substr(0, eq), name)) return *e;
    if (eq != std::string_view::npos) {
      if (MaybeError e = decode_component(part.substr(eq + 1), value)) return *e;
    }
    if (name.empty()) return invalid_query("empty parameter name");
    if (out.get(name)) return named_error("DUPLICATE_PARAMETER", name, "given more than once");
    out.params_.emplace_back(std::move(name), std::move(value));
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

Parsed<std::uint64_t> parse_uint(std::string_view text, std::string_view name, std::uint64_t min,
                                 std::uint64_t max) {
  const auto bad = [&] {
    return named_error("INVALID_PARAMETER", name,
                       "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                           "], got \"" + quote(text) + "\"");
  };
  const bool digits_only =
      !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only || (text.size() > 1 && text.front() == '0')) return bad();
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return bad();
  return value;
}

// ---------------------------------------------------------------------------
// Engine rejects

int http_status(RejectReason r) { return describe(r).status; }

ApiError engine_reject(RejectReason r) {
  const RejectInfo info = describe(r);
  return ApiError{info.status, std::string(to_string(r)), std::string(info.message)};
}

}  // namespace stox::server
