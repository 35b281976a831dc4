// Test support for the store tests: engine configs small enough to build
// thousands of engines, and a Driver that feeds a DurableEngine seeded
// random commands while keeping, beside it, the exact history of what was
// submitted and the state hash a clean engine has after each seq.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/testing/random_stream.h"
#include "store/durable_engine.h"
#include "store/snapshot_follower.h"

namespace stox::store::testing {

inline EngineConfig small_config(bool accounts) {
  EngineConfig c;
  c.expected_orders = 1024;
  c.accounts = accounts;
  return c;
}

inline stox::testing::RandomStreamOptions stream_options(bool accounts) {
  stox::testing::RandomStreamOptions o;
  o.accounts_mode = accounts;
  if (accounts) o.accounts = 12;
  return o;
}

// The reference side of a test: every command submitted, in seq order, and
// a clean engine fed exactly those commands (its events steer the stream).
class Driver {
 public:
  Driver(std::uint64_t seed, const EngineConfig& config)
      : config_(config), stream_(seed, stream_options(config.accounts)),
        shadow_(std::make_unique<Engine>(config)) {
    hash_after_.push_back(shadow_->state_hash());
  }

  // The clock a DurableEngine under test reads: the stream's next timestamp.
  Clock clock() {
    return [this] { return now_; };
  }

  // Submits the stream's next command; records it as the engine saw it.
  Result<SeqNo> submit(DurableEngine& ex) {
    Command c = stream_.next();
    now_ = c.timestamp;
    Result<SeqNo> seq = ex.submit(c);
    if (!seq.ok()) return seq;
    c.seq = *seq;
    c.timestamp = ex.last_timestamp();
    EXPECT_EQ(c.seq, history_.size() + 1) << "seqs must be consecutive";
    std::vector<Event> events;
    shadow_->apply(c, events);
    stream_.observe(events);
    history_.push_back(c);
    hash_after_.push_back(shadow_->state_hash());
    return seq;
  }

  // A clean engine's state hash after seq (0: the empty engine).
  std::uint64_t hash_after(SeqNo seq) const { return hash_after_.at(seq); }
  SeqNo last_seq() const { return history_.size(); }
  const std::vector<Command>& history() const { return history_; }

  // What survived is all there is: forget every command after seq and
  // rebuild the clean engine from the rest.
  void keep_until(SeqNo seq) {
    if (seq == history_.size()) return;
    history_.resize(seq);
    hash_after_.resize(seq + 1);
    shadow_ = std::make_unique<Engine>(config_);
    std::vector<Event> events;
    for (const Command& c : history_) {
      shadow_->apply(c, events);
      events.clear();
    }
  }

 private:
  EngineConfig config_;
  stox::testing::RandomStream stream_;
  std::unique_ptr<Engine> shadow_;
  std::vector<Command> history_;
  std::vector<std::uint64_t> hash_after_;  // index: seq
  Timestamp now_ = 0;
};

// A companion (store/snapshot_follower.h) that folds every event's bytes
// into a digest and encodes as "seq:digest": whatever restores or rebuilds
// it from a snapshot's extension and the journal must reach the digest of
// one fed every command from the start.
struct DigestState {
  SeqNo seq = 0;
  std::uint64_t digest = 1469598103934665603ULL;
  void apply(const Command& c, std::span<const Event> events) {
    for (const Event& e : events) {
      const auto* bytes = reinterpret_cast<const unsigned char*>(&e);
      for (std::size_t i = 0; i < sizeof e; ++i) digest = (digest ^ bytes[i]) * 1099511628211ULL;
    }
    seq = c.seq;
  }
  std::string encode() const { return std::to_string(seq) + ":" + std::to_string(digest); }
};

class DigestCompanion final : public FollowerCompanion {
 public:
  void apply(const Command& c, std::span<const Event> events) override { state.apply(c, events); }
  void encode(std::string* out) const override { out->append(state.encode()); }
  DigestState state;
};

}  // namespace stox::store::testing
