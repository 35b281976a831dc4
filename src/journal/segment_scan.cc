#include "journal/segment_scan.h"

#include <algorithm>
#include <utility>

namespace stox::journal::detail {
namespace {

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

}  // namespace

Status corruption(const std::string& path, std::uint64_t offset, std::string_view what) {
  std::string msg = path;
  msg.append(" at byte ").append(std::to_string(offset)).append(": ").append(what);
  return Status::Corruption(msg);
}

Status list_segments(Env* env, const std::string& dir, std::vector<SegmentFile>* out) {
  std::vector<std::string> names;
  Status s = env->list_dir(dir, &names);
  if (!s.ok()) return s;
  out->clear();
  for (const std::string& name : names) {
    SeqNo seq = 0;
    if (!parse_segment_name(name, &seq)) continue;
    std::string path = dir;
    path.append("/").append(name);
    out->push_back({seq, std::move(path)});
  }
  std::sort(out->begin(), out->end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.first_seq < b.first_seq; });
  return Status::OK();
}

Status segments_from(Env* env, const std::string& dir, SeqNo from_seq,
                     std::vector<SegmentFile>* out, std::size_t* first) {
  *first = 0;
  Status s = list_segments(env, dir, out);
  if (!s.ok() || from_seq == 0 || out->empty()) return s;
  if (from_seq < out->front().first_seq) {
    return Status::NotFound("journal " + dir + " starts at seq " +
                            std::to_string(out->front().first_seq));
  }
  while (*first + 1 < out->size() && (*out)[*first + 1].first_seq <= from_seq) ++*first;
  return Status::OK();
}

Status check_link(const SegmentFile& seg, const Hash& prev_hash, const JournalSummary& so_far) {
  if (so_far.segments == 0) return Status::OK();
  if (seg.first_seq != so_far.last_seq + 1) {
    return corruption(seg.path, 0, "seq gap: a segment is missing before this one");
  }
  if (prev_hash != so_far.chain) {
    return corruption(seg.path, 0, "hash chain does not continue from the previous segment");
  }
  return Status::OK();
}

void note_tail(const SegmentFile& seg, std::uint64_t size, const SegmentScan& scan,
               JournalSummary* summary) {
  if (scan.durable_end == size && scan.durable_end != 0) return;
  summary->tail_file = seg.path;
  summary->durable_end = scan.durable_end;
  summary->tail_bytes = size - scan.durable_end;
  summary->final_batch_damaged = scan.final_batch_damaged;
}

SegmentScanner::SegmentScanner(std::string path, std::string_view bytes, SeqNo name_seq,
                               bool is_last)
    : path_(std::move(path)), bytes_(bytes), name_seq_(name_seq), is_last_(is_last) {}

Status SegmentScanner::damage_at(std::uint64_t x) {
  done_ = true;
  return classify_damage(path_, bytes_, is_last_, x, batch_start_, &scan_);
}

Status SegmentScanner::start() {
  scan_ = SegmentScan{};
  done_ = false;
  pos_ = batch_start_ = kHeaderRecordSize;
  next_seq_ = batch_first_ = name_seq_;
  count_ = 0;
  RecordView r;
  if (parse_record(bytes_, &r) != ParseResult::kOk) return damage_at(0);
  Status s = check_header(path_, r, name_seq_, &scan_);
  if (!s.ok()) done_ = true;
  return s;
}

Result<bool> SegmentScanner::next_batch(BatchRange* out) {
  if (done_) return false;
  RecordView r;
  while (pos_ < bytes_.size()) {
    if (parse_record(bytes_.substr(pos_), &r) != ParseResult::kOk) {
      Status s = damage_at(pos_);
      if (!s.ok()) return s;
      return false;
    }
    const std::uint64_t at = pos_;
    pos_ += r.whole.size();
    if (r.type == static_cast<std::uint8_t>(RecordType::kCommand)) {
      if (r.seq != next_seq_ || get<SeqNo>(r.payload.data()) != r.seq) {
        done_ = true;
        return corruption(path_, at, "command seq out of order");
      }
      ++next_seq_;
      ++count_;
    } else if (r.type == static_cast<std::uint8_t>(RecordType::kBatchTrailer)) {
      Status s = check_trailer(path_, bytes_, r, at, batch_start_, batch_first_, count_, &scan_);
      if (!s.ok()) {
        done_ = true;
        return s;
      }
      *out = BatchRange{batch_start_, at, batch_first_, count_};
      batch_start_ = scan_.durable_end;
      batch_first_ = next_seq_;
      count_ = 0;
      return true;
    } else {
      done_ = true;
      return corruption(path_, at, "segment header in the middle of a segment");
    }
  }
  done_ = true;
  if (count_ > 0 && !is_last_) return corruption(path_, batch_start_, "batch without trailer");
  return false;
}

Status scan_segment(const std::string& path, std::string_view bytes, SeqNo name_seq, bool is_last,
                    SegmentScan* out) {
  SegmentScanner scanner(path, bytes, name_seq, is_last);
  Status s = scanner.start();
  BatchRange batch;
  for (;;) {
    if (!s.ok()) break;
    Result<bool> more = scanner.next_batch(&batch);
    if (!more.ok()) s = more.status();
    else if (!*more) break;
  }
  *out = scanner.scan();
  return s;
}

}  // namespace stox::journal::detail
