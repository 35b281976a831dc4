#include "journal/fault_env.h"

#include <cerrno>
#include <cstring>

namespace stox::journal {
namespace {

std::string parent_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status power_off_error() { return Status::IOError("power is off", EIO); }

Status injected(std::string_view what, int err) {
  return Status::IOError(std::string("injected ") + std::string(what) + " failure: " +
                             std::strerror(err),
                         err);
}

}  // namespace

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultEnv* env, std::shared_ptr<FaultEnv::FileData> f, std::uint64_t epoch)
      : env_(env), file_(std::move(f)), epoch_(epoch) {}
  Status append(std::string_view data) override { return env_->file_append(file_, epoch_, data); }
  Status sync() override { return env_->file_sync(file_, epoch_); }
  Status close() override { return Status::OK(); }

 private:
  FaultEnv* env_;
  std::shared_ptr<FaultEnv::FileData> file_;
  std::uint64_t epoch_;
};

namespace {

class FaultReadableFile final : public ReadableFile {
 public:
  explicit FaultReadableFile(std::string bytes) : bytes_(std::move(bytes)) {}
  Status read(std::uint64_t offset, std::size_t n, std::string* out) override {
    if (offset >= bytes_.size()) {
      out->clear();
      return Status::OK();
    }
    out->assign(bytes_, static_cast<std::size_t>(offset), n);
    return Status::OK();
  }

 private:
  std::string bytes_;  // a copy taken at open: readers see a stable file
};

}  // namespace

FaultEnv::FaultEnv(std::uint64_t seed) : rng_(seed) {}
FaultEnv::~FaultEnv() = default;

FaultEnv::Gate FaultEnv::enter_mutating_call() {
  if (powered_off_) return Gate::kDead;
  ++calls_;
  if (power_off_call_ != 0 && calls_ == power_off_call_) {
    powered_off_ = true;
    return Gate::kDie;
  }
  return Gate::kRun;
}

std::size_t FaultEnv::random_below_or_equal(std::size_t n) {
  return static_cast<std::size_t>(rng_() % (static_cast<std::uint64_t>(n) + 1));
}

std::size_t FaultEnv::random_tear(std::size_t n) {
  switch (rng_() % 4) {
    case 0: return 0;
    case 1: return n;
    default: return random_below_or_equal(n);
  }
}

std::shared_ptr<FaultEnv::FileData> FaultEnv::find_live(const std::string& path) const {
  auto it = live_.find(path);
  return it == live_.end() ? nullptr : it->second;
}

Status FaultEnv::file_append(const std::shared_ptr<FileData>& f, std::uint64_t epoch,
                             std::string_view data) {
  std::lock_guard lock(mu_);
  if (epoch != epoch_) return Status::IOError("file handle from before a power cut", EIO);
  Gate g = enter_mutating_call();
  if (g == Gate::kDead) return power_off_error();
  if (g == Gate::kDie) {
    f->bytes.append(data.substr(0, random_tear(data.size())));
    return power_off_error();
  }
  ++appends_;
  if (fail_append_ != 0 && appends_ == fail_append_) {
    f->bytes.append(data.substr(0, random_below_or_equal(data.size())));
    return injected("write", fail_append_errno_);
  }
  f->bytes.append(data);
  return Status::OK();
}

Status FaultEnv::file_sync(const std::shared_ptr<FileData>& f, std::uint64_t epoch) {
  std::lock_guard lock(mu_);
  if (epoch != epoch_) return Status::IOError("file handle from before a power cut", EIO);
  Gate g = enter_mutating_call();
  if (g != Gate::kRun) return power_off_error();
  ++syncs_;
  // A failed sync syncs nothing: the unsynced bytes stay at risk.
  if (fail_sync_ != 0 && syncs_ == fail_sync_) return injected("fdatasync", fail_sync_errno_);
  f->synced = f->bytes.size();
  return Status::OK();
}

Status FaultEnv::new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* out) {
  std::lock_guard lock(mu_);
  if (enter_mutating_call() != Gate::kRun) return power_off_error();
  if (live_.contains(path)) return Status::IOError("create " + path + ": file exists", EEXIST);
  if (!dirs_.contains(parent_of(path))) {
    return Status::IOError("create " + path + ": no such directory", ENOENT);
  }
  auto f = std::make_shared<FileData>();
  live_[path] = f;
  *out = std::make_unique<FaultWritableFile>(this, f, epoch_);
  return Status::OK();
}

Status FaultEnv::new_readable_file(const std::string& path, std::unique_ptr<ReadableFile>* out) {
  std::lock_guard lock(mu_);
  auto f = find_live(path);
  if (!f) return Status::NotFound(path);
  *out = std::make_unique<FaultReadableFile>(f->bytes);
  return Status::OK();
}

