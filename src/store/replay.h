// Replay: applies the durable commands of a journal to an engine, the
// inner loop of recovery (store/recovery.h). Kept apart so that its speed
// can be worked on (and measured by recovery_benchmark) on its own.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "common/status.h"
#include "core/engine.h"
#include "journal/env.h"
#include "journal/reader.h"

namespace stox::store {

// Receives each replayed command with all of its events (the engine's
// output for it), in seq order. The span is valid only during the call.
using ReplayObserver = std::function<void(const Command&, std::span<const Event>)>;

struct ReplayProgress {
  SeqNo last_seq = 0;            // in: the engine's seq; out: of the last command applied
  Timestamp last_timestamp = 0;  // out: of the last command applied (unchanged if none)
  std::uint64_t applied = 0;     // out: commands applied
};

// Reads the journal in dir from the segment holding progress->last_seq (its
// start if 0), checking every record and the chain of what it reads, and
// applies every durable command after progress->last_seq to engine, calling
// observer (if set) with its events. The first command applied must be
// progress->last_seq + 1: a journal that continues later is NotFound (the
// starting point's successors were removed), damage is the reader's
// Corruption. Returns the reader's summary of the part it read.
Result<journal::JournalSummary> replay_journal(journal::Env& env, const std::string& dir,
                                               Engine& engine, ReplayProgress* progress,
                                               const ReplayObserver& observer = {});

}  // namespace stox::store
