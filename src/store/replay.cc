#include "store/replay.h"

#include <vector>

namespace stox::store {

Result<journal::JournalSummary> replay_journal(journal::Env& env, const std::string& dir,
                                               Engine& engine, ReplayProgress* progress,
                                               const ReplayObserver& observer) {
  auto reader = journal::JournalReader::open(&env, dir, progress->last_seq);
  if (!reader.ok()) return reader.status();
  std::vector<Event> events;
  events.reserve(256);
  Command c;
  for (;;) {
    Result<bool> more = (*reader)->next(&c);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (c.seq <= progress->last_seq) continue;
    if (c.seq != progress->last_seq + 1) {
      return Status::NotFound("the journal continues at seq " + std::to_string(c.seq) +
                              " after seq " + std::to_string(progress->last_seq));
    }
    engine.apply(c, events);
    if (observer) observer(c, events);
    events.clear();
    progress->last_seq = c.seq;
    progress->last_timestamp = c.timestamp;
    ++progress->applied;
  }
  return (*reader)->summary();
}

}  // namespace stox::store
