// The journal is read and checked on the BatchReader's thread while this
// thread applies; see replay.h.
#include "store/replay.h"

#include <vector>

#include "journal/batch_reader.h"

namespace stox::store {

Result<journal::JournalSummary> replay_journal(journal::Env& env, const std::string& dir,
                                               Engine& engine, ReplayProgress* progress,
                                               const ReplayObserver& observer) {
  auto reader = journal::BatchReader::open(&env, dir, progress->last_seq);
  if (!reader.ok()) return reader.status();
  std::vector<Event> events;
  events.reserve(256);
  for (;;) {
    Result<std::span<const Command>> batch = (*reader)->next();
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    for (std::size_t i = 0; i < batch->size(); ++i) {
      const Command& c = (*batch)[i];
      if (c.seq <= progress->last_seq) continue;
      if (c.seq != progress->last_seq + 1) {
        return Status::NotFound("the journal continues at seq " + std::to_string(c.seq) +
                                " after seq " + std::to_string(progress->last_seq));
      }
      engine.prefetch(batch->subspan(i));
      engine.apply(c, events);
      if (observer) observer(c, events);
      events.clear();
      progress->last_seq = c.seq;
      progress->last_timestamp = c.timestamp;
      ++progress->applied;
    }
  }
  return (*reader)->summary();
}

}  // namespace stox::store
