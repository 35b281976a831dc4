// The POSIX Env. Every system call failure becomes an IOError carrying the
// path and errno; nothing here retries anything except short writes and EINTR.
#include "journal/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace stox::journal {
namespace {

Status posix_error(std::string_view what, const std::string& path, int err) {
  std::string msg(what);
  msg += " ";
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  return Status::IOError(msg, err);
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status append(std::string_view data) override {
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return posix_error("write", path_, errno);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    return Status::OK();
  }

  Status sync() override {
    // fdatasync also flushes the file size when it grew, which is all an
    // appended journal needs; never retried on failure (see env.h).
    if (::fdatasync(fd_) != 0) return posix_error("fdatasync", path_, errno);
    return Status::OK();
  }

  Status close() override {
    int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) return posix_error("close", path_, errno);
    return Status::OK();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixReadableFile() override { ::close(fd_); }

  Status read(std::uint64_t offset, std::size_t n, std::string* out) override {
    out->resize(n);
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, out->data() + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return posix_error("pread", path_, errno);
      }
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    out->resize(got);
    return Status::OK();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Status new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return posix_error("create", path, errno);
    *out = std::make_unique<PosixWritableFile>(path, fd);
    return Status::OK();
  }

  Status new_readable_file(const std::string& path, std::unique_ptr<ReadableFile>* out) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound(path);
      return posix_error("open", path, errno);
    }
    *out = std::make_unique<PosixReadableFile>(path, fd);
    return Status::OK();
  }

  Status list_dir(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return Status::NotFound(dir);
      return posix_error("opendir", dir, errno);
    }
    while (dirent* e = ::readdir(d)) {
      std::string_view name(e->d_name);
      if (name != "." && name != "..") names->emplace_back(name);
    }
    ::closedir(d);
    return Status::OK();
  }

  Status create_dir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return posix_error("mkdir", dir, errno);
    return Status::OK();
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return posix_error("rename", from, errno);
    return Status::OK();
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return posix_error("unlink", path, errno);
    return Status::OK();
  }

  Status sync_dir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return posix_error("open dir", dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = posix_error("fsync dir", dir, errno);
    ::close(fd);
    return s;
  }

  Status truncate(const std::string& path, std::uint64_t size) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return posix_error("open", path, errno);
    Status s;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      s = posix_error("ftruncate", path, errno);
    } else if (::fsync(fd) != 0) {
      s = posix_error("fsync", path, errno);
    }
    ::close(fd);
    return s;
  }

  Status file_size(const std::string& path, std::uint64_t* size) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::NotFound(path);
      return posix_error("stat", path, errno);
    }
    *size = static_cast<std::uint64_t>(st.st_size);
    return Status::OK();
  }

  Status link_file(const std::string& existing, const std::string& new_path) override {
    if (::link(existing.c_str(), new_path.c_str()) != 0) return posix_error("link", existing, errno);
    return Status::OK();
  }

  std::int64_t now_nanos() override {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }
};

}  // namespace

Status Env::link_file(const std::string& existing, const std::string&) {
  return Status::IOError("link " + existing + ": not supported by this Env", ENOTSUP);
}

Env* posix_env() {
  static PosixEnv env;
  return &env;
}

Status read_file(Env* env, const std::string& path, std::string* out) {
  std::uint64_t size = 0;
  Status s = env->file_size(path, &size);
  if (!s.ok()) return s;
  std::unique_ptr<ReadableFile> file;
  s = env->new_readable_file(path, &file);
  if (!s.ok()) return s;
  return file->read(0, static_cast<std::size_t>(size), out);
}

}  // namespace stox::journal
