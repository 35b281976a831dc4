// libFuzzer target: arbitrary bytes into every request parser.
//
// The first byte chooses the parser (modulo the number of parsers; the seed
// corpus in src/server/fuzz_corpus/request/ starts with '0'..'7'), the rest
// is the body, WebSocket message or query string. A successful parse must
// satisfy the limits documented in request_parser.h, and is then run
// through its to_* converter at a few fixed scales; every error must be a
// 4xx with a code and a message, and error_json() must be valid JSON.
//
// Build and run: `make fuzz-request` (clang 14, libFuzzer + ASan + UBSan).
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/decimal.h"
#include "server/request_parser.h"

namespace {

using namespace stox;
using namespace stox::server;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u <= 0x7e;
  });
}

void check_error(const ApiError& e) {
  check(e.status >= 400 && e.status < 600, "error status");
  check(!e.code.empty() && !e.message.empty(), "error code and message");
  check(printable(e.message), "error message is printable ASCII");
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  check(parser.parse(error_json(e)).get(root) == simdjson::SUCCESS, "error_json is JSON");
}

// Returns the value, or nullptr after checking the error.
template <class T>
const T* value(const Parsed<T>& p) {
  if (const auto* e = std::get_if<ApiError>(&p)) {
    check(e->status != 500, "no internal error from a parsed request");
    check_error(*e);
    return nullptr;
  }
  return &std::get<T>(p);
}
template <class T>
const T* value(const Parsed<T>&&) = delete;  // would point into a temporary

void check_decimal(const DecimalField& f) {
  if (!f.present) return;
  check(f.text.find_first_of("eE") == std::string::npos, "no exponent in a decimal");
  const DecimalError e = parse_decimal(f.text, kMaxDecimalScale, true).error;
  check(e != DecimalError::kEmpty && e != DecimalError::kInvalidCharacter, "decimal syntax");
}

constexpr InstrumentScales kScales[] = {{1, 0, 0, 0}, {2, 2, 0, 4}, {3, 4, 3, 4}, {4, 9, 9, 9}};

void fuzz_order(std::string_view body) {
  const auto r_parsed = parse_order_request(body);
  const auto* r = value(r_parsed);
  if (!r) return;
  check(valid_symbol(r->symbol), "order symbol");
  check(r->client_order_id.size() <= kMaxClientOrderIdLength && printable(r->client_order_id),
        "client order id");
  check(r->quantity.present != r->quote_quantity.present, "quantity xor quote quantity");
  for (const DecimalField* f :
       {&r->quantity, &r->quote_quantity, &r->price, &r->stop_price, &r->display_quantity}) {
    check_decimal(*f);
  }
  for (const InstrumentScales& s : kScales) {
    const auto o_parsed = to_new_order(*r, 1, s);
    const auto* o = value(o_parsed);
    if (!o) continue;
    check(o->quantity > 0 || o->quote_quantity > 0, "positive quantity");
    check(o->price >= 0 && o->stop_price >= 0 && o->display_quantity >= 0, "no negative price");
    check(o->instrument == s.id && o->account == 1, "ids copied");
  }
}

void fuzz_replace(std::string_view body) {
  const auto r_parsed = parse_replace_request(body);
  const auto* r = value(r_parsed);
  if (!r) return;
  check(r->quantity.present || r->price.present || r->stop_price.present, "replace changes something");
  for (const InstrumentScales& s : kScales) {
    const auto o_parsed = to_replace(*r, 1, 2, s);
    const auto* o = value(o_parsed);
    if (o) check(o->quantity >= 0 && o->price >= 0 && o->stop_price >= 0, "replace values");
  }
}

