// Damage to the bytes of a journal: bit flips, torn tails, tampering, lost
// segments. Each test builds a small multi-segment journal in a FaultEnv.
#include <gtest/gtest.h>

#include <random>

#include "journal/crc32c.h"
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

// A journal of random batches whose final batch (the last write) starts at
// final_start in the last segment (0 when it started that segment).
struct Built {
  std::vector<Command> commands;
  std::vector<std::string> segments;  // paths, in order
  std::size_t before_final = 0;       // commands before the final batch
  std::uint64_t final_start = 0;
  std::uint64_t last_size = 0;
};

std::uint64_t size_of(FaultEnv& env, const std::string& path) {
  std::uint64_t n = 0;
  EXPECT_TRUE(env.file_size(path, &n).ok());
  return n;
}

std::vector<std::string> segment_paths(FaultEnv& env) {
  std::vector<std::string> names;
  EXPECT_TRUE(env.list_dir(kDir, &names).ok());
  std::sort(names.begin(), names.end());
  for (auto& n : names) n.insert(0, std::string(kDir) + "/");
  return names;
}

Built build(FaultEnv& env, std::uint64_t seed, int batches = 40) {
  Built b;
  std::mt19937_64 rng(seed);
  WriterOptions options;
  options.segment_bytes = 1024;
  auto w = JournalWriter::open(&env, kDir, options);
  EXPECT_TRUE(w.ok());
  for (int i = 0; i < batches; ++i) {
    if (i == batches - 1) {
      b.before_final = b.commands.size();
      auto segs = segment_paths(env);
      b.final_start = size_of(env, segs.back());
      std::uint64_t created = (*w)->segments_created();
      for (std::uint64_t n = rng() % 4 + 1; n > 0; --n) {
        b.commands.push_back(random_command(rng, (*w)->next_seq()));
        EXPECT_TRUE((*w)->append(b.commands.back()).ok());
      }
      EXPECT_TRUE((*w)->commit().ok());
      if ((*w)->segments_created() != created) b.final_start = 0;
      break;
    }
    for (std::uint64_t n = rng() % 4 + 1; n > 0; --n) {
      b.commands.push_back(random_command(rng, (*w)->next_seq()));
      EXPECT_TRUE((*w)->append(b.commands.back()).ok());
    }
    EXPECT_TRUE((*w)->commit().ok());
  }
  b.segments = segment_paths(env);
  b.last_size = size_of(env, b.segments.back());
  return b;
}

void expect_prefix(const std::vector<Command>& got, const std::vector<Command>& all, std::size_t n) {
  ASSERT_EQ(got.size(), n);
  for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(same(got[i], all[i])) << i;
}

TEST(JournalCorruption, FlippedBitAnywhereBeforeTheFinalBatchIsAlwaysDetected) {
  FaultEnv env(5);
  Built b = build(env, 5);
  ASSERT_GT(b.segments.size(), 4u);
  std::mt19937_64 rng(5);
  std::size_t checked = 0;
  for (const std::string& path : b.segments) {
    bool last = path == b.segments.back();
    std::uint64_t protected_end = last ? b.final_start : size_of(env, path);
    for (std::uint64_t off = 0; off < protected_end; ++off) {
      int bit = static_cast<int>(rng() % 8);
      ASSERT_TRUE(env.flip_bit(path, off, bit).ok());
      Result<JournalSummary> v = verify_journal(&env, kDir);
      ASSERT_FALSE(v.ok()) << path << " offset " << off;
      ASSERT_TRUE(v.status().is_corruption()) << v.status().to_string();
      ASSERT_NE(v.status().message().find(path + " at byte "), std::string::npos)
          << v.status().to_string();
      ASSERT_TRUE(env.flip_bit(path, off, bit).ok());
      ++checked;
    }
  }
  EXPECT_GT(checked, 4000u);
  ASSERT_TRUE(verify_journal(&env, kDir).ok());
}

TEST(JournalCorruption, RecoveryRefusesCorruptionAndChangesNothing) {
  FaultEnv env(6);
  Built b = build(env, 6);
  ASSERT_TRUE(env.flip_bit(b.segments[1], 100, 3).ok());
  auto w = JournalWriter::open(&env, kDir);
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.status().is_corruption());
  EXPECT_EQ(segment_paths(env), b.segments);
  EXPECT_EQ(size_of(env, b.segments.back()), b.last_size);
}

