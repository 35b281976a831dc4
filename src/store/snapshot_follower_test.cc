// SnapshotFollower: fed the committed commands of a random run, it writes
// snapshots at the configured counts and on stop, and every one of them
// restores to exactly the leader's state at its seq.
#include "store/snapshot_follower.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "journal/fault_env.h"
#include "store/layout.h"
#include "store/snapshot_file.h"
#include "store/store_test_util.h"

namespace stox::store {
namespace {

TEST(SnapshotFollowerTest, CountTriggeredAndFinalSnapshotsRestoreTheLeadersState) {
  for (bool accounts : {false, true}) {
    SCOPED_TRACE(accounts ? "accounts mode" : "matching only");
    journal::FaultEnv env(3);
    const std::string dir = "/data";
    ASSERT_TRUE(create_layout(env, dir).ok());
    const EngineConfig config = testing::small_config(accounts);
    auto ex = DurableEngine::open(env, dir, config, [] { return Timestamp{0}; });
    ASSERT_TRUE(ex.ok()) << ex.status().to_string();
    testing::Driver driver(11, config);
    FollowerOptions options;
    options.every_commands = 250;
    options.every = std::chrono::seconds(0);
    int observed = 0;
    SnapshotFollower follower(env, dir, std::make_unique<Engine>(config), 0, options,
                              [&](SeqNo, std::int64_t, bool ok) { observed += ok ? 1 : 0; });
    std::vector<Event> released;
    for (int batch = 0; batch < 40; ++batch) {  // 40 batches of 26: 1,040 commands
      for (int i = 0; i < 26; ++i) ASSERT_TRUE(driver.submit(*ex.value()).ok());
      ASSERT_TRUE(ex.value()->commit(&released).ok());
      const auto& h = driver.history();
      follower.push(std::span<const Command>(h).subspan(h.size() - 26));
    }
    follower.stop();
    auto snaps = list_snapshots(env, snapshot_dir(dir));
    ASSERT_TRUE(snaps.ok());
    // Each count trigger fires at the first batch end past a multiple of
    // 250 (batches of 26 can make the follower see several batches at once,
    // so at least the final one and one more are certain).
    ASSERT_GE(snaps.value().size(), 2U);
    EXPECT_EQ(snaps.value().back().seq, driver.last_seq());  // the one written on stop
    EXPECT_EQ(static_cast<std::size_t>(observed), snaps.value().size());
    // The count trigger never fires before 250 more commands were applied.
    for (std::size_t i = 0; i + 1 < snaps.value().size(); ++i) {
      const SeqNo previous = i == 0 ? 0 : snaps.value()[i - 1].seq;
      EXPECT_GE(snaps.value()[i].seq - previous, 250U) << "snapshot " << i;
    }
    for (const SnapshotInfo& info : snaps.value()) {
      auto loaded = load_snapshot(env, info.path);
      ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
      std::string error;
      auto restored = Engine::restore(config, loaded.value().payload, &error);
      ASSERT_NE(restored, nullptr) << error;
      EXPECT_EQ(restored->state_hash(), driver.hash_after(info.seq)) << "seq " << info.seq;
    }
    EXPECT_EQ(follower.last_snapshot_seq(), driver.last_seq());
  }
}

TEST(SnapshotFollowerTest, AFailedWriteIsReportedAndDoesNotStopTheFollower) {
  journal::FaultEnv env(5);
  const std::string dir = "/data";
  ASSERT_TRUE(create_layout(env, dir).ok());
  const EngineConfig config = testing::small_config(false);
  auto ex = DurableEngine::open(env, dir, config, [] { return Timestamp{0}; });
  ASSERT_TRUE(ex.ok());
  testing::Driver driver(12, config);
  std::vector<Event> released;
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(driver.submit(*ex.value()).ok());
  ASSERT_TRUE(ex.value()->commit(&released).ok());
  FollowerOptions options;
  options.every_commands = 0;
  options.every = std::chrono::seconds(0);
  int failed = 0;
  SnapshotFollower follower(env, dir, std::make_unique<Engine>(config), 0, options,
                            [&](SeqNo, std::int64_t, bool ok) { failed += ok ? 0 : 1; });
  follower.push(driver.history());
  env.fail_sync_at(1, EIO);  // the final snapshot's fsync fails
  follower.stop();
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(follower.last_snapshot_seq(), 0U);
}

}  // namespace
}  // namespace stox::store
