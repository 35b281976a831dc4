// verify_data_dir and backup_data_dir on real directories (the POSIX Env).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "journal/crc32c.h"
#include "journal/format.h"
#include "store/backup.h"
#include "store/durable_engine.h"
#include "store/layout.h"
#include "store/snapshot_file.h"
#include "store/store_test_util.h"
#include "store/verify.h"

namespace stox::store {
namespace {

using testing::Driver;
using testing::small_config;

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "stox-store-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<std::string> segments_of(const std::string& data_dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(journal_dir(data_dir))) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

class VerifyBackupTest : public ::testing::Test {
 protected:
  VerifyBackupTest() : config_(small_config(true)), driver_(21, config_), data_(tmp_.path() + "/data") {}

  // 600 commands in batches of 20 over several segments, snapshots at 200
  // and 400, and an incomplete batch left at the end of the last segment.
  void SetUp() override {
    DurableOptions options;
    options.journal.segment_bytes = 16 << 10;
    auto ex = DurableEngine::open(*journal::posix_env(), data_, config_, driver_.clock(), options);
    ASSERT_TRUE(ex.ok()) << ex.status().to_string();
    std::vector<Event> released;
    for (int i = 1; i <= 600; ++i) {
      ASSERT_TRUE(driver_.submit(**ex).ok());
      if (i % 20 == 0) {
        ASSERT_TRUE((*ex)->commit(&released).ok());
      }
      if (i % 200 == 0 && i < 600) {
        ASSERT_TRUE((*ex)->snapshot_now().ok());
      }
    }
    std::ofstream(segments_of(data_).back(), std::ios::app) << std::string(150, '\x5a');
  }

  static journal::Env& env() { return *journal::posix_env(); }

  TempDir tmp_;
  EngineConfig config_;
  Driver driver_;
  std::string data_;
};

TEST_F(VerifyBackupTest, VerifyPassesOnAHealthyDataDirectory) {
  VerifyReport report = verify_data_dir(env(), data_, config_);
  ASSERT_TRUE(report.ok) << report.to_string();
  EXPECT_EQ(report.commands, 600u);
  EXPECT_EQ(report.batches, 30u);
  EXPECT_EQ(report.records, report.segments + 30u + 600u);
  EXPECT_GT(report.segments, 2u);
  EXPECT_EQ(report.snapshots_checked, 2u);
  EXPECT_EQ(report.final_seq, 600u);
  EXPECT_EQ(report.final_state_hash, driver_.hash_after(600));
  EXPECT_NE(report.tail.find("150 bytes"), std::string::npos) << report.tail;
  EXPECT_NE(report.to_string().find("\nOK\n"), std::string::npos);
}

// A command altered on disk with its CRC fixed up: only the hash chain
// notices, and verify must fail naming the segment.
TEST_F(VerifyBackupTest, VerifyFailsOnATamperedJournal) {
  const std::string first = segments_of(data_).front();
  std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
  const std::size_t at = journal::kHeaderRecordSize;  // the first command record
  std::string record(journal::kCommandRecordSize, '\0');
  f.seekg(static_cast<std::streamoff>(at));
  f.read(record.data(), static_cast<std::streamsize>(record.size()));
  record[journal::kRecordHeaderSize + 8] ^= 1;  // the command's timestamp
  const std::uint32_t crc = journal::crc32c::mask(journal::crc32c::value(
      record.data() + journal::kCrcCoveredFrom, record.size() - journal::kCrcCoveredFrom));
  journal::put<std::uint32_t>(record.data(), crc);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(record.data(), static_cast<std::streamsize>(record.size()));
  f.close();

  VerifyReport report = verify_data_dir(env(), data_, config_);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find(first), std::string::npos) << report.problem;
  EXPECT_NE(report.problem.find("hash chain"), std::string::npos) << report.problem;
  EXPECT_NE(report.to_string().find("FAILED: "), std::string::npos);
}

// A well-formed snapshot of another state (here the empty engine) under a
// later seq: its checksum is fine, its content is not.
TEST_F(VerifyBackupTest, VerifyFailsOnASnapshotThatDisagreesWithTheJournal) {
  Engine empty(config_);
  ASSERT_TRUE(write_snapshot(env(), snapshot_dir(data_), 500, empty.state_hash(), empty.snapshot()).ok());
  VerifyReport report = verify_data_dir(env(), data_, config_);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find(snapshot_name(500)), std::string::npos) << report.problem;
}

// Snapshot extensions (the server's projections) are compared with a
// companion fed the full replay: the right state passes, another fails.
TEST_F(VerifyBackupTest, VerifyChecksSnapshotExtensionsAgainstTheReplaysCompanion) {
  Engine at(config_);
  testing::DigestState digest;
  std::vector<Event> events;
  for (SeqNo s = 1; s <= 300; ++s) {
    events.clear();
    at.apply(driver_.history()[s - 1], events);
    digest.apply(driver_.history()[s - 1], events);
  }
  ASSERT_TRUE(write_snapshot(env(), snapshot_dir(data_), 300, at.state_hash(), at.snapshot(),
                             digest.encode()).ok());
  VerifyOptions options;
  options.make_companion = [] { return std::make_unique<testing::DigestCompanion>(); };
  VerifyReport report = verify_data_dir(env(), data_, config_, options);
  ASSERT_TRUE(report.ok) << report.to_string();
  EXPECT_EQ(report.snapshots_checked, 3u);
  EXPECT_EQ(report.extensions_checked, 1u);  // 200 and 400 have none

  ASSERT_TRUE(fs::remove(snapshot_dir(data_) + "/" + snapshot_name(300)));
  digest.digest ^= 1;  // another state, same engine
  ASSERT_TRUE(write_snapshot(env(), snapshot_dir(data_), 300, at.state_hash(), at.snapshot(),
                             digest.encode()).ok());
  report = verify_data_dir(env(), data_, config_, options);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find(snapshot_name(300)), std::string::npos) << report.problem;
  EXPECT_NE(report.problem.find("projections"), std::string::npos) << report.problem;
}

TEST_F(VerifyBackupTest, BackupIsAConsistentCopyThatVerifiesAndRecovers) {
  const std::string dest = tmp_.path() + "/backup";
  Result<BackupReport> report = backup_data_dir(env(), data_, dest, config_);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_EQ(report->snapshot_seq, 400u);
  EXPECT_GT(report->segments_linked, 0u);  // same file system: sealed segments are linked
  EXPECT_EQ(report->segments_copied, 1u);  // the active one
  EXPECT_EQ(report->tail_bytes_cut, 150u);
  EXPECT_TRUE(report->verify.ok);
  EXPECT_EQ(report->verify.final_seq, 600u);
  EXPECT_EQ(report->verify.snapshots_checked, 1u);
  EXPECT_TRUE(report->verify.tail.empty());
  // The source is untouched: its torn tail is still there for its own restart.
  VerifyReport source = verify_data_dir(env(), data_, config_);
  EXPECT_FALSE(source.tail.empty());

  Result<Recovered> r = recover(env(), dest, config_);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->snapshot_seq, 400u);
  EXPECT_EQ(r->engine->state_hash(), driver_.hash_after(600));
}

TEST_F(VerifyBackupTest, BackupRefusesANonEmptyDestination) {
  Result<BackupReport> report = backup_data_dir(env(), data_, data_, config_);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.status().is_invalid_argument());
}

}  // namespace
}  // namespace stox::store
