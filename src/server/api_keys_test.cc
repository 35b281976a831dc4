#include "server/api_keys.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace stox::server {
namespace {

namespace fs = std::filesystem;

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "stox-keys-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<KeyStore> open_store(std::optional<std::string> env = std::nullopt) {
    std::string generated;
    auto store = KeyStore::open(dir_, std::move(env), &generated);
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    if (!store.ok()) return nullptr;
    return std::move(*store);
  }

  // Writes a file with exactly `mode` (umask does not apply to fchmod).
  void write_file(const std::string& name, const std::string& text, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ASSERT_EQ(::fchmod(fd, mode), 0);
    ::close(fd);
  }

  static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string dir_;
};

constexpr const char* kEnvAdminKey = "operator-chosen-admin-key-42";

TEST_F(KeyStoreTest, AdminKeyFromEnvironmentAuthenticatesAndNothingIsWritten) {
  std::string generated = "stale";
  auto store = KeyStore::open(dir_, std::string(kEnvAdminKey), &generated);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  EXPECT_EQ(generated, "");
  const auto info = (*store)->authenticate(std::string("Bearer ") + kEnvAdminKey);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->account, 0u);
  EXPECT_EQ(info->permissions, kAdminKeyPermissions);
  EXPECT_FALSE(fs::exists(dir_ + "/admin.key"));
}

TEST_F(KeyStoreTest, EnvironmentAdminKeyWinsOverAdminKeyFile) {
  // Group-readable, so it would be refused if it were read at all.
  write_file("admin.key", "file-admin-key-0123456789\n", 0644);
  auto store = open_store(kEnvAdminKey);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->authenticate(std::string("Bearer ") + kEnvAdminKey).has_value());
  EXPECT_FALSE(store->authenticate("Bearer file-admin-key-0123456789").has_value());
}

TEST_F(KeyStoreTest, GeneratedAdminKeyIsWrittenOwnerOnlyAndReusedOnReopen) {
  std::string generated;
  {
    auto store = KeyStore::open(dir_, std::nullopt, &generated);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    ASSERT_EQ(generated.size(), 47u);
    EXPECT_EQ(generated.substr(0, 4), "stx_");
    EXPECT_TRUE((*store)->authenticate("Bearer " + generated).has_value());
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/admin.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(read_file(dir_ + "/admin.key"), generated + "\n");

  std::string again = "stale";
  auto reopened = KeyStore::open(dir_, std::nullopt, &again);
  ASSERT_TRUE(reopened.ok()) << reopened.status().to_string();
  EXPECT_EQ(again, "");  // not generated this time
  const auto info = (*reopened)->authenticate("Bearer " + generated);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->account, 0u);
}

TEST_F(KeyStoreTest, AdminKeyFileIsUsedWhenNoEnvironmentKey) {
  write_file("admin.key", "file-admin-key-0123456789\n", 0600);
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->authenticate("Bearer file-admin-key-0123456789").has_value());
}

TEST_F(KeyStoreTest, GroupOrOtherReadableAdminKeyFileIsRefused) {
  for (const mode_t mode : {0640, 0604, 0660}) {
    write_file("admin.key", "file-admin-key-0123456789\n", mode);
    std::string generated;
    auto store = KeyStore::open(dir_, std::nullopt, &generated);
    ASSERT_FALSE(store.ok()) << std::oct << mode;
    EXPECT_NE(store.status().message().find("chmod 600"), std::string::npos)
        << store.status().to_string();
  }
}

TEST_F(KeyStoreTest, ShortOrBlankAdminKeysAreRefused) {
  std::string generated;
  EXPECT_FALSE(KeyStore::open(dir_, std::string("short"), &generated).ok());
  EXPECT_FALSE(KeyStore::open(dir_, std::string("has a space in it 0123"), &generated).ok());
  write_file("admin.key", "\n", 0600);
  EXPECT_FALSE(KeyStore::open(dir_, std::nullopt, &generated).ok());
}

TEST_F(KeyStoreTest, MissingDataDirectoryIsCreated) {
  const std::string nested = dir_ + "/a/b/data";
  std::string generated;
  auto store = KeyStore::open(nested, std::string(kEnvAdminKey), &generated);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  EXPECT_TRUE(fs::is_directory(nested));
}

