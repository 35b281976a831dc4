// BatchReader: the durable commands of a journal, read and checked on a
// thread of its own and handed over in batches: recovery's replay, so that
// reading, CRC32C, the hash chain and decoding overlap with applying.
//
// It checks exactly what JournalReader checks, with the same code
// (segment_scan.h), and on success yields the same commands and the same
// JournalSummary (torn-tail facts included). Damage is the same
// Status::Corruption (file and byte offset) or other error JournalReader
// would return. One difference, on damage only: JournalReader checks a whole
// segment before it yields any command of it, while the BatchReader yields
// each journal batch as soon as that batch is checked, so the commands
// yielded before the error may include the segment's batches that precede
// the damage. (Either way a caller that gets an error has applied commands
// it must throw away.)
//
// Threads: the reading thread is the only user of env while the reader lives
// (Env implementations are thread-safe anyway). next() and summary() are for
// one consumer thread. Memory: one segment (as JournalReader) plus
// batches_in_flight × batch_commands Commands, allocated at open; nothing is
// allocated per batch.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"
#include "core/command.h"
#include "journal/env.h"
#include "journal/reader.h"

namespace stox::journal {

struct BatchReaderOptions {
  std::size_t batch_commands = 4096;  // commands per handed-over batch (>= 1)
  // Ring capacity in batches (>= 2). The reading thread reads a whole
  // segment (64 MB: ~20 ms) before it can hand over any of it, so the ring
  // must hold the lead it builds meanwhile, or the applying thread waits at
  // every segment: 32 x 4096 commands (12.6 MB) cover ~20 ms of replay.
  std::size_t batches_in_flight = 32;
};

class BatchReader {
 public:
  // As JournalReader::open (from_seq 0: from the first command; below the
  // first seq on disk: NotFound). Starts the reading thread.
  static Result<std::unique_ptr<BatchReader>> open(Env* env, const std::string& dir,
                                                   SeqNo from_seq = 0,
                                                   const BatchReaderOptions& options = {});
  // Stops the reading thread (without reading further) and joins it.
  ~BatchReader();
  BatchReader(const BatchReader&) = delete;
  BatchReader& operator=(const BatchReader&) = delete;

  // The next durable commands in seq order (never an empty batch), valid
  // until the next call of next() or the reader's destruction; an empty span
  // at the end of the durable journal; the error on damage. After the end or
  // an error, every later call returns the same.
  Result<std::span<const Command>> next();

  // Valid after next() returned the empty span: the check of everything read.
  const JournalSummary& summary() const;

 private:
  struct Impl;
  explicit BatchReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stox::journal
