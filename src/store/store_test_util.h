// Test support for the store tests: engine configs small enough to build
// thousands of engines, and a Driver that feeds a DurableEngine seeded
// random commands while keeping, beside it, the exact history of what was
// submitted and the state hash a clean engine has after each seq.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/testing/random_stream.h"
#include "store/durable_engine.h"

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

}  // namespace stox::store::testing
