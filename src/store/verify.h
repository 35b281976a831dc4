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
//  - with a companion factory (VerifyOptions), every snapshot's extension:
//    its bytes must equal the encoding of a companion fed the full replay's
//    events up to the snapshot's seq (the server's projections);
//  - Engine::check_invariants() and, in accounts mode, check_ledger() of the
//    final state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/engine.h"
#include "journal/env.h"
#include "store/snapshot_follower.h"

namespace stox::store {

struct VerifyReport {
  bool ok = false;
  std::string problem;  // the first problem found; empty iff ok
  std::uint64_t segments = 0;
  std::uint64_t records = 0;  // segment headers + commands + batch trailers
  std::uint64_t batches = 0;
  std::uint64_t commands = 0;
  std::uint64_t snapshots_checked = 0;
  std::uint64_t extensions_checked = 0;  // snapshot extensions compared with the replay's
  SeqNo final_seq = 0;
  std::uint64_t final_state_hash = 0;
  std::string tail;  // an ignored torn tail of the journal, described; empty if none

  // A few lines for people, ending in "OK" or "FAILED: <problem>".
  std::string to_string() const;
};

struct VerifyOptions {
  // Makes an empty companion of the kind whose state the snapshots'
  // extensions hold (REQUIRES: its encode() is canonical: equal states,
  // equal bytes). Unset: extensions are checked by the file CRC only.
  std::function<std::unique_ptr<FollowerCompanion>()> make_companion;
};

VerifyReport verify_data_dir(journal::Env& env, const std::string& data_dir,
                             const EngineConfig& config, const VerifyOptions& options = {});

}  // namespace stox::store
