// SnapshotFollower: takes snapshots without pausing matching.
//
// A second engine on its own thread is fed every committed command (the
// engine is deterministic, so it reaches exactly the leader's states) and
// snapshots itself: every `every_commands` commands, every `every` seconds,
// and once more when stopped. The leader (the engine thread) only copies
// the commands of each committed batch into the follower's queue; encoding
// and writing a snapshot of a million orders (over a second) happens on the
// follower's thread while the leader keeps matching.
//
// The queue is unbounded on purpose: blocking the leader is what this class
// exists to avoid, and dropping commands would make the follower diverge.
// While a snapshot is written the queue grows by the commands committed
// meanwhile (96 bytes each: ~30 MB for a 1.5 s write at 200 k commands/s),
// then drains at the engine's speed.
//
// A failed snapshot write is reported (observer) and retried at the next
// trigger: the journal is the source of truth, a snapshot only shortens
// recovery.
//
// A companion (optional) is state kept in step with the engine outside it,
// the server's market-data projections: the follower hands it every
// command's events and writes its encoding as each snapshot's extension
// (store/snapshot_file.h), so that a restart restores it instead of
// rebuilding it from the whole journal.
//
// Thread-safety: push() from one thread (the leader); stop() from any one
// thread; the rest is internal to the follower's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/engine.h"
#include "journal/env.h"

namespace stox::store {

struct FollowerOptions {
  std::uint64_t every_commands = 1'000'000;  // 0 = never by count
  std::chrono::seconds every{600};           // 0 = never by time
  bool on_stop = true;                       // a snapshot at the final seq when stopped
};

// Runs on the follower's thread only.
class FollowerCompanion {
 public:
  virtual ~FollowerCompanion() = default;
  // The events of one command the follower's engine applied, in seq order.
  virtual void apply(const Command& command, std::span<const Event> events) = 0;
  // Appends the state's bytes (the snapshot's extension); between commands.
  virtual void encode(std::string* out) const = 0;
};

// Called on the follower's thread after each attempt: the seq, how long the
// encode + durable write took, and whether it worked.
using SnapshotObserver = std::function<void(SeqNo seq, std::int64_t write_ns, bool ok)>;

class SnapshotFollower {
 public:
  // `engine` (and `companion`, if any) is at `seq` (every command up to it
  // applied); the follower starts its thread at once.
  SnapshotFollower(journal::Env& env, std::string data_dir, std::unique_ptr<Engine> engine,
                   SeqNo seq, const FollowerOptions& options, SnapshotObserver observer = {},
                   std::unique_ptr<FollowerCompanion> companion = nullptr);
  ~SnapshotFollower();  // stop()
  SnapshotFollower(const SnapshotFollower&) = delete;
  SnapshotFollower& operator=(const SnapshotFollower&) = delete;

  // Committed commands, in seq order, continuing the follower's seq.
  void push(std::span<const Command> committed);
  // Asks for a snapshot as soon as the follower has applied what is queued
  // now (operators, benchmarks). Returns at once.
  void request_snapshot();
  // Applies what is queued, writes the final snapshot (if on_stop), joins.
  // Idempotent.
  void stop();

  // The seq of the last command the follower applied (its lag behind the
  // leader is the leader's committed seq minus this).
  SeqNo applied_seq() const { return applied_seq_.load(std::memory_order_acquire); }
  // The seq of the newest snapshot this follower wrote (0: none yet).
  SeqNo last_snapshot_seq() const { return last_snapshot_seq_.load(std::memory_order_acquire); }
  std::uint64_t snapshots_written() const { return written_.load(std::memory_order_relaxed); }

 private:
  void run();
  void snapshot();

  journal::Env& env_;
  const std::string data_dir_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<FollowerCompanion> companion_;
  SeqNo seq_;
  const FollowerOptions options_;
  SnapshotObserver observer_;

  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<Command> queue_;
  bool stopping_ = false;
  bool requested_ = false;
  std::thread thread_;

  std::atomic<SeqNo> applied_seq_{0};
  std::atomic<SeqNo> last_snapshot_seq_{0};
  std::atomic<std::uint64_t> written_{0};
  SeqNo snapshot_base_ = 0;  // follower thread: seq of the last snapshot (or the start)
  std::chrono::steady_clock::time_point last_time_;
};

}  // namespace stox::store
