// CLI11 and toml++ report errors by throwing; this file is the boundary
// where every such exception becomes a Status.
#include "server/config.h"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <variant>

namespace stox::server {
namespace {

static_assert(std::is_same_v<std::size_t, std::uint64_t>, "size_t fields share the u64 member type");

using Member = std::variant<std::uint64_t ServerConfig::*, int ServerConfig::*,
                            double ServerConfig::*>;

// A numeric setting: where it lives in the file, its flag, its range.
struct NumberField {
  std::string_view section;
  std::string_view key;
  std::string_view flag;
  Member member;
  double min;  // inclusive
  double max;  // inclusive
  std::string_view help;
};

constexpr double kGiB = 1024.0 * 1024 * 1024;

constexpr std::size_t kNumberFieldCount = 16;
const std::array<NumberField, kNumberFieldCount> kNumberFields = {{
    {"server", "io_threads", "--io-threads", &ServerConfig::io_threads, 1, 64,
     "I/O threads serving HTTP and WebSocket connections"},
    {"server", "queue_capacity", "--queue-capacity", &ServerConfig::queue_capacity, 1, 1 << 30,
     "commands waiting for the engine before requests are refused"},
    {"journal", "segment_bytes", "--segment-bytes", &ServerConfig::segment_bytes, 4096, 1024 * kGiB,
     "journal segment size"},
    {"snapshots", "every_commands", "--snapshot-every-commands",
     &ServerConfig::snapshot_every_commands, 1, 1e15, "snapshot after this many commands"},
    {"snapshots", "every_seconds", "--snapshot-every-seconds",
     &ServerConfig::snapshot_every_seconds, 1, 1e9, "snapshot after this many seconds"},
    {"limits", "max_body_bytes", "--max-body-bytes", &ServerConfig::max_body_bytes, 1, kGiB,
     "largest HTTP request body"},
    {"limits", "max_header_bytes", "--max-header-bytes", &ServerConfig::max_header_bytes, 1, kGiB,
     "largest HTTP request header"},
    {"limits", "max_ws_message_bytes", "--max-ws-message-bytes",
     &ServerConfig::max_ws_message_bytes, 1, kGiB, "largest incoming WebSocket message"},
    {"limits", "max_connections", "--max-connections", &ServerConfig::max_connections, 1, 1e7,
     "open connections at most"},
    {"limits", "request_timeout_ms", "--request-timeout-ms", &ServerConfig::request_timeout_ms, 1,
     1e9, "time to read one request"},
    {"limits", "idle_timeout_ms", "--idle-timeout-ms", &ServerConfig::idle_timeout_ms, 1, 1e9,
     "an idle HTTP connection is closed after this"},
    {"limits", "ws_ping_interval_ms", "--ws-ping-interval-ms", &ServerConfig::ws_ping_interval_ms,
     1, 1e9, "WebSocket ping interval"},
    {"limits", "ws_soft_limit_bytes", "--ws-soft-limit-bytes", &ServerConfig::ws_soft_limit_bytes,
     1, 1024 * kGiB, "WebSocket send buffer above which market data is dropped"},
    {"limits", "ws_hard_limit_bytes", "--ws-hard-limit-bytes", &ServerConfig::ws_hard_limit_bytes,
     1, 1024 * kGiB, "WebSocket send buffer above which the connection is closed"},
    {"limits", "rate_limit_per_second", "--rate-limit", &ServerConfig::rate_limit_per_second, 0.001,
     1e9, "requests per second per API key, sustained"},
    {"limits", "rate_limit_burst", "--rate-limit-burst", &ServerConfig::rate_limit_burst, 1, 1e9,
     "requests per API key at once"},
}};


bool is_integer_field(const NumberField& f) {
  return !std::holds_alternative<double ServerConfig::*>(f.member);
}

std::string format_number(double v) {
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, v);
  return {buf, result.ptr};
}

std::string range_text(const NumberField& f) {
  return std::string(is_integer_field(f) ? "an integer" : "a number") + " from " +
         format_number(f.min) + " to " + format_number(f.max);
}

std::string current_value(const ServerConfig& c, const NumberField& f) {
  return std::visit(
      [&](auto member) {
        if constexpr (std::is_same_v<decltype(member), double ServerConfig::*>) {
          return format_number(c.*member);
        } else {
          return std::to_string(c.*member);
        }
      },
      f.member);
}

// Stores v into the field after checking its range. `name` is how the
// setting was given ("--io-threads" or "[server] io_threads").
Status set_number(ServerConfig* c, const NumberField& f, double v, std::string_view name,
                  std::string_view shown) {
  if (!std::isfinite(v) || v < f.min || v > f.max) {
    return Status::InvalidArgument(std::string(name) + ": must be " + range_text(f) + ", got " +
                                   std::string(shown));
  }
  std::visit(
      [&](auto member) {
        using T = std::remove_reference_t<decltype(c->*member)>;
        c->*member = static_cast<T>(v);
      },
      f.member);
  return Status::OK();
}

Status set_number_text(ServerConfig* c, const NumberField& f, const std::string& text) {
  const char* end = text.data() + text.size();
  double v = 0;
  bool ok = false;
  if (is_integer_field(f)) {
    std::int64_t i = 0;
    const auto r = std::from_chars(text.data(), end, i);
    ok = r.ec == std::errc() && r.ptr == end;
    v = static_cast<double>(i);
  } else {
    const auto r = std::from_chars(text.data(), end, v);
    ok = r.ec == std::errc() && r.ptr == end;
  }
  if (!ok) {
    return Status::InvalidArgument(std::string(f.flag) + ": must be " + range_text(f) + ", got '" +
                                   text + "'");
  }
  return set_number(c, f, v, f.flag, text);
}

// "HOST:PORT" or "[IPV6]:PORT"; the brackets are not kept in host.
Status parse_listen(std::string_view text, std::string_view name, ServerConfig* c) {
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(name) + ": '" + std::string(text) +
                                   "' is not HOST:PORT (" + std::string(why) + ")");
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    const bool ipv6 = !host.empty() && std::all_of(host.begin(), host.end(), [](char ch) {
      return std::isxdigit(static_cast<unsigned char>(ch)) || ch == ':' || ch == '.';
    });
    if (!ipv6) return bad("not an IPv6 address in brackets");
  } else {
    if (host.empty()) return bad("no host; use 0.0.0.0 for every interface");
    const bool hostname = std::all_of(host.begin(), host.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_';
    });
    if (!hostname) return bad("the host is not a name or address; IPv6 needs [brackets]");
  }
  unsigned value = 0;
  const auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || port.size() > 5 || r.ec != std::errc() || r.ptr != port.data() + port.size() ||
      value > 65535) {
    return bad("the port must be 0..65535");
  }
  c->host = std::string(host);
  c->port = static_cast<std::uint16_t>(value);
  return Status::OK();
}