TEST_F(KeyStoreTest, CreatedKeysAuthenticateWithTheirAccountAndPermissions) {
  auto store = open_store(kEnvAdminKey);
  ASSERT_NE(store, nullptr);
  auto trader = store->create_key(7, kRead | kTrade, "bot");
  auto reader = store->create_key(8, kRead, "");
  ASSERT_TRUE(trader.ok() && reader.ok());
  EXPECT_NE(*trader, *reader);
  EXPECT_EQ(trader->size(), 47u);

  const auto t = store->authenticate("Bearer " + *trader);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->account, 7u);
  EXPECT_EQ(t->permissions, kRead | kTrade);
  const auto r = store->authenticate("Bearer " + *reader);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->account, 8u);
  EXPECT_EQ(r->permissions, kRead);
  EXPECT_NE(t->key_id, r->key_id);
}

TEST_F(KeyStoreTest, KeysSurviveReopen) {
  std::string a;
  std::string b;
  {
    auto store = open_store(kEnvAdminKey);
    ASSERT_NE(store, nullptr);
    auto ka = store->create_key(7, kRead | kTrade, "alice's bot");
    auto kb = store->create_key(7, kRead, "alice read-only");
    ASSERT_TRUE(ka.ok() && kb.ok());
    a = *ka;
    b = *kb;
  }
  auto store = open_store(kEnvAdminKey);
  ASSERT_NE(store, nullptr);
  const auto ia = store->authenticate("Bearer " + a);
  const auto ib = store->authenticate("Bearer " + b);
  ASSERT_TRUE(ia.has_value() && ib.has_value());
  EXPECT_EQ(ia->permissions, kRead | kTrade);
  EXPECT_EQ(ib->permissions, kRead);
  const auto keys = store->keys_of(7);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_LT(keys[0].key_id, keys[1].key_id);
  EXPECT_TRUE(store->keys_of(9).empty());
  EXPECT_EQ(store->keys_of(0).size(), 1u);  // the admin key
}

TEST_F(KeyStoreTest, OnlyTheHashOfAKeyIsStoredOnDisk) {
  auto store = open_store();  // generates admin.key too
  ASSERT_NE(store, nullptr);
  auto key = store->create_key(7, kRead, "label");
  ASSERT_TRUE(key.ok());
  const auto info = store->authenticate("Bearer " + *key);
  ASSERT_TRUE(info.has_value());
  const std::string secret = key->substr(4);  // without the "stx_" prefix
  bool hash_found = false;
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file()) continue;
    const std::string text = read_file(entry.path().string());
    EXPECT_EQ(text.find(secret), std::string::npos) << entry.path();
    hash_found = hash_found || text.find(info->key_id) != std::string::npos;
  }
  EXPECT_TRUE(hash_found);  // the hash (which starts with key_id) is on disk
}

TEST_F(KeyStoreTest, KeyIdIsTwelveHexCharactersNotFromTheKey) {
  auto store = open_store(kEnvAdminKey);
  ASSERT_NE(store, nullptr);
  auto key = store->create_key(7, kRead, "");
  ASSERT_TRUE(key.ok());
  const auto info = store->authenticate("Bearer " + *key);
  ASSERT_TRUE(info.has_value());
  ASSERT_EQ(info->key_id.size(), 12u);
  EXPECT_EQ(info->key_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(key->find(info->key_id), std::string::npos);
}

TEST_F(KeyStoreTest, MalformedOrWrongAuthorizationHeadersAreRefused) {
  auto store = open_store(kEnvAdminKey);
  ASSERT_NE(store, nullptr);
  auto created = store->create_key(7, kRead, "");
  ASSERT_TRUE(created.ok());
  const std::string& key = *created;
  ASSERT_TRUE(store->authenticate("Bearer " + key).has_value());

  const std::string refused[] = {
      "",
      "Bearer",
      "Bearer ",
      key,
      "bearer " + key,
      "BEARER " + key,
      "Basic " + key,
      "Bearer  " + key,
      " Bearer " + key,
      "Bearer " + key + " ",
      "Bearer " + key + "x",
      "Bearer " + key.substr(0, key.size() - 1),
      "Bearer stx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "Bearer " + std::string(300, 'a'),
      "Bearer " + key + std::string(300, ' '),
  };
  for (const std::string& header : refused) {
    EXPECT_FALSE(store->authenticate(header).has_value()) << "'" << header << "'";
  }
}

TEST_F(KeyStoreTest, CreateKeyRejectsBadArguments) {
  auto store = open_store(kEnvAdminKey);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->create_key(0, kRead, "").status().is_invalid_argument());
  EXPECT_TRUE(store->create_key(7, 0, "").status().is_invalid_argument());
  EXPECT_TRUE(store->create_key(7, 8, "").status().is_invalid_argument());
  EXPECT_TRUE(store->create_key(7, kRead, "two\nlines").status().is_invalid_argument());
  EXPECT_TRUE(store->create_key(7, kRead, std::string(129, 'x')).status().is_invalid_argument());
  EXPECT_TRUE(store->keys_of(7).empty());
}

