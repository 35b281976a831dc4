// Seeded power cuts at random moments of a writer's life, including in the
// middle of a write, between a write and its sync, between a segment's
// creation and its directory sync, and during recovery itself.
//
// After every cut the journal is reopened and must hold, in order and
// exactly once, every command whose commit() succeeded, followed by nothing
// or by whole unacknowledged batches that fully made it to disk (in sync
// mode `batch` at most the one batch in flight), and its chain must verify.
//
// STOX_POWER_CUTS=<n> sets the number of cuts (default 1000, and a quarter
// of that again in sync mode none).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "journal/fault_env.h"
#include "journal/journal_test_util.h"
#include "journal/reader.h"
#include "journal/writer.h"

namespace stox::journal {
namespace {

using testing::random_command;
using testing::read_all;
using testing::same;

const std::string kDir = "/j";

// Where the cuts landed, printed so that a change that stops exercising a
// moment shows up.
struct CutStats {
  std::uint64_t during_open = 0;       // in recovery or before the first batch
  std::uint64_t during_commit = 0;     // mid-write, between write and sync, at a roll
  std::uint64_t while_idle = 0;        // between commits
  std::uint64_t unacked_survived = 0;  // an unacknowledged batch came back whole
};

std::uint64_t cut_count(std::uint64_t fallback) {
  const char* v = std::getenv("STOX_POWER_CUTS");
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

// One life of a journal: several sessions, each ended by a power cut.
class PowerCutTrial {
 public:
  PowerCutTrial(std::uint64_t seed, SyncMode mode) : env_(seed), rng_(seed ^ 0x9e3779b97f4a7c15ull) {
    options_.sync = mode;
    const std::uint64_t sizes[] = {300, 1024, 4096, 1 << 20};
    options_.segment_bytes = sizes[rng_() % 4];
  }

  // Runs one session and its cut; a broken guarantee is a gtest failure.
  void run_session(CutStats* stats) {
    env_.power_off_at(rng_() % 80 + 1);
    std::vector<std::vector<Command>> unacked;  // batches given to a failed commit, or queued
    auto w = JournalWriter::open(&env_, kDir, options_);
    if (w.ok()) write_batches(**w, &unacked);
    if (!w.ok()) {
      ASSERT_TRUE(env_.powered_off()) << w.status().to_string();
      ++stats->during_open;
    } else if ((*w)->failed()) {
      ++stats->during_commit;
    } else {
      ++stats->while_idle;
    }
    std::size_t acked_before = acked_.size();
    w = Status::IOError("writer dropped");  // the process dies
    env_.power_cut(rng_() % 2 ? FaultEnv::CutMode::kKeepRandomPrefix
                              : FaultEnv::CutMode::kDropUnsynced);
    check_recovered(unacked);
    if (options_.sync == SyncMode::kBatch && !unacked.empty() && acked_.size() > acked_before &&
        acked_.back().seq == unacked.front().back().seq) {
      ++stats->unacked_survived;
    }
  }

 private:
  void write_batches(JournalWriter& w, std::vector<std::vector<Command>>* unacked) {
    int batches = static_cast<int>(rng_() % 30);
    for (int b = 0; b < batches; ++b) {
      std::vector<Command> batch;
      std::uint64_t n = rng_() % 8 == 0 ? rng_() % 60 + 1 : rng_() % 6 + 1;
      for (std::uint64_t i = 0; i < n; ++i) {
        batch.push_back(random_command(rng_, w.next_seq()));
        ASSERT_TRUE(w.append(batch.back()).ok());
      }
      Result<SeqNo> r = w.commit();
      if (r.ok() && options_.sync == SyncMode::kBatch) {
        acked_.insert(acked_.end(), batch.begin(), batch.end());
        chain_ = w.chain();
      } else {
        unacked->push_back(batch);  // kNone: written, never durable by promise
      }
      if (!r.ok()) {
        ASSERT_TRUE(w.failed());
        ASSERT_FALSE(w.append(random_command(rng_, w.next_seq())).ok());
        return;
      }
    }
    for (std::uint64_t i = rng_() % 3; i > 0; --i) {  // queued, never committed
      ASSERT_TRUE(w.append(random_command(rng_, w.next_seq())).ok());
    }
  }

  // got must be acked_ then zero or more whole batches of unacked, in order.
  void check_recovered(const std::vector<std::vector<Command>>& unacked) {
    std::vector<Command> got;
    JournalSummary summary;
    Status s = read_all(&env_, kDir, &got, &summary);
    if (s.is_not_found() && acked_.empty()) return;  // the cut came before the directory
    ASSERT_TRUE(s.ok()) << s.to_string();
    ASSERT_GE(got.size(), acked_.size()) << "an acknowledged command was lost";
    for (std::size_t i = 0; i < acked_.size(); ++i) {
      ASSERT_TRUE(same(got[i], acked_[i])) << "acknowledged command " << i << " differs";
    }
    std::size_t at = acked_.size();
    if (at == got.size() && !acked_.empty()) {
      ASSERT_EQ(summary.chain, chain_) << "chain differs from the writer's";
    }
    for (const auto& batch : unacked) {
      if (at == got.size()) break;
      ASSERT_GE(got.size() - at, batch.size()) << "a partial batch was replayed";
      for (const Command& c : batch) ASSERT_TRUE(same(got[at++], c)) << "unacked batch differs";
    }
    ASSERT_EQ(at, got.size()) << "replayed commands that were never written";
    if (options_.sync == SyncMode::kBatch) {
      ASSERT_LE(got.size() - acked_.size(), unacked.empty() ? 0 : unacked.front().size());
    }
    // What came back is durable from now on: later sessions build on it.
    acked_ = got;
    chain_ = summary.chain;
    ASSERT_TRUE(verify_journal(&env_, kDir).ok());
  }

  FaultEnv env_;
  std::mt19937_64 rng_;
  WriterOptions options_;
  std::vector<Command> acked_;
  Hash chain_{};
};

void run_cuts(SyncMode mode, std::uint64_t cuts, std::uint64_t seed_base) {
  std::uint64_t done = 0;
  CutStats stats;
  for (std::uint64_t trial = 0; done < cuts; ++trial) {
    std::uint64_t seed = seed_base + trial;
    SCOPED_TRACE("seed " + std::to_string(seed));
    PowerCutTrial t(seed, mode);
    for (int session = 0; session < 4 && done < cuts; ++session, ++done) {
      t.run_session(&stats);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("[ power cuts ] %llu passed: %llu during open/recovery, %llu during a commit, "
              "%llu between commits; %llu unacknowledged batches came back whole\n",
              u(done), u(stats.during_open), u(stats.during_commit), u(stats.while_idle),
              u(stats.unacked_survived));
  EXPECT_GT(stats.during_commit, done / 4);
  EXPECT_GT(stats.during_open, 0u);
}

TEST(JournalPowerCut, EveryAcknowledgedCommandSurvivesSeededPowerCuts) {
  run_cuts(SyncMode::kBatch, cut_count(1000), 1'000'000);
}

// Sync mode none promises nothing, but a cut must still leave a journal
// that recovers to whole batches of what was written, in order.
TEST(JournalPowerCut, SyncModeNoneRecoversToWholeWrittenBatches) {
  run_cuts(SyncMode::kNone, cut_count(1000) / 4, 2'000'000);
}

}  // namespace
}  // namespace stox::journal
