// Reading, verifying and recovering a journal directory
// (docs/journal-format.md, "Reading and recovery").
//
// Every function here checks every record CRC, every structural rule and
// the hash chain of everything it reads, and returns only commands of
// durable batches. Damage is reported as Status::Corruption naming the file
// and byte offset, except a torn tail of the last segment, which is what a
// crash leaves and is ignored (by readers) or cut off (by
// recover_for_append).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/command.h"
#include "journal/env.h"
#include "journal/format.h"

namespace stox::journal {

// What a complete check of a journal found.
struct JournalSummary {
  bool empty = true;          // no durable batch at all
  SeqNo first_seq = 0;        // of the first durable command (valid iff !empty)
  SeqNo last_seq = 0;         // of the last durable command (valid iff !empty)
  Hash first_prev_hash{};     // chain anchor: the first segment's prev_hash
  Hash chain{};               // hash of the last durable batch (the anchor if empty)
  std::uint64_t segments = 0;
  std::uint64_t batches = 0;
  std::uint64_t commands = 0;
  // The ignored tail of the last segment: its file, where the durable part
  // ends (0: the segment holds no complete batch), and how many bytes
  // follow. tail_file is empty when the end is clean.
  std::string tail_file;
  std::uint64_t durable_end = 0;
  std::uint64_t tail_bytes = 0;
  // The tail held a complete-looking final batch with damage inside it (see
  // the doc): it cannot be told from a torn write and was not replayed.
  bool final_batch_damaged = false;
};

// Iterates the durable commands of a journal in seq order.
// Not thread-safe. Reads one segment into memory at a time.
class JournalReader {
 public:
  // from_seq 0 starts at the journal's first command. A from_seq below the
  // first seq still on disk is NotFound (older segments were removed); one
  // past the end simply yields nothing. Verification of the chain starts at
  // the segment holding from_seq (anchored by that segment's prev_hash).
  static Result<std::unique_ptr<JournalReader>> open(Env* env, const std::string& dir,
                                                     SeqNo from_seq = 0);
  ~JournalReader();

  // Sets *out to the next durable command and returns true; returns false
  // at the end of the durable journal; Corruption (file and offset) on damage.
  Result<bool> next(Command* out);

  // Valid after next() returned false: the check of everything read.
  const JournalSummary& summary() const;

 private:
  struct Impl;
  explicit JournalReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads and checks the whole journal (every CRC, the chain, the seqs).
Result<JournalSummary> verify_journal(Env* env, const std::string& dir);

// What recover_for_append found and changed.
struct RecoveryInfo {
  JournalSummary summary;         // of the journal as recovered
  std::string cut_file;           // the last segment, if its tail was cut or it was removed
  std::uint64_t dropped_bytes = 0;
  bool removed_segment = false;   // the last segment held no durable batch
};

// Makes dir ready for a writer: checks the whole journal, then cuts the torn
// tail of the last segment off durably (truncate), or removes the last
// segment if it holds no complete batch (and syncs the directory). Any
// corruption before the durable end is returned as an error and nothing is
// changed. Creates dir if missing.
Result<RecoveryInfo> recover_for_append(Env* env, const std::string& dir);

// The second half of recover_for_append, for a caller that has just read the
// whole journal itself (the store's recovery replays commands while the
// reader checks them, so the journal is read once): cuts off the torn tail
// that summary describes and syncs the last segment, as above.
// REQUIRES: summary is that of a JournalReader opened at seq 0 and read to
// the end, and nothing changed dir since.
Result<RecoveryInfo> recover_from_summary(Env* env, const std::string& dir,
                                          const JournalSummary& summary);

}  // namespace stox::journal