TEST_F(KeyStoreTest, DamagedApiKeysFileIsAnErrorNamingTheLine) {
  {
    auto store = open_store(kEnvAdminKey);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create_key(7, kRead, "good").ok());
  }
  const std::string good = read_file(dir_ + "/api-keys");
  const std::string hash(64, 'a');
  const std::string damaged[] = {
      "garbage\n",
      hash + " 7 3\n",                      // no label field
      hash.substr(1) + "b 7 3 x\n" + "\n",  // fine hash, then an empty line
      std::string(64, 'g') + " 7 3 x\n",    // not hex
      hash + " 0 3 x\n",                    // account 0
      hash + " 7 8 x\n",                    // permissions out of range
      hash + " x7 3 x\n",
      hash + " 7 3 tab\tlabel\n",
  };
  for (const std::string& tail : damaged) {
    write_file("api-keys", good + tail, 0600);
    std::string generated;
    auto store = KeyStore::open(dir_, std::string(kEnvAdminKey), &generated);
    ASSERT_FALSE(store.ok()) << tail;
    EXPECT_TRUE(store.status().is_corruption());
    const bool names_line = store.status().message().find("line 2") != std::string::npos ||
                            store.status().message().find("line 3") != std::string::npos;
    EXPECT_TRUE(names_line) << store.status().to_string();
  }
}

TEST_F(KeyStoreTest, AuthenticationRunsConcurrentlyWithKeyCreation) {
  auto store = open_store(kEnvAdminKey);
  ASSERT_NE(store, nullptr);
  auto known = store->create_key(7, kRead, "");
  ASSERT_TRUE(known.ok());
  const std::string header = "Bearer " + *known;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  constexpr int kReaders = 3;
  std::vector<std::thread> readers;
  readers.reserve(kReaders);
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        if (!store->authenticate(header).has_value()) failures.fetch_add(1);
      }
    });
  }
  std::vector<std::string> created;
  for (int i = 0; i < 40; ++i) {
    auto key = store->create_key(100 + static_cast<AccountId>(i), kRead | kTrade, "");
    ASSERT_TRUE(key.ok());
    created.push_back(*key);
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (std::size_t i = 0; i < created.size(); ++i) {
    const auto info = store->authenticate("Bearer " + created[i]);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->account, 100 + i);
  }
}

TEST_F(KeyStoreTest, TornLastLineFromACrashIsCutAndKeysStillWork) {
  std::string kept;
  {
    std::string generated;
    auto store = KeyStore::open(dir_, std::string(kEnvAdminKey), &generated);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    auto key = store.value()->create_key(7, kRead | kTrade, "kept");
    ASSERT_TRUE(key.ok());
    kept = key.value();
  }
  const std::string good = read_file(dir_ + "/api-keys");
  write_file("api-keys", good + std::string(64, 'a') + " 8 3 to", 0600);  // cut mid-line
  std::string generated;
  auto store = KeyStore::open(dir_, std::string(kEnvAdminKey), &generated);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  EXPECT_EQ(read_file(dir_ + "/api-keys"), good);  // the torn line is gone from the file
  ASSERT_TRUE(store.value()->authenticate("Bearer " + kept).has_value());
  auto next = store.value()->create_key(9, kRead, "next");
  ASSERT_TRUE(next.ok());
  store.value().reset();
  auto reopened = KeyStore::open(dir_, std::string(kEnvAdminKey), &generated);
  ASSERT_TRUE(reopened.ok()) << reopened.status().to_string();
  EXPECT_EQ(reopened.value()->authenticate("Bearer " + next.value())->account, 9U);
}

}  // namespace
}  // namespace stox::server
