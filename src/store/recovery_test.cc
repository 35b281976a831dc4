#include "store/recovery.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "journal/fault_env.h"
#include "journal/format.h"
#include "store/layout.h"
#include "store/snapshot_file.h"
#include "store/store_test_util.h"

namespace stox::store {
namespace {

using testing::Driver;
using testing::small_config;

const std::string kData = "/data";

// A data directory with 300 commands in batches of 10, in small segments,
// and snapshots at seqs 100 and 200.
class RecoveryTest : public ::testing::TestWithParam<bool> {
 protected:
  RecoveryTest() : env_(7), config_(small_config(GetParam())), driver_(11, config_) {}

  void SetUp() override {
    DurableOptions options;
    options.journal.segment_bytes = 4096;
    auto ex = DurableEngine::open(env_, kData, config_, driver_.clock(), options);
    ASSERT_TRUE(ex.ok()) << ex.status().to_string();
    std::vector<Event> released;
    for (int i = 1; i <= 300; ++i) {
      ASSERT_TRUE(driver_.submit(**ex).ok());
      if (i % 10 == 0) {
        ASSERT_TRUE((*ex)->commit(&released).ok());
      }
      if (i % 100 == 0 && i < 300) {
        ASSERT_TRUE((*ex)->snapshot_now().ok());
      }
    }
  }

  static std::string snapshot_path(SeqNo seq) { return snapshot_dir(kData) + "/" + snapshot_name(seq); }

  journal::FaultEnv env_;
  EngineConfig config_;
  Driver driver_;
};

TEST_P(RecoveryTest, RestoresNewestSnapshotAndReplaysTheJournalAfterIt) {
  Result<Recovered> r = recover(env_, kData, config_);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->snapshot_path, snapshot_path(200));
  EXPECT_EQ(r->replayed, 100u);
  EXPECT_EQ(r->last_seq, 300u);
  EXPECT_TRUE(r->skipped_snapshots.empty());
  EXPECT_EQ(r->engine->state_hash(), driver_.hash_after(300));
}

TEST_P(RecoveryTest, CorruptNewestSnapshotFallsBackToTheOlderOne) {
  ASSERT_TRUE(env_.flip_bit(snapshot_path(200), 100, 3).ok());
  Result<Recovered> r = recover(env_, kData, config_);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->snapshot_path, snapshot_path(100));
  EXPECT_EQ(r->replayed, 200u);
  ASSERT_EQ(r->skipped_snapshots.size(), 1u);
  EXPECT_NE(r->skipped_snapshots[0].find(snapshot_path(200)), std::string::npos);
  EXPECT_EQ(r->engine->state_hash(), driver_.hash_after(300));
}

TEST_P(RecoveryTest, EveryCorruptSnapshotFallsBackToAFullReplay) {
  ASSERT_TRUE(env_.flip_bit(snapshot_path(200), 50, 0).ok());
  ASSERT_TRUE(env_.truncate(snapshot_path(100), 30).ok());
  Result<Recovered> r = recover(env_, kData, config_);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->snapshot_path.empty());
  EXPECT_EQ(r->replayed, 300u);
  EXPECT_EQ(r->skipped_snapshots.size(), 2u);
  EXPECT_EQ(r->engine->state_hash(), driver_.hash_after(300));
}

TEST_P(RecoveryTest, TornLastBatchIsCutOffAndReported) {
  std::vector<std::string> names;
  ASSERT_TRUE(env_.list_dir(journal_dir(kData), &names).ok());
  std::sort(names.begin(), names.end());
  const std::string last = journal_dir(kData) + "/" + names.back();
  std::uint64_t size = 0;
  ASSERT_TRUE(env_.file_size(last, &size).ok());
  ASSERT_TRUE(env_.truncate(last, size - 10).ok());
  Result<Recovered> r = recover(env_, kData, config_);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->last_seq, 290u);
  EXPECT_EQ(r->journal.cut_file, last);
  EXPECT_GT(r->journal.dropped_bytes, 0u);
  EXPECT_EQ(r->engine->state_hash(), driver_.hash_after(290));
}

