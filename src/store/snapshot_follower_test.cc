// SnapshotFollower: fed the committed commands of a random run, it writes
// snapshots at the configured counts and on stop, and every one of them
// restores to exactly the leader's state at its seq.
#include "store/snapshot_follower.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "journal/fault_env.h"
#include "store/durable_engine.h"
#include "store/layout.h"
#include "store/recovery.h"
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
      // One batch at a time, so that the count trigger's firing points are
      // the same however the threads are scheduled.
      while (follower.applied_seq() != driver.last_seq()) std::this_thread::yield();
    }
    follower.stop();
    auto snaps = list_snapshots(env, snapshot_dir(dir));
    ASSERT_TRUE(snaps.ok());
    // The count trigger fires at the first batch end 250 or more commands
    // after the previous snapshot: 260, 520, 780, 1040 (and stop() finds
    // nothing new to write).
    ASSERT_EQ(snaps.value().size(), 4U);
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


using testing::DigestCompanion;
using testing::DigestState;

TEST(SnapshotFollowerTest, CompanionStateIsSnapshottedAsTheExtensionAndRecoveredWithReplay) {
  journal::FaultEnv env(9);
  const std::string dir = "/data";
  ASSERT_TRUE(create_layout(env, dir).ok());
  const EngineConfig config = testing::small_config(true);
  testing::Driver driver(21, config);
  DigestState reference;  // fed every committed command from the start
  {
    auto ex = DurableEngine::open(env, dir, config, driver.clock());
    ASSERT_TRUE(ex.ok()) << ex.status().to_string();
    FollowerOptions options;
    options.every_commands = 0;
    options.every = std::chrono::seconds(0);
    options.on_stop = false;
    auto companion = std::make_unique<DigestCompanion>();
    SnapshotFollower follower(env, dir, std::make_unique<Engine>(config), 0, options, {},
                              std::move(companion));
    std::vector<Event> released;
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(driver.submit(*ex.value()).ok());
      if (i % 10 != 9) continue;
      released.clear();
      ASSERT_TRUE(ex.value()->commit(&released).ok());
      follower.push(std::span<const Command>(driver.history()).subspan(driver.history().size() - 10));
      if (i == 149) {
        follower.request_snapshot();
        while (follower.snapshots_written() == 0) std::this_thread::yield();
      }
    }
    follower.stop();
    Engine replayed(config);
    std::vector<Event> events;
    for (const Command& c : driver.history()) {
      events.clear();
      replayed.apply(c, events);
      reference.apply(c, events);
    }
  }
  auto snaps = list_snapshots(env, snapshot_dir(dir));
  ASSERT_TRUE(snaps.ok());
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_EQ(snaps->front().seq, 150u);

  DigestState recovered;
  bool restored = false;
  RecoverOptions options;
  options.require_extension = true;
  options.restore_extension = [&](std::string_view ext) {
    const std::size_t colon = ext.find(':');
    if (colon == std::string_view::npos) return Status::Corruption("no colon");
    recovered.seq = std::stoull(std::string(ext.substr(0, colon)));
    recovered.digest = std::stoull(std::string(ext.substr(colon + 1)));
    restored = true;
    return Status::OK();
  };
  options.on_replayed = [&](const Command& c, std::span<const Event> events) {
    EXPECT_EQ(c.seq, recovered.seq + 1);
    recovered.apply(c, events);
  };
  Result<Recovered> r = recover(env, dir, config, options);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(restored);
  EXPECT_EQ(r->snapshot_seq, 150u);
  EXPECT_EQ(r->replayed, 150u);
  EXPECT_EQ(recovered.seq, 300u);
  EXPECT_EQ(recovered.digest, reference.digest);
  EXPECT_EQ(r->engine->state_hash(), driver.hash_after(300));
}

TEST(SnapshotFollowerTest, SnapshotsWithoutOrWithABadExtensionAreSkippedWhenOneIsRequired) {
  journal::FaultEnv env(10);
  const std::string dir = "/data";
  ASSERT_TRUE(create_layout(env, dir).ok());
  const EngineConfig config = testing::small_config(false);
  testing::Driver driver(22, config);
  {
    auto ex = DurableEngine::open(env, dir, config, driver.clock());
    ASSERT_TRUE(ex.ok());
    std::vector<Event> released;
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(driver.submit(*ex.value()).ok());
    ASSERT_TRUE(ex.value()->commit(&released).ok());
    ASSERT_TRUE(ex.value()->snapshot_now().ok());  // seq 60, no extension
  }
  Engine at40(config);
  std::vector<Event> events;
  for (SeqNo s = 1; s <= 40; ++s) at40.apply(driver.history()[s - 1], events);
  ASSERT_TRUE(write_snapshot(env, snapshot_dir(dir), 40, at40.state_hash(), at40.snapshot(), "bad").ok());
  std::uint64_t replayed_events = 0;
  RecoverOptions options;
  options.require_extension = true;
  options.restore_extension = [](std::string_view ext) {
    return ext == "good" ? Status::OK() : Status::Corruption("not good");
  };
  options.on_replayed = [&](const Command&, std::span<const Event> ev) { replayed_events += ev.size(); };
  Result<Recovered> r = recover(env, dir, config, options);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->snapshot_path.empty()) << "both snapshots must be skipped";
  EXPECT_EQ(r->replayed, 60u);
  ASSERT_EQ(r->skipped_snapshots.size(), 2u);
  EXPECT_NE(r->skipped_snapshots[0].find("no extension"), std::string::npos) << r->skipped_snapshots[0];
  EXPECT_NE(r->skipped_snapshots[1].find("not good"), std::string::npos) << r->skipped_snapshots[1];
  EXPECT_GT(replayed_events, 0u);
  EXPECT_EQ(r->engine->state_hash(), driver.hash_after(60));
  // Without the requirement the newest snapshot is taken.
  Result<Recovered> plain = recover(env, dir, config);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->snapshot_seq, 60u);
}

}  // namespace
}  // namespace stox::store