// Every possible torn length of the final write: the journal reads as
// everything before the final batch, and recovery cuts exactly the tail.
TEST(JournalTornTail, TornFinalBatchIsCutOffAndEverythingBeforeIsIntact) {
  FaultEnv probe(7);
  Built shape = build(probe, 7);
  for (std::uint64_t len = shape.final_start; len < shape.last_size; ++len) {
    SCOPED_TRACE("torn at " + std::to_string(len));
    FaultEnv env(7);
    Built b = build(env, 7);
    ASSERT_TRUE(env.truncate(b.segments.back(), len).ok());
    std::vector<Command> got;
    JournalSummary summary;
    ASSERT_TRUE(read_all(&env, kDir, &got, &summary).ok());
    expect_prefix(got, b.commands, b.before_final);
    EXPECT_EQ(summary.tail_bytes, len - b.final_start);

    auto w = JournalWriter::open(&env, kDir);
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    EXPECT_EQ((*w)->recovery().dropped_bytes, len - b.final_start);
    EXPECT_EQ((*w)->next_seq(), b.commands[b.before_final].seq);
    if (b.final_start == 0) {
      EXPECT_EQ(segment_paths(env).size(), b.segments.size() - 1) << "empty segment removed";
    } else {
      EXPECT_EQ(size_of(env, b.segments.back()), b.final_start);
    }
    // The journal goes on after the cut.
    std::mt19937_64 rng(len);
    Command next = random_command(rng, (*w)->next_seq());
    ASSERT_TRUE((*w)->append(next).ok());
    ASSERT_TRUE((*w)->commit().ok());
    ASSERT_TRUE(read_all(&env, kDir, &got).ok());
    ASSERT_EQ(got.size(), b.before_final + 1);
    EXPECT_TRUE(same(got.back(), next));
  }
}

// Garbage (as a real disk may leave) inside the final batch, even with its
// trailer intact (pages written out of order), is a torn write too.
TEST(JournalTornTail, GarbageInsideTheFinalBatchIsTreatedAsATornWrite) {
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    FaultEnv env(8);
    Built b = build(env, 8);
    std::mt19937_64 rng(seed);
    std::uint64_t from = b.final_start + rng() % (b.last_size - b.final_start);
    std::uint64_t n = 1 + rng() % std::min<std::uint64_t>(64, b.last_size - from);
    std::string garbage(n, '\0');
    if (seed % 2) {
      for (char& c : garbage) c = static_cast<char>(rng());
    }
    ASSERT_TRUE(env.overwrite(b.segments.back(), from, garbage).ok());
    std::vector<Command> got;
    JournalSummary summary;
    Status s = read_all(&env, kDir, &got, &summary);
    if (got.size() == b.commands.size()) continue;  // the garbage equalled the bytes
    ASSERT_TRUE(s.ok()) << s.to_string();
    expect_prefix(got, b.commands, b.before_final);
  }
}

// Rewrites byte `at` of the command record at `record` and fixes its CRC, so
// that only the hash chain can notice.
void tamper(FaultEnv& env, const std::string& path, std::uint64_t record, std::uint64_t at) {
  std::string bytes;
  ASSERT_TRUE(read_file(&env, path, &bytes).ok());
  std::string rec = bytes.substr(record, kCommandRecordSize);
  rec[at] = static_cast<char>(rec[at] ^ 0x5a);
  std::uint32_t crc = crc32c::value(rec.data() + kCrcCoveredFrom, rec.size() - kCrcCoveredFrom);
  put<std::uint32_t>(rec.data(), crc32c::mask(crc));
  ASSERT_TRUE(env.overwrite(path, record, rec).ok());
}

TEST(JournalHashChain, TamperedCommandWithFixedCrcIsDetectedInEveryBatch) {
  FaultEnv probe(9);
  Built shape = build(probe, 9);
  std::size_t tampered = 0;
  for (std::size_t s = 0; s < shape.segments.size(); ++s) {
    for (std::uint64_t pos : testing::command_record_offsets(&probe, shape.segments[s])) {
      FaultEnv env(9);
      Built b = build(env, 9);
      tamper(env, b.segments[s], pos, kRecordHeaderSize + 40);  // a price or quantity byte
      Result<JournalSummary> v = verify_journal(&env, kDir);
      ASSERT_FALSE(v.ok()) << b.segments[s] << " record " << pos;
      EXPECT_NE(v.status().message().find("hash chain mismatch"), std::string::npos)
          << v.status().to_string();
      ++tampered;
    }
  }
  EXPECT_EQ(tampered, shape.commands.size());
}

TEST(JournalHashChain, MissingMiddleSegmentIsDetected) {
  FaultEnv env(10);
  Built b = build(env, 10);
  ASSERT_TRUE(env.remove(b.segments[2]).ok());
  Result<JournalSummary> v = verify_journal(&env, kDir);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("seq gap"), std::string::npos) << v.status().to_string();
}

TEST(JournalHashChain, SegmentsAfterRetentionVerifyFromTheirAnchor) {
  FaultEnv env(11);
  Built b = build(env, 11);
  ASSERT_TRUE(env.remove(b.segments[0]).ok());
  Result<JournalSummary> v = verify_journal(&env, kDir);
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_GT(v->first_seq, 1u);
  EXPECT_NE(v->first_prev_hash, Hash{});
  std::vector<Command> got;
  EXPECT_TRUE(read_all(&env, kDir, &got, nullptr, 1).is_not_found());
}

}  // namespace
}  // namespace stox::journal
