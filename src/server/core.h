// Core: the engine thread of the server — sequencer, journal, engine and
// outbound dispatch (docs/design.md, "The server").
//
//   I/O threads ──post(Work)──▶ BoundedQueue ──drain──▶ engine thread:
//     1. sequence + journal + apply every command of the drained batch
//        (DurableEngine::submit: seq, timestamp, journal queue, Engine::apply)
//     2. one group commit for the batch (write + fdatasync)
//     3. per command, in seq order: project its events (marketdata), run its
//        Work::done (which answers the client through a Responder) and
//        publish market data to WebSocket subscribers (WsHub)
//     4. reads (Work without a command) run in queue order between them
//
// So nothing is told to anyone before its command is durable, and reads see
// exactly the committed state. The engine thread never touches a socket:
// Responders and WsSinks only queue bytes for the I/O threads.
//
// The sequencer, journal and engine share this one thread on purpose: on a
// 2-core machine the I/O threads need the other core, and the engine is far
// from being the bottleneck (5 M cmd/s against ~100 k requests/s). Batches
// amortise the sync: while one fdatasync runs, the next batch queues up.
//
// Fail-stop: after the first journal failure every command is answered with
// the failure (503) and failure_reason() says why (/health).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "core/engine.h"
#include "journal/env.h"
#include "marketdata/projections.h"
#include "server/queue.h"
#include "store/durable_engine.h"
#include "store/snapshot_follower.h"

namespace stox::server {

class WsHub;

// Symbol -> instrument (id and scales), readable from the I/O threads so
// that a request is turned into a complete command before it is queued.
// Written by the engine thread when an instrument is added (before the
// AddInstrument is answered); an instrument's scales never change.
class SymbolCache {
 public:
  std::optional<marketdata::InstrumentInfo> find(std::string_view symbol) const {
    std::shared_lock lock(mutex_);
    auto it = by_symbol_.find(std::string(symbol));
    if (it == by_symbol_.end()) return std::nullopt;
    return it->second;
  }
  void add(const marketdata::InstrumentInfo& info) {
    std::unique_lock lock(mutex_);
    by_symbol_[std::string(info.symbol())] = info;
  }

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, marketdata::InstrumentInfo> by_symbol_;
};

// What a Work callback sees, on the engine thread. Valid during the call only.
struct CoreContext {
  const Engine& engine;              // the committed state
  marketdata::Projections& md;       // fed with every committed event
  WsHub& hub;
  std::span<const Event> events;     // the command's events; empty for reads
  SeqNo seq = 0;                     // the command's seq; 0 for reads
  const Status* failure = nullptr;   // non-null: the command was NOT made durable
};

struct Work {
  std::optional<Command> command;          // seq and timestamp are assigned by the core
  std::function<void(CoreContext&)> done;  // runs on the engine thread, exactly once
  std::int64_t enqueued_ns = 0;            // steady clock, for the ack-latency histogram
};

// Hooks for metrics; called on the engine thread, except on_snapshot (the
// snapshot follower's thread). All optional.
struct CoreObserver {
  virtual ~CoreObserver() = default;
  virtual void on_batch(std::size_t /*commands*/, std::int64_t /*commit_ns*/) {}
  virtual void on_command(const Command& /*c*/, std::span<const Event> /*events*/) {}
  virtual void on_acked(std::int64_t /*latency_ns*/) {}
  virtual void on_snapshot(std::int64_t /*write_ns*/, bool /*ok*/) {}
};

struct CoreOptions {
  std::string data_dir = "./data";
  EngineConfig engine;
  store::DurableOptions durable;
  marketdata::ProjectionsConfig projections;
  std::size_t queue_capacity = 65536;
  // Snapshots are written by a follower engine on its own thread
  // (store/snapshot_follower.h): matching never pauses for them.
  store::FollowerOptions snapshots;
};

// The settings of the exchange's engine as the server runs it: accounts,
// ledger and risk on (EngineConfig::accounts).
EngineConfig server_engine_config();

// Empty projections fed events and encoded into snapshots' extensions, as
// the snapshot follower keeps them (for `stox verify`, which rebuilds them).
std::unique_ptr<store::FollowerCompanion> make_projections_companion(
    const marketdata::ProjectionsConfig& config);

class Core {
 public:
  // Recovers the data directory: the engine and the market-data
  // projections from the newest snapshot that holds both (its extension),
  // then the journal after it, applied to both. A data directory whose
  // snapshots lack the projections (older versions, `DurableEngine::
  // snapshot_now`) is replayed from the journal's start.
  static Result<std::unique_ptr<Core>> open(journal::Env& env, const CoreOptions& options,
                                            WsHub& hub, CoreObserver* observer);
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  void start();  // starts the engine thread
  // Stops taking work, answers what is queued, joins the thread, then lets
  // the snapshot follower catch up and write its final snapshot. Idempotent.
  void stop();

  // From any thread; never blocks. False when the queue is full or the core
  // stopped: the caller answers 503 and `work` is left unused.
  bool post(Work&& work);

  // Thread-safe.
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  std::string failure_reason() const;
  std::size_t queue_depth() const { return queue_.size(); }
  std::size_t queue_capacity() const { return queue_.capacity(); }
  SeqNo committed_seq() const { return committed_seq_.load(std::memory_order_acquire); }
  // What recovery found and how long it took (engine moved out).
  const store::Recovered& recovery() const { return durable_->recovery(); }
  store::SnapshotFollower& snapshots() { return *follower_; }
  const SymbolCache& symbols() const { return symbols_; }

 private:
  Core(journal::Env& env, const CoreOptions& options, WsHub& hub, CoreObserver* observer,
       std::unique_ptr<store::DurableEngine> durable, marketdata::Projections md);
  void start_follower();
  void run();
  void process(std::vector<Work>& batch);
  void record_failure();

  journal::Env& env_;
  const CoreOptions options_;
  WsHub& hub_;
  CoreObserver* observer_;
  CoreObserver no_observer_;
  std::unique_ptr<store::DurableEngine> durable_;
  std::unique_ptr<store::SnapshotFollower> follower_;
  marketdata::Projections md_;
  SymbolCache symbols_;
  BoundedQueue<Work> queue_;
  std::thread thread_;
  bool started_ = false;

  std::atomic<bool> failed_{false};
  std::atomic<SeqNo> committed_seq_{0};
  mutable std::mutex failure_mutex_;
  std::string failure_reason_;

  // Engine thread only.
  std::vector<Event> released_;
  std::vector<SeqNo> seqs_;  // per batch item: its seq, 0 for reads or refused commands
  std::vector<Command> sequenced_;  // the batch's commands as journaled, for the follower
};

// Monotonic nanoseconds (latency measurement only, never in commands).
std::int64_t steady_now_ns();

}  // namespace stox::server