// The journal's segments, oldest first, with their first seqs.
std::vector<std::pair<SeqNo, std::string>> segments(journal::FaultEnv& env) {
  std::vector<std::string> names;
  EXPECT_TRUE(env.list_dir(journal_dir(kData), &names).ok());
  std::vector<std::pair<SeqNo, std::string>> out;
  for (const std::string& name : names) {
    SeqNo first = 0;
    if (journal::parse_segment_name(name, &first)) out.emplace_back(first, journal_dir(kData) + "/" + name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string segment_holding(journal::FaultEnv& env, SeqNo seq) {
  std::string path;
  for (const auto& [first, p] : segments(env)) {
    if (first <= seq) path = p;
  }
  return path;
}

// Flips a bit inside the first command of the segment holding `seq`.
std::string damage_segment_holding(journal::FaultEnv& env, SeqNo seq) {
  std::string path = segment_holding(env, seq);
  EXPECT_TRUE(env.flip_bit(path, journal::kHeaderRecordSize + 40, 2).ok());
  return path;
}

void expect_corruption_at(const Result<Recovered>& r, const std::string& file) {
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().is_corruption());
  EXPECT_NE(r.status().message().find(file + " at byte " + std::to_string(journal::kHeaderRecordSize)),
            std::string::npos)
      << r.status().to_string();
}

TEST_P(RecoveryTest, DamageBeforeTheLastBatchStopsRecoveryNamingFileAndOffset) {
  ASSERT_LT(segments(env_).back().first, 290u) << "the damaged segment must not be the last";
  const std::string damaged = damage_segment_holding(env_, 250);  // replayed after snapshot 200
  expect_corruption_at(recover(env_, kData, config_), damaged);
}

TEST_P(RecoveryTest, DamageAnywhereStopsAFullReplay) {
  ASSERT_TRUE(env_.remove(snapshot_path(100)).ok());
  ASSERT_TRUE(env_.remove(snapshot_path(200)).ok());
  const std::string damaged = damage_segment_holding(env_, 1);
  expect_corruption_at(recover(env_, kData, config_), damaged);
}

// Start-up reads the journal from the segment holding its snapshot's seq:
// older segments are history, checked by `stox verify` (verify_journal).
TEST_P(RecoveryTest, SegmentsBeforeTheSnapshotAreNotReadAtStartButVerifyFindsTheirDamage) {
  ASSERT_NE(segment_holding(env_, 1), segment_holding(env_, 200));
  const std::string damaged = damage_segment_holding(env_, 1);
  Result<Recovered> r = recover(env_, kData, config_);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->snapshot_path, snapshot_path(200));
  EXPECT_EQ(r->engine->state_hash(), driver_.hash_after(300));
  Result<journal::JournalSummary> verified = journal::verify_journal(&env_, journal_dir(kData));
  ASSERT_FALSE(verified.ok());
  EXPECT_NE(verified.status().message().find(damaged), std::string::npos) << verified.status().to_string();
}

TEST_P(RecoveryTest, ValidSnapshotAheadOfTheJournalIsAnError) {
  auto engine = std::make_unique<Engine>(config_);
  ASSERT_TRUE(write_snapshot(env_, snapshot_dir(kData), 500, engine->state_hash(), engine->snapshot()).ok());
  Result<Recovered> r = recover(env_, kData, config_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("acknowledged commands are missing"), std::string::npos)
      << r.status().to_string();
}

INSTANTIATE_TEST_SUITE_P(MatchingOnlyAndAccounts, RecoveryTest, ::testing::Bool());

TEST(Recovery, EmptyDataDirectoryRecoversAnEmptyEngine) {
  journal::FaultEnv env(1);
  ASSERT_TRUE(env.create_dir("/fresh").ok());
  Result<Recovered> r = recover(env, "/fresh/data", small_config(false));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->last_seq, 0u);
  EXPECT_EQ(r->engine->state_hash(), Engine(small_config(false)).state_hash());
}

}  // namespace
}  // namespace stox::store