Status FaultEnv::list_dir(const std::string& dir, std::vector<std::string>* names) {
  std::lock_guard lock(mu_);
  names->clear();
  if (!dirs_.contains(dir)) return Status::NotFound(dir);
  for (const auto& [path, f] : live_) {
    if (parent_of(path) == dir) names->push_back(name_of(path));
  }
  return Status::OK();
}

Status FaultEnv::create_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (enter_mutating_call() != Gate::kRun) return power_off_error();
  dirs_.insert(dir);  // directories themselves are durable at once (simplification)
  return Status::OK();
}

Status FaultEnv::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  if (enter_mutating_call() != Gate::kRun) return power_off_error();
  auto f = find_live(from);
  if (!f) return Status::IOError("rename " + from + ": no such file", ENOENT);
  live_.erase(from);
  live_[to] = f;
  return Status::OK();
}

Status FaultEnv::remove(const std::string& path) {
  std::lock_guard lock(mu_);
  if (enter_mutating_call() != Gate::kRun) return power_off_error();
  if (live_.erase(path) == 0) return Status::IOError("unlink " + path + ": no such file", ENOENT);
  return Status::OK();
}

Status FaultEnv::sync_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  if (enter_mutating_call() != Gate::kRun) return power_off_error();
  for (auto it = durable_.begin(); it != durable_.end();) {
    it = parent_of(it->first) == dir ? durable_.erase(it) : std::next(it);
  }
  for (const auto& [path, f] : live_) {
    if (parent_of(path) == dir) durable_[path] = f;
  }
  return Status::OK();
}

Status FaultEnv::truncate(const std::string& path, std::uint64_t size) {
  std::lock_guard lock(mu_);
  if (enter_mutating_call() != Gate::kRun) return power_off_error();
  auto f = find_live(path);
  if (!f) return Status::IOError("truncate " + path + ": no such file", ENOENT);
  f->bytes.resize(static_cast<std::size_t>(size));
  f->synced = f->bytes.size();  // truncate() syncs the file (env.h)
  return Status::OK();
}

Status FaultEnv::file_size(const std::string& path, std::uint64_t* size) {
  std::lock_guard lock(mu_);
  auto f = find_live(path);
  if (!f) return Status::NotFound(path);
  *size = f->bytes.size();
  return Status::OK();
}

std::int64_t FaultEnv::now_nanos() {
  std::lock_guard lock(mu_);
  return now_;
}

void FaultEnv::set_now(std::int64_t nanos) {
  std::lock_guard lock(mu_);
  now_ = nanos;
}

void FaultEnv::power_off_at(std::uint64_t n) {
  std::lock_guard lock(mu_);
  power_off_call_ = n == 0 ? 0 : calls_ + n;
}

void FaultEnv::fail_append_at(std::uint64_t n, int err) {
  std::lock_guard lock(mu_);
  fail_append_ = n == 0 ? 0 : appends_ + n;
  fail_append_errno_ = err;
}

void FaultEnv::fail_sync_at(std::uint64_t n, int err) {
  std::lock_guard lock(mu_);
  fail_sync_ = n == 0 ? 0 : syncs_ + n;
  fail_sync_errno_ = err;
}

void FaultEnv::power_cut(CutMode mode) {
  std::lock_guard lock(mu_);
  live_ = durable_;
  for (auto& [path, f] : live_) {
    std::size_t keep = f->synced;
    if (mode == CutMode::kKeepRandomPrefix) keep += random_tear(f->bytes.size() - f->synced);
    f->bytes.resize(keep);
    f->synced = keep;
  }
  ++epoch_;
  powered_off_ = false;
  power_off_call_ = 0;
  fail_append_ = 0;
  fail_sync_ = 0;
}

bool FaultEnv::powered_off() const {
  std::lock_guard lock(mu_);
  return powered_off_;
}

Status FaultEnv::flip_bit(const std::string& path, std::uint64_t offset, int bit) {
  std::lock_guard lock(mu_);
  auto f = find_live(path);
  if (!f) return Status::NotFound(path);
  if (offset >= f->bytes.size()) return Status::InvalidArgument("flip_bit past the end");
  auto& byte = f->bytes[static_cast<std::size_t>(offset)];
  byte = static_cast<char>(static_cast<unsigned char>(byte) ^ (1u << (bit & 7)));
  return Status::OK();
}

Status FaultEnv::overwrite(const std::string& path, std::uint64_t offset, std::string_view bytes) {
  std::lock_guard lock(mu_);
  auto f = find_live(path);
  if (!f) return Status::NotFound(path);
  if (offset + bytes.size() > f->bytes.size()) return Status::InvalidArgument("overwrite past the end");
  f->bytes.replace(static_cast<std::size_t>(offset), bytes.size(), bytes);
  return Status::OK();
}

std::uint64_t FaultEnv::mutating_calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::uint64_t FaultEnv::unsynced_bytes(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto f = find_live(path);
  return f ? f->bytes.size() - f->synced : 0;
}

}  // namespace stox::journal