Status set_sync(std::string_view value, std::string_view name, ServerConfig* c) {
  if (value != "batch" && value != "none") {
    return Status::InvalidArgument(std::string(name) + R"(: must be "batch" or "none", got ")" +
                                   std::string(value) + "\"");
  }
  c->sync = std::string(value);
  return Status::OK();
}

Status set_data_dir(std::string_view value, std::string_view name, ServerConfig* c) {
  if (value.empty()) return Status::InvalidArgument(std::string(name) + ": must not be empty");
  c->data_dir = std::string(value);
  return Status::OK();
}

// ---- the TOML file ----

std::string toml_name(std::string_view section, std::string_view key) {
  return "[" + std::string(section) + "] " + std::string(key);
}

Status toml_type_error(std::string_view name, std::string_view expected) {
  return Status::InvalidArgument(std::string(name) + ": must be " + std::string(expected));
}

Status apply_toml_string(std::string_view section, std::string_view key, const toml::node& node,
                         ServerConfig* c) {
  const std::string name = toml_name(section, key);
  const auto* text = node.as_string();
  if (text == nullptr) return toml_type_error(name, "a string");
  const std::string& value = text->get();
  if (key == "listen") return parse_listen(value, name, c);
  if (key == "data_dir") return set_data_dir(value, name, c);
  return set_sync(value, name, c);
}

Status apply_toml_number(const NumberField& f, const toml::node& node, ServerConfig* c) {
  const std::string name = toml_name(f.section, f.key);
  if (const auto* i = node.as_integer()) {
    return set_number(c, f, static_cast<double>(i->get()), name, std::to_string(i->get()));
  }
  if (const auto* d = node.as_floating_point(); d != nullptr && !is_integer_field(f)) {
    return set_number(c, f, d->get(), name, format_number(d->get()));
  }
  return toml_type_error(name, range_text(f));
}

Status apply_toml_key(std::string_view section, std::string_view key, const toml::node& node,
                      ServerConfig* c) {
  if ((section == "server" && (key == "listen" || key == "data_dir")) ||
      (section == "journal" && key == "sync")) {
    return apply_toml_string(section, key, node, c);
  }
  if (section == "server" && key == "demo") {
    const auto* flag = node.as_boolean();
    if (flag == nullptr) return toml_type_error(toml_name(section, key), "true or false");
    c->demo = flag->get();
    return Status::OK();
  }
  for (std::size_t i = 0; i < kNumberFieldCount; ++i) {
    const NumberField& f = kNumberFields[i];
    if (f.section == section && f.key == key) return apply_toml_number(f, node, c);
  }
  return Status::InvalidArgument(toml_name(section, key) + ": unknown key");
}

