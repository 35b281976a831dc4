// `stox demo`: a scripted trading session run through one core::Engine.
//
// The demo plays the part of the sequencer: it assigns each command its
// sequence number and a timestamp from a deterministic fake clock, so two
// runs print byte-identical output.
#pragma once

#include <ostream>

namespace stox {

// Runs the script and writes every event, the final books and the trade
// list to `out`. Returns 0, or 1 if the script could not be run as written
// or the engine reported a broken invariant (the reason is printed).
int run_demo(std::ostream& out);

}  // namespace stox
