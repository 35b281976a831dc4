#include "store/snapshot_follower.h"

#include <pthread.h>

#include <utility>

#include "store/layout.h"
#include "store/snapshot_file.h"

namespace stox::store {

SnapshotFollower::SnapshotFollower(journal::Env& env, std::string data_dir,
                                   std::unique_ptr<Engine> engine, SeqNo seq,
                                   const FollowerOptions& options, SnapshotObserver observer,
                                   std::unique_ptr<FollowerCompanion> companion)
    : env_(env),
      data_dir_(std::move(data_dir)),
      engine_(std::move(engine)),
      companion_(std::move(companion)),
      seq_(seq),
      options_(options),
      observer_(std::move(observer)),
      snapshot_base_(seq),
      last_time_(std::chrono::steady_clock::now()) {
  applied_seq_.store(seq, std::memory_order_relaxed);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "stox-snapshot");
    run();
  });
}

SnapshotFollower::~SnapshotFollower() { stop(); }

void SnapshotFollower::push(std::span<const Command> committed) {
  if (committed.empty()) return;
  {
    std::lock_guard lock(mutex_);
    queue_.insert(queue_.end(), committed.begin(), committed.end());
  }
  ready_.notify_one();
}

void SnapshotFollower::request_snapshot() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  ready_.notify_one();
}

void SnapshotFollower::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  ready_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SnapshotFollower::run() {
  std::vector<Command> batch;
  std::vector<Event> events;  // for the companion only: the leader has published them
  for (;;) {
    bool stopping = false;
    bool requested = false;
    {
      std::unique_lock lock(mutex_);
      // Wakes at least once a second so that the time trigger fires on an
      // idle exchange too.
      ready_.wait_for(lock, std::chrono::seconds(1),
                      [&] { return !queue_.empty() || stopping_ || requested_; });
      batch.swap(queue_);
      stopping = stopping_;
      requested = requested_;
      requested_ = false;
    }
    for (const Command& c : batch) {
      events.clear();
      engine_->apply(c, events);
      if (companion_) companion_->apply(c, events);
      seq_ = c.seq;
    }
    applied_seq_.store(seq_, std::memory_order_release);
    batch.clear();
    if (stopping) break;
    const bool by_count = options_.every_commands != 0 &&
                          seq_ - snapshot_base_ >= options_.every_commands;
    const bool by_time = options_.every.count() != 0 && seq_ != snapshot_base_ &&
                         std::chrono::steady_clock::now() - last_time_ >= options_.every;
    if (by_count || by_time || (requested && seq_ != snapshot_base_)) snapshot();
  }
  if (options_.on_stop && seq_ != snapshot_base_) snapshot();
}

void SnapshotFollower::snapshot() {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string dir = snapshot_dir(data_dir_);
  const std::string path = dir + "/" + snapshot_name(seq_);
  std::uint64_t size = 0;
  bool ok = env_.file_size(path, &size).ok();  // already there (e.g. written by a tool)
  if (!ok) {
    std::string extension;
    if (companion_) companion_->encode(&extension);
    ok = write_snapshot(env_, dir, seq_, engine_->state_hash(), engine_->snapshot(), extension).ok();
  }
  const auto t1 = std::chrono::steady_clock::now();
  last_time_ = t1;
  snapshot_base_ = seq_;  // a failed write is retried at the next trigger, not at once
  if (ok) {
    last_snapshot_seq_.store(seq_, std::memory_order_release);
    written_.fetch_add(1, std::memory_order_relaxed);
  }
  if (observer_) {
    observer_(seq_, std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(), ok);
  }
}

}  // namespace stox::store
