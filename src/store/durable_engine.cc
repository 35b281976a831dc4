#include "store/durable_engine.h"

#include <algorithm>
#include <utility>

#include "store/layout.h"
#include "store/snapshot_file.h"

namespace stox::store {

Result<std::unique_ptr<DurableEngine>> DurableEngine::open(journal::Env& env,
                                                           const std::string& data_dir,
                                                           const EngineConfig& config, Clock clock,
                                                           const DurableOptions& options) {
  Result<Recovered> recovered = recover(env, data_dir, config, options.recovery);
  if (!recovered.ok()) return recovered.status();
  journal::WriterOptions wo = options.journal;
  // An empty journal continues a snapshot (or starts at 1).
  wo.first_seq = recovered->last_seq + 1;
  auto writer = journal::JournalWriter::open_recovered(&env, journal_dir(data_dir), wo,
                                                       recovered->journal);
  if (!writer.ok()) return writer.status();
  if ((*writer)->next_seq() != recovered->last_seq + 1) {
    return Status::Corruption("journal " + journal_dir(data_dir) + " continues at seq " +
                              std::to_string((*writer)->next_seq()) + " but the engine is at " +
                              std::to_string(recovered->last_seq));
  }
  return std::unique_ptr<DurableEngine>(new DurableEngine(
      data_dir, env, std::move(*recovered), std::move(*writer), std::move(clock)));
}

DurableEngine::DurableEngine(std::string  data_dir, journal::Env& env, Recovered recovered,
                             std::unique_ptr<journal::JournalWriter> writer, Clock clock)
    : env_(env),
      data_dir_(std::move(data_dir)),
      clock_(std::move(clock)),
      recovery_(std::move(recovered)),
      engine_(std::move(recovery_.engine)),
      writer_(std::move(writer)),
      next_seq_(recovery_.last_seq + 1),
      committed_seq_(recovery_.last_seq),
      last_timestamp_(recovery_.last_timestamp) {}

DurableEngine::~DurableEngine() = default;

Status DurableEngine::fail(const Status& s) {
  if (failure_.ok()) {
    failure_ = s;
    failure_reason_ = s.to_string();
  }
  pending_events_.clear();
  return failure_;
}

Result<SeqNo> DurableEngine::submit(Command command) {
  if (failed()) return failure_;
  last_timestamp_ = std::max(last_timestamp_, clock_());
  command.seq = next_seq_;
  command.timestamp = last_timestamp_;
  Status s = writer_->append(command);
  if (!s.ok()) return fail(s);
  engine_->apply(command, pending_events_);
  return next_seq_++;
}

Result<SeqNo> DurableEngine::commit(std::vector<Event>* released) {
  if (failed()) return failure_;
  if (pending() == 0) return committed_seq_;
  Result<SeqNo> durable = writer_->commit();
  if (!durable.ok()) return fail(durable.status());
  committed_seq_ = *durable;
  released->insert(released->end(), pending_events_.begin(), pending_events_.end());
  pending_events_.clear();
  return committed_seq_;
}

Result<std::string> DurableEngine::snapshot_now() {
  if (failed()) return failure_;
  if (pending() != 0) {
    return Status::InvalidArgument("snapshot_now: " + std::to_string(pending()) +
                                   " submitted commands await commit()");
  }
  const std::string dir = snapshot_dir(data_dir_);
  const std::string path = dir + "/" + snapshot_name(committed_seq_);
  std::uint64_t size = 0;
  if (env_.file_size(path, &size).ok()) return path;  // nothing new since that one
  return write_snapshot(env_, dir, committed_seq_, engine_->state_hash(), engine_->snapshot());
}

}  // namespace stox::store
