#include "store/verify.h"

#include <cstdio>
#include <functional>
#include <string_view>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "journal/reader.h"
#include "store/layout.h"
#include "store/snapshot_file.h"

namespace stox::store {
namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// What the full replay notes at a snapshot's seq.
struct AtSnapshot {
  std::uint64_t state_hash = 0;
  bool has_extension = false;
  std::uint64_t extension_digest = 0;  // of the companion's encoding
};

std::uint64_t digest(std::string_view bytes) { return std::hash<std::string_view>{}(bytes); }

AtSnapshot state_of(const Engine& engine, const FollowerCompanion* companion) {
  AtSnapshot at;
  at.state_hash = engine.state_hash();
  if (companion != nullptr) {
    std::string encoded;
    companion->encode(&encoded);
    at.has_extension = true;
    at.extension_digest = digest(encoded);
  }
  return at;
}

// Applies the durable commands with seq in (after, until] to engine, and
// their events to companion (if any). *at, if given, maps seqs to fill with
// what the state is after them.
Status replay_range(journal::Env& env, const std::string& dir, SeqNo after, SeqNo until,
                    Engine& engine, FollowerCompanion* companion,
                    std::map<SeqNo, AtSnapshot>* at, journal::JournalSummary* summary) {
  auto reader = journal::JournalReader::open(&env, dir, after + 1);
  if (!reader.ok()) return reader.status();
  std::vector<Event> events;
  Command c;
  for (;;) {
    Result<bool> more = (*reader)->next(&c);
    if (!more.ok()) return more.status();
    if (!*more || c.seq > until) break;
    engine.apply(c, events);
    if (companion != nullptr) companion->apply(c, events);
    events.clear();
    if (at == nullptr) continue;
    auto it = at->find(c.seq);
    if (it != at->end()) it->second = state_of(engine, companion);
  }
  if (summary != nullptr) *summary = (*reader)->summary();
  return Status::OK();
}

class Verifier {
 public:
  Verifier(journal::Env& env, std::string data_dir, const EngineConfig& config,
           VerifyOptions options)
      : env_(env), data_dir_(std::move(data_dir)), config_(config), options_(std::move(options)) {}

  VerifyReport run() {
    Status s = full_replay();
    for (std::size_t i = 0; s.ok() && i < snapshots_.size(); ++i) s = check_snapshot(snapshots_[i]);
    if (s.ok()) s = check_final_state();
    report_.ok = s.ok();
    if (!s.ok()) report_.problem = s.to_string();
    return report_;
  }

 private:
  // Replays the whole journal from empty, noting the hash at each snapshot.
  Status full_replay() {
    Result<std::vector<SnapshotInfo>> snaps = list_snapshots(env_, snapshot_dir(data_dir_));
    if (!snaps.ok()) return snaps.status();
    snapshots_ = std::move(*snaps);
    for (const SnapshotInfo& info : snapshots_) at_[info.seq] = AtSnapshot{};
    engine_ = std::make_unique<Engine>(config_);
    std::unique_ptr<FollowerCompanion> companion;
    if (options_.make_companion) companion = options_.make_companion();
    at_[0] = state_of(*engine_, companion.get());
    journal::JournalSummary j;
    Status s = replay_range(env_, journal_dir(data_dir_), 0, ~SeqNo{0}, *engine_, companion.get(),
                            &at_, &j);
    if (!s.ok()) return s;
    record_journal(j);
    if (!j.empty && j.first_seq != 1) {
      return Status::NotFound("journal starts at seq " + std::to_string(j.first_seq) +
                              ", not 1: cannot replay from an empty engine");
    }
    return Status::OK();
  }

  void record_journal(const journal::JournalSummary& j) {
    report_.segments = j.segments;
    report_.batches = j.batches;
    report_.commands = j.commands;
    report_.records = j.segments + j.batches + j.commands;
    report_.final_seq = j.empty ? 0 : j.last_seq;
    report_.final_state_hash = engine_->state_hash();
    if (!j.tail_file.empty()) {
      report_.tail = std::to_string(j.tail_bytes) + " bytes after byte " +
                     std::to_string(j.durable_end) + " of " + j.tail_file +
                     " ignored (an incomplete last batch: a torn or in-progress write)";
    }
  }

  Status check_snapshot(const SnapshotInfo& info) {
    if (info.seq > report_.final_seq) {
      return Status::Corruption("snapshot " + info.path + " is at seq " + std::to_string(info.seq) +
                                ", past the end of the journal (" +
                                std::to_string(report_.final_seq) + ")");
    }
    Result<LoadedSnapshot> loaded = load_snapshot(env_, info.path);
    if (!loaded.ok()) return loaded.status();
    const std::string where = "snapshot " + info.path + ": ";
    const AtSnapshot& expected = at_[info.seq];
    if (loaded->state_hash != expected.state_hash) {
      return Status::Corruption(where + "recorded state hash " + hex(loaded->state_hash) +
                                " differs from the replay's " + hex(expected.state_hash));
    }
    if (expected.has_extension && !loaded->extension.empty()) {
      if (digest(loaded->extension) != expected.extension_digest) {
        return Status::Corruption(where + "its extension (projections) differs from the state a "
                                          "full replay builds at its seq");
      }
      ++report_.extensions_checked;
    }
    std::string error;
    std::unique_ptr<Engine> engine = Engine::restore(config_, loaded->payload, &error);
    if (!engine) return Status::Corruption(where + "restore failed: " + error);
    if (engine->state_hash() != loaded->state_hash) {
      return Status::Corruption(where + "restores to another state hash");
    }
    Status s = replay_range(env_, journal_dir(data_dir_), info.seq, report_.final_seq, *engine,
                            nullptr, nullptr, nullptr);
    if (!s.ok()) return s;
    if (engine->state_hash() != report_.final_state_hash) {
      return Status::Corruption(where + "replaying the journal after it ends at state hash " +
                                hex(engine->state_hash()) + ", the full replay at " +
                                hex(report_.final_state_hash));
    }
    ++report_.snapshots_checked;
    return Status::OK();
  }

  Status check_final_state() {
    std::string problem = engine_->check_invariants();
    if (problem.empty() && config_.accounts) problem = engine_->check_ledger();
    if (!problem.empty()) return Status::Corruption("final state: " + problem);
    return Status::OK();
  }

  journal::Env& env_;
  const std::string data_dir_;
  const EngineConfig config_;
  const VerifyOptions options_;
  std::vector<SnapshotInfo> snapshots_;
  std::map<SeqNo, AtSnapshot> at_;  // snapshot seq -> the full replay's state there
  std::unique_ptr<Engine> engine_;
  VerifyReport report_;
};

}  // namespace

std::string VerifyReport::to_string() const {
  std::string out;
  out += "journal: " + std::to_string(segments) + " segments, " + std::to_string(records) +
         " records, " + std::to_string(batches) + " batches, " + std::to_string(commands) +
         " commands\n";
  if (!tail.empty()) out += "journal tail: " + tail + "\n";
  out += "snapshots checked: " + std::to_string(snapshots_checked) + " (" +
         std::to_string(extensions_checked) + " with their projections)\n";
  out += "final seq: " + std::to_string(final_seq) + "\n";
  out += "final state hash: " + hex(final_state_hash) + "\n";
  out += ok ? "OK\n" : "FAILED: " + problem + "\n";
  return out;
}

VerifyReport verify_data_dir(journal::Env& env, const std::string& data_dir,
                             const EngineConfig& config, const VerifyOptions& options) {
  return Verifier(env, data_dir, config, options).run();
}

}  // namespace stox::store
