#include "store/recovery.h"

#include "store/layout.h"
#include "store/snapshot_file.h"

namespace stox::store {
namespace {

// A snapshot restored and cross-checked against the hash in its header.
Result<std::unique_ptr<Engine>> restore_snapshot(journal::Env& env, const SnapshotInfo& info,
                                                 const EngineConfig& config) {
  Result<LoadedSnapshot> loaded = load_snapshot(env, info.path);
  if (!loaded.ok()) return loaded.status();
  std::string error;
  std::unique_ptr<Engine> engine = Engine::restore(config, loaded->payload, &error);
  if (!engine) return Status::Corruption("snapshot " + info.path + ": restore failed: " + error);
  if (engine->state_hash() != loaded->state_hash) {
    return Status::Corruption("snapshot " + info.path +
                              ": restored state hash differs from the one recorded");
  }
  return engine;
}

// Picks the starting state: the newest snapshot that restores, else empty.
Status restore_newest(journal::Env& env, const std::string& data_dir, const EngineConfig& config,
                      Recovered* out) {
  Result<std::vector<SnapshotInfo>> snaps = list_snapshots(env, snapshot_dir(data_dir));
  if (!snaps.ok()) return snaps.status();
  // NOLINTNEXTLINE(modernize-loop-convert): reverse; clang 14 cannot build ranges::reverse_view here
  for (auto it = snaps->rbegin(); it != snaps->rend(); ++it) {
    Result<std::unique_ptr<Engine>> engine = restore_snapshot(env, *it, config);
    if (!engine.ok()) {
      out->skipped_snapshots.push_back(engine.status().to_string());
      continue;
    }
    out->engine = std::move(*engine);
    out->snapshot_seq = out->last_seq = it->seq;
    out->snapshot_path = it->path;
    return Status::OK();
  }
  out->engine = std::make_unique<Engine>(config);
  return Status::OK();
}

std::string starting_point(const Recovered& r) {
  return r.snapshot_path.empty() ? std::string("the empty engine") : "snapshot " + r.snapshot_path;
}

// Reads the whole journal (so that all of it is checked) and applies the
// commands after out->last_seq. The first one applied must follow it.
Result<journal::JournalSummary> replay(journal::Env& env, const std::string& dir, Recovered* out) {
  auto reader = journal::JournalReader::open(&env, dir, 0);
  if (!reader.ok()) return reader.status();
  std::vector<Event> events;
  events.reserve(256);
  Command c;
  for (;;) {
    Result<bool> more = (*reader)->next(&c);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (c.seq <= out->last_seq) continue;
    if (c.seq != out->last_seq + 1) {
      return Status::NotFound(starting_point(*out) + " is at seq " + std::to_string(out->last_seq) +
                              " but the journal continues at seq " + std::to_string(c.seq));
    }
    out->engine->apply(c, events);
    events.clear();
    out->last_seq = c.seq;
    out->last_timestamp = c.timestamp;
    ++out->replayed;
  }
  return (*reader)->summary();
}

}  // namespace

Result<Recovered> recover(journal::Env& env, const std::string& data_dir, const EngineConfig& config) {
  Status s = create_layout(env, data_dir);
  if (!s.ok()) return s;
  Recovered out;
  s = restore_newest(env, data_dir, config, &out);
  if (!s.ok()) return s;
  Result<journal::JournalSummary> summary = replay(env, journal_dir(data_dir), &out);
  if (!summary.ok()) return summary.status();
  if (!summary->empty && out.last_seq > summary->last_seq) {
    return Status::Corruption(starting_point(out) + " is at seq " + std::to_string(out.last_seq) +
                              " but the journal ends at " + std::to_string(summary->last_seq) +
                              ": acknowledged commands are missing");
  }
  Result<journal::RecoveryInfo> info = journal::recover_from_summary(&env, journal_dir(data_dir), *summary);
  if (!info.ok()) return info.status();
  out.journal = std::move(*info);
  return out;
}

}  // namespace stox::store
