// BatchReader against JournalReader on the same bytes: clean journals, torn
// tails, power cuts, flipped bits, tampered commands and broken links. On
// success both must yield the same commands and the same summary; on damage
// the same error, the BatchReader having yielded at least what JournalReader
// yielded and nothing that is not in the journal.
#include "journal/batch_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "journal/crc32c.h"
#include "journal/fault_env.h"
#include "journal/journal_test_util.h"
#include "journal/reader.h"
#include "journal/writer.h"

namespace stox::journal {
namespace {

using testing::random_command;
using testing::same;

const std::string kDir = "/j";

struct Built {
  std::vector<Command> commands;
  std::vector<std::string> segments;  // paths, in order
};

std::vector<std::string> segment_paths(FaultEnv& env) {
  std::vector<std::string> names;
  EXPECT_TRUE(env.list_dir(kDir, &names).ok());
  std::sort(names.begin(), names.end());
  for (auto& n : names) n.insert(0, kDir + "/");
  return names;
}

std::uint64_t size_of(FaultEnv& env, const std::string& path) {
  std::uint64_t n = 0;
  EXPECT_TRUE(env.file_size(path, &n).ok());
  return n;
}

// Random batches of 1..max_batch commands in segments of segment_bytes.
Built build(FaultEnv& env, std::uint64_t seed, int batches, std::uint64_t segment_bytes = 1024,
            std::uint64_t max_batch = 4) {
  Built b;
  std::mt19937_64 rng(seed);
  WriterOptions options;
  options.segment_bytes = segment_bytes;
  auto w = JournalWriter::open(&env, kDir, options);
  EXPECT_TRUE(w.ok());
  for (int i = 0; i < batches; ++i) {
    for (std::uint64_t n = rng() % max_batch + 1; n > 0; --n) {
      b.commands.push_back(random_command(rng, (*w)->next_seq()));
      EXPECT_TRUE((*w)->append(b.commands.back()).ok());
    }
    EXPECT_TRUE((*w)->commit().ok());
  }
  b.segments = segment_paths(env);
  return b;
}

struct Outcome {
  Status status;
  std::vector<Command> commands;  // yielded, up to the error if any
  JournalSummary summary;         // if status is OK
};

Outcome with_journal_reader(Env* env, SeqNo from) {
  Outcome o;
  auto reader = JournalReader::open(env, kDir, from);
  if (!reader.ok()) {
    o.status = reader.status();
    return o;
  }
  Command c;
  for (;;) {
    Result<bool> more = (*reader)->next(&c);
    if (!more.ok()) {
      o.status = more.status();
      return o;
    }
    if (!*more) break;
    o.commands.push_back(c);
  }
  o.summary = (*reader)->summary();
  return o;
}

Outcome with_batch_reader(Env* env, SeqNo from, const BatchReaderOptions& options) {
  Outcome o;
  auto reader = BatchReader::open(env, kDir, from, options);
  if (!reader.ok()) {
    o.status = reader.status();
    return o;
  }
  for (;;) {
    Result<std::span<const Command>> batch = (*reader)->next();
    if (!batch.ok()) {
      o.status = batch.status();
      // The error is sticky.
      Result<std::span<const Command>> again = (*reader)->next();
      EXPECT_FALSE(again.ok());
      if (!again.ok()) {
        EXPECT_EQ(again.status().to_string(), o.status.to_string());
      }
      return o;
    }
    if (batch->empty()) break;
    EXPECT_LE(batch->size(), options.batch_commands);
    o.commands.insert(o.commands.end(), batch->begin(), batch->end());
  }
  o.summary = (*reader)->summary();
  Result<std::span<const Command>> again = (*reader)->next();
  EXPECT_TRUE(again.ok() && again->empty()) << "the end is sticky";
  return o;
}

void expect_same_summary(const JournalSummary& a, const JournalSummary& b) {
  EXPECT_EQ(a.empty, b.empty);
  EXPECT_EQ(a.first_seq, b.first_seq);
  EXPECT_EQ(a.last_seq, b.last_seq);
  EXPECT_EQ(a.first_prev_hash, b.first_prev_hash);
  EXPECT_EQ(a.chain, b.chain);
  EXPECT_EQ(a.segments, b.segments);
  EXPECT_EQ(a.batches, b.batches);
  EXPECT_EQ(a.commands, b.commands);
  EXPECT_EQ(a.tail_file, b.tail_file);
  EXPECT_EQ(a.durable_end, b.durable_end);
  EXPECT_EQ(a.tail_bytes, b.tail_bytes);
  EXPECT_EQ(a.final_batch_damaged, b.final_batch_damaged);
}

// Is `got` the commands of `all` from index `from` on, for got.size() of them?
bool is_run_of(const std::vector<Command>& got, const std::vector<Command>& all, std::size_t from) {
  if (from + got.size() > all.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!same(got[i], all[from + i])) return false;
  }
  return true;
}

// Both readers on env's journal from `from`; `written` is every command
// ever written (the ground truth for what may be yielded).
// Returns whether the JournalReader succeeded.
bool expect_equivalent(Env* env, SeqNo from, const std::vector<Command>& written,
                       const BatchReaderOptions& options = {}) {
  Outcome want = with_journal_reader(env, from);
  Outcome got = with_batch_reader(env, from, options);
  EXPECT_EQ(got.status.to_string(), want.status.to_string());
  if (want.status.ok()) {
    EXPECT_EQ(got.commands.size(), want.commands.size());
    EXPECT_TRUE(is_run_of(got.commands, want.commands, 0));
    expect_same_summary(got.summary, want.summary);
    return true;
  }
  // On damage: JournalReader's commands are a prefix of the BatchReader's,
  // which are all real commands in order.
  EXPECT_GE(got.commands.size(), want.commands.size());
  EXPECT_TRUE(is_run_of(want.commands, got.commands, 0));
  if (!got.commands.empty()) {
    auto first = std::find_if(written.begin(), written.end(),
                              [&](const Command& c) { return c.seq == got.commands.front().seq; });
    EXPECT_TRUE(is_run_of(got.commands, written, static_cast<std::size_t>(first - written.begin())));
  }
  return false;
}

const BatchReaderOptions kShapes[] = {{1, 2}, {3, 2}, {7, 3}, {4096, 4}};

TEST(JournalBatchReader, YieldsWhatJournalReaderYieldsOnACleanJournal) {
  FaultEnv env(1);
  Built b = build(env, 1, 300);
  ASSERT_GT(b.segments.size(), 10u);
  for (const BatchReaderOptions& shape : kShapes) {
    SCOPED_TRACE(std::to_string(shape.batch_commands) + " per batch");
    for (SeqNo from : {SeqNo{0}, SeqNo{1}, SeqNo{2}, SeqNo{37}, b.commands[400].seq,
                       b.commands.back().seq, b.commands.back().seq + 1}) {
      SCOPED_TRACE("from " + std::to_string(from));
      EXPECT_TRUE(expect_equivalent(&env, from, b.commands, shape));
    }
  }
  Outcome all = with_batch_reader(&env, 0, {});
  ASSERT_EQ(all.commands.size(), b.commands.size());
  EXPECT_TRUE(is_run_of(all.commands, b.commands, 0));
}

TEST(JournalBatchReader, LargeBatchesAcrossManySegments) {
  FaultEnv env(2);
  Built b = build(env, 2, 200, std::uint64_t{64} * 1024, 300);
  ASSERT_GT(b.segments.size(), 3u);
  for (const BatchReaderOptions& shape : kShapes) {
    EXPECT_TRUE(expect_equivalent(&env, 0, b.commands, shape));
  }
}

TEST(JournalBatchReader, EmptyAndMissingJournals) {
  FaultEnv env(3);
  ASSERT_TRUE(env.create_dir(kDir).ok());
  EXPECT_TRUE(expect_equivalent(&env, 0, {}));
  EXPECT_TRUE(expect_equivalent(&env, 5, {}));
  FaultEnv none(3);
  EXPECT_FALSE(expect_equivalent(&none, 0, {}));  // no directory: the same error
}

TEST(JournalBatchReader, StartBeforeTheFirstSegmentIsNotFound) {
  FaultEnv env(4);
  Built b = build(env, 4, 60);
  ASSERT_TRUE(env.remove(b.segments[0]).ok());
  EXPECT_TRUE(BatchReader::open(&env, kDir, 1).status().is_not_found());
  EXPECT_FALSE(expect_equivalent(&env, 1, b.commands));
  EXPECT_TRUE(expect_equivalent(&env, 0, b.commands));
}

TEST(JournalBatchReader, TornTailAtEveryLength) {
  FaultEnv probe(5);
  Built shape = build(probe, 5, 60);
  const std::string last = shape.segments.back();
  const std::uint64_t size = size_of(probe, last);
  for (std::uint64_t len = 0; len < size; ++len) {
    SCOPED_TRACE("torn at " + std::to_string(len));
    FaultEnv env(5);
    Built b = build(env, 5, 60);
    ASSERT_TRUE(env.truncate(last, len).ok());
    EXPECT_TRUE(expect_equivalent(&env, 0, b.commands, {3, 2}));
  }
}

TEST(JournalBatchReader, GarbageInTheLastSegment) {
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    FaultEnv env(6);
    Built b = build(env, 6, 60);
    const std::string last = b.segments.back();
    std::mt19937_64 rng(seed);
    const std::uint64_t size = size_of(env, last);
    const std::uint64_t from = rng() % size;
    std::string garbage(1 + rng() % std::min<std::uint64_t>(64, size - from), '\0');
    if (seed % 2) {
      for (char& c : garbage) c = static_cast<char>(rng());
    }
    ASSERT_TRUE(env.overwrite(last, from, garbage).ok());
    SCOPED_TRACE("garbage at " + std::to_string(from));
    expect_equivalent(&env, 0, b.commands, {2, 2});
  }
}

