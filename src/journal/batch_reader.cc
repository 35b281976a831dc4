// The reading thread walks the segments like JournalReader::Impl does, but
// streams: each journal batch is checked (SegmentScanner::next_batch) while
// its bytes are hot in cache and its commands are decoded straight into the
// slot being filled. The ring is a fixed array of slots guarded by one mutex;
// with thousands of commands per slot, one lock and wake-up per batch is
// noise next to the work.
#include "journal/batch_reader.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "journal/segment_scan.h"

namespace stox::journal {

using detail::BatchRange;
using detail::SegmentFile;
using detail::SegmentScanner;

struct BatchReader::Impl {
  struct Slot {
    std::vector<Command> commands;  // batch_commands of them, allocated once
    std::size_t count = 0;
  };

  // Set at open, read-only afterwards.
  Env* env = nullptr;
  std::vector<SegmentFile> segments;
  std::size_t first_segment = 0;
  SeqNo from_seq = 0;
  std::size_t batch_commands = 0;
  std::vector<Slot> slots;

  // The ring: slots [tail, head) are published (the consumer holds slot
  // `tail` between two next() calls); the producer fills slot `head`.
  std::mutex mu;
  std::condition_variable produced;
  std::condition_variable consumed;
  std::uint64_t head = 0;      // guarded by mu
  std::uint64_t tail = 0;      // guarded by mu
  bool finished = false;       // guarded by mu: final and summary are set
  bool stop = false;           // guarded by mu: the consumer is gone
  Status outcome;              // written before finished; read after
  JournalSummary summary;      // likewise

  // Consumer side only.
  bool holding = false;

  // Producer side only.
  std::string bytes;           // the current segment
  Slot* filling = nullptr;
  std::thread thread;

  void run();
  Status produce();
  Status read_segment(const SegmentFile& seg, bool is_last, bool* stopped);
  bool emit(const BatchRange& b);
  bool acquire_slot();
  void publish();
};

// Checks and streams every segment; mirrors JournalReader::Impl's
// load_next_segment and link, batch by batch.
Status BatchReader::Impl::produce() {
  for (std::size_t i = first_segment; i < segments.size(); ++i) {
    bool stopped = false;
    Status s = read_segment(segments[i], i + 1 == segments.size(), &stopped);
    if (!s.ok() || stopped) return s;
  }
  return Status::OK();
}

Status BatchReader::Impl::read_segment(const SegmentFile& seg, bool is_last, bool* stopped) {
  Status s = read_file(env, seg.path, &bytes);
  if (!s.ok()) return s;
  SegmentScanner scanner(seg.path, bytes, seg.first_seq, is_last);
  s = scanner.start();
  if (!s.ok()) return s;
  // JournalReader links a segment only after checking all of it, so damage
  // later in the segment is reported before a broken link: keep scanning
  // (yielding nothing) and report the link last.
  Status link;
  bool first = true;
  BatchRange batch;
  for (;;) {
    Result<bool> more = scanner.next_batch(&batch);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (first) {
      first = false;
      link = detail::check_link(seg, scanner.scan().prev_hash, summary);
      if (link.ok()) {
        if (summary.segments == 0) {
          summary.first_prev_hash = scanner.scan().prev_hash;
          summary.first_seq = seg.first_seq;
        }
        summary.empty = false;
        summary.segments += 1;
      }
    }
    if (!link.ok()) continue;
    summary.last_seq = batch.first_seq + batch.count - 1;
    summary.chain = scanner.scan().chain;
    summary.batches += 1;
    summary.commands += batch.count;
    if (!emit(batch)) {
      *stopped = true;
      return Status::OK();
    }
  }
  const detail::SegmentScan& scan = scanner.scan();
  if (is_last) detail::note_tail(seg, bytes.size(), scan, &summary);
  if (scan.durable_end == 0) {
    if (!is_last) return detail::corruption(seg.path, 0, "segment holds no complete batch");
    return Status::OK();
  }
  return link;
}

// Decodes the batch's commands from from_seq on into slots. False if the
// consumer is gone.
bool BatchReader::Impl::emit(const BatchRange& b) {
  std::uint64_t pos = b.begin;
  for (SeqNo seq = b.first_seq; pos < b.end; ++seq, pos += kCommandRecordSize) {
    if (seq < from_seq) continue;
    if (filling == nullptr && !acquire_slot()) return false;
    filling->commands[filling->count++] = decode_command(
        std::string_view(bytes).substr(pos + kRecordHeaderSize, kCommandPayloadSize));
    if (filling->count == batch_commands) publish();
  }
  return true;
}

bool BatchReader::Impl::acquire_slot() {
  std::unique_lock lock(mu);
  consumed.wait(lock, [&] { return stop || head - tail < slots.size(); });
  if (stop) return false;
  filling = &slots[head % slots.size()];
  filling->count = 0;
  return true;
}

void BatchReader::Impl::publish() {
  {
    std::lock_guard lock(mu);
    ++head;
  }
  produced.notify_one();
  filling = nullptr;
}

void BatchReader::Impl::run() {
  Status s = produce();
  // Commands of checked batches read before an error are handed over too,
  // as JournalReader yields the commands it read before one.
  if (filling != nullptr && filling->count > 0) publish();
  {
    std::lock_guard lock(mu);
    outcome = std::move(s);
    finished = true;
  }
  produced.notify_one();
}

BatchReader::BatchReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BatchReader::~BatchReader() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->consumed.notify_one();
  impl_->thread.join();
}

Result<std::unique_ptr<BatchReader>> BatchReader::open(Env* env, const std::string& dir,
                                                       SeqNo from_seq,
                                                       const BatchReaderOptions& options) {
  if (options.batch_commands < 1 || options.batches_in_flight < 2) {
    return Status::InvalidArgument("BatchReader: batch_commands >= 1 and batches_in_flight >= 2");
  }
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->from_seq = from_seq;
  Status s = detail::segments_from(env, dir, from_seq, &impl->segments, &impl->first_segment);
  if (!s.ok()) return s;
  impl->batch_commands = options.batch_commands;
  impl->slots.resize(options.batches_in_flight);
  for (Impl::Slot& slot : impl->slots) slot.commands.resize(options.batch_commands);
  Impl* m = impl.get();
  impl->thread = std::thread([m] { m->run(); });
  return std::unique_ptr<BatchReader>(new BatchReader(std::move(impl)));
}

Result<std::span<const Command>> BatchReader::next() {
  Impl& m = *impl_;
  std::unique_lock lock(m.mu);
  if (m.holding) {
    m.holding = false;
    ++m.tail;
    m.consumed.notify_one();
  }
  m.produced.wait(lock, [&] { return m.head > m.tail || m.finished; });
  if (m.head > m.tail) {
    m.holding = true;
    const Impl::Slot& slot = m.slots[m.tail % m.slots.size()];
    return std::span<const Command>(slot.commands.data(), slot.count);
  }
  if (!m.outcome.ok()) return m.outcome;
  return std::span<const Command>();
}

const JournalSummary& BatchReader::summary() const { return impl_->summary; }

}  // namespace stox::journal
