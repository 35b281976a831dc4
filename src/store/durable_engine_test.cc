#include "store/durable_engine.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "journal/fault_env.h"
#include "journal/journal_test_util.h"
#include "store/layout.h"
#include "store/store_test_util.h"

namespace stox::store {
namespace {

using testing::Driver;
using testing::small_config;

const std::string kData = "/data";

Command end_of_day() { return Command::make(0, 0, EndOfDay{}); }

TEST(DurableEngine, EventsAreReleasedOnlyByTheCommitThatMadeTheirCommandsDurable) {
  journal::FaultEnv env(1);
  Timestamp now = 1000;
  auto ex = DurableEngine::open(env, kData, small_config(false), [&] { return now; });
  ASSERT_TRUE(ex.ok()) << ex.status().to_string();
  std::vector<Event> released;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*ex)->submit(end_of_day()).ok());
  EXPECT_EQ((*ex)->pending(), 3u);
  EXPECT_EQ((*ex)->committed_seq(), 0u);
  Result<SeqNo> committed = (*ex)->commit(&released);
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(*committed, 3u);
  ASSERT_EQ(released.size(), 3u);
  for (SeqNo i = 0; i < 3; ++i) EXPECT_EQ(released[i].seq, i + 1);
  EXPECT_EQ((*ex)->journal().durable_seq(), 3u);
  released.clear();
  ASSERT_TRUE((*ex)->commit(&released).ok());
  EXPECT_TRUE(released.empty());
}

TEST(DurableEngine, SubmitAssignsSeqsAndNonDecreasingTimestampsFromTheClock) {
  journal::FaultEnv env(2);
  Timestamp now = 5000;
  auto ex = DurableEngine::open(env, kData, small_config(false), [&] { return now; });
  ASSERT_TRUE(ex.ok());
  Command c = end_of_day();
  c.seq = 77;  // ignored: the sequencer decides
  ASSERT_TRUE((*ex)->submit(c).ok());
  now = 4000;  // the clock stepped back
  ASSERT_TRUE((*ex)->submit(c).ok());
  now = 6000;
  ASSERT_TRUE((*ex)->submit(c).ok());
  std::vector<Event> released;
  ASSERT_TRUE((*ex)->commit(&released).ok());
  std::vector<Command> journaled;
  ASSERT_TRUE(journal::testing::read_all(&env, journal_dir(kData), &journaled).ok());
  ASSERT_EQ(journaled.size(), 3u);
  const Timestamp expected[] = {5000, 5000, 6000};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(journaled[i].seq, i + 1);
    EXPECT_EQ(journaled[i].timestamp, expected[i]);
  }
}

// A failing write (ENOSPC) or sync (EIO): the pipeline stops for good and
// acknowledges nothing after the failure; a restart recovers what is durable.
void expect_fail_stop(bool fail_sync, int err) {
  journal::FaultEnv env(3);
  const EngineConfig config = small_config(true);
  Driver driver(5, config);
  auto ex = DurableEngine::open(env, kData, config, driver.clock());
  ASSERT_TRUE(ex.ok());
  std::vector<Event> released;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(driver.submit(**ex).ok());
  ASSERT_TRUE((*ex)->commit(&released).ok());
  const SeqNo acked = (*ex)->committed_seq();
  const std::size_t acked_events = released.size();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(driver.submit(**ex).ok());
  if (fail_sync) {
    env.fail_sync_at(1, err);
  } else {
    env.fail_append_at(1, err);
  }
  Result<SeqNo> r = (*ex)->commit(&released);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_number(), err);
  EXPECT_TRUE((*ex)->failed());
  EXPECT_NE((*ex)->failure_reason().find("injected"), std::string::npos) << (*ex)->failure_reason();
  EXPECT_FALSE((*ex)->submit(end_of_day()).ok());
  EXPECT_FALSE((*ex)->commit(&released).ok());
  EXPECT_FALSE((*ex)->snapshot_now().ok());
  EXPECT_EQ(released.size(), acked_events) << "events released after the failure";
  EXPECT_EQ((*ex)->committed_seq(), acked);

  ex = Status::IOError("process exits");
  env.power_cut(journal::FaultEnv::CutMode::kDropUnsynced);
  auto again = DurableEngine::open(env, kData, config, driver.clock());
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ((*again)->committed_seq(), acked);
  EXPECT_EQ((*again)->engine().state_hash(), driver.hash_after(acked));
}

TEST(DurableEngine, FullDiskOnWriteStopsThePipelineAndAcknowledgesNothingAfter) {
  expect_fail_stop(false, ENOSPC);
}

TEST(DurableEngine, FailedSyncStopsThePipelineAndAcknowledgesNothingAfter) {
  expect_fail_stop(true, EIO);
}

TEST(DurableEngine, SnapshotNeedsEveryCommandCommittedAndIsIdempotent) {
  journal::FaultEnv env(4);
  auto ex = DurableEngine::open(env, kData, small_config(false), [] { return Timestamp{1}; });
  ASSERT_TRUE(ex.ok());
  ASSERT_TRUE((*ex)->submit(end_of_day()).ok());
  Result<std::string> s = (*ex)->snapshot_now();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().is_invalid_argument());
  std::vector<Event> released;
  ASSERT_TRUE((*ex)->commit(&released).ok());
  s = (*ex)->snapshot_now();
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Result<std::string> again = (*ex)->snapshot_now();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *s);
}

TEST(DurableEngine, ReopenContinuesTheSeqsAfterTheRecoveredState) {
  journal::FaultEnv env(6);
  const EngineConfig config = small_config(false);
  Driver driver(8, config);
  std::vector<Event> released;
  for (int life = 0; life < 3; ++life) {
    auto ex = DurableEngine::open(env, kData, config, driver.clock());
    ASSERT_TRUE(ex.ok()) << ex.status().to_string();
    EXPECT_EQ((*ex)->engine().state_hash(), driver.hash_after(driver.last_seq()));
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(driver.submit(**ex).ok());
    ASSERT_TRUE((*ex)->commit(&released).ok());
    if (life == 1) {
      ASSERT_TRUE((*ex)->snapshot_now().ok());
    }
  }
  EXPECT_EQ(driver.last_seq(), 150u);
}

}  // namespace
}  // namespace stox::store