TEST(JournalBatchReader, FlippedBitAnywhere) {
  FaultEnv env(7);
  Built b = build(env, 7, 40);
  std::mt19937_64 rng(7);
  std::size_t failed = 0;
  for (const std::string& path : b.segments) {
    const std::uint64_t size = size_of(env, path);
    for (std::uint64_t off = 0; off < size; ++off) {
      const int bit = static_cast<int>(rng() % 8);
      ASSERT_TRUE(env.flip_bit(path, off, bit).ok());
      SCOPED_TRACE(path + " offset " + std::to_string(off));
      failed += !expect_equivalent(&env, 0, b.commands, {2, 2});
      ASSERT_TRUE(env.flip_bit(path, off, bit).ok());
    }
  }
  EXPECT_GT(failed, 3000u);
}

// Rewrites a byte of a command record and fixes its CRC: only the chain sees it.
void tamper(FaultEnv& env, const std::string& path, std::uint64_t record) {
  std::string bytes;
  ASSERT_TRUE(read_file(&env, path, &bytes).ok());
  std::string rec = bytes.substr(record, kCommandRecordSize);
  rec[kRecordHeaderSize + 40] = static_cast<char>(rec[kRecordHeaderSize + 40] ^ 0x5a);
  const std::uint32_t crc = crc32c::value(rec.data() + kCrcCoveredFrom, rec.size() - kCrcCoveredFrom);
  put<std::uint32_t>(rec.data(), crc32c::mask(crc));
  ASSERT_TRUE(env.overwrite(path, record, rec).ok());
}

