// Internal to the journal readers (reader.cc, batch_reader.cc): listing the
// segments of a directory and checking one segment's bytes, batch by batch,
// by the rules of docs/journal-format.md ("Reading and recovery"). Both
// readers check through this one SegmentScanner, so they accept, reject and
// report exactly the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "journal/env.h"
#include "journal/format.h"
#include "journal/reader.h"

namespace stox::journal::detail {

struct SegmentFile {
  SeqNo first_seq = 0;
  std::string path;
};

// The segments of dir (files named by segment_name), in seq order.
Status list_segments(Env* env, const std::string& dir, std::vector<SegmentFile>* out);

// The segments to read from from_seq on (a reader's open): *first is the
// index of the segment holding from_seq (0 for from_seq 0). NotFound if
// from_seq is below the first seq still on disk.
Status segments_from(Env* env, const std::string& dir, SeqNo from_seq,
                     std::vector<SegmentFile>* out, std::size_t* first);

// "<path> at byte <offset>: <what>".
Status corruption(const std::string& path, std::uint64_t offset, std::string_view what);

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

// A checked batch: its command records are bytes [begin, end), count of
// them, the first with seq first_seq.
struct BatchRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  SeqNo first_seq = 0;
  std::uint32_t count = 0;
};

// Checks one segment's bytes in order: the header (start), then one batch at
// a time (next_batch), each batch wholly (every record's CRC, seqs, its
// trailer and the chain hash) before it is returned. is_last: damage at the
// end may be a torn write (then the scan simply ends at the durable end).
// The bytes must outlive the scanner.
class SegmentScanner {
 public:
  SegmentScanner(std::string path, std::string_view bytes, SeqNo name_seq, bool is_last);

  // Checks the header record. OK may also mean the segment is a torn tail
  // with no durable batch at all (next_batch then returns false).
  Status start();
  // The next durable batch, or false at the end of the segment's durable
  // part (then scan() is complete); Corruption (file and offset) on damage.
  Result<bool> next_batch(BatchRange* out);
  // What was checked so far; the whole segment once next_batch returned false.
  const SegmentScan& scan() const { return scan_; }

 private:
  Status damage_at(std::uint64_t x);

  std::string path_;
  std::string_view bytes_;
  SeqNo name_seq_;
  bool is_last_;
  bool done_ = false;
  SegmentScan scan_;
  std::uint64_t pos_ = 0;          // next record
  std::uint64_t batch_start_ = 0;  // first record of the batch being read
  SeqNo next_seq_ = 0;
  SeqNo batch_first_ = 0;
  std::uint32_t count_ = 0;        // commands read of the batch being read
};

// Does a segment whose header holds prev_hash continue the journal read so
// far (its seqs and chain)? Always OK for the first segment read.
Status check_link(const SegmentFile& seg, const Hash& prev_hash, const JournalSummary& so_far);

// Records in *summary the torn tail of the last segment (size bytes), if any.
void note_tail(const SegmentFile& seg, std::uint64_t size, const SegmentScan& scan,
               JournalSummary* summary);

// Checks one whole segment (every batch of a SegmentScanner) into *out.
Status scan_segment(const std::string& path, std::string_view bytes, SeqNo name_seq, bool is_last,
                    SegmentScan* out);

}  // namespace stox::journal::detail
