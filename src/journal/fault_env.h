// FaultEnv: an in-memory Env for tests that can lose power at any byte.
//
// Model (what a real disk and kernel may do, made explicit):
// - Every file keeps its bytes in two parts: a synced prefix and the
//   unsynced bytes appended after it. WritableFile::sync() moves everything
//   to the synced part.
// - A file's *name* (creation, rename, removal) is durable only after
//   sync_dir() of its directory; truncate() is durable at once (the POSIX
//   Env fsyncs it).
// - power_cut() is the restart after a power failure: every name goes back
//   to its last synced directory state, and every file loses its unsynced
//   bytes (kDropUnsynced) or keeps a random prefix of them (kKeepRandomPrefix,
//   a torn write). Files still open before the cut are dead: every later
//   call on them fails.
// - Faults are scheduled by count, so a seeded test can hit every moment:
//   power_off_at(n) turns the power off *during* the n-th mutating call from
//   now (an append keeps a random prefix of its data, a sync does nothing);
//   from then on every mutating call fails with EIO until power_cut().
//   fail_append_at / fail_sync_at make the n-th append or sync fail with a
//   chosen errno (ENOSPC, EIO); a failing append first writes a random
//   prefix of its data, as a real short write followed by an error may.
// All randomness comes from the seed given to the constructor. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>

#include "journal/env.h"

namespace stox::journal {

class FaultEnv final : public Env {
 public:
  enum class CutMode { kDropUnsynced, kKeepRandomPrefix };

  explicit FaultEnv(std::uint64_t seed);
  ~FaultEnv() override;

  // --- Env ---
  Status new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status new_readable_file(const std::string& path, std::unique_ptr<ReadableFile>* out) override;
  Status list_dir(const std::string& dir, std::vector<std::string>* names) override;
  Status create_dir(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status sync_dir(const std::string& dir) override;
  Status truncate(const std::string& path, std::uint64_t size) override;
  Status file_size(const std::string& path, std::uint64_t* size) override;
  std::int64_t now_nanos() override;

  // --- faults ---
  // n >= 1 counts from now; 0 cancels.
  void power_off_at(std::uint64_t n);
  void fail_append_at(std::uint64_t n, int err);
  void fail_sync_at(std::uint64_t n, int err);
  void power_cut(CutMode mode);
  bool powered_off() const;
  // Flips one bit of a file's bytes (synced or not), as a bad disk would.
  Status flip_bit(const std::string& path, std::uint64_t offset, int bit);
  // Overwrites bytes in place (tampering tests).
  Status overwrite(const std::string& path, std::uint64_t offset, std::string_view bytes);

  // --- inspection ---
  std::uint64_t mutating_calls() const;  // since construction
  std::uint64_t unsynced_bytes(const std::string& path) const;
  void set_now(std::int64_t nanos);

 private:
  friend class FaultWritableFile;
  struct FileData {
    std::string bytes;
    std::size_t synced = 0;
  };
  enum class Gate { kRun, kDie, kDead };

  Gate enter_mutating_call();  // REQUIRES: mu_ held
  std::size_t random_below_or_equal(std::size_t n);  // REQUIRES: mu_ held
  // How many of n unsynced bytes a torn cut keeps: none, all, or a uniform
  // prefix, a quarter/quarter/half, so that "everything made it" and
  // "nothing did" are as common in tests as the cuts in between.
  std::size_t random_tear(std::size_t n);  // REQUIRES: mu_ held
  Status file_append(const std::shared_ptr<FileData>& f, std::uint64_t epoch, std::string_view data);
  Status file_sync(const std::shared_ptr<FileData>& f, std::uint64_t epoch);
  std::shared_ptr<FileData> find_live(const std::string& path) const;  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, std::shared_ptr<FileData>> live_;     // names now
  std::map<std::string, std::shared_ptr<FileData>> durable_;  // names at the last sync_dir
  std::set<std::string> dirs_;
  std::uint64_t epoch_ = 0;  // bumped by power_cut(); older handles are dead
  bool powered_off_ = false;
  std::uint64_t calls_ = 0;
  std::uint64_t power_off_call_ = 0;  // 0 = none
  std::uint64_t appends_ = 0;
  std::uint64_t syncs_ = 0;
  std::uint64_t fail_append_ = 0;
  std::uint64_t fail_sync_ = 0;
  int fail_append_errno_ = 0;
  int fail_sync_errno_ = 0;
  std::int64_t now_ = 1'700'000'000'000'000'000;
};

}  // namespace stox::journal