TEST(JournalBatchReader, TamperedCommandBreaksTheChainIdentically) {
  FaultEnv probe(8);
  Built shape = build(probe, 8, 40);
  std::size_t tampered = 0;
  for (std::size_t s = 0; s < shape.segments.size(); ++s) {
    for (std::uint64_t pos : testing::command_record_offsets(&probe, shape.segments[s])) {
      FaultEnv env(8);
      Built b = build(env, 8, 40);
      tamper(env, b.segments[s], pos);
      SCOPED_TRACE(b.segments[s] + " record " + std::to_string(pos));
      EXPECT_FALSE(expect_equivalent(&env, 0, b.commands, {2, 2}));
      ++tampered;
    }
  }
  EXPECT_EQ(tampered, shape.commands.size());
}

TEST(JournalBatchReader, BrokenLinksAreReportedAfterDamageInTheSameSegment) {
  {  // a missing segment alone
    FaultEnv env(9);
    Built b = build(env, 9, 60);
    ASSERT_TRUE(env.remove(b.segments[2]).ok());
    EXPECT_FALSE(expect_equivalent(&env, 0, b.commands));
  }
  {  // a missing segment and a flipped bit later in the next one: the flip wins
    FaultEnv env(9);
    Built b = build(env, 9, 60);
    ASSERT_TRUE(env.remove(b.segments[2]).ok());
    ASSERT_TRUE(env.flip_bit(b.segments[3], size_of(env, b.segments[3]) - 10, 1).ok());
    Outcome want = with_journal_reader(&env, 0);
    ASSERT_EQ(want.status.message().find("seq gap"), std::string::npos);
    EXPECT_FALSE(expect_equivalent(&env, 0, b.commands, {2, 2}));
  }
  {  // a gap before a last segment that holds no complete batch: not an error
    FaultEnv env(9);
    Built b = build(env, 9, 60);
    const std::size_t n = b.segments.size();
    ASSERT_TRUE(env.remove(b.segments[n - 2]).ok());
    ASSERT_TRUE(env.truncate(b.segments[n - 1], kHeaderRecordSize + 5).ok());
    EXPECT_TRUE(expect_equivalent(&env, 0, b.commands, {2, 2}));
  }
}

