#include "app/client_commands.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <iomanip>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <variant>
#include <string>

#include <simdjson.h>

#include "client/http_client.h"
#include "marketdata/json_writer.h"

namespace stox {

const std::string_view kClientUsage =
    "  order BUY|SELL SYMBOL QTY [PRICE] [--type LIMIT|MARKET|STOP|STOP_LIMIT] [--stop P]\n"
    "        [--tif DAY|GTC|IOC|FOK] [--post-only] [--client-id ID]\n"
    "          place an order (LIMIT when PRICE is given, else MARKET); prints the order\n"
    "  cancel ORDER_ID | --all [--symbol S]\n"
    "          cancel one order, or every open order (of one symbol)\n"
    "  orders [--symbol S]\n"
    "          list the open orders\n"
    "  book SYMBOL [--depth N]\n"
    "          print the order book as a price ladder, N levels a side (default 10)\n"
    "  account\n"
    "          print the account's balances and positions\n"
    "\n"
    "flags of the client commands (order, cancel, orders, book, account):\n"
    "  --server URL   the server (default $STOX_SERVER, else http://127.0.0.1:8080)\n"
    "  --key KEY      API key (default $STOX_API_KEY)\n";

namespace {

constexpr std::string_view kDefaultServer = "http://127.0.0.1:8080";
constexpr auto kTimeout = std::chrono::seconds(10);

struct Args {
  std::vector<std::string_view> positional;
  std::map<std::string_view, std::string_view> values;  // --flag VALUE
  std::map<std::string_view, bool> switches;            // --flag
};

struct Spec {
  std::vector<std::string_view> value_flags;
  std::vector<std::string_view> switch_flags;
};

// A usage error: the message is printed by the caller, exit code 2.
struct UsageError {
  std::string message;
};

std::optional<UsageError> parse_args(std::span<const std::string_view> args, const Spec& spec,
                                     Args* out) {
  auto listed = [](const std::vector<std::string_view>& v, std::string_view a) {
    return std::find(v.begin(), v.end(), a) != v.end();
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (!a.starts_with("--")) {
      out->positional.push_back(a);
    } else if (listed(spec.switch_flags, a)) {
      if (out->switches.contains(a)) return UsageError{"flag given twice: " + std::string(a)};
      out->switches[a] = true;
    } else if (a == "--server" || a == "--key" || listed(spec.value_flags, a)) {
      if (i + 1 >= args.size()) return UsageError{"flag needs a value: " + std::string(a)};
      if (out->values.contains(a)) return UsageError{"flag given twice: " + std::string(a)};
      out->values[a] = args[++i];
    } else {
      return UsageError{"unknown flag: " + std::string(a)};
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> value(const Args& a, std::string_view flag) {
  auto it = a.values.find(flag);
  if (it == a.values.end()) return std::nullopt;
  return it->second;
}

// digits ['.' digits]: the decimal grammar of src/common/decimal.h; the
// server checks scales and ranges.
bool is_decimal_text(std::string_view s) {
  const auto digits = [](std::string_view d) {
    return !d.empty() && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos) return digits(s);
  return digits(s.substr(0, dot)) && digits(s.substr(dot + 1));
}

// Symbols and order ids go into URL paths: only characters that need no
// escaping there.
bool is_path_token(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
}

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

bool one_of(std::string_view s, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), s) != options.end();
}

// What to send, once the arguments are checked.
struct Call {
  std::string method;
  std::string target;
  std::string body;
  bool ladder = false;  // print the response as an order book
};

Call call(std::string method, std::string target, std::string body = {}, bool ladder = false) {
  return Call{std::move(method), std::move(target), std::move(body), ladder};
}

using Built = std::variant<Call, UsageError>;

Built build_order(const Args& a) {
  if (a.positional.size() < 3 || a.positional.size() > 4) {
    return UsageError{"order: expected BUY|SELL SYMBOL QTY [PRICE]"};
  }
  const std::string side = upper(a.positional[0]);
  const std::string_view symbol = a.positional[1];
  const std::string_view qty = a.positional[2];
  const std::optional<std::string_view> price =
      a.positional.size() == 4 ? std::optional(a.positional[3]) : std::nullopt;
  const std::optional<std::string_view> stop = value(a, "--stop");
  if (!one_of(side, {"BUY", "SELL"})) return UsageError{"order: side must be BUY or SELL"};
  if (!is_path_token(symbol)) return UsageError{"order: bad symbol '" + std::string(symbol) + "'"};
  if (!is_decimal_text(qty)) return UsageError{"order: bad quantity '" + std::string(qty) + "'"};
  if (price && !is_decimal_text(*price)) return UsageError{"order: bad price '" + std::string(*price) + "'"};
  if (stop && !is_decimal_text(*stop)) return UsageError{"order: bad --stop '" + std::string(*stop) + "'"};

  const std::string type = value(a, "--type") ? upper(*value(a, "--type")) : (price ? "LIMIT" : "MARKET");
  if (!one_of(type, {"LIMIT", "MARKET", "STOP", "STOP_LIMIT"})) {
    return UsageError{"order: --type must be LIMIT, MARKET, STOP or STOP_LIMIT"};
  }
  const bool needs_price = type == "LIMIT" || type == "STOP_LIMIT";
  const bool needs_stop = type == "STOP" || type == "STOP_LIMIT";
  if (needs_price != price.has_value()) {
    return UsageError{"order: a " + type + " order " + (needs_price ? "needs" : "takes no") + " PRICE"};
  }
  if (needs_stop != stop.has_value()) {
    return UsageError{"order: a " + type + " order " + (needs_stop ? "needs" : "takes no") + " --stop"};
  }
  std::optional<std::string> tif;
  if (auto t = value(a, "--tif")) {
    tif = upper(*t);
    if (!one_of(*tif, {"DAY", "GTC", "IOC", "FOK"})) return UsageError{"order: --tif must be DAY, GTC, IOC or FOK"};
  }

  marketdata::JsonWriter w;
  w.begin_object();
  w.key("symbol").string(symbol);
  w.key("side").string(side);
  w.key("type").string(type);
  w.key("quantity").string(qty);
  if (price) w.key("price").string(*price);
  if (stop) w.key("stopPrice").string(*stop);
  if (tif) w.key("timeInForce").string(*tif);
  if (a.switches.contains("--post-only")) w.key("postOnly").boolean(true);
  if (auto id = value(a, "--client-id")) w.key("clientOrderId").string(*id);
  w.end_object();
  return call("POST", "/api/v1/orders", w.take());
}

Built build_cancel(const Args& a) {
  const bool all = a.switches.contains("--all");
  const std::optional<std::string_view> symbol = value(a, "--symbol");
  if (symbol && !is_path_token(*symbol)) return UsageError{"cancel: bad symbol '" + std::string(*symbol) + "'"};
  if (all) {
    if (!a.positional.empty()) return UsageError{"cancel: give ORDER_ID or --all, not both"};
    return call("DELETE", symbol ? "/api/v1/orders?symbol=" + std::string(*symbol) : "/api/v1/orders");
  }
  if (symbol) return UsageError{"cancel: --symbol goes with --all"};
  if (a.positional.size() != 1) return UsageError{"cancel: expected ORDER_ID or --all"};
  if (!is_path_token(a.positional[0])) {
    return UsageError{"cancel: bad order id '" + std::string(a.positional[0]) + "'"};
  }
  return call("DELETE", "/api/v1/orders/" + std::string(a.positional[0]));
}

Built build_orders(const Args& a) {
  if (!a.positional.empty()) return UsageError{"orders: unexpected argument '" + std::string(a.positional[0]) + "'"};
  std::string target = "/api/v1/orders?status=open";
  if (auto symbol = value(a, "--symbol")) {
    if (!is_path_token(*symbol)) return UsageError{"orders: bad symbol '" + std::string(*symbol) + "'"};
    target += "&symbol=" + std::string(*symbol);
  }
  return call("GET", target);
}

Built build_book(const Args& a) {
  if (a.positional.size() != 1) return UsageError{"book: expected SYMBOL"};
  if (!is_path_token(a.positional[0])) return UsageError{"book: bad symbol '" + std::string(a.positional[0]) + "'"};
  unsigned depth = 10;
  if (auto d = value(a, "--depth")) {
    const auto [end, ec] = std::from_chars(d->data(), d->data() + d->size(), depth);
    if (ec != std::errc() || end != d->data() + d->size() || depth == 0 || depth > 10000) {
      return UsageError{"book: --depth must be a number from 1 to 10000"};
    }
  }
  return call("GET", "/api/v1/orderbook/" + std::string(a.positional[0]) + "?depth=" + std::to_string(depth), "",
              true);
}

Built build_account(const Args& a) {
  if (!a.positional.empty()) return UsageError{"account: unexpected argument '" + std::string(a.positional[0]) + "'"};
  return call("GET", "/api/v1/account");
}

struct Command {
  std::string_view name;
  Spec spec;
  Built (*build)(const Args&);
};

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"order", {{"--type", "--stop", "--tif", "--client-id"}, {"--post-only"}}, build_order},
      {"cancel", {{"--symbol"}, {"--all"}}, build_cancel},
      {"orders", {{"--symbol"}, {}}, build_orders},
      {"book", {{"--depth"}, {}}, build_book},
      {"account", {{}, {}}, build_account},
  };
  return kCommands;
}

