#include "store/recovery.h"

#include <chrono>

#include "store/layout.h"
#include "store/snapshot_file.h"

namespace stox::store {
namespace {

// A snapshot restored and cross-checked against the hash in its header,
// then its extension handed to the caller's companion.
Result<std::unique_ptr<Engine>> restore_snapshot(journal::Env& env, const SnapshotInfo& info,
                                                 const EngineConfig& config,
                                                 const RecoverOptions& options) {
  Result<LoadedSnapshot> loaded = load_snapshot(env, info.path);
  if (!loaded.ok()) return loaded.status();
  if (options.require_extension && loaded->extension.empty()) {
    return Status::NotFound("snapshot " + info.path +
                            ": no extension (written without the companion state)");
  }
  std::string error;
  std::unique_ptr<Engine> engine = Engine::restore(config, loaded->payload, &error);
  if (!engine) return Status::Corruption("snapshot " + info.path + ": restore failed: " + error);
  if (engine->state_hash() != loaded->state_hash) {
    return Status::Corruption("snapshot " + info.path +
                              ": restored state hash differs from the one recorded");
  }
  if (options.restore_extension) {
    Status s = options.restore_extension(loaded->extension);
    if (!s.ok()) return Status::Corruption("snapshot " + info.path + ": extension: " + s.to_string());
  }
  return engine;
}

// Picks the starting state: the newest snapshot that restores, else empty.
Status restore_newest(journal::Env& env, const std::string& data_dir, const EngineConfig& config,
                      const RecoverOptions& options, Recovered* out) {
  Result<std::vector<SnapshotInfo>> snaps = list_snapshots(env, snapshot_dir(data_dir));
  if (!snaps.ok()) return snaps.status();
  // NOLINTNEXTLINE(modernize-loop-convert): reverse; clang 14 cannot build ranges::reverse_view here
  for (auto it = snaps->rbegin(); it != snaps->rend(); ++it) {
    Result<std::unique_ptr<Engine>> engine = restore_snapshot(env, *it, config, options);
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

}  // namespace

Result<Recovered> recover(journal::Env& env, const std::string& data_dir, const EngineConfig& config,
                          const RecoverOptions& options) {
  Status s = create_layout(env, data_dir);
  if (!s.ok()) return s;
  Recovered out;
  const auto t0 = std::chrono::steady_clock::now();
  s = restore_newest(env, data_dir, config, options, &out);
  if (!s.ok()) return s;
  const auto t1 = std::chrono::steady_clock::now();
  ReplayProgress progress;
  progress.last_seq = out.last_seq;
  Result<journal::JournalSummary> summary =
      replay_journal(env, journal_dir(data_dir), *out.engine, &progress, options.on_replayed);
  if (!summary.ok()) {
    if (!summary.status().is_not_found()) return summary.status();
    return Status::NotFound(starting_point(out) + ": " + summary.status().message());
  }
  out.last_seq = progress.last_seq;
  out.last_timestamp = progress.last_timestamp;
  out.replayed = progress.applied;
  out.restore_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  out.replay_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t1).count();
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
