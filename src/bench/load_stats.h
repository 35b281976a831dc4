// Figures for the server load generator (src/bench/loadgen.cc): latency
// percentiles over every sample, and CPU time per thread so a run on a
// 2-core machine shows how the cores were split between the server and the
// load generator that shares them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stox::bench {

// Exact percentiles: every sample is kept and sorted (a 10 s run at
// 100 k requests/s is 1 M samples, 8 MB, sorted in well under a second).
struct LatencySummary {
  std::size_t count = 0;
  std::int64_t p50 = 0;  // nanoseconds; all 0 when count == 0
  std::int64_t p99 = 0;
  std::int64_t p999 = 0;
  std::int64_t max = 0;
};

// Sorts `samples` in place. The p-th percentile is the smallest sample with
// at least p % of the samples at or below it (nearest rank).
LatencySummary summarize(std::vector<std::int64_t>& samples);

// "850µs", "12.3ms", "2.41s": three significant figures at most.
std::string format_duration(std::int64_t ns);

// CPU seconds (user + system) used so far by this process's threads,
// summed by thread name (/proc/self/task/*/stat). Threads that have exited
// are not counted.
using CpuByThread = std::map<std::string, double>;
CpuByThread cpu_by_thread();

// after - before, per name (a name absent before counts from 0).
CpuByThread cpu_delta(const CpuByThread& before, const CpuByThread& after);

}  // namespace stox::bench
