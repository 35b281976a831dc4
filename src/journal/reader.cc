// Segment checking is one pass over the bytes of a segment (scan_segment);
// iteration is a second, cheap pass over the durable part that was checked.
#include "journal/reader.h"

#include <algorithm>

namespace stox::journal {
namespace {

struct SegmentFile {
  SeqNo first_seq = 0;
  std::string path;
};

// The outcome of checking one segment.
struct SegmentScan {
  Hash prev_hash{};             // from the header (valid iff durable_end > 0)
  Hash chain{};                 // after the last durable batch
  SeqNo last_seq = 0;           // of the last durable command (valid iff durable_end > 0)
  std::uint64_t durable_end = 0;  // end of the last valid trailer; 0 if none
  std::uint64_t batches = 0;
  std::uint64_t commands = 0;
  bool final_batch_damaged = false;
};

Status corruption(const std::string& path, std::uint64_t offset, std::string_view what) {
  return Status::Corruption(path + " at byte " + std::to_string(offset) + ": " + std::string(what));
}

// Finds valid trailer records starting after `from`; stops after `limit`.
std::vector<std::uint64_t> find_trailers_after(std::string_view bytes, std::uint64_t from,
                                               std::size_t limit) {
  std::vector<std::uint64_t> found;
  for (std::uint64_t p = from + 1; p + kTrailerRecordSize <= bytes.size(); ++p) {
    const char* h = bytes.data() + p;
    if (static_cast<std::uint8_t>(h[kTypeOffset]) != static_cast<std::uint8_t>(RecordType::kBatchTrailer) ||
        get<std::uint32_t>(h + kLengthOffset) != kTrailerPayloadSize) {
      continue;
    }
    RecordView r;
    if (parse_record(bytes.substr(p), &r) != ParseResult::kOk) continue;
    found.push_back(p);
    if (found.size() >= limit) break;
  }
  return found;
}

// Decides what damage at offset x means (docs/journal-format.md): a torn
// write of the final batch of the last segment, or corruption.
// batch_start is where the batch being read when the damage was met began.
Status classify_damage(const std::string& path, std::string_view bytes, bool is_last,
                       std::uint64_t x, std::uint64_t batch_start, SegmentScan* out) {
  if (!is_last) return corruption(path, x, "damaged record in a segment that is not the last");
  std::vector<std::uint64_t> trailers = find_trailers_after(bytes, x, 2);
  if (trailers.empty()) return Status::OK();
  if (trailers.size() == 1) {
    RecordView r;
    (void)parse_record(bytes.substr(trailers[0]), &r);
    TrailerPayload t = decode_trailer(r.payload);
    if (trailers[0] == batch_start + std::uint64_t{t.count} * kCommandRecordSize) {
      out->final_batch_damaged = true;
      return Status::OK();
    }
  }
  return corruption(path, x, "damaged record before a durable batch");
}

// Checks the segment header at offset 0.
Status check_header(const std::string& path, const RecordView& r, SeqNo name_seq, SegmentScan* out) {
  HeaderPayload h;
  if (r.type != static_cast<std::uint8_t>(RecordType::kSegmentHeader)) {
    return corruption(path, 0, "segment does not start with a header record");
  }
  if (!decode_header(r.payload, &h)) return corruption(path, 0, "bad magic or version");
  if (r.seq != name_seq) return corruption(path, 0, "header seq does not match the file name");
  out->prev_hash = h.prev_hash;
  out->chain = h.prev_hash;
  return Status::OK();
}

// Checks a trailer record at pos closing the batch [batch_start, pos).
Status check_trailer(const std::string& path, std::string_view bytes, const RecordView& r,
                     std::uint64_t pos, std::uint64_t batch_start, SeqNo batch_first,
                     std::uint32_t count, SegmentScan* out) {
  TrailerPayload t = decode_trailer(r.payload);
  if (count == 0) return corruption(path, pos, "batch trailer without commands");
  if (t.count != count || t.first_seq != batch_first || r.seq != batch_first + count - 1) {
    return corruption(path, pos, "batch trailer does not match its commands");
  }
  if (get<std::uint32_t>(r.payload.data() + 12) != 0) {
    return corruption(path, pos, "nonzero reserved field in batch trailer");
  }
  Hash h = chain_hash(out->chain, bytes.substr(batch_start, pos - batch_start));
  if (h != t.hash) return corruption(path, pos, "hash chain mismatch (the batch was altered)");
  out->chain = h;
  out->last_seq = r.seq;
  out->durable_end = pos + kTrailerRecordSize;
  out->batches += 1;
  out->commands += count;
  return Status::OK();
}

// Checks one whole segment. is_last: damage at the end may be a torn write.
Status scan_segment(const std::string& path, std::string_view bytes, SeqNo name_seq, bool is_last,
                    SegmentScan* out) {
  *out = SegmentScan{};
  RecordView r;
  ParseResult pr = parse_record(bytes, &r);
  if (pr != ParseResult::kOk) return classify_damage(path, bytes, is_last, 0, kHeaderRecordSize, out);
  Status s = check_header(path, r, name_seq, out);
  if (!s.ok()) return s;

  std::uint64_t pos = kHeaderRecordSize;
  std::uint64_t batch_start = pos;
  SeqNo next_seq = name_seq;
  SeqNo batch_first = name_seq;
  std::uint32_t count = 0;
  while (pos < bytes.size()) {
    pr = parse_record(bytes.substr(pos), &r);
    if (pr != ParseResult::kOk) return classify_damage(path, bytes, is_last, pos, batch_start, out);
    if (r.type == static_cast<std::uint8_t>(RecordType::kCommand)) {
      if (r.seq != next_seq || get<SeqNo>(r.payload.data()) != r.seq) {
        return corruption(path, pos, "command seq out of order");
      }
      ++next_seq;
      ++count;
    } else if (r.type == static_cast<std::uint8_t>(RecordType::kBatchTrailer)) {
      s = check_trailer(path, bytes, r, pos, batch_start, batch_first, count, out);
      if (!s.ok()) return s;
      batch_start = out->durable_end;
      batch_first = next_seq;
      count = 0;
    } else {
      return corruption(path, pos, "segment header in the middle of a segment");
    }
    pos += r.whole.size();
  }
  if (count > 0 && !is_last) return corruption(path, batch_start, "batch without trailer");
  return Status::OK();
}

Status list_segments(Env* env, const std::string& dir, std::vector<SegmentFile>* out) {
  std::vector<std::string> names;
  Status s = env->list_dir(dir, &names);
  if (!s.ok()) return s;
  out->clear();
  for (const std::string& name : names) {
    SeqNo seq = 0;
    if (parse_segment_name(name, &seq)) out->push_back({seq, dir + "/" + name});
  }
  std::sort(out->begin(), out->end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.first_seq < b.first_seq; });
  return Status::OK();
}

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
    if (is_last && (scan.durable_end < bytes.size() || scan.durable_end == 0)) {
      summary.tail_file = seg.path;
      summary.durable_end = scan.durable_end;
      summary.tail_bytes = bytes.size() - scan.durable_end;
      summary.final_batch_damaged = scan.final_batch_damaged;
    }
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
  if (summary.segments == 0) {
    summary.first_prev_hash = scan.prev_hash;
    summary.first_seq = seg.first_seq;
  } else {
    if (seg.first_seq != summary.last_seq + 1) {
      return corruption(seg.path, 0, "seq gap: a segment is missing before this one");
    }
    if (scan.prev_hash != summary.chain) {
      return corruption(seg.path, 0, "hash chain does not continue from the previous segment");
    }
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
  Status s = list_segments(env, dir, &impl->segments);
  if (!s.ok()) return s;
  if (from_seq != 0 && !impl->segments.empty()) {
    if (from_seq < impl->segments.front().first_seq) {
      return Status::NotFound("journal " + dir + " starts at seq " +
                              std::to_string(impl->segments.front().first_seq));
    }
    while (impl->next_segment + 1 < impl->segments.size() &&
           impl->segments[impl->next_segment + 1].first_seq <= from_seq) {
      ++impl->next_segment;
    }
  }
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
