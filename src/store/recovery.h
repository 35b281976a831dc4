// Recovery: rebuilds the engine of a data directory after a restart or a
// crash (docs/design.md, "Snapshots and durability").
//
//   1. The newest snapshot that loads, checks and restores is taken; newer
//      damaged ones are skipped (and reported). With none, an empty engine.
//   2. The whole journal is read once: the reader checks every record and
//      the hash chain, and every durable command after the snapshot's seq
//      is applied through Engine::apply (its events are discarded: they
//      were, or will never be, acknowledged). Damage before the last
//      durable batch stops recovery with a Corruption naming the file and
//      byte offset.
//   3. The journal is made appendable (journal::recover_from_summary): a
//      torn tail of the last segment is cut off durably.
//
// Fail-stop cases (an error, nothing guessed): a valid snapshot newer than
// the end of a non-empty journal (acknowledged commands are missing from the
// journal), and a journal that no longer reaches back to the chosen
// starting point (segments removed).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/engine.h"
#include "journal/env.h"
#include "journal/reader.h"

namespace stox::store {

struct Recovered {
  std::unique_ptr<Engine> engine;
  SeqNo last_seq = 0;        // of the last command applied (snapshot or journal); 0 = none
  Timestamp last_timestamp = 0;  // of the last replayed command; 0 if none was replayed
  SeqNo snapshot_seq = 0;    // valid iff !snapshot_path.empty()
  std::string snapshot_path; // the snapshot restored, empty: started from an empty engine
  std::vector<std::string> skipped_snapshots;  // newer snapshots rejected, each with its reason
  std::uint64_t replayed = 0;                  // journal commands applied
  journal::RecoveryInfo journal;               // the journal as recovered (what was cut)
};

// REQUIRES: no writer has data_dir open. Creates the layout if missing.
Result<Recovered> recover(journal::Env& env, const std::string& data_dir, const EngineConfig& config);

}  // namespace stox::store
