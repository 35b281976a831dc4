// KeyStore: API keys and what they may do.
//
// A key is a bearer secret: "stx_" followed by 43 base64url characters (32
// random bytes from OpenSSL RAND_bytes, no padding), 47 characters in all.
// The store keeps only each key's SHA-256; the plaintext is returned once by
// create_key() and never written anywhere. Because keys are 256-bit random
// values, a plain (unsalted, fast) hash is enough: there is nothing to brute
// force, unlike passwords.
//
// Files in the data directory:
//
//   admin.key   the admin key in plaintext, one line, mode 0600. Created on
//               first start unless STOX_ADMIN_KEY is set. Refused (like ssh
//               refuses a private key) when group or others may read it,
//               or when it is a symbolic link.
//   api-keys    (mode 0600) one line per account key, appended and fsync'ed before the
//               key is returned:
//                   <sha256 hex, 64 chars> <account> <permissions> <label>\n
//               e.g. "9f86d0...0a08 42 3 alice's trading bot". permissions is
//               the decimal bitmask of Permission (1..7); the label is the
//               rest of the line (printable ASCII, at most 128 characters,
//               may be empty). Every line must be complete and valid:
//               a damaged line stops open() with an error naming it.
//
// Thread-safety: authenticate() and keys_of() may be called from any number
// of threads while one thread calls create_key().
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace stox::server {

// What a key may do; a key holds a bitmask of these.
enum Permission : std::uint8_t { kRead = 1, kTrade = 2, kAdmin = 4 };

constexpr std::uint8_t kAllPermissions = kRead | kTrade | kAdmin;
// The admin key's permissions. It belongs to no account (account 0), so it
// cannot trade; what kAdmin allows is the API's decision.
constexpr std::uint8_t kAdminKeyPermissions = kRead | kAdmin;

struct KeyInfo {
  AccountId account = 0;        // 0 for the admin key
  std::uint8_t permissions = 0; // bitmask of Permission
  // The first 12 hex characters of the key's SHA-256: names the key in logs
  // and rate-limit buckets without revealing it.
  std::string key_id;
};

class KeyStore {
 public:
  static constexpr std::size_t kMaxKeyBytes = 256;  // longer keys are refused unhashed
  static constexpr std::size_t kMaxLabelBytes = 128;
  static constexpr std::size_t kMinAdminKeyBytes = 16;

  // Opens (creating if missing) data_dir and loads its keys.
  //
  // The admin key is, in order of precedence:
  //  1. admin_key_env, the value of the environment variable STOX_ADMIN_KEY
  //     as passed by the caller; then admin.key is neither read nor written;
  //  2. the first line of data_dir/admin.key; an error if the file may be
  //     read by group or others;
  //  3. a new random key written to data_dir/admin.key (mode 0600, fsync'ed
  //     with its directory) and stored in *generated_admin_key, so the
  //     caller can print it once. *generated_admin_key is cleared otherwise.
  // An admin key must be 16..256 visible ASCII characters without spaces.
  // REQUIRES: generated_admin_key != nullptr.
  static Result<std::unique_ptr<KeyStore>> open(const std::string& data_dir,
                                                std::optional<std::string> admin_key_env,
                                                std::string* generated_admin_key);

  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Creates a key for account with the given permissions, appends its hash
  // to api-keys, fsyncs, and only then returns the plaintext key (the only
  // time it exists). InvalidArgument for account 0, permissions outside
  // 1..7, or a label that is too long or not printable ASCII. After a write
  // or fsync failure the store refuses every later create_key (the file's
  // durable contents are unknown), and authentication keeps working.
  Result<std::string> create_key(AccountId account, std::uint8_t permissions,
                                 std::string_view label);

  // Accepts exactly "Bearer <key>" (one space, scheme case-sensitive).
  // nullopt for anything else, an unknown key, or a key longer than
  // kMaxKeyBytes. Never allocates beyond the returned key_id (which fits
  // the small-string buffer).
  std::optional<KeyInfo> authenticate(std::string_view authorization_header) const;

  // The account's keys, ordered by key_id. Account 0 gives the admin key.
  std::vector<KeyInfo> keys_of(AccountId account) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct DigestHash {
    std::size_t operator()(const Digest& d) const;
  };
  struct Entry {
    AccountId account;
    std::uint8_t permissions;
  };

  KeyStore(std::string data_dir, int api_keys_fd);
  Status load_api_keys(const std::string& text);
  Status append_line(const std::string& line);
  void insert(const Digest& digest, Entry entry);

  const std::string data_dir_;
  mutable std::shared_mutex map_mutex_;
  std::unordered_map<Digest, Entry, DigestHash> keys_;  // guarded by map_mutex_

  std::mutex file_mutex_;  // serializes create_key's appends
  int api_keys_fd_;        // O_APPEND, guarded by file_mutex_
  bool write_failed_ = false;  // guarded by file_mutex_
};

}  // namespace stox::server
