#include "journal/writer.h"

namespace stox::journal {

Result<std::unique_ptr<JournalWriter>> JournalWriter::open(Env* env, const std::string& dir,
                                                           const WriterOptions& options) {
  if (options.first_seq == 0) return Status::InvalidArgument("first_seq must be >= 1");
  Result<RecoveryInfo> recovery = recover_for_append(env, dir);
  if (!recovery.ok()) return recovery.status();
  return std::unique_ptr<JournalWriter>(new JournalWriter(env, dir, options, *recovery));
}

Result<std::unique_ptr<JournalWriter>> JournalWriter::open_recovered(Env* env,
                                                                     const std::string& dir,
                                                                     const WriterOptions& options,
                                                                     RecoveryInfo recovery) {
  if (options.first_seq == 0) return Status::InvalidArgument("first_seq must be >= 1");
  return std::unique_ptr<JournalWriter>(new JournalWriter(env, dir, options, std::move(recovery)));
}

JournalWriter::JournalWriter(Env* env, std::string dir, const WriterOptions& options,
                             RecoveryInfo recovery)
    : env_(env), dir_(std::move(dir)), options_(options), recovery_(std::move(recovery)) {
  const JournalSummary& s = recovery_.summary;
  next_seq_ = s.empty ? options_.first_seq : s.last_seq + 1;
  durable_seq_ = s.empty ? 0 : s.last_seq;
  chain_ = s.chain;
  reset_batch();
}

JournalWriter::~JournalWriter() = default;

void JournalWriter::reset_batch() {
  batch_.assign(kHeaderRecordSize, '\0');
  queued_ = 0;
  batch_first_ = next_seq_;
}

Status JournalWriter::fail(const Status& s) {
  failure_ = Status::IOError("journal failed, refusing all writes after: " + s.to_string(),
                             s.error_number());
  return failure_;
}

Status JournalWriter::append(const Command& c) {
  if (failed()) return failure_;
  if (c.seq != next_seq_) {
    return Status::InvalidArgument("journal append: seq " + std::to_string(c.seq) +
                                   ", expected " + std::to_string(next_seq_));
  }
  append_command_record(&batch_, c);
  ++queued_;
  ++next_seq_;
  return Status::OK();
}

// Closes the current segment (synced) and creates the next one, named by
// the pending batch's first seq. Its header goes out with the batch.
Status JournalWriter::start_segment() {
  if (file_) {
    Status s = options_.sync == SyncMode::kNone ? file_->sync() : Status::OK();
    if (s.ok()) s = file_->close();
    if (!s.ok()) return s;
    file_.reset();
  }
  Status s = env_->new_writable_file(dir_ + "/" + segment_name(batch_first_), &file_);
  if (!s.ok()) return s;
  std::string header;
  append_header_record(&header, batch_first_, HeaderPayload{chain_});
  batch_.replace(0, kHeaderRecordSize, header);
  file_bytes_ = 0;
  new_segment_ = true;
  ++segments_created_;
  return Status::OK();
}

Result<SeqNo> JournalWriter::commit() {
  if (failed()) return failure_;
  if (queued_ == 0) return durable_seq_;
  new_segment_ = false;
  if (!file_ || file_bytes_ >= options_.segment_bytes) {
    Status s = start_segment();
    if (!s.ok()) return fail(s);
  }
  std::string_view records = std::string_view(batch_).substr(kHeaderRecordSize);
  Hash hash = chain_hash(chain_, records);
  SeqNo last = next_seq_ - 1;
  append_trailer_record(&batch_, last, TrailerPayload{batch_first_, static_cast<std::uint32_t>(queued_), hash});

  std::string_view out = std::string_view(batch_).substr(new_segment_ ? 0 : kHeaderRecordSize);
  Status s = file_->append(out);
  if (s.ok() && options_.sync == SyncMode::kBatch) {
    s = file_->sync();
    ++syncs_;
    // A new segment's name must be durable too, or a power cut loses the file.
    if (s.ok() && new_segment_) s = env_->sync_dir(dir_);
  }
  if (!s.ok()) return fail(s);
  file_bytes_ += out.size();
  chain_ = hash;
  durable_seq_ = last;
  ++batches_;
  reset_batch();
  return durable_seq_;
}

Status JournalWriter::close() {
  next_seq_ = batch_first_;
  reset_batch();
  if (!file_) return failure_;
  Status s = failed() ? failure_ : file_->sync();
  Status c = file_->close();
  file_.reset();
  if (s.ok() && !c.ok()) return fail(c);
  return s;
}

}  // namespace stox::journal
