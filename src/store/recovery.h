// Recovery: rebuilds the engine of a data directory after a restart or a
// crash (docs/design.md, "Snapshots and durability").
//
//   1. The newest snapshot that loads, checks and restores is taken; newer
//      damaged ones are skipped (and reported). With none, an empty engine.
//      A caller with a companion state (RecoverOptions) gets the snapshot's
//      extension to restore it from, and may skip snapshots without one.
//   2. The journal is read from the segment holding the starting seq: the
//      reader checks every record and the hash chain of what it reads, and
//      every durable command after the starting seq is applied through
//      Engine::apply (store/replay.h; its events go to the caller's
//      observer, if any, else nowhere: they were, or will never be,
//      acknowledged). Damage before the last durable batch stops recovery
//      with a Corruption naming the file and byte offset. Segments wholly
//      before the snapshot are not read: `stox verify` checks them.
//   3. The journal is made appendable (journal::recover_from_summary): a
//      torn tail of the last segment is cut off durably.
//
// Fail-stop cases (an error, nothing guessed): a valid snapshot newer than
// the end of a non-empty journal (acknowledged commands are missing from the
// journal), and a journal that no longer reaches back to the chosen
// starting point (segments removed).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/engine.h"
#include "journal/env.h"
#include "journal/reader.h"
#include "store/replay.h"

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
  // Wall time of the two phases (steady clock; for logs and benchmarks).
  std::int64_t restore_ns = 0;  // choosing, loading and restoring the snapshot
  std::int64_t replay_ns = 0;   // reading, checking and replaying the journal
};

// For a caller that keeps a companion state in step with the engine and in
// the snapshot files' extension (the server's market-data projections).
struct RecoverOptions {
  // Called with the extension of the snapshot recovery starts from, before
  // any command is replayed. An error rejects that snapshot (reported in
  // skipped_snapshots) and an older one is tried. REQUIRES: changes nothing
  // when it fails. Not called when recovery starts from the empty engine.
  std::function<Status(std::string_view extension)> restore_extension;
  // Skip (and report) snapshots that have no extension: the companion
  // could not be restored from them.
  bool require_extension = false;
  // Every replayed command with its events (store/replay.h).
  ReplayObserver on_replayed;
};

// REQUIRES: no writer has data_dir open. Creates the layout if missing.
Result<Recovered> recover(journal::Env& env, const std::string& data_dir, const EngineConfig& config,
                          const RecoverOptions& options = {});

}  // namespace stox::store
