// ServerConfig: everything `stox serve` can be told, from a TOML file and
// command-line flags (flags override the file, the file overrides the
// defaults below).
//
// The TOML file (example: docs/stox.example.toml). Every key is optional;
// an unknown section or key is an error naming it, so a typo cannot
// silently drop a limit.
//
//   [server]
//   listen = "127.0.0.1:8080"     # HOST:PORT, [IPv6]:PORT; port 0 = any free port
//   data_dir = "./data"
//   io_threads = 1                # 1..64
//   queue_capacity = 65536
//   demo = false
//   [journal]
//   sync = "batch"                # batch: durable before ack | none: unsafe, benchmarks
//   segment_bytes = 67108864
//   [snapshots]
//   every_commands = 1000000
//   every_seconds = 600
//   [limits]
//   max_body_bytes = 65536        # and every other field under "limits" below,
//   rate_limit_per_second = 2000  # by its field name
//
// Flags: --config FILE, --listen HOST:PORT, --data-dir DIR, --demo,
// --sync batch|none, and one --kebab-case flag per other field
// (--io-threads, --rate-limit, --rate-limit-burst, --max-body-bytes, ...);
// serve_usage() lists them all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace stox::server {

// Fields are grouped by meaning, not packed: it is read once at start-up.
// NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding)
struct ServerConfig {
  // True when --help (or -h) was given: nothing else was parsed, the caller
  // prints serve_usage() and exits successfully.
  bool show_help = false;

  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = any free port
  std::string data_dir = "./data";
  bool demo = false;
  std::string sync = "batch";  // journal: batch (durable before ack) | none (unsafe, benchmarks)
  int io_threads = 1;
  std::size_t queue_capacity = 65536;

  // limits
  std::size_t max_body_bytes = std::size_t{64} * 1024;
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  std::size_t max_ws_message_bytes = std::size_t{16} * 1024;
  std::size_t max_connections = 2048;
  int request_timeout_ms = 10000;
  int idle_timeout_ms = 60000;
  int ws_ping_interval_ms = 15000;
  std::size_t ws_soft_limit_bytes = std::size_t{1} << 20;
  std::size_t ws_hard_limit_bytes = std::size_t{8} << 20;
  double rate_limit_per_second = 2000;  // per API key
  double rate_limit_burst = 4000;

  // snapshots
  std::uint64_t snapshot_every_commands = 1'000'000;
  int snapshot_every_seconds = 600;

  // journal
  std::uint64_t segment_bytes = std::uint64_t{64} << 20;
};

// args are the words after "serve". On a bad flag, value, file or key:
// InvalidArgument whose message names the flag ("--io-threads: ...") or the
// TOML key ("[limits] max_body_bytes: ..."). On --help: a config with
// show_help set.
Result<ServerConfig> parse_serve_args(const std::vector<std::string>& args);

// The help text for `stox serve --help`.
std::string serve_usage();

}  // namespace stox::server
