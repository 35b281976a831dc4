#include "store/snapshot_file.h"

#include <algorithm>
#include <cstdio>
#include <initializer_list>

#include "journal/crc32c.h"
#include "journal/format.h"

namespace stox::store {
namespace {

using journal::get;
using journal::put;

constexpr std::string_view kPrefix = "snapshot-";
constexpr std::string_view kSuffix = ".snap";

Status damaged(const std::string& path, std::string_view what) {
  return Status::Corruption("snapshot " + path + ": " + std::string(what));
}

std::uint32_t file_crc(std::string_view covered) {
  return journal::crc32c::mask(journal::crc32c::value(covered));
}

// What a file holds around its payload and extension: the header, the
// ext_length field and the CRC trailer (which covers every byte before it).
struct Frame {
  std::string header;
  std::string ext_length;
  std::string trailer;
};

Frame frame_of(SeqNo seq, std::uint64_t state_hash, std::string_view payload,
               std::string_view extension) {
  Frame f;
  f.header.assign(kSnapshotHeaderSize, '\0');
  f.header.replace(0, kSnapshotMagic.size(), kSnapshotMagic);
  put<std::uint32_t>(f.header.data() + 8, kSnapshotFileVersion);
  put<std::uint64_t>(f.header.data() + 16, seq);
  put<std::uint64_t>(f.header.data() + 24, state_hash);
  put<std::uint64_t>(f.header.data() + 32, payload.size());
  f.ext_length.assign(8, '\0');
  put<std::uint64_t>(f.ext_length.data(), extension.size());
  std::uint32_t crc = journal::crc32c::value(f.header);
  for (std::string_view part : {payload, std::string_view(f.ext_length), extension}) {
    crc = journal::crc32c::extend(crc, part.data(), part.size());
  }
  f.trailer.assign(kSnapshotTrailerSize, '\0');
  put<std::uint32_t>(f.trailer.data(), journal::crc32c::mask(crc));
  return f;
}

// Writes the pieces, in order, to a new file at path and syncs it; the
// handle is closed. (In pieces: a snapshot of a million orders is over 100 MB,
// and concatenating it first would copy it all and double the memory.)
Status write_synced(journal::Env& env, const std::string& path,
                    std::initializer_list<std::string_view> pieces) {
  std::unique_ptr<journal::WritableFile> file;
  Status s = env.new_writable_file(path, &file);
  for (std::string_view piece : pieces) {
    if (s.ok()) s = file->append(piece);
  }
  if (s.ok()) s = file->sync();
  Status c = file ? file->close() : Status::OK();
  return s.ok() ? c : s;
}

// Removes path if it exists (a temporary file left by a crash).
Status remove_if_present(journal::Env& env, const std::string& path) {
  std::uint64_t size = 0;
  Status s = env.file_size(path, &size);
  if (s.is_not_found()) return Status::OK();
  if (!s.ok()) return s;
  return env.remove(path);
}

}  // namespace

std::string snapshot_name(SeqNo seq) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "snapshot-%020llu.snap", static_cast<unsigned long long>(seq));
  return buf;
}

