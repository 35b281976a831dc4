// JournalWriter: appends sequenced commands to a journal directory with
// group commit (docs/journal-format.md, "Writing").
//
//   auto w = JournalWriter::open(env, dir, options);   // recovers first
//   w->append(cmd1); w->append(cmd2);                   // queued in memory
//   Result<SeqNo> durable = w->commit();                // one write + one fdatasync
//   // ack cmd1, cmd2 only if durable.ok()
//
// Fail-stop: the first failed write, sync or file operation puts the writer
// into the failed state for good: that commit() and every later append() and
// commit() return the error, nothing is retried, and durable_seq() never
// moves again. Recovery is a restart: open a new writer on the directory.
//
// Not thread-safe: one thread (the sequencer/journal thread) owns a writer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "core/command.h"
#include "journal/env.h"
#include "journal/format.h"
#include "journal/reader.h"

namespace stox::journal {

enum class SyncMode {
  kBatch,  // default: commit() returns after the batch is durable
  kNone,   // UNSAFE, benchmarks only: commit() never syncs; a power cut loses acked batches
};

struct WriterOptions {
  // A new segment starts before a batch once the current one has reached
  // this size (so a segment may exceed it by one batch).
  std::uint64_t segment_bytes = 64ull << 20;
  SyncMode sync = SyncMode::kBatch;
  // The seq the first command of an empty journal must carry.
  SeqNo first_seq = 1;
};

class JournalWriter {
 public:
  // Recovers dir (recover_for_append: the torn tail of a crash is cut off,
  // corruption is an error) and returns a writer whose next command must
  // carry seq recovery().summary.last_seq + 1 (or options.first_seq).
  static Result<std::unique_ptr<JournalWriter>> open(Env* env, const std::string& dir,
                                                     const WriterOptions& options = {});
  // As open(), for a caller that has just run recover_for_append(env, dir)
  // itself (the store's recovery reads the journal once, not twice).
  // REQUIRES: recovery is that call's result and nothing changed dir since.
  static Result<std::unique_ptr<JournalWriter>> open_recovered(Env* env, const std::string& dir,
                                                               const WriterOptions& options,
                                                               RecoveryInfo recovery);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Queues c for the next commit(). REQUIRES: c.seq == next_seq() (else
  // InvalidArgument; the writer stays usable). Fails if the writer failed.
  Status append(const Command& c);

  // Writes every queued command as one batch (records + trailer, one write)
  // and, in SyncMode::kBatch, fdatasyncs once. Returns the last seq of the
  // batch (durable_seq()); with nothing queued, returns durable_seq() and
  // does no I/O. On any failure the writer enters the failed state.
  Result<SeqNo> commit();

  // Syncs and closes the current segment. Queued commands are discarded.
  Status close();

  bool failed() const { return !failure_.ok(); }
  const Status& failure() const { return failure_; }
  // The last seq whose commit() succeeded (0 if none); in SyncMode::kNone it
  // was written but is NOT durable.
  SeqNo durable_seq() const { return durable_seq_; }
  SeqNo next_seq() const { return next_seq_; }
  std::size_t queued() const { return queued_; }
  const Hash& chain() const { return chain_; }
  const RecoveryInfo& recovery() const { return recovery_; }

  // Counters for metrics and benchmarks.
  std::uint64_t batches_written() const { return batches_; }
  std::uint64_t syncs() const { return syncs_; }
  std::uint64_t segments_created() const { return segments_created_; }

 private:
  JournalWriter(Env* env, std::string dir, const WriterOptions& options, RecoveryInfo recovery);
  Status start_segment();
  Status fail(const Status& s);
  void reset_batch();

  Env* const env_;
  const std::string dir_;
  const WriterOptions options_;
  const RecoveryInfo recovery_;

  std::unique_ptr<WritableFile> file_;  // the current segment, null before the first batch
  std::uint64_t file_bytes_ = 0;
  bool new_segment_ = false;            // the pending batch starts file_

  // The pending batch: kHeaderRecordSize bytes reserved for a segment header
  // (used when the batch starts a segment), then the command records.
  std::string batch_;
  std::size_t queued_ = 0;
  SeqNo batch_first_ = 0;

  SeqNo next_seq_ = 0;
  SeqNo durable_seq_ = 0;
  Hash chain_{};
  Status failure_;

  std::uint64_t batches_ = 0;
  std::uint64_t syncs_ = 0;
  std::uint64_t segments_created_ = 0;
};

}  // namespace stox::journal
