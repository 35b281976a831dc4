// A consistent copy of a data directory, safe while the exchange runs
// (`stox backup`).
//
// Consistency comes from order: the newest valid snapshot is chosen and
// copied first, and the journal is listed only after it, so the copied
// journal reaches at least the snapshot's seq (a snapshot is written only
// after its seq was committed). Sealed segments (all but the last) are never
// written again and are hard-linked when dest is on the same file system
// (else copied); the last, active segment is copied and then cut back to
// its last complete batch (journal::recover_for_append), which also checks
// the whole copied journal. Every file and directory of the copy is synced,
// and the copy is then checked with verify_data_dir().
//
// A hard-linked segment shares its disk blocks with the source: a copy meant
// to survive the loss of the source disk must go to another file system.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "core/engine.h"
#include "journal/env.h"
#include "store/verify.h"

namespace stox::store {

struct BackupReport {
  std::string snapshot;  // the snapshot copied (source path); empty if none
  SeqNo snapshot_seq = 0;
  std::uint64_t segments_linked = 0;
  std::uint64_t segments_copied = 0;
  std::uint64_t bytes_copied = 0;
  std::uint64_t tail_bytes_cut = 0;  // of the active segment's in-progress batch
  VerifyReport verify;               // of the copy

  std::string to_string() const;
};

// REQUIRES: dest does not exist or is an empty directory; its parent exists.
// Err: any I/O failure, damage in the source, or a copy that does not verify.
Result<BackupReport> backup_data_dir(journal::Env& env, const std::string& source,
                                     const std::string& dest, const EngineConfig& config);

}  // namespace stox::store
