#include "server/api_keys.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

namespace stox::server {
namespace {

constexpr std::string_view kBearer = "Bearer ";
constexpr std::string_view kKeyPrefix = "stx_";
constexpr std::size_t kKeyRandomBytes = 32;
constexpr std::size_t kKeyIdChars = 12;
constexpr char kHexDigits[] = "0123456789abcdef";

Status errno_status(std::string_view what, const std::string& path, int err) {
  return Status::IOError(std::string(what) + " " + path + ": " + std::strerror(err), err);
}

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHexDigits[bytes[i] >> 4]);
    out.push_back(kHexDigits[bytes[i] & 0xf]);
  }
  return out;
}

// The digest's first kKeyIdChars hex characters.
std::string key_id_of(const std::array<unsigned char, 32>& digest) {
  return hex(digest.data(), kKeyIdChars / 2);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not written by us, so not accepted either
}

bool parse_hex_digest(std::string_view text, std::array<unsigned char, 32>* out) {
  if (text.size() != 2 * out->size()) return false;
  for (std::size_t i = 0; i < out->size(); ++i) {
    const int hi = hex_value(text[2 * i]);
    const int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

// RFC 4648 section 5, without padding.
std::string base64url(const unsigned char* bytes, std::size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | bytes[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

Result<std::string> random_key() {
  std::array<unsigned char, kKeyRandomBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Status::IOError("RAND_bytes failed: no random key could be generated");
  }
  return std::string(kKeyPrefix) + base64url(bytes.data(), bytes.size());
}

bool is_visible_ascii(char c) { return c > ' ' && c < 0x7f; }

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::OK();
}

Status fsync_fd(int fd, const std::string& path) {
  if (::fsync(fd) != 0) return errno_status("cannot fsync", path, errno);
  return Status::OK();
}

// Makes the directory's entries (a newly created file) durable.
Status fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open directory", dir, errno);
  Status s = fsync_fd(fd, dir);
  ::close(fd);
  return s;
}

// Reads a whole file; NotFound if it does not exist.
Status read_fd(int fd, const std::string& path, std::string* out) {
  out->clear();
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("cannot read", path, errno);
    }
    if (n == 0) return Status::OK();
    out->append(buf, static_cast<std::size_t>(n));
  }
}

Status validate_admin_key(std::string_view key, std::string_view source) {
  if (key.size() < KeyStore::kMinAdminKeyBytes || key.size() > KeyStore::kMaxKeyBytes ||
      !std::all_of(key.begin(), key.end(), is_visible_ascii)) {
    return Status::InvalidArgument(std::string(source) + ": the admin key must be " +
                                   std::to_string(KeyStore::kMinAdminKeyBytes) + " to " +
                                   std::to_string(KeyStore::kMaxKeyBytes) +
                                   " visible ASCII characters without spaces");
  }
  return Status::OK();
}

// Reads an existing admin.key. The file must not be readable by group or
// others: a key anyone on the machine can read protects nothing.
Status read_admin_key_file(const std::string& path, int fd, std::string* key) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_status("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::InvalidArgument(path + " may be read by group or others (mode " + mode +
                                   "); run: chmod 600 " + path);
  }
  std::string text;
  if (Status s = read_fd(fd, path, &text); !s.ok()) return s;
  const std::size_t end = text.find('\n');
  *key = text.substr(0, end);
  if (!key->empty() && key->back() == '\r') key->pop_back();
  return validate_admin_key(*key, path);
}

// Writes a new admin.key with mode 0600; fails if it appeared meanwhile.
Status write_admin_key_file(const std::string& dir, const std::string& path,
                            const std::string& key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("cannot create", path, errno);
  Status s = write_all(fd, key + "\n", path);
  if (s.ok()) s = fsync_fd(fd, path);
  ::close(fd);
  if (s.ok()) s = fsync_dir(dir);
  return s;
}

