// Seeded power cuts at random moments of a DurableEngine's life: in the
// middle of a journal write, between a write and its sync, at a segment
// roll, while a snapshot is written, and during recovery itself.
//
// Each trial is one exchange living through several sessions, each ended by
// a cut. After every cut the data directory is recovered and the recovered
// engine's state hash must equal that of a clean engine fed exactly the
// acknowledged commands, or those plus the whole batch whose commit was cut
// short (docs/journal-format.md, "Durability, precisely": a batch whose
// trailer reached the disk is durable even though nobody was told).
//
// STOX_POWER_CUTS=<n> sets the number of cuts (default 500). Trials
// alternate between matching-only and accounts mode.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "journal/fault_env.h"
#include "store/durable_engine.h"
#include "store/recovery.h"
#include "store/store_test_util.h"

namespace stox::store {
namespace {

using testing::Driver;
using testing::small_config;

const std::string kData = "/data";

struct CutStats {
  std::uint64_t during_open = 0;        // the cut hit recovery or opening
  std::uint64_t during_commit = 0;      // a commit failed
  std::uint64_t during_snapshot = 0;    // a snapshot write failed
  std::uint64_t between = 0;            // the session ended idle
  std::uint64_t unacked_survived = 0;   // the cut-short batch came back whole
  std::uint64_t from_snapshot = 0;      // recovery started from a snapshot
  std::uint64_t acked_commands = 0;
};

std::uint64_t cut_count(std::uint64_t fallback) {
  const char* v = std::getenv("STOX_POWER_CUTS");
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

class PowerCutTrial {
 public:
  PowerCutTrial(std::uint64_t seed, bool accounts)
      : env_(seed), rng_(seed * 0x9e3779b97f4a7c15ull + 1), config_(small_config(accounts)),
        driver_(seed, config_) {
    const std::uint64_t sizes[] = {2048, 8192, 1 << 20};
    options_.journal.segment_bytes = sizes[rng_() % 3];
  }

  void run_session(CutStats* stats) {
    env_.power_off_at(rng_() % 150 + 1);
    std::vector<Command> in_flight;  // the batch of a failed commit
    auto ex = DurableEngine::open(env_, kData, config_, driver_.clock(), options_);
    if (!ex.ok()) {
      ASSERT_TRUE(env_.powered_off()) << ex.status().to_string();
      ++stats->during_open;
    } else {
      drive(**ex, &in_flight, stats);
      if (::testing::Test::HasFatalFailure()) return;
    }
    ex = Status::IOError("the process dies");
    env_.power_cut(rng_() % 2 ? journal::FaultEnv::CutMode::kKeepRandomPrefix
                              : journal::FaultEnv::CutMode::kDropUnsynced);
    check_recovered(in_flight, stats);
  }

 private:
  // Submits random commands, committing and snapshotting at random points,
  // until the power goes off or the session's budget is spent.
  void drive(DurableEngine& ex, std::vector<Command>* in_flight, CutStats* stats) {
    std::vector<Event> released;
    const int commands = static_cast<int>(rng_() % 400);
    for (int i = 0; i < commands; ++i) {
      ASSERT_TRUE(driver_.submit(ex).ok());
      if (rng_() % 6 != 0) continue;
      const SeqNo before = ex.committed_seq();
      Result<SeqNo> r = ex.commit(&released);
      if (!r.ok()) {
        ASSERT_TRUE(ex.failed());
        ASSERT_FALSE(ex.submit(Command::make(0, 0, EndOfDay{})).ok());
        in_flight->assign(driver_.history().begin() + static_cast<std::ptrdiff_t>(before),
                          driver_.history().end());
        ++stats->during_commit;
        return;
      }
      acked_ = *r;
      ASSERT_EQ(released.back().seq, acked_) << "events of every committed command released";
      if (rng_() % 8 == 0 && !ex.snapshot_now().ok()) ++stats->during_snapshot;
    }
    ++stats->between;  // what is still pending is lost with the process
  }

  void check_recovered(const std::vector<Command>& in_flight, CutStats* stats) {
    Result<Recovered> r = recover(env_, kData, config_);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const SeqNo got = r->last_seq;
    ASSERT_GE(got, acked_) << "an acknowledged command was lost";
    if (got != acked_) {
      ASSERT_FALSE(in_flight.empty()) << "recovered commands that were never committed";
      ASSERT_EQ(got, acked_ + in_flight.size()) << "a partial batch was replayed";
      ++stats->unacked_survived;
    }
    ASSERT_EQ(r->engine->state_hash(), driver_.hash_after(got))
        << "recovered state differs from a clean replay of seqs 1.." << got;
    if (!r->snapshot_path.empty()) ++stats->from_snapshot;
    // What came back is durable from now on: the next session builds on it.
    driver_.keep_until(got);
    acked_ = got;
    stats->acked_commands = std::max(stats->acked_commands, got);
  }

  journal::FaultEnv env_;
  std::mt19937_64 rng_;
  EngineConfig config_;
  Driver driver_;
  DurableOptions options_;
  SeqNo acked_ = 0;
};

TEST(DurablePowerCut, RecoveredStateEqualsACleanReplayOfTheAcknowledgedCommands) {
  const std::uint64_t cuts = cut_count(500);
  CutStats stats;
  std::uint64_t done = 0;
  for (std::uint64_t trial = 0; done < cuts; ++trial) {
    const std::uint64_t seed = 5'000'000 + trial;
    SCOPED_TRACE("seed " + std::to_string(seed) + (trial % 2 ? " accounts" : " matching-only"));
    PowerCutTrial t(seed, trial % 2 == 1);
    for (int session = 0; session < 6 && done < cuts; ++session, ++done) {
      t.run_session(&stats);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("[ power cuts ] %llu passed: %llu during open/recovery, %llu during a commit, "
              "%llu sessions ended idle, %llu snapshot writes cut; %llu cut-short batches came "
              "back whole; %llu recoveries started from a snapshot\n",
              u(done), u(stats.during_open), u(stats.during_commit), u(stats.between),
              u(stats.during_snapshot), u(stats.unacked_survived), u(stats.from_snapshot));
  EXPECT_GT(stats.during_commit, done / 5);
  EXPECT_GT(stats.during_open, 0u);
  EXPECT_GT(stats.during_snapshot, 0u);
  EXPECT_GT(stats.from_snapshot, done / 5);
  EXPECT_GT(stats.unacked_survived, 0u);
}

}  // namespace
}  // namespace stox::store
