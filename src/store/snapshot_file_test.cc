#include "store/snapshot_file.h"

#include <gtest/gtest.h>

#include "journal/crc32c.h"
#include "journal/fault_env.h"
#include "journal/format.h"

namespace stox::store {
namespace {

const std::string kDir = "/snaps";

std::string payload_of(std::size_t n) {
  std::string p(n, '\0');
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(i * 131 + 7);
  return p;
}

class SnapshotFileTest : public ::testing::Test {
 protected:
  SnapshotFileTest() : env_(42) { EXPECT_TRUE(env_.create_dir(kDir).ok()); }
  journal::FaultEnv env_;
};

TEST_F(SnapshotFileTest, RoundTripsSeqStateHashAndPayload) {
  Result<std::string> path = write_snapshot(env_, kDir, 1234, 0xfeedface12345678ull, payload_of(5000));
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  EXPECT_EQ(*path, kDir + "/snapshot-00000000000000001234.snap");
  Result<LoadedSnapshot> loaded = load_snapshot(env_, *path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->seq, 1234u);
  EXPECT_EQ(loaded->state_hash, 0xfeedface12345678ull);
  EXPECT_EQ(loaded->payload, payload_of(5000));
}

TEST_F(SnapshotFileTest, ListsSnapshotsOldestFirstIgnoringOtherFiles) {
  for (SeqNo seq : {30u, 4u, 200u}) ASSERT_TRUE(write_snapshot(env_, kDir, seq, seq, "x").ok());
  std::unique_ptr<journal::WritableFile> f;
  ASSERT_TRUE(env_.new_writable_file(kDir + "/snapshot-00000000000000000999.snap.tmp", &f).ok());
  ASSERT_TRUE(env_.new_writable_file(kDir + "/notes.txt", &f).ok());
  Result<std::vector<SnapshotInfo>> list = list_snapshots(env_, kDir);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].seq, 4u);
  EXPECT_EQ((*list)[1].seq, 30u);
  EXPECT_EQ((*list)[2].seq, 200u);
}

TEST_F(SnapshotFileTest, NamesParseOnlyTheirOwnFormat) {
  SeqNo seq = 0;
  EXPECT_TRUE(parse_snapshot_name(snapshot_name(18446744073709551615ull), &seq));
  EXPECT_EQ(seq, 18446744073709551615ull);
  EXPECT_FALSE(parse_snapshot_name("snapshot-00000000000000000001.snap.tmp", &seq));
  EXPECT_FALSE(parse_snapshot_name("snapshot-0000000000000000001x.snap", &seq));
  EXPECT_FALSE(parse_snapshot_name("snapshot-99999999999999999999.snap", &seq));  // overflow
  EXPECT_FALSE(parse_snapshot_name("00000000000000000001.journal", &seq));
}

TEST_F(SnapshotFileTest, TruncatedSnapshotIsRejectedNamingTheFile) {
  const std::string payload = payload_of(300);
  Result<std::string> path = write_snapshot(env_, kDir, 7, 1, payload);
  ASSERT_TRUE(path.ok());
  const std::size_t size = kSnapshotHeaderSize + payload.size() + 8 + kSnapshotTrailerSize;
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, kSnapshotHeaderSize, size / 2, size - 1}) {
    SCOPED_TRACE(keep);
    std::string bytes = encode_snapshot_file(7, 1, payload).substr(0, keep);
    ASSERT_TRUE(env_.remove(*path).ok());
    std::unique_ptr<journal::WritableFile> f;
    ASSERT_TRUE(env_.new_writable_file(*path, &f).ok());
    ASSERT_TRUE(f->append(bytes).ok());
    Result<LoadedSnapshot> loaded = load_snapshot(env_, *path);
    ASSERT_FALSE(loaded.ok());
    EXPECT_TRUE(loaded.status().is_corruption());
    EXPECT_NE(loaded.status().message().find(*path), std::string::npos) << loaded.status().to_string();
  }
}

TEST_F(SnapshotFileTest, ExtensionRoundTripsBesideThePayload) {
  const std::string payload = payload_of(100);
  const std::string extension = "projections:" + payload_of(37);
  ASSERT_TRUE(write_snapshot(env_, kDir, 11, 5, payload, extension).ok());
  ASSERT_TRUE(write_snapshot(env_, kDir, 12, 6, payload).ok());
  Result<LoadedSnapshot> with = load_snapshot(env_, kDir + "/" + snapshot_name(11));
  ASSERT_TRUE(with.ok()) << with.status().to_string();
  EXPECT_EQ(with->payload, payload);
  EXPECT_EQ(with->extension, extension);
  Result<LoadedSnapshot> without = load_snapshot(env_, kDir + "/" + snapshot_name(12));
  ASSERT_TRUE(without.ok()) << without.status().to_string();
  EXPECT_EQ(without->payload, payload);
  EXPECT_TRUE(without->extension.empty());
}