Status apply_toml_file(const std::string& path, ServerConfig* c) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << path;
    if (e.source().begin.line > 0) {  // 0: the file could not be read at all
      where << ":" << e.source().begin.line << ":" << e.source().begin.column;
    }
    return Status::InvalidArgument(where.str() + ": " + std::string(e.description()));
  }
  for (const auto& [section_key, section_node] : root) {
    const std::string_view section = section_key.str();
    const auto* table = section_node.as_table();
    const bool known =
        section == "server" || section == "journal" || section == "snapshots" || section == "limits";
    if (!known || table == nullptr) {
      return Status::InvalidArgument(path + ": unknown section '" + std::string(section) +
                                     "' (expected [server], [journal], [snapshots], [limits])");
    }
    for (const auto& [key, node] : *table) {
      if (Status s = apply_toml_key(section, key.str(), node, c); !s.ok()) {
        return Status::InvalidArgument(path + ": " + s.message());
      }
    }
  }
  return Status::OK();
}

// ---- the command line ----

// The raw text of every flag, filled by CLI11.
struct FlagValues {
  std::string config;
  std::string listen;
  std::string data_dir;
  std::string sync;
  bool demo = false;
  std::array<std::string, kNumberFieldCount> numbers;
};

struct Flags {
  FlagValues values;
  CLI::Option* config = nullptr;
  CLI::Option* listen = nullptr;
  CLI::Option* data_dir = nullptr;
  CLI::Option* sync = nullptr;
  CLI::Option* demo = nullptr;
  std::array<CLI::Option*, kNumberFieldCount> numbers{};
};

void define_flags(CLI::App* app, Flags* flags) {
  app->description("Runs the exchange server (REST + WebSocket).");
  app->name("stox serve");
  app->set_help_flag("-h,--help", "print this help and exit");
  const ServerConfig defaults;
  FlagValues& v = flags->values;
  flags->config = app->add_option("--config", v.config, "TOML file (see docs/stox.example.toml); "
                                                        "flags override it")
                      ->type_name("FILE");
  flags->listen = app->add_option("--listen", v.listen, "HOST:PORT to listen on (port 0: any)")
                      ->type_name("HOST:PORT")
                      ->default_str(defaults.host + ":" + std::to_string(defaults.port));
  flags->data_dir = app->add_option("--data-dir", v.data_dir, "journal, snapshots and keys")
                        ->type_name("DIR")
                        ->default_str(defaults.data_dir);
  flags->demo = app->add_flag("--demo", v.demo, "start with demo instruments and accounts");
  flags->sync = app->add_option("--sync", v.sync,
                                "journal sync: batch (durable before ack) | none (unsafe)")
                    ->type_name("MODE")
                    ->default_str(defaults.sync);
  for (std::size_t i = 0; i < kNumberFieldCount; ++i) {
    const NumberField& f = kNumberFields[i];
    flags->numbers[i] = app->add_option(std::string(f.flag), v.numbers[i], std::string(f.help))
                            ->type_name("N")
                            ->default_str(current_value(defaults, f));
  }
}

Status apply_flags(const Flags& flags, ServerConfig* c) {
  const FlagValues& v = flags.values;
  if (flags.listen->count() > 0) {
    if (Status s = parse_listen(v.listen, "--listen", c); !s.ok()) return s;
  }
  if (flags.data_dir->count() > 0) {
    if (Status s = set_data_dir(v.data_dir, "--data-dir", c); !s.ok()) return s;
  }
  if (flags.sync->count() > 0) {
    if (Status s = set_sync(v.sync, "--sync", c); !s.ok()) return s;
  }
  if (flags.demo->count() > 0) c->demo = v.demo;
  for (std::size_t i = 0; i < kNumberFieldCount; ++i) {
    if (flags.numbers[i]->count() == 0) continue;
    if (Status s = set_number_text(c, kNumberFields[i], v.numbers[i]); !s.ok()) return s;
  }
  return Status::OK();
}

Status check_consistency(const ServerConfig& c) {
  if (c.ws_soft_limit_bytes > c.ws_hard_limit_bytes) {
    return Status::InvalidArgument(
        "ws_soft_limit_bytes (" + std::to_string(c.ws_soft_limit_bytes) +
        ") must not exceed ws_hard_limit_bytes (" + std::to_string(c.ws_hard_limit_bytes) +
        ") (--ws-soft-limit-bytes, --ws-hard-limit-bytes)");
  }
  return Status::OK();
}

}  // namespace

Result<ServerConfig> parse_serve_args(const std::vector<std::string>& args) {
  CLI::App app;
  Flags flags;
  define_flags(&app, &flags);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 wants them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    ServerConfig help;
    help.show_help = true;
    return help;
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(e.what());
  }
  ServerConfig config;
  if (flags.config->count() > 0) {
    if (Status s = apply_toml_file(flags.values.config, &config); !s.ok()) return s;
  }
  if (Status s = apply_flags(flags, &config); !s.ok()) return s;
  if (Status s = check_consistency(config); !s.ok()) return s;
  return config;
}

std::string serve_usage() {
  CLI::App app;
  Flags flags;
  define_flags(&app, &flags);
  return app.help();
}

}  // namespace stox::server