// The admin key, from the environment, admin.key, or newly generated.
Result<std::string> load_admin_key(const std::string& dir, std::optional<std::string> env,
                                   std::string* generated) {
  generated->clear();
  if (env) {
    if (Status s = validate_admin_key(*env, "STOX_ADMIN_KEY"); !s.ok()) return s;
    return std::move(*env);
  }
  const std::string path = dir + "/admin.key";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    std::string key;
    Status s = read_admin_key_file(path, fd, &key);
    ::close(fd);
    if (!s.ok()) return s;
    return key;
  }
  if (errno != ENOENT) return errno_status("cannot open", path, errno);
  Result<std::string> key = random_key();
  if (!key.ok()) return key;
  if (Status s = write_admin_key_file(dir, path, *key); !s.ok()) return s;
  *generated = *key;
  return key;
}

std::string line_error(std::size_t line_no, std::string_view why) {
  return "api-keys line " + std::to_string(line_no) + ": " + std::string(why);
}

template <typename T>
bool parse_uint(std::string_view text, T* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool valid_label(std::string_view label) {
  return label.size() <= KeyStore::kMaxLabelBytes &&
         std::all_of(label.begin(), label.end(), [](char c) { return c >= ' ' && c < 0x7f; });
}

}  // namespace

std::size_t KeyStore::DigestHash::operator()(const Digest& d) const {
  std::size_t h = 0;  // the digest is uniformly random already
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

KeyStore::KeyStore(std::string data_dir, int api_keys_fd)
    : data_dir_(std::move(data_dir)), api_keys_fd_(api_keys_fd) {}

KeyStore::~KeyStore() { ::close(api_keys_fd_); }

Result<std::unique_ptr<KeyStore>> KeyStore::open(const std::string& data_dir,
                                                 std::optional<std::string> admin_key_env,
                                                 std::string* generated_admin_key) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::IOError("cannot create data directory " + data_dir + ": " + ec.message());

  Result<std::string> admin = load_admin_key(data_dir, std::move(admin_key_env),
                                             generated_admin_key);
  if (!admin.ok()) return admin.status();

  const std::string path = data_dir + "/api-keys";
  bool created = false;
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    created = true;
  }
  if (fd < 0) return errno_status("cannot open", path, errno);
  std::unique_ptr<KeyStore> store(new KeyStore(data_dir, fd));  // owns fd from here
  if (created) {
    if (Status s = fsync_dir(data_dir); !s.ok()) return s;
  }
  std::string text;
  if (Status s = read_fd(fd, path, &text); !s.ok()) return s;
  // A last line without its newline is a create_key cut short by a crash or
  // power cut: its key was never handed out (the fsync comes first), so it
  // is dropped, and cut from the file so the next key starts a clean line.
  if (!text.empty() && text.back() != '\n') {
    const std::size_t nl = text.rfind('\n');
    text.resize(nl == std::string::npos ? 0 : nl + 1);
    if (::ftruncate(fd, static_cast<off_t>(text.size())) != 0 || ::fsync(fd) != 0) {
      return errno_status("cannot cut the torn last line of", path, errno);
    }
  }
  if (Status s = store->load_api_keys(text); !s.ok()) return s;
  store->insert(sha256(*admin), Entry{0, kAdminKeyPermissions});
  return store;
}

