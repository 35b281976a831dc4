#include "bench/load_stats.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace stox::bench {
namespace {

std::int64_t nearest_rank(const std::vector<std::int64_t>& sorted, double percent) {
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(n * percent / 100.0 + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// One /proc/<pid>/task/<tid>/stat line: "tid (comm) state ... utime stime ...".
// comm may hold spaces and parentheses, so it ends at the last ')'.
bool parse_stat(const std::string& line, std::string* name, double* seconds) {
  const std::size_t open = line.find('(');
  const std::size_t close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  *name = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields{std::istream_iterator<std::string>(rest),
                                  std::istream_iterator<std::string>()};
  // After the comm: state is field 3 of the man page, utime 14, stime 15.
  constexpr std::size_t kUtime = 14 - 3;
  constexpr std::size_t kStime = 15 - 3;
  if (fields.size() <= kStime) return false;
  const double ticks = std::stod(fields[kUtime]) + std::stod(fields[kStime]);
  *seconds = ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  return true;
}

}  // namespace

LatencySummary summarize(std::vector<std::int64_t>& samples) {
  LatencySummary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.p50 = nearest_rank(samples, 50);
  s.p99 = nearest_rank(samples, 99);
  s.p999 = nearest_rank(samples, 99.9);
  s.max = samples.back();
  return s;
}

std::string format_duration(std::int64_t ns) {
  char text[32];
  const auto v = static_cast<double>(ns);
  if (ns < 1'000'000) {
    std::snprintf(text, sizeof text, v < 10'000 ? "%.2fµs" : v < 100'000 ? "%.1fµs" : "%.0fµs",
                  v / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(text, sizeof text, v < 1e7 ? "%.2fms" : v < 1e8 ? "%.1fms" : "%.0fms", v / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.2fs", v / 1e9);
  }
  return text;
}

CpuByThread cpu_by_thread() {
  CpuByThread out;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string line;
    std::string name;
    double seconds = 0;
    if (std::getline(in, line) && parse_stat(line, &name, &seconds)) out[name] += seconds;
  }
  return out;
}

CpuByThread cpu_delta(const CpuByThread& before, const CpuByThread& after) {
  CpuByThread out;
  for (const auto& [name, seconds] : after) {
    auto it = before.find(name);
    out[name] = seconds - (it == before.end() ? 0.0 : it->second);
  }
  return out;
}

}  // namespace stox::bench