bool parse_snapshot_name(std::string_view name, SeqNo* seq) {
  if (name.size() != kPrefix.size() + 20 + kSuffix.size()) return false;
  if (name.substr(0, kPrefix.size()) != kPrefix || name.substr(kPrefix.size() + 20) != kSuffix) {
    return false;
  }
  SeqNo v = 0;
  for (char ch : name.substr(kPrefix.size(), 20)) {
    if (ch < '0' || ch > '9') return false;
    auto digit = static_cast<SeqNo>(ch - '0');
    if (v > (~SeqNo{0} - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *seq = v;
  return true;
}

std::string encode_snapshot_file(SeqNo seq, std::uint64_t state_hash, std::string_view payload,
                                 std::string_view extension) {
  const Frame f = frame_of(seq, state_hash, payload, extension);
  std::string out;
  out.reserve(f.header.size() + payload.size() + f.ext_length.size() + extension.size() +
              f.trailer.size());
  out.append(f.header).append(payload).append(f.ext_length).append(extension).append(f.trailer);
  return out;
}

// The order below is what makes a snapshot atomic: the final name appears
// (durably, after sync_dir) only for a file whose bytes are already synced.
Result<std::string> write_snapshot(journal::Env& env, const std::string& dir, SeqNo seq,
                                   std::uint64_t state_hash, std::string_view payload,
                                   std::string_view extension) {
  const std::string path = dir + "/" + snapshot_name(seq);
  const std::string tmp = path + ".tmp";
  std::uint64_t size = 0;
  Status s = env.file_size(path, &size);
  if (s.ok()) return Status::InvalidArgument("snapshot " + path + " already exists");
  if (!s.is_not_found()) return s;
  s = remove_if_present(env, tmp);
  const Frame f = frame_of(seq, state_hash, payload, extension);
  if (s.ok()) s = write_synced(env, tmp, {f.header, payload, f.ext_length, extension, f.trailer});
  if (s.ok()) s = env.rename(tmp, path);
  if (s.ok()) s = env.sync_dir(dir);
  if (!s.ok()) return s;
  return path;
}

Result<std::vector<SnapshotInfo>> list_snapshots(journal::Env& env, const std::string& dir) {
  std::vector<std::string> names;
  Status s = env.list_dir(dir, &names);
  if (s.is_not_found()) return std::vector<SnapshotInfo>{};
  if (!s.ok()) return s;
  std::vector<SnapshotInfo> out;
  for (const std::string& name : names) {
    SeqNo seq = 0;
    if (parse_snapshot_name(name, &seq)) out.push_back({seq, std::string(dir).append("/").append(name)});
  }
  std::sort(out.begin(), out.end(),
            [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.seq < b.seq; });
  return out;
}

Result<LoadedSnapshot> load_snapshot(journal::Env& env, const std::string& path) {
  std::string bytes;
  Status s = journal::read_file(&env, path, &bytes);
  if (!s.ok()) return s;
  constexpr std::size_t kFixed = kSnapshotHeaderSize + kSnapshotTrailerSize;
  if (bytes.size() < kFixed) return damaged(path, "truncated (shorter than its header)");
  const char* h = bytes.data();
  if (std::string_view(h, kSnapshotMagic.size()) != kSnapshotMagic) return damaged(path, "bad magic");
  const auto version = get<std::uint32_t>(h + 8);
  if (version != 1 && version != kSnapshotFileVersion) return damaged(path, "unknown version");
  if (get<std::uint32_t>(h + 12) != 0) return damaged(path, "nonzero reserved field");
  const auto length = get<std::uint64_t>(h + 32);
  const std::size_t ext_field = version == 1 ? 0 : 8;
  if (bytes.size() < kFixed + ext_field) return damaged(path, "truncated (shorter than its header)");
  if (length > bytes.size() - kFixed - ext_field) {
    return damaged(path, "length " + std::to_string(length) + " does not fit the file size " +
                             std::to_string(bytes.size()) + " (truncated?)");
  }
  std::uint64_t ext_length = 0;
  if (version != 1) ext_length = get<std::uint64_t>(h + kSnapshotHeaderSize + length);
  if (ext_length != bytes.size() - kFixed - ext_field - length) {
    return damaged(path, "lengths do not match the file size " + std::to_string(bytes.size()) +
                             " (truncated?)");
  }
  const std::size_t covered = bytes.size() - kSnapshotTrailerSize;
  if (get<std::uint32_t>(h + covered) != file_crc(std::string_view(bytes).substr(0, covered))) {
    return damaged(path, "checksum mismatch");
  }
  LoadedSnapshot out;
  out.seq = get<std::uint64_t>(h + 16);
  out.state_hash = get<std::uint64_t>(h + 24);
  SeqNo named = 0;
  const std::size_t slash = path.rfind('/');
  if (!parse_snapshot_name(std::string_view(path).substr(slash + 1), &named) || named != out.seq) {
    return damaged(path, "seq " + std::to_string(out.seq) + " does not match the file name");
  }
  out.extension.assign(bytes, kSnapshotHeaderSize + length + ext_field, ext_length);
  bytes.resize(kSnapshotHeaderSize + length);
  bytes.erase(0, kSnapshotHeaderSize);
  out.payload = std::move(bytes);
  return out;
}

}  // namespace stox::store