// A JSON scalar as text: strings without quotes, anything else minified.
std::string text_of(simdjson::dom::element e) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::minify(e);
}

std::string field(simdjson::dom::element e, std::string_view name) {
  simdjson::dom::element v;
  if (e.at_key(name).get(v) != simdjson::SUCCESS) return "-";
  return text_of(v);
}

void print_level(std::ostream& out, std::string_view side, simdjson::dom::element level) {
  out << "  " << side << std::setw(16) << field(level, "price") << std::setw(16) << field(level, "quantity")
      << std::setw(8) << field(level, "orders") << "\n";
}

// The order book as a ladder: asks from the highest down, then bids from the
// highest down, so the spread is in the middle. False if `json` is not a book.
bool print_ladder(std::string_view json, std::ostream& out) {
  simdjson::dom::parser parser;
  simdjson::dom::element book;
  simdjson::dom::array bids;
  simdjson::dom::array asks;
  if (parser.parse(json.data(), json.size()).get(book) != simdjson::SUCCESS ||
      book["bids"].get(bids) != simdjson::SUCCESS || book["asks"].get(asks) != simdjson::SUCCESS) {
    return false;
  }
  out << field(book, "symbol") << "  sequence " << field(book, "sequence") << "\n";
  out << "  " << "   " << std::setw(16) << "PRICE" << std::setw(16) << "QUANTITY" << std::setw(8) << "ORDERS" << "\n";
  std::vector<simdjson::dom::element> ask_levels(asks.begin(), asks.end());
  std::reverse(ask_levels.begin(), ask_levels.end());
  for (const simdjson::dom::element level : ask_levels) print_level(out, "ASK", level);
  out << "  " << std::string(43, '-') << "\n";
  for (simdjson::dom::element level : bids) print_level(out, "BID", level);
  simdjson::dom::element last;
  if (book["lastTrade"].get(last) == simdjson::SUCCESS && last.is_object()) {
    out << "last trade: " << field(last, "price") << " x " << field(last, "quantity") << "\n";
  }
  return true;
}

