// Runs the real `stox` binary (STOX_BINARY) on real directories.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

#include "store/durable_engine.h"
#include "store/layout.h"
#include "store/store_test_util.h"

namespace stox {
namespace {

namespace fs = std::filesystem;

struct StoxRun {
  int exit_code;
  std::string output;  // stdout and stderr
};

StoxRun run_stox(const std::string& args) {
  const std::string cmd = std::string("\"") + STOX_BINARY + "\" " + args + " 2>&1";
  StoxRun r{-1, {}};
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class StoxStoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "stox-cli-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    data_ = root_ + "/data";
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes `commands` random commands, committing every 25, snapshotting once.
  void make_data_dir(bool accounts, int commands) {
    EngineConfig config;
    config.accounts = accounts;
    config.expected_orders = 1024;
    store::testing::Driver driver(3, config);
    store::DurableOptions options;
    options.journal.segment_bytes = 8 << 10;
    auto ex = store::DurableEngine::open(*journal::posix_env(), data_, config, driver.clock(), options);
    ASSERT_TRUE(ex.ok()) << ex.status().to_string();
    std::vector<Event> released;
    for (int i = 1; i <= commands; ++i) {
      ASSERT_TRUE(driver.submit(**ex).ok());
      if (i % 25 == 0) {
        ASSERT_TRUE((*ex)->commit(&released).ok());
      }
      if (i == commands / 2) {
        ASSERT_TRUE((*ex)->commit(&released).ok());
        ASSERT_TRUE((*ex)->snapshot_now().ok());
      }
    }
    ASSERT_TRUE((*ex)->commit(&released).ok());
  }

  std::string root_;
  std::string data_;
};

TEST_F(StoxStoreCli, VerifyPrintsASummaryAndSucceedsOnAHealthyDataDir) {
  make_data_dir(true, 400);
  StoxRun r = run_stox("verify " + data_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("400 commands"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("snapshots checked: 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("final seq: 400"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\nOK\n"), std::string::npos) << r.output;
}

TEST_F(StoxStoreCli, VerifyTakesTheEngineConfigFromFlags) {
  make_data_dir(false, 200);
  EXPECT_EQ(run_stox("verify --accounts off " + data_).exit_code, 0);
  // Under the wrong config the snapshot does not restore.
  StoxRun wrong = run_stox("verify " + data_);
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  EXPECT_NE(wrong.output.find("FAILED"), std::string::npos) << wrong.output;
}

TEST_F(StoxStoreCli, VerifyFailsOnATamperedJournal) {
  make_data_dir(true, 300);
  std::vector<fs::path> segments;
  for (const auto& e : fs::directory_iterator(store::journal_dir(data_))) segments.push_back(e.path());
  std::sort(segments.begin(), segments.end());
  std::fstream f(segments.front(), std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(200);  // inside the first command record: its CRC no longer matches
  f.put('\x7f');
  f.close();
  StoxRun r = run_stox("verify " + data_);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAILED: corruption: " + segments.front().string()), std::string::npos)
      << r.output;
}

TEST_F(StoxStoreCli, BackupWritesACopyThatVerifies) {
  make_data_dir(true, 300);
  StoxRun r = run_stox("backup " + data_ + " " + root_ + "/copy");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("hard-linked"), std::string::npos) << r.output;
  StoxRun v = run_stox("verify " + root_ + "/copy");
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("final seq: 300"), std::string::npos) << v.output;
  StoxRun again = run_stox("backup " + data_ + " " + root_ + "/copy");
  EXPECT_EQ(again.exit_code, 1) << again.output;  // not empty
}

}  // namespace
}  // namespace stox
