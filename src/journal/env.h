// Env: the journal's only way to reach files and the clock, so that tests can
// run everything in memory and cut the power at any byte (fault_env.h).
//
// Paths are plain strings; a "directory" is a path prefix ending before '/'.
// Every method returns a Status instead of throwing. Implementations are
// thread-safe; a single WritableFile or ReadableFile is not (one owner).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace stox::journal {

// A file opened for appending. Bytes given to append() may sit in the OS
// page cache until sync() returns OK; only then do they survive a power cut.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of data (retrying short writes). On error an unknown prefix
  // of data may have reached the file.
  virtual Status append(std::string_view data) = 0;
  // Makes every byte appended so far durable (fdatasync). After a failure
  // the file's durable contents are unknown: callers must not retry
  // (see the fail-stop rule in docs/journal-format.md).
  virtual Status sync() = 0;
  virtual Status close() = 0;
};

// A file opened for positional reads.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to n bytes at offset into *out (replacing its contents); fewer
  // only at the end of the file.
  virtual Status read(std::uint64_t offset, std::size_t n, std::string* out) = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // Creates a new empty file. Fails if the path already exists: the journal
  // never overwrites a file. The name is durable only after sync_dir().
  virtual Status new_writable_file(const std::string& path,
                                   std::unique_ptr<WritableFile>* out) = 0;
  virtual Status new_readable_file(const std::string& path,
                                   std::unique_ptr<ReadableFile>* out) = 0;
  // The names (not paths) of the entries of dir, in no particular order.
  virtual Status list_dir(const std::string& dir, std::vector<std::string>* names) = 0;
  // Creates dir if it does not exist (not its parents).
  virtual Status create_dir(const std::string& dir) = 0;
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  // Makes the directory's entries (creations, renames, removals) durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  // Cuts the file to size bytes and syncs it: durable when it returns OK.
  virtual Status truncate(const std::string& path, std::uint64_t size) = 0;
  virtual Status file_size(const std::string& path, std::uint64_t* size) = 0;
  // Makes new_path a second name of the existing file (a hard link; durable
  // after sync_dir). Optional: the default says it is not supported
  // (ENOTSUP), and callers such as backups then copy instead.
  virtual Status link_file(const std::string& existing, const std::string& new_path);

  // Wall-clock time in nanoseconds since the Unix epoch (the sequencer's
  // timestamps). Not monotonic.
  virtual std::int64_t now_nanos() = 0;
};

// The real file system and clock. Lives for the whole process.
Env* posix_env();

// Reads the whole file into *out (the journal reader reads a segment at once).
Status read_file(Env* env, const std::string& path, std::string* out);

}  // namespace stox::journal