void fuzz_instrument(std::string_view body) {
  const auto r_parsed = parse_instrument_request(body);
  const auto* r = value(r_parsed);
  if (!r) return;
  check(valid_symbol(r->symbol), "instrument symbol");
  check(r->taker_fee_bps >= 0 && r->taker_fee_bps <= 10'000, "taker fee range");
  check(r->maker_fee_bps >= -10'000 && r->maker_fee_bps <= 10'000, "maker fee range");
  const auto a_parsed = to_add_instrument(*r);
  const auto* a = value(a_parsed);
  if (!a) return;
  check(a->price_scale <= 9 && a->quantity_scale <= 9, "scales");
  check(a->tick_size > 0 && a->lot_size > 0 && a->reference_price > 0, "positive sizes");
  check(a->maker_fee_bps >= -a->taker_fee_bps, "rebate within the taker fee");
}

void fuzz_account(std::string_view body) {
  const auto r_parsed = parse_account_request(body);
  const auto* r = value(r_parsed);
  if (r) check(r->label.size() <= kMaxLabelLength && printable(r->label), "label");
}

void fuzz_transfer(std::string_view body) {
  const auto r_parsed = parse_transfer_request(body);
  const auto* r = value(r_parsed);
  if (!r) return;
  check(r->account >= 1 && r->account <= 0xFFFF'FFFDU, "user account");
  check(valid_symbol(r->asset), "asset name");
  check_decimal(r->amount);
  for (const InstrumentScales& s : kScales) {
    const auto t_parsed = to_transfer(*r, 0, s.cash_scale);
    const auto* t = value(t_parsed);
    if (t) check(t->amount > 0, "positive amount");
  }
}

// The small admin bodies share one selector: kill switch, account limits and
// instrument limits all parse the same input.
void fuzz_admin_small(std::string_view body) {
  const auto parsed = parse_kill_switch_request(body);
  value(parsed);
  const auto a_parsed = parse_account_limits_request(body);
  if (const auto* a = value(a_parsed)) {
    check(a->max_open_orders <= 1'000'000, "max open orders range");
    if (a->max_order_notional.present) check_decimal(a->max_order_notional);
  }
  const auto i_parsed = parse_instrument_limits_request(body);
  if (const auto* i = value(i_parsed)) {
    check(i->collar_bps >= 0 && i->collar_bps <= 10'000, "collar range");
    check(i->breaker_bps >= 0 && i->breaker_bps <= 10'000, "breaker range");
    check(i->breaker_halt_seconds >= 0 && i->breaker_halt_seconds <= 604'800, "halt range");
    if (i->max_order_quantity.present) check_decimal(i->max_order_quantity);
    if (i->max_order_notional.present) check_decimal(i->max_order_notional);
  }
}

void fuzz_ws(std::string_view text) {
  const auto r_parsed = parse_ws_request(text);
  const auto* r = value(r_parsed);
  if (!r) return;
  check(r->depth >= kMinWsDepth && r->depth <= kMaxWsDepth, "depth range");
  check(r->symbols.size() <= kMaxWsSymbols, "symbol count");
  check(r->channel == WsChannel::kOrders || !r->symbols.empty(), "symbols for market data");
  for (const std::string& s : r->symbols) check(valid_symbol(s), "ws symbol");
}

void fuzz_query(std::string_view query) {
  const auto q_parsed = parse_query(query);
  const auto* q = value(q_parsed);
  if (!q) {
    const auto id = parse_uint(query, "id", 1, UINT64_MAX);
    value(id);
    return;
  }
  check(q->size() <= kMaxQueryParams, "parameter count");
  for (const auto& [name, v] : q->params()) {
    check(!name.empty() && printable(name) && printable(v), "decoded parameter");
    check(q->get(name).has_value(), "get finds every parameter");
    const auto n_parsed = parse_uint(v, name, 1, 1000);
    const auto* n = value(n_parsed);
    if (n) check(*n >= 1 && *n <= 1000, "parse_uint range");
  }
  if (const auto e = q->only({"depth", "limit", "symbol"})) check_error(*e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0: fuzz_order(text); break;
    case 1: fuzz_replace(text); break;
    case 2: fuzz_instrument(text); break;
    case 3: fuzz_account(text); break;
    case 4: fuzz_transfer(text); break;
    case 5: fuzz_admin_small(text); break;
    case 6: fuzz_ws(text); break;
    default: fuzz_query(text); break;
  }
  return 0;
}
