// Segment checking is one pass over the bytes of a segment (scan_segment,
// segment_scan.h); iteration is a second, cheap pass over the durable part
// that was checked.
#include "journal/reader.h"

#include "journal/segment_scan.h"

namespace stox::journal {

using detail::check_link;
using detail::corruption;
using detail::list_segments;
using detail::note_tail;
using detail::scan_segment;
using detail::SegmentFile;
using detail::SegmentScan;

namespace {

// Makes the last segment's bytes durable (truncate() to its own size syncs).
Status sync_last_segment(Env* env, const std::string& dir) {
  std::vector<SegmentFile> segments;
  Status s = list_segments(env, dir, &segments);
  if (!s.ok() || segments.empty()) return s;
  std::uint64_t size = 0;
  s = env->file_size(segments.back().path, &size);
  if (!s.ok()) return s;
  return env->truncate(segments.back().path, size);
}

}  // namespace

struct JournalReader::Impl {
  Env* env = nullptr;
  std::vector<SegmentFile> segments;
  std::size_t next_segment = 0;  // index of the segment to load next
  SeqNo from_seq = 0;
  std::string bytes;             // the current segment
  std::uint64_t pos = 0;         // next record in bytes
  std::uint64_t end = 0;         // durable end of bytes
  bool done = false;
  JournalSummary summary;

  Status load_next_segment();
  Status link(const SegmentFile& seg, const SegmentScan& scan);
};

// Loads and checks segments until one with durable data, or the end.
Status JournalReader::Impl::load_next_segment() {
  while (next_segment < segments.size()) {
    const SegmentFile& seg = segments[next_segment];
    bool is_last = ++next_segment == segments.size();
    Status s = read_file(env, seg.path, &bytes);
    if (!s.ok()) return s;
    SegmentScan scan;
    s = scan_segment(seg.path, bytes, seg.first_seq, is_last, &scan);
    if (!s.ok()) return s;
    if (is_last) note_tail(seg, bytes.size(), scan, &summary);
    if (scan.durable_end == 0) {
      if (!is_last) return corruption(seg.path, 0, "segment holds no complete batch");
      continue;
    }
    s = link(seg, scan);
    if (!s.ok()) return s;
    pos = kHeaderRecordSize;
    end = scan.durable_end;
    return Status::OK();
  }
  done = true;
  return Status::OK();
}

// Checks that a segment continues the one before it, and accounts for it.
Status JournalReader::Impl::link(const SegmentFile& seg, const SegmentScan& scan) {
  Status s = check_link(seg, scan.prev_hash, summary);
  if (!s.ok()) return s;
  if (summary.segments == 0) {
    summary.first_prev_hash = scan.prev_hash;
    summary.first_seq = seg.first_seq;
  }
  summary.empty = false;
  summary.last_seq = scan.last_seq;
  summary.chain = scan.chain;
  summary.segments += 1;
  summary.batches += scan.batches;
  summary.commands += scan.commands;
  return Status::OK();
}

JournalReader::JournalReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JournalReader::~JournalReader() = default;

Result<std::unique_ptr<JournalReader>> JournalReader::open(Env* env, const std::string& dir,
                                                           SeqNo from_seq) {
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->from_seq = from_seq;
  Status s = detail::segments_from(env, dir, from_seq, &impl->segments, &impl->next_segment);
  if (!s.ok()) return s;
  return std::unique_ptr<JournalReader>(new JournalReader(std::move(impl)));
}

Result<bool> JournalReader::next(Command* out) {
  Impl& m = *impl_;
  while (!m.done) {
    while (m.pos < m.end) {
      // Checked by scan_segment: every record here is complete and valid,
      // and its size follows from its type.
      const char* h = m.bytes.data() + m.pos;
      auto type = static_cast<RecordType>(static_cast<std::uint8_t>(h[kTypeOffset]));
      std::uint64_t at = m.pos;
      m.pos += kRecordHeaderSize + payload_size(static_cast<std::uint8_t>(type));
      if (type != RecordType::kCommand) continue;
      if (get<SeqNo>(h + kSeqOffset) < m.from_seq) continue;
      *out = decode_command(std::string_view(m.bytes).substr(at + kRecordHeaderSize, kCommandPayloadSize));
      return true;
    }
    Status s = m.load_next_segment();
    if (!s.ok()) return s;
  }
  return false;
}

const JournalSummary& JournalReader::summary() const { return impl_->summary; }

Result<JournalSummary> verify_journal(Env* env, const std::string& dir) {
  auto reader = JournalReader::open(env, dir);
  if (!reader.ok()) return reader.status();
  Command c;
  for (;;) {
    Result<bool> more = (*reader)->next(&c);
    if (!more.ok()) return more.status();
    if (!*more) break;
  }
  return (*reader)->summary();
}

Result<RecoveryInfo> recover_for_append(Env* env, const std::string& dir) {
  Status s = env->create_dir(dir);
  if (!s.ok()) return s;
  Result<JournalSummary> summary = verify_journal(env, dir);
  if (!summary.ok()) return summary.status();
  return recover_from_summary(env, dir, *summary);
}

Result<RecoveryInfo> recover_from_summary(Env* env, const std::string& dir,
                                          const JournalSummary& summary) {
  RecoveryInfo info;
  info.summary = summary;
  Status s;
  if (!summary.tail_file.empty()) {
    info.cut_file = summary.tail_file;
    info.dropped_bytes = summary.tail_bytes;
    if (summary.durable_end == 0) {
      info.removed_segment = true;
      s = env->remove(summary.tail_file);
      if (s.ok()) s = env->sync_dir(dir);
      if (!s.ok()) return s;
    } else {
      s = env->truncate(summary.tail_file, summary.durable_end);
      if (!s.ok()) return s;
    }
  }
  // Sync what is kept, even with nothing to cut: a batch whose fdatasync
  // failed in the previous process may sit complete in the page cache
  // without being on disk. It is durable only once this sync succeeds.
  if (!summary.empty) {
    s = sync_last_segment(env, dir);
    if (!s.ok()) return s;
  }
  return info;
}

}  // namespace stox::journal
