#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
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

// Writes `count` random commands in random batches (1..max_batch).
std::vector<Command> write_random(JournalWriter& w, std::mt19937_64& rng, std::size_t count,
                                  std::size_t max_batch) {
  std::vector<Command> written;
  while (written.size() < count) {
    std::size_t n = std::min<std::size_t>(rng() % max_batch + 1, count - written.size());
    for (std::size_t i = 0; i < n; ++i) {
      written.push_back(random_command(rng, w.next_seq()));
      EXPECT_TRUE(w.append(written.back()).ok());
    }
    Result<SeqNo> r = w.commit();
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(*r, written.back().seq);
  }
  return written;
}

void expect_same(const std::vector<Command>& got, const std::vector<Command>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_TRUE(same(got[i], want[i])) << "index " << i;
}

void round_trip(Env* env, const std::string& dir, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  WriterOptions options;
  options.segment_bytes = 4096;
  std::vector<Command> written;
  // Three writer sessions: each reopen recovers and starts a new segment.
  for (int session = 0; session < 3; ++session) {
    auto w = JournalWriter::open(env, dir, options);
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    auto more = write_random(**w, rng, 1500, 40);
    written.insert(written.end(), more.begin(), more.end());
    EXPECT_GT((*w)->segments_created(), 3u);
    EXPECT_EQ((*w)->syncs(), (*w)->batches_written()) << "one fdatasync per batch";
    ASSERT_TRUE((*w)->close().ok());
  }
  std::vector<Command> got;
  JournalSummary summary;
  ASSERT_TRUE(read_all(env, dir, &got, &summary).ok());
  expect_same(got, written);
  EXPECT_EQ(summary.first_seq, 1u);
  EXPECT_EQ(summary.last_seq, 4500u);
  EXPECT_EQ(summary.commands, 4500u);
  EXPECT_EQ(summary.tail_bytes, 0u);

  // Reading from any seq yields exactly the suffix.
  for (SeqNo from : {SeqNo{1}, SeqNo{2}, SeqNo{777}, SeqNo{1500}, SeqNo{1501}, SeqNo{4500}, SeqNo{4501}}) {
    ASSERT_TRUE(read_all(env, dir, &got, nullptr, from).ok());
    ASSERT_EQ(got.size(), 4501 - from) << from;
    if (!got.empty()) {
      EXPECT_EQ(got.front().seq, from);
    }
  }
}

TEST(JournalRoundTrip, ManyRandomCommandsAcrossSegmentRollsInMemory) {
  FaultEnv env(11);
  round_trip(&env, "/j", 11);
}

TEST(JournalRoundTrip, ManyRandomCommandsAcrossSegmentRollsOnDisk) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("stox-journal-test-" + std::to_string(::getpid())))
                        .string();
  std::filesystem::remove_all(dir);
  round_trip(posix_env(), dir, 12);
  std::filesystem::remove_all(dir);
}

TEST(JournalWriter, RejectsASeqThatDoesNotFollowAndStaysUsable) {
  FaultEnv env(1);
  auto w = JournalWriter::open(&env, "/j");
  ASSERT_TRUE(w.ok());
  std::mt19937_64 rng(1);
  EXPECT_TRUE((*w)->append(random_command(rng, 2)).is_invalid_argument());
  EXPECT_FALSE((*w)->failed());
  EXPECT_TRUE((*w)->append(random_command(rng, 1)).ok());
  EXPECT_EQ(*(*w)->commit(), 1u);
}

TEST(JournalWriter, EmptyCommitDoesNoIo) {
  FaultEnv env(1);
  auto w = JournalWriter::open(&env, "/j");
  ASSERT_TRUE(w.ok());
  std::uint64_t calls = env.mutating_calls();
  EXPECT_EQ(*(*w)->commit(), 0u);
  EXPECT_EQ(env.mutating_calls(), calls);
}

