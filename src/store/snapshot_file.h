// Snapshot files: an Engine::snapshot() payload, and optionally the bytes of
// a companion state kept in step with the engine (the server's market-data
// projections), wrapped with a header and a checksum, written atomically
// (docs/snapshot-format.md, "Snapshot files").
//
//   offset      size field
//        0         8 magic         "STOXSNPF"
//        8         4 version       u32 = 2 (1: no extension fields; still read)
//       12         4 reserved      u32 = 0
//       16         8 seq           last command applied to the engine
//       24         8 state_hash    Engine::state_hash() at seq
//       32         8 length        payload bytes
//       40    length payload       Engine::snapshot()
//   40+length      8 ext_length    extension bytes (0: none)             [v2]
//   48+length ext_length extension opaque to the store                  [v2]
//   end - 4        4 crc           masked CRC32C of every byte before it
//
// A file is only ever seen whole or not at all under its final name: it is
// written as <name>.tmp, synced, renamed and the directory synced.
// Thread-safety: the functions are stateless; concurrent writers of the same
// seq in one directory are not supported.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "journal/env.h"

namespace stox::store {

inline constexpr std::string_view kSnapshotMagic = "STOXSNPF";
inline constexpr std::uint32_t kSnapshotFileVersion = 2;
inline constexpr std::size_t kSnapshotHeaderSize = 40;
inline constexpr std::size_t kSnapshotTrailerSize = 4;

// "snapshot-00000000000000000042.snap" for seq 42; parse_snapshot_name
// inverts it and rejects every other name (temporary files included).
std::string snapshot_name(SeqNo seq);
bool parse_snapshot_name(std::string_view name, SeqNo* seq);

// The encoded file (header, payload, extension, crc); exposed for tests and
// backups.
std::string encode_snapshot_file(SeqNo seq, std::uint64_t state_hash, std::string_view payload,
                                 std::string_view extension = {});

// Writes dir/snapshot_name(seq) durably and returns its path. An existing
// file of that name is an error (snapshots are immutable); a stale
// temporary file from a crash is replaced.
Result<std::string> write_snapshot(journal::Env& env, const std::string& dir, SeqNo seq,
                                   std::uint64_t state_hash, std::string_view payload,
                                   std::string_view extension = {});

struct SnapshotInfo {
  SeqNo seq = 0;
  std::string path;
};

// The snapshot files of dir (by name only, not validated), oldest first.
// A missing dir has none.
Result<std::vector<SnapshotInfo>> list_snapshots(journal::Env& env, const std::string& dir);

struct LoadedSnapshot {
  SeqNo seq = 0;
  std::uint64_t state_hash = 0;
  std::string payload;    // Engine::snapshot() bytes
  std::string extension;  // empty: none (and always for a version 1 file)
};

// Reads and checks a snapshot file: size, magic, version, reserved bytes,
// lengths, CRC and that its seq matches its name. Any failure is a
// Corruption naming the file and what is wrong.
Result<LoadedSnapshot> load_snapshot(journal::Env& env, const std::string& path);

}  // namespace stox::store