// Version 1 files (no extension fields) were written before the extension
// existed; they stay readable.
TEST_F(SnapshotFileTest, VersionOneFilesStillLoad) {
  const std::string payload = payload_of(50);
  std::string v1(kSnapshotHeaderSize, '\0');
  v1.replace(0, kSnapshotMagic.size(), kSnapshotMagic);
  journal::put<std::uint32_t>(v1.data() + 8, 1);
  journal::put<std::uint64_t>(v1.data() + 16, 13);
  journal::put<std::uint64_t>(v1.data() + 24, 77);
  journal::put<std::uint64_t>(v1.data() + 32, payload.size());
  v1 += payload;
  char crc[4];
  journal::put<std::uint32_t>(crc, journal::crc32c::mask(journal::crc32c::value(v1)));
  v1.append(crc, 4);
  std::unique_ptr<journal::WritableFile> f;
  ASSERT_TRUE(env_.new_writable_file(kDir + "/" + snapshot_name(13), &f).ok());
  ASSERT_TRUE(f->append(v1).ok());
  Result<LoadedSnapshot> loaded = load_snapshot(env_, kDir + "/" + snapshot_name(13));
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->seq, 13u);
  EXPECT_EQ(loaded->state_hash, 77u);
  EXPECT_EQ(loaded->payload, payload);
  EXPECT_TRUE(loaded->extension.empty());
}

TEST_F(SnapshotFileTest, AnyFlippedBitIsRejected) {
  Result<std::string> path = write_snapshot(env_, kDir, 9, 99, payload_of(64), "ext");
  ASSERT_TRUE(path.ok());
  std::uint64_t size = 0;
  ASSERT_TRUE(env_.file_size(*path, &size).ok());
  for (std::uint64_t at = 0; at < size; ++at) {
    const int bit = static_cast<int>(at % 8);
    ASSERT_TRUE(env_.flip_bit(*path, at, bit).ok());
    EXPECT_FALSE(load_snapshot(env_, *path).ok()) << "flip at byte " << at << " went unnoticed";
    ASSERT_TRUE(env_.flip_bit(*path, at, bit).ok());
  }
  EXPECT_TRUE(load_snapshot(env_, *path).ok());
}

TEST_F(SnapshotFileTest, SnapshotCopiedUnderAnotherSeqNameIsRejected) {
  std::string bytes = encode_snapshot_file(5, 1, "payload");
  std::unique_ptr<journal::WritableFile> f;
  const std::string path = kDir + "/" + snapshot_name(6);
  ASSERT_TRUE(env_.new_writable_file(path, &f).ok());
  ASSERT_TRUE(f->append(bytes).ok());
  Result<LoadedSnapshot> loaded = load_snapshot(env_, path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("does not match the file name"), std::string::npos);
}

TEST_F(SnapshotFileTest, ExistingSnapshotIsNeverOverwritten) {
  ASSERT_TRUE(write_snapshot(env_, kDir, 3, 1, "first").ok());
  Result<std::string> again = write_snapshot(env_, kDir, 3, 2, "second");
  EXPECT_FALSE(again.ok());
  Result<LoadedSnapshot> loaded = load_snapshot(env_, kDir + "/" + snapshot_name(3));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->payload, "first");
}

// A cut at every mutating call of a snapshot write leaves either no
// snapshot or a whole valid one, never a damaged file under the final name.
TEST_F(SnapshotFileTest, PowerCutAtAnyMomentLeavesNoSnapshotOrAWholeOne) {
  int whole = 0;
  int none = 0;
  for (std::uint64_t n = 1; n <= 16; ++n) {  // past the last file operation of a write
    for (auto mode : {journal::FaultEnv::CutMode::kDropUnsynced,
                      journal::FaultEnv::CutMode::kKeepRandomPrefix}) {
      journal::FaultEnv env(n);
      ASSERT_TRUE(env.create_dir(kDir).ok());
      env.power_off_at(n);
      (void)write_snapshot(env, kDir, 11, 5, payload_of(1000));
      env.power_cut(mode);
      Result<std::vector<SnapshotInfo>> list = list_snapshots(env, kDir);
      ASSERT_TRUE(list.ok());
      if (list->empty()) {
        ++none;
        ASSERT_TRUE(write_snapshot(env, kDir, 11, 5, payload_of(1000)).ok()) << "stale temp file";
        continue;
      }
      ASSERT_EQ(list->size(), 1u);
      Result<LoadedSnapshot> loaded = load_snapshot(env, (*list)[0].path);
      ASSERT_TRUE(loaded.ok()) << "cut at call " << n << ": " << loaded.status().to_string();
      EXPECT_EQ(loaded->payload, payload_of(1000));
      ++whole;
    }
  }
  EXPECT_GT(none, 0);
  EXPECT_GT(whole, 0);
}

}  // namespace
}  // namespace stox::store
