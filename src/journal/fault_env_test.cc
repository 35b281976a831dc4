#include "journal/fault_env.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace stox::journal {
namespace {

std::string contents(FaultEnv& env, const std::string& path) {
  std::string out;
  EXPECT_TRUE(read_file(&env, path, &out).ok());
  return out;
}

// A file with "synced" durable (name and bytes) and "unsynced" appended after.
std::unique_ptr<WritableFile> make_half_synced(FaultEnv& env) {
  EXPECT_TRUE(env.create_dir("/d").ok());
  std::unique_ptr<WritableFile> f;
  EXPECT_TRUE(env.new_writable_file("/d/f", &f).ok());
  EXPECT_TRUE(f->append("synced").ok());
  EXPECT_TRUE(f->sync().ok());
  EXPECT_TRUE(env.sync_dir("/d").ok());
  EXPECT_TRUE(f->append("unsynced").ok());
  return f;
}

TEST(FaultEnv, PowerCutDropsEveryUnsyncedByte) {
  FaultEnv env(1);
  auto f = make_half_synced(env);
  EXPECT_EQ(env.unsynced_bytes("/d/f"), 8u);
  env.power_cut(FaultEnv::CutMode::kDropUnsynced);
  EXPECT_EQ(contents(env, "/d/f"), "synced");
  EXPECT_FALSE(f->append("x").ok()) << "handles from before the cut are dead";
}

TEST(FaultEnv, TornCutKeepsAPrefixOfTheUnsyncedBytes) {
  bool saw_partial = false;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    FaultEnv env(seed);
    auto f = make_half_synced(env);
    env.power_cut(FaultEnv::CutMode::kKeepRandomPrefix);
    std::string c = contents(env, "/d/f");
    ASSERT_EQ(std::string("syncedunsynced").substr(0, c.size()), c);
    ASSERT_GE(c.size(), 6u);
    saw_partial |= c.size() > 6 && c.size() < 14;
  }
  EXPECT_TRUE(saw_partial);
}

TEST(FaultEnv, NamesNotSyncedInTheirDirectoryVanishAtPowerCut) {
  FaultEnv env(1);
  ASSERT_TRUE(env.create_dir("/d").ok());
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env.new_writable_file("/d/a", &f).ok());
  ASSERT_TRUE(f->append("abc").ok());
  ASSERT_TRUE(f->sync().ok());  // bytes synced, name not
  env.power_cut(FaultEnv::CutMode::kDropUnsynced);
  std::uint64_t size = 0;
  EXPECT_TRUE(env.file_size("/d/a", &size).is_not_found());
}

TEST(FaultEnv, RemovalNotSyncedIsUndoneByPowerCut) {
  FaultEnv env(1);
  auto f = make_half_synced(env);
  ASSERT_TRUE(env.remove("/d/f").ok());
  env.power_cut(FaultEnv::CutMode::kDropUnsynced);
  EXPECT_EQ(contents(env, "/d/f"), "synced");
}

TEST(FaultEnv, NthAppendFailsWithTheChosenErrno) {
  FaultEnv env(1);
  auto f = make_half_synced(env);
  env.fail_append_at(2, ENOSPC);
  EXPECT_TRUE(f->append("a").ok());
  Status s = f->append("b");
  EXPECT_TRUE(s.is_io_error());
  EXPECT_EQ(s.error_number(), ENOSPC);
  EXPECT_TRUE(f->append("c").ok());
}

TEST(FaultEnv, FailedSyncLeavesBytesUnsynced) {
  FaultEnv env(1);
  auto f = make_half_synced(env);
  env.fail_sync_at(1, EIO);
  EXPECT_EQ(f->sync().error_number(), EIO);
  EXPECT_EQ(env.unsynced_bytes("/d/f"), 8u);
}

TEST(FaultEnv, PowerOffStopsEveryMutationUntilTheCut) {
  FaultEnv env(3);
  auto f = make_half_synced(env);
  env.power_off_at(2);
  EXPECT_TRUE(f->append("1").ok());
  EXPECT_FALSE(f->sync().ok());  // dies here, before syncing
  EXPECT_TRUE(env.powered_off());
  EXPECT_FALSE(f->append("2").ok());
  EXPECT_FALSE(env.sync_dir("/d").ok());
  env.power_cut(FaultEnv::CutMode::kDropUnsynced);
  EXPECT_FALSE(env.powered_off());
  EXPECT_EQ(contents(env, "/d/f"), "synced");
}

TEST(FaultEnv, SameSeedGivesTheSameTears) {
  auto run = [](std::uint64_t seed) {
    FaultEnv env(seed);
    auto f = make_half_synced(env);
    env.power_cut(FaultEnv::CutMode::kKeepRandomPrefix);
    return contents(env, "/d/f");
  };
  for (std::uint64_t seed = 0; seed < 10; ++seed) EXPECT_EQ(run(seed), run(seed));
}

TEST(FaultEnv, FlipBitChangesExactlyOneBit) {
  FaultEnv env(1);
  auto f = make_half_synced(env);
  ASSERT_TRUE(env.flip_bit("/d/f", 0, 0).ok());
  EXPECT_EQ(contents(env, "/d/f"), "rynced" + std::string("unsynced"));
}

}  // namespace
}  // namespace stox::journal
