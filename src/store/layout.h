// The layout of a data directory (docs/snapshot-format.md, "Snapshot files"):
//
//   <data_dir>/journal/    journal segments (docs/journal-format.md)
//   <data_dir>/snapshots/  snapshot-<seq, 20 digits>.snap files
//
// Everything the exchange needs to restart lives under data_dir, so a copy
// of it (stox backup) is a complete exchange.
#pragma once

#include <string>

#include "common/status.h"
#include "journal/env.h"

namespace stox::store {

inline std::string journal_dir(const std::string& data_dir) { return data_dir + "/journal"; }
inline std::string snapshot_dir(const std::string& data_dir) { return data_dir + "/snapshots"; }

// Creates data_dir and its two subdirectories if missing (not data_dir's parents).
inline Status create_layout(journal::Env& env, const std::string& data_dir) {
  Status s = env.create_dir(data_dir);
  if (s.ok()) s = env.create_dir(journal_dir(data_dir));
  if (s.ok()) s = env.create_dir(snapshot_dir(data_dir));
  return s;
}

}  // namespace stox::store