TEST(JournalBatchReader, PowerCutsWhileWriting) {
  std::size_t torn_tails = 0;
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    FaultEnv env(seed);
    std::mt19937_64 rng(seed);
    WriterOptions options;
    options.segment_bytes = 300 + rng() % 2000;
    std::vector<Command> written;
    env.power_off_at(rng() % 60 + 1);
    auto w = JournalWriter::open(&env, kDir, options);
    for (int batch = 0; w.ok() && batch < 30 && !(*w)->failed(); ++batch) {
      for (std::uint64_t n = rng() % 5 + 1; n > 0; --n) {
        written.push_back(random_command(rng, (*w)->next_seq()));
        ASSERT_TRUE((*w)->append(written.back()).ok());
      }
      (void)(*w)->commit();
    }
    w = Status::IOError("the process dies");
    env.power_cut(seed % 2 ? FaultEnv::CutMode::kKeepRandomPrefix : FaultEnv::CutMode::kDropUnsynced);
    SCOPED_TRACE("seed " + std::to_string(seed));
    if (expect_equivalent(&env, 0, written, {3, 2})) {
      torn_tails += !with_journal_reader(&env, 0).summary.tail_file.empty();
    }
  }
  EXPECT_GT(torn_tails, 20u) << "the cuts must leave torn tails to compare";
}

TEST(JournalBatchReader, DestroyedEarlyStopsItsThread) {
  FaultEnv env(10);
  Built b = build(env, 10, 300);
  for (int taken = 0; taken < 4; ++taken) {
    auto reader = BatchReader::open(&env, kDir, 0, {1, 2});
    ASSERT_TRUE(reader.ok());
    for (int i = 0; i < taken; ++i) {
      Result<std::span<const Command>> batch = (*reader)->next();
      ASSERT_TRUE(batch.ok());
      ASSERT_EQ(batch->size(), 1u);
      EXPECT_TRUE(same(batch->front(), b.commands[static_cast<std::size_t>(i)]));
    }
  }  // each destructor joins a producer blocked on a full ring
}

TEST(JournalBatchReader, RejectsAnEmptyRing) {
  FaultEnv env(11);
  EXPECT_FALSE(BatchReader::open(&env, kDir, 0, {0, 4}).ok());
  EXPECT_FALSE(BatchReader::open(&env, kDir, 0, {16, 1}).ok());
}

}  // namespace
}  // namespace stox::journal
