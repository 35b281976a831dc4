#include "store/backup.h"

#include <algorithm>
#include <cerrno>
#include <vector>

#include "journal/format.h"
#include "journal/reader.h"
#include "store/layout.h"
#include "store/snapshot_file.h"

namespace stox::store {
namespace {

constexpr std::size_t kCopyChunk = 8 << 20;

std::string parent_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status require_empty(journal::Env& env, const std::string& dest) {
  std::vector<std::string> names;
  Status s = env.list_dir(dest, &names);
  if (s.is_not_found()) return Status::OK();
  if (!s.ok()) return s;
  if (!names.empty()) return Status::InvalidArgument("backup destination " + dest + " is not empty");
  return Status::OK();
}

// Copies the first `size` bytes of from into a new file to, synced.
Status copy_file(journal::Env& env, const std::string& from, const std::string& to,
                 std::uint64_t size) {
  std::unique_ptr<journal::ReadableFile> in;
  Status s = env.new_readable_file(from, &in);
  std::unique_ptr<journal::WritableFile> out;
  if (s.ok()) s = env.new_writable_file(to, &out);
  std::string chunk;
  for (std::uint64_t at = 0; s.ok() && at < size; at += chunk.size()) {
    s = in->read(at, static_cast<std::size_t>(std::min<std::uint64_t>(kCopyChunk, size - at)), &chunk);
    if (s.ok() && chunk.empty()) s = Status::IOError("copy " + from + ": file shrank while copied");
    if (s.ok()) s = out->append(chunk);
  }
  if (s.ok()) s = out->sync();
  Status c = out ? out->close() : Status::OK();
  return s.ok() ? c : s;
}

struct Segment {
  SeqNo first_seq;
  std::string name;
};

Result<std::vector<Segment>> list_segments(journal::Env& env, const std::string& dir) {
  std::vector<std::string> names;
  Status s = env.list_dir(dir, &names);
  if (!s.ok()) return s;
  std::vector<Segment> out;
  for (const std::string& name : names) {
    SeqNo seq = 0;
    if (journal::parse_segment_name(name, &seq)) out.push_back({seq, name});
  }
  std::sort(out.begin(), out.end(),
            [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });
  return out;
}

class Backup {
 public:
  Backup(journal::Env& env, std::string source, std::string dest)
      : env_(env), source_(std::move(source)), dest_(std::move(dest)) {}

  Status run() {
    Status s = require_empty(env_, dest_);
    if (s.ok()) s = create_layout(env_, dest_);
    if (s.ok()) s = copy_newest_snapshot();
    if (s.ok()) s = copy_journal();
    if (s.ok()) s = env_.sync_dir(dest_);
    if (s.ok()) s = env_.sync_dir(parent_of(dest_));
    return s;
  }

  BackupReport report;

 private:
  // Copies the newest snapshot that passes load_snapshot's checks.
  Status copy_newest_snapshot() {
    Result<std::vector<SnapshotInfo>> snaps = list_snapshots(env_, snapshot_dir(source_));
    if (!snaps.ok()) return snaps.status();
    // NOLINTNEXTLINE(modernize-loop-convert): reverse; clang 14 cannot build ranges::reverse_view here
    for (auto it = snaps->rbegin(); it != snaps->rend(); ++it) {
      Result<LoadedSnapshot> loaded = load_snapshot(env_, it->path);
      if (!loaded.ok()) continue;  // recovery would skip it too
      Result<std::string> written = write_snapshot(env_, snapshot_dir(dest_), loaded->seq,
                                                   loaded->state_hash, loaded->payload);
      if (!written.ok()) return written.status();
      report.snapshot = it->path;
      report.snapshot_seq = it->seq;
      return Status::OK();
    }
    return Status::OK();
  }

  // Links or copies every segment, then cuts the copy's torn tail.
  Status copy_journal() {
    const std::string from = journal_dir(source_);
    const std::string to = journal_dir(dest_);
    Result<std::vector<Segment>> segments = list_segments(env_, from);
    if (!segments.ok()) return segments.status();
    for (std::size_t i = 0; i < segments->size(); ++i) {
      const bool active = i + 1 == segments->size();
      Status s = copy_segment(from + "/" + (*segments)[i].name, to + "/" + (*segments)[i].name, active);
      if (!s.ok()) return s;
    }
    Status s = env_.sync_dir(to);
    if (!s.ok()) return s;
    Result<journal::RecoveryInfo> cut = journal::recover_for_append(&env_, to);
    if (!cut.ok()) return cut.status();
    report.tail_bytes_cut = cut->dropped_bytes;
    return Status::OK();
  }

  Status copy_segment(const std::string& from, const std::string& to, bool active) {
    if (!active) {
      Status s = env_.link_file(from, to);
      if (s.ok()) {
        ++report.segments_linked;
        return s;
      }
      if (s.error_number() != EXDEV && s.error_number() != ENOTSUP && s.error_number() != EPERM) {
        return s;
      }
    }
    std::uint64_t size = 0;
    Status s = env_.file_size(from, &size);
    if (s.ok()) s = copy_file(env_, from, to, size);
    if (!s.ok()) return s;
    ++report.segments_copied;
    report.bytes_copied += size;
    return Status::OK();
  }

  journal::Env& env_;
  const std::string source_;
  const std::string dest_;
};

}  // namespace

std::string BackupReport::to_string() const {
  std::string out = "snapshot: ";
  out += snapshot.empty() ? "none" : snapshot + " (seq " + std::to_string(snapshot_seq) + ")";
  out += "\nsegments: " + std::to_string(segments_linked) + " hard-linked, " +
         std::to_string(segments_copied) + " copied (" + std::to_string(bytes_copied) +
         " bytes); " + std::to_string(tail_bytes_cut) + " bytes of an incomplete batch cut\n";
  out += "verify of the copy:\n" + verify.to_string();
  return out;
}

Result<BackupReport> backup_data_dir(journal::Env& env, const std::string& source,
                                     const std::string& dest, const EngineConfig& config) {
  Backup backup(env, source, dest);
  Status s = backup.run();
  if (!s.ok()) return s;
  backup.report.verify = verify_data_dir(env, dest, config);
  if (!backup.report.verify.ok) {
    return Status::Corruption("the copy in " + dest + " does not verify: " +
                              backup.report.verify.problem);
  }
  return backup.report;
}

}  // namespace stox::store