// "stox: HTTP 404 NOT_FOUND: no such order" from the API's error shape.
void print_error(const client::ClientResponse& r, std::ostream& err) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  std::string_view code;
  std::string_view message;
  err << "stox: HTTP " << r.status;
  if (parser.parse(r.body.data(), r.body.size()).get(e) == simdjson::SUCCESS &&
      e["code"].get(code) == simdjson::SUCCESS && e["message"].get(message) == simdjson::SUCCESS) {
    err << " " << code << ": " << message << "\n";
  } else {
    err << ": " << r.body << "\n";
  }
}

std::string env_or(const char* name, std::string_view fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(fallback);
}

int execute(const Call& call, const Args& a, std::ostream& out, std::ostream& err) {
  const std::string server = value(a, "--server") ? std::string(*value(a, "--server")) : env_or("STOX_SERVER", kDefaultServer);
  const std::string key = value(a, "--key") ? std::string(*value(a, "--key")) : env_or("STOX_API_KEY", "");
  const Result<client::Endpoint> endpoint = client::parse_server_url(server);
  if (!endpoint.ok()) {
    err << "stox: " << endpoint.status().message() << "\n";
    return 2;
  }
  auto http = client::HttpClient::connect(endpoint->host, endpoint->port, kTimeout);
  if (!http.ok()) {
    err << "stox: cannot reach " << server << ": " << http.status().message() << "\n";
    return 1;
  }
  const Result<client::ClientResponse> r = (*http)->request(call.method, call.target, call.body, key);
  if (!r.ok()) {
    err << "stox: " << call.method << " " << call.target << ": " << r.status().message() << "\n";
    return 1;
  }
  if (r->status < 200 || r->status > 299) {
    print_error(*r, err);
    return 1;
  }
  if (call.ladder) {
    if (!print_ladder(r->body, out)) {
      err << "stox: unexpected order book response: " << r->body << "\n";
      return 1;
    }
    return 0;
  }
  out << r->body << "\n";
  return 0;
}

}  // namespace

bool is_client_command(std::string_view name) {
  const auto& c = commands();
  return std::any_of(c.begin(), c.end(), [&](const Command& cmd) { return cmd.name == name; });
}

int run_client_command(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err) {
  const auto& all = commands();
  const auto cmd = args.empty() ? all.end() : std::find_if(all.begin(), all.end(), [&](const Command& c) {
    return c.name == args[0];
  });
  if (cmd == all.end()) {
    err << "stox: unknown client command '" << (args.empty() ? "" : args[0]) << "'\n";
    return 2;
  }
  Args parsed;
  if (auto e = parse_args(std::span(args).subspan(1), cmd->spec, &parsed)) {
    err << "stox: " << e->message << "\n";
    return 2;
  }
  const Built built = cmd->build(parsed);
  if (const auto* usage = std::get_if<UsageError>(&built)) {
    err << "stox: " << usage->message << "\n";
    return 2;
  }
  return execute(std::get<Call>(built), parsed, out, err);
}

}  // namespace stox
