#include "app/store_commands.h"

#include <charconv>
#include <ostream>
#include <string>
#include <vector>

#include "core/engine.h"
#include "journal/env.h"
#include "server/core.h"
#include "store/backup.h"
#include "store/verify.h"

namespace stox {

const std::string_view kStoreCommandsUsage =
    "  verify [flags] DATA_DIR\n"
    "          check every journal record and the hash chain, replay the journal from\n"
    "          empty and from every snapshot (state hashes must agree), check each\n"
    "          snapshot's market-data projections against the replay's, check the\n"
    "          ledger and invariants of the final state; prints a summary, exit 0 iff OK\n"
    "  backup [flags] DATA_DIR DEST\n"
    "          consistent copy of DATA_DIR into DEST (new or empty), safe while the\n"
    "          exchange runs: newest valid snapshot + journal up to its last complete\n"
    "          batch (sealed segments hard-linked when possible), synced, then verified\n";

const std::string_view kStoreFlagsUsage =
    "\n"
    "flags of verify and backup (the engine config the data was written with):\n"
    "  --accounts on|off   accounts mode (default on)\n"
    "  --cash-scale N      decimals of the settlement currency, 0..9 (default 4)\n";

namespace {

struct StoreArgs {
  EngineConfig config;
  std::vector<std::string> dirs;
};

bool parse_cash_scale(std::string_view v, std::uint8_t* out) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n > 9) return false;
  *out = static_cast<std::uint8_t>(n);
  return true;
}

// Parses flags and positional directories; false (and a message) on misuse.
bool parse(std::span<const std::string_view> args, std::size_t want_dirs, StoreArgs* out,
           std::ostream& err) {
  out->config.accounts = true;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--accounts" && has_value && (args[i + 1] == "on" || args[i + 1] == "off")) {
      out->config.accounts = args[++i] == "on";
    } else if (a == "--cash-scale" && has_value && parse_cash_scale(args[i + 1], &out->config.cash_scale)) {
      ++i;
    } else if (a.starts_with("--")) {
      err << "stox: bad flag or value: " << a << "\n";
      return false;
    } else {
      out->dirs.emplace_back(a);
    }
  }
  if (out->dirs.size() != want_dirs) {
    err << "stox: expected " << want_dirs << (want_dirs == 1 ? " directory" : " directories") << "\n";
    return false;
  }
  return true;
}

}  // namespace

int run_verify(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  StoreArgs a;
  if (!parse(args, 1, &a, err)) return 2;
  // Snapshots written by the server carry its projections: rebuild them
  // from the journal as the server does and compare.
  store::VerifyOptions options;
  marketdata::ProjectionsConfig projections;
  projections.cash_scale = a.config.cash_scale;
  options.make_companion = [projections] { return server::make_projections_companion(projections); };
  store::VerifyReport report =
      store::verify_data_dir(*journal::posix_env(), a.dirs[0], a.config, options);
  out << report.to_string();
  return report.ok ? 0 : 1;
}

int run_backup(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  StoreArgs a;
  if (!parse(args, 2, &a, err)) return 2;
  Result<store::BackupReport> report =
      store::backup_data_dir(*journal::posix_env(), a.dirs[0], a.dirs[1], a.config);
  if (!report.ok()) {
    err << "stox backup: FAILED: " << report.status().to_string() << "\n";
    return 1;
  }
  out << report->to_string();
  return 0;
}

}  // namespace stox
