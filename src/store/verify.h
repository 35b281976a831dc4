// Offline and online checking of a data directory (`stox verify`).
//
// Reads only; safe while the exchange writes to data_dir (the journal's
// in-progress tail is ignored as a torn write, and every replay stops at the
// seq the full replay reached).
//
// Checks, stopping at the first problem:
//  - every journal record (CRC, structure, seqs) and the hash chain, by a
//    full replay from an empty engine;
//  - every snapshot file (checksum, header, name), that the full replay's
//    state hash at the snapshot's seq equals the one recorded in it, that it
//    restores to that hash, and that replaying the journal after it reaches
//    the full replay's final state hash;
//  - Engine::check_invariants() and, in accounts mode, check_ledger() of the
//    final state.
#pragma once

#include <cstdint>
#include <string>

#include "core/engine.h"
#include "journal/env.h"

namespace stox::store {

struct VerifyReport {
  bool ok = false;
  std::string problem;  // the first problem found; empty iff ok
  std::uint64_t segments = 0;
  std::uint64_t records = 0;  // segment headers + commands + batch trailers
  std::uint64_t batches = 0;
  std::uint64_t commands = 0;
  std::uint64_t snapshots_checked = 0;
  SeqNo final_seq = 0;
  std::uint64_t final_state_hash = 0;
  std::string tail;  // an ignored torn tail of the journal, described; empty if none

  // A few lines for people, ending in "OK" or "FAILED: <problem>".
  std::string to_string() const;
};

VerifyReport verify_data_dir(journal::Env& env, const std::string& data_dir,
                             const EngineConfig& config);

}  // namespace stox::store