Status KeyStore::load_api_keys(const std::string& text) {
  std::string_view rest = text;
  for (std::size_t line_no = 1; !rest.empty(); ++line_no) {
    const std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {  // open() cuts a torn tail first
      return Status::Corruption(line_error(line_no, "incomplete (no newline)"));
    }
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);

    // <hash> <account> <permissions> <label>
    Digest digest{};
    const std::size_t s1 = line.find(' ');
    const std::size_t s2 = s1 == std::string_view::npos ? s1 : line.find(' ', s1 + 1);
    const std::size_t s3 = s2 == std::string_view::npos ? s2 : line.find(' ', s2 + 1);
    if (s3 == std::string_view::npos) {
      return Status::Corruption(line_error(line_no, "expected '<sha256> <account> "
                                                    "<permissions> <label>'"));
    }
    if (!parse_hex_digest(line.substr(0, s1), &digest)) {
      return Status::Corruption(line_error(line_no, "the hash is not 64 lower-case hex digits"));
    }
    AccountId account = 0;
    if (!parse_uint(line.substr(s1 + 1, s2 - s1 - 1), &account) || account == 0) {
      return Status::Corruption(line_error(line_no, "the account is not a number from 1"));
    }
    unsigned permissions = 0;
    if (!parse_uint(line.substr(s2 + 1, s3 - s2 - 1), &permissions) || permissions == 0 ||
        permissions > kAllPermissions) {
      return Status::Corruption(line_error(line_no, "the permissions are not a number 1..7"));
    }
    if (!valid_label(line.substr(s3 + 1))) {
      return Status::Corruption(line_error(line_no, "the label is not printable ASCII"));
    }
    insert(digest, Entry{account, static_cast<std::uint8_t>(permissions)});
  }
  return Status::OK();
}

void KeyStore::insert(const Digest& digest, Entry entry) {
  const std::unique_lock lock(map_mutex_);
  keys_[digest] = entry;
}

Status KeyStore::append_line(const std::string& line) {
  const std::string path = data_dir_ + "/api-keys";
  Status s = write_all(api_keys_fd_, line, path);
  if (s.ok()) s = fsync_fd(api_keys_fd_, path);
  return s;
}

Result<std::string> KeyStore::create_key(AccountId account, std::uint8_t permissions,
                                         std::string_view label) {
  if (account == 0) return Status::InvalidArgument("a key needs an account (not 0)");
  if (permissions == 0 || (permissions & ~kAllPermissions) != 0) {
    return Status::InvalidArgument("permissions must be a non-empty mask of read(1), "
                                   "trade(2), admin(4)");
  }
  if (!valid_label(label)) {
    return Status::InvalidArgument("the label must be printable ASCII, at most " +
                                   std::to_string(kMaxLabelBytes) + " characters");
  }
  Result<std::string> key = random_key();
  if (!key.ok()) return key;
  const Digest digest = sha256(*key);
  std::string line = hex(digest.data(), digest.size());
  line += ' ' + std::to_string(account) + ' ' + std::to_string(permissions) + ' ';
  line += label;
  line += '\n';
  {
    const std::lock_guard lock(file_mutex_);
    if (write_failed_) {
      return Status::IOError("api-keys could not be written before; restart the server");
    }
    if (Status s = append_line(line); !s.ok()) {
      write_failed_ = true;
      return s;
    }
  }
  insert(digest, Entry{account, permissions});
  return key;
}

std::optional<KeyInfo> KeyStore::authenticate(std::string_view authorization_header) const {
  if (!authorization_header.starts_with(kBearer)) return std::nullopt;
  const std::string_view key = authorization_header.substr(kBearer.size());
  if (key.empty() || key.size() > kMaxKeyBytes) return std::nullopt;
  const Digest digest = sha256(key);
  const std::shared_lock lock(map_mutex_);
  const auto it = keys_.find(digest);
  if (it == keys_.end()) return std::nullopt;
  return KeyInfo{it->second.account, it->second.permissions, key_id_of(digest)};
}

std::vector<KeyInfo> KeyStore::keys_of(AccountId account) const {
  std::vector<KeyInfo> out;
  {
    const std::shared_lock lock(map_mutex_);
    for (const auto& [digest, entry] : keys_) {
      if (entry.account == account) {
        out.push_back(KeyInfo{entry.account, entry.permissions, key_id_of(digest)});
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const KeyInfo& a, const KeyInfo& b) { return a.key_id < b.key_id; });
  return out;
}

}  // namespace stox::server