TEST(JournalWriter, FirstSeqOfAnEmptyJournalIsConfigurable) {
  FaultEnv env(1);
  WriterOptions options;
  options.first_seq = 1000;
  auto w = JournalWriter::open(&env, "/j", options);
  ASSERT_TRUE(w.ok());
  std::mt19937_64 rng(1);
  ASSERT_TRUE((*w)->append(random_command(rng, 1000)).ok());
  ASSERT_TRUE((*w)->commit().ok());
  std::vector<Command> got;
  ASSERT_TRUE(read_all(&env, "/j", &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(read_all(&env, "/j", &got, nullptr, 999).is_not_found());
}

TEST(JournalWriter, SyncModeNoneNeverSyncsAndSaysSo) {
  FaultEnv env(1);
  WriterOptions options;
  options.sync = SyncMode::kNone;
  auto w = JournalWriter::open(&env, "/j", options);
  ASSERT_TRUE(w.ok());
  std::mt19937_64 rng(1);
  write_random(**w, rng, 100, 10);
  EXPECT_EQ((*w)->syncs(), 0u);
  EXPECT_GT(env.unsynced_bytes("/j/" + segment_name(1)), 0u);
}

// A write or sync failure is fatal: every later call fails, nothing after
// it is acknowledged, and the sync is never retried.
void expect_fail_stop(int err, bool fail_sync) {
  for (std::uint64_t nth = 1; nth <= 12; ++nth) {
    SCOPED_TRACE("failure at call " + std::to_string(nth));
    FaultEnv env(nth);
    WriterOptions options;
    options.segment_bytes = 1024;
    auto w = JournalWriter::open(&env, "/j", options);
    ASSERT_TRUE(w.ok());
    if (fail_sync) {
      env.fail_sync_at(nth, err);
    } else {
      env.fail_append_at(nth, err);
    }
    std::mt19937_64 rng(nth);
    std::vector<Command> acked;
    Status failure;
    for (int batch = 0; batch < 20 && failure.ok(); ++batch) {
      std::vector<Command> pending;
      for (std::uint64_t i = 0, n = rng() % 5 + 1; i < n; ++i) {
        pending.push_back(random_command(rng, (*w)->next_seq()));
        ASSERT_TRUE((*w)->append(pending.back()).ok());
      }
      Result<SeqNo> r = (*w)->commit();
      if (r.ok()) {
        acked.insert(acked.end(), pending.begin(), pending.end());
      } else {
        failure = r.status();
      }
    }
    ASSERT_FALSE(failure.ok());
    EXPECT_EQ(failure.error_number(), err);
    EXPECT_TRUE((*w)->failed());
    SeqNo durable = (*w)->durable_seq();
    EXPECT_EQ(durable, acked.empty() ? 0 : acked.back().seq);
    std::uint64_t calls = env.mutating_calls();
    EXPECT_FALSE((*w)->append(random_command(rng, (*w)->next_seq())).ok());
    EXPECT_FALSE((*w)->commit().ok());
    EXPECT_EQ(env.mutating_calls(), calls) << "a failed writer touches nothing";
    EXPECT_EQ((*w)->durable_seq(), durable);

    // After a restart every acknowledged command is there, in order.
    w->reset();
    env.power_cut(FaultEnv::CutMode::kDropUnsynced);
    std::vector<Command> got;
    ASSERT_TRUE(read_all(&env, "/j", &got).ok());
    ASSERT_GE(got.size(), acked.size());
    got.resize(acked.size());
    expect_same(got, acked);
  }
}

TEST(JournalFailStop, EnospcOnWriteFailsTheWriterForGood) { expect_fail_stop(ENOSPC, false); }
TEST(JournalFailStop, EioOnWriteFailsTheWriterForGood) { expect_fail_stop(EIO, false); }
TEST(JournalFailStop, EioOnSyncFailsTheWriterForGood) { expect_fail_stop(EIO, true); }
TEST(JournalFailStop, EnospcOnSyncFailsTheWriterForGood) { expect_fail_stop(ENOSPC, true); }

}  // namespace
}  // namespace stox::journal
