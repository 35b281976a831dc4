// DurableEngine: the single-threaded durable pipeline — sequencer, journal
// and engine in one object. It is what the server's sequencer thread will
// call; the server adds the threads and queues around it.
//
//   auto ex = DurableEngine::open(env, data_dir, config, clock);  // recovers first
//   ex->submit(cmd);  ex->submit(cmd2);      // sequenced, journaled (queued), applied
//   std::vector<Event> acked;
//   ex->commit(&acked);                      // one group commit; then the events
//                                            // of cmd and cmd2 are released
//
// Acknowledgement waits for durability, the engine does not: submit()
// applies a command at once (the engine runs ahead of the disk) but keeps
// its events until the commit() that made the command durable. Events are
// the only acknowledgement, so nothing reaches a client before its command
// is on disk.
//
// Fail-stop: the first journal failure (write, sync, a full disk) puts the
// pipeline into the failed state for good: every later submit() and commit()
// returns the error, the events of every command not committed before the
// failure are dropped, and failure_reason() says why (for /health). The
// engine then holds commands that may never reach the disk, so the only way
// on is a restart, which recovers from the disk.
//
// Timestamps come from the injected clock (never read by the engine), made
// non-decreasing here: a clock that steps back repeats the last timestamp.
//
// Not thread-safe: one thread owns a DurableEngine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/engine.h"
#include "journal/env.h"
#include "journal/writer.h"
#include "store/recovery.h"

namespace stox::store {

using Clock = std::function<Timestamp()>;

struct DurableOptions {
  // first_seq is ignored: the journal continues from the recovered state.
  journal::WriterOptions journal;
  // A companion state recovered with the engine (store/recovery.h).
  RecoverOptions recovery;
};

class DurableEngine {
 public:
  // Recovers data_dir (store/recovery.h) and opens its journal for appending.
  static Result<std::unique_ptr<DurableEngine>> open(journal::Env& env, const std::string& data_dir,
                                                     const EngineConfig& config, Clock clock,
                                                     const DurableOptions& options = {});
  ~DurableEngine();
  DurableEngine(const DurableEngine&) = delete;
  DurableEngine& operator=(const DurableEngine&) = delete;

  // Gives command its seq and timestamp (whatever it carried is
  // overwritten), queues it in the journal, applies it and keeps its events
  // for the next commit(). Returns the seq. Fails only in the failed state.
  Result<SeqNo> submit(Command command);

  // Group-commits every submitted command (one journal write and sync), then
  // appends their events, in seq order, to *released and returns the last
  // committed seq. With nothing pending, returns committed_seq(). On a
  // journal failure: the failed state, nothing is released.
  Result<SeqNo> commit(std::vector<Event>* released);

  // Writes a snapshot of the engine at committed_seq() and returns its path
  // (or the path of the one already written at that seq).
  // REQUIRES: no submitted command awaits commit() (InvalidArgument), so that
  // the engine state is exactly the committed one.
  // Synchronous, so matching pauses while the engine is encoded and the file
  // written; the server will instead snapshot from a follower engine that
  // replays the journal, so that matching never pauses. A failed snapshot
  // does not fail the pipeline: the journal alone is the source of truth.
  Result<std::string> snapshot_now();

  bool failed() const { return !failure_.ok(); }
  const Status& failure() const { return failure_; }
  // Empty unless failed(): why the pipeline stopped (for /health).
  const std::string& failure_reason() const { return failure_reason_; }

  const Engine& engine() const { return *engine_; }
  SeqNo committed_seq() const { return committed_seq_; }
  Timestamp last_timestamp() const { return last_timestamp_; }  // of the last submitted command
  SeqNo last_seq() const { return next_seq_ - 1; }  // including uncommitted commands
  std::size_t pending() const { return static_cast<std::size_t>(last_seq() - committed_seq_); }
  // What recovery found when this pipeline was opened (engine moved out).
  const Recovered& recovery() const { return recovery_; }
  const journal::JournalWriter& journal() const { return *writer_; }

 private:
  DurableEngine(std::string  data_dir, journal::Env& env, Recovered recovered,
                std::unique_ptr<journal::JournalWriter> writer, Clock clock);
  Status fail(const Status& s);

  journal::Env& env_;
  const std::string data_dir_;
  Clock clock_;
  Recovered recovery_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<journal::JournalWriter> writer_;
  SeqNo next_seq_ = 1;
  SeqNo committed_seq_ = 0;
  Timestamp last_timestamp_ = 0;
  std::vector<Event> pending_events_;  // of the commands after committed_seq_
  Status failure_;
  std::string failure_reason_;
};

}  // namespace stox::store
