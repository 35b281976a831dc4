// Shared by the differential tests: reading knobs from the environment and
// printing what differed.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/command.h"
#include "core/event.h"

namespace stox::testing {

// A numeric environment variable (decimal, or hex with 0x), or `fallback`.
inline std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

// Event for event, every field (Event::operator==).
inline bool same_events(const std::vector<Event>& a, const std::vector<Event>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i])) return false;
  }
  return true;
}

inline std::string describe(const Command& c) { return to_string(c); }

inline std::string describe(const std::vector<Event>& events) {
  std::string s;
  for (const Event& e : events) {
    s += "    " + to_string(e);
    if (e.type == EventType::kRejected) s += " (cmd " + std::to_string(int(e.rejected.command)) + ")";
    s += "\n";
  }
  return s.empty() ? "    (none)\n" : s;
}

}  // namespace stox::testing
