// engine_benchmark: throughput, latency and memory of one Engine on one thread.
//
// Method (docs/benchmarks.md has the figures and how to read them):
//  - Every command stream is generated in full before any clock starts, with
//    a seeded PRNG, so a run measures Engine::apply() and nothing else. The
//    events vector is reserved once and cleared before each command.
//  - Order ids are assigned by the engine, so a generator that cancels or
//    moves "an existing order" must know them. The exchange-core generator
//    therefore drives a real engine while it generates and learns ids, fills
//    and the last trade price from its events. Because the engine is a pure
//    function of its commands, replaying the same stream into a fresh engine
//    repeats exactly the same work; every timed run checks this by comparing
//    state_hash() with the generator's.
//  - Throughput runs time the whole stream with steady_clock (no per-command
//    timer). Latency runs are separate passes that read the TSC (lfence;
//    rdtsc) between consecutive commands, record the difference minus the
//    measured cost of one timer read in a log-linear histogram, and convert
//    to nanoseconds with a TSC rate calibrated against steady_clock.
//  - Memory is the growth of VmRSS (/proc/self/status) from before the engine
//    is constructed to after the last order rests, divided by the number of
//    resting orders: it counts everything the engine touched (pools, indexes,
//    levels), not just the order records.
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <ctime>
#include <vector>

#include "core/command.h"
#include "core/engine.h"
#include "core/event.h"
#include "core/testing/exchange_core.h"

namespace stox {
namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// CPU time of this thread. On a shared machine the wall clock also counts the
// time other processes held the core; the thread's CPU time does not.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Times this thread was preempted (involuntary context switches) and page
// faults it took (first touches of new memory, mostly), so far.
struct Disturbances {
  long preempted = 0;
  long page_faults = 0;
};
Disturbances disturbances() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return {u.ru_nivcsw, u.ru_minflt + u.ru_majflt};
}

// ---------------------------------------------------------------------------
// Timer: the TSC, read between lfences so the read neither starts before the
// previous command has finished nor lets the next one start early. The CPU
// must have an invariant TSC (constant_tsc/nonstop_tsc in /proc/cpuinfo).
inline std::uint64_t tsc_now() {
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}

struct TscCalibration {
  double ns_per_tick = 0;
  std::uint64_t overhead_ticks = 0;  // median cost of one tsc_now(), subtracted from samples
};

TscCalibration calibrate_tsc() {
  TscCalibration cal;
  // Rate: ticks per steady_clock nanosecond over ~200 ms.
  const auto c0 = SteadyClock::now();
  const std::uint64_t t0 = tsc_now();
  while (seconds_since(c0) < 0.2) {
  }
  const auto c1 = SteadyClock::now();
  const std::uint64_t t1 = tsc_now();
  const double ns = std::chrono::duration<double, std::nano>(c1 - c0).count();
  cal.ns_per_tick = ns / static_cast<double>(t1 - t0);
  // Overhead: back-to-back reads.
  std::vector<std::uint64_t> d(100000);
  for (auto& x : d) {
    const std::uint64_t a = tsc_now();
    x = tsc_now() - a;
  }
  const auto mid = static_cast<std::ptrdiff_t>(d.size() / 2);
  std::nth_element(d.begin(), d.begin() + mid, d.end());
  cal.overhead_ticks = d[d.size() / 2];
  return cal;
}

// ---------------------------------------------------------------------------
// Log-linear histogram of non-negative integers (TSC ticks). Values below 64
// have a bucket each; above, every power of two is split into 32 buckets, so
// a bucket's width is at most 1/32 (3 %) of its values. Max is exact.
class Histogram {
 public:
  static constexpr int kLinear = 64;
  static constexpr int kSubBits = 5;  // 32 buckets per power of two
  static constexpr int kBuckets = kLinear + 64 * (1 << kSubBits);

  Histogram() : counts_(kBuckets, 0) {}

  void record(std::uint64_t v) {
    ++counts_[index(v)];
    ++total_;
    max_ = std::max(max_, v);
  }
  void merge(const Histogram& o) {
    for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    max_ = std::max(max_, o.max_);
  }
  std::uint64_t count() const { return total_; }
  std::uint64_t max() const { return max_; }

  // The upper bound of the bucket holding the q-quantile (0 < q <= 1).
  std::uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank || seen == total_) return std::min(upper(i), max_);
    }
    return max_;
  }

 private:
  static int index(std::uint64_t v) {
    if (v < kLinear) return static_cast<int>(v);
    const int msb = 63 - __builtin_clzll(v);          // >= 6
    const int shift = msb - kSubBits;                  // v >> shift in [32, 64)
    const int sub = static_cast<int>(v >> shift) - (1 << kSubBits);
    return kLinear + (shift - 1) * (1 << kSubBits) + sub;
  }
  static std::uint64_t upper(int i) {
    if (i < kLinear) return static_cast<std::uint64_t>(i);
    const int shift = (i - kLinear) / (1 << kSubBits) + 1;
    const int sub = (i - kLinear) % (1 << kSubBits);
    return ((static_cast<std::uint64_t>(sub + (1 << kSubBits)) + 1) << shift) - 1;
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

// ---------------------------------------------------------------------------
// Machine facts and memory.
std::string cpuinfo_field(const char* key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "?";
}

int cpuinfo_processors() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  int n = 0;
  while (std::getline(in, line))
    if (line.rfind("processor", 0) == 0) ++n;
  return n;
}

// Resident set size in bytes, from /proc/self/status VmRSS.
std::int64_t vm_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return -1;
}

void print_machine() {
  utsname u{};
  uname(&u);
  std::printf("machine: %s, %d logical CPUs, %s MHz, cache %s\n",
              cpuinfo_field("model name").c_str(), cpuinfo_processors(),
              cpuinfo_field("cpu MHz").c_str(), cpuinfo_field("cache size").c_str());
  std::printf("kernel:  %s %s; compiler: %s%s\n", u.sysname, u.release, __VERSION__,
#ifdef NDEBUG
              " (NDEBUG)"
#else
              " (assertions ON: not a release build)"
#endif
  );
}

// ---------------------------------------------------------------------------
// Workloads. The exchange-core mix, the PRNG and the command helpers are in
// core/testing/exchange_core.h, shared with recovery_benchmark.
using testing::bench_instrument;
using testing::EventStats;
using testing::limit_order;
using testing::Rng;
using testing::StreamBuilder;
using testing::Workload;

// --- Liquibook-style insert-only ---------------------------------------------
//
// Limit GTC only: buys at 1880..1889, sells at 1884..1893 (so they overlap
// and trade), quantity 100..1000, 10,000 accounts. Nothing is ever cancelled:
// the book keeps growing at the prices that never cross.
Workload liquibook_workload(std::uint64_t seed, std::size_t commands) {
  Rng rng(seed);
  StreamBuilder b;
  Workload w;
  w.name = "liquibook";
  w.config = EngineConfig{};
  w.config.expected_orders = commands + 16;  // the book may keep most of them
  w.setup.push_back(b.next(bench_instrument(1886)));
  w.timed.reserve(commands);
  for (std::size_t i = 0; i < commands; ++i) {
    const Side s = rng.below(2) == 0 ? Side::kBuy : Side::kSell;
    const Price price = s == Side::kBuy ? rng.between(1880, 1889) : rng.between(1884, 1893);
    const auto account = static_cast<AccountId>(rng.between(1, 10'000));
    w.timed.push_back(b.next(limit_order(account, s, price, rng.between(100, 1000), TimeInForce::kGtc)));
  }
  return w;
}

// ---------------------------------------------------------------------------
// Runs.
void apply_all(Engine& engine, const std::vector<Command>& stream, std::vector<Event>& out) {
  for (const Command& c : stream) {
    out.clear();
    engine.apply(c, out);
  }
}

// Untimed pass that records what the stream does; sets the expected hash.
EventStats profile(Workload& w) {
  Engine engine(w.config);
  std::vector<Event> out;
  out.reserve(1024);
  apply_all(engine, w.setup, out);
  EventStats stats;
  for (const Command& c : w.timed) {
    out.clear();
    engine.apply(c, out);
    stats.add(out);
  }
  w.expected_hash = engine.state_hash();
  w.expected_open_orders = engine.open_orders();
  return stats;
}

bool check_replay(const Workload& w, const Engine& engine) {
  if (engine.state_hash() == w.expected_hash && engine.open_orders() == w.expected_open_orders)
    return true;
  std::printf("  !! replay diverged: state_hash %016" PRIx64 " vs %016" PRIx64 ", open %zu vs %zu\n",
              engine.state_hash(), w.expected_hash, engine.open_orders(), w.expected_open_orders);
  return false;
}

struct Throughput {
  double wall = 0;  // commands per wall-clock second
  double cpu = 0;   // commands per second of this thread's CPU time
  Disturbances during;
};

// Commands per second over the timed stream, without per-command timers.
Throughput run_throughput(const Workload& w, bool* ok) {
  Engine engine(w.config);
  std::vector<Event> out;
  out.reserve(1024);
  apply_all(engine, w.setup, out);
  const Disturbances d0 = disturbances();
  const double cpu0 = thread_cpu_seconds();
  const auto start = SteadyClock::now();
  apply_all(engine, w.timed, out);
  const double wall = seconds_since(start);
  const double cpu = thread_cpu_seconds() - cpu0;
  Throughput t;
  t.wall = static_cast<double>(w.timed.size()) / wall;
  t.cpu = static_cast<double>(w.timed.size()) / cpu;
  const Disturbances d1 = disturbances();
  t.during = {d1.preempted - d0.preempted, d1.page_faults - d0.page_faults};
  *ok = check_replay(w, engine) && *ok;
  return t;
}

// One TSC-timed pass; each sample is the time between consecutive timer reads
// (one apply() plus out.clear() and the loop) minus one timer read.
void run_latency(const Workload& w, const TscCalibration& cal, Histogram& hist, bool* ok) {
  Engine engine(w.config);
  std::vector<Event> out;
  out.reserve(1024);
  apply_all(engine, w.setup, out);
  std::uint64_t prev = tsc_now();
  for (const Command& c : w.timed) {
    out.clear();
    engine.apply(c, out);
    const std::uint64_t now = tsc_now();
    const std::uint64_t d = now - prev;
    hist.record(d > cal.overhead_ticks ? d - cal.overhead_ticks : 0);
    prev = now;
  }
  *ok = check_replay(w, engine) && *ok;
}

struct Result {
  std::string name;
  std::size_t commands = 0;
  int runs = 0;
  double median = 0, min = 0, max = 0;  // commands/s, wall clock
  double cpu_median = 0;                 // commands/s of thread CPU time
  double p50 = 0, p99 = 0, p999 = 0, pmax = 0;  // ns
  bool ok = true;
};

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Result measure(const Workload& w, int runs, const TscCalibration& cal) {
  Result r;
  r.name = w.name;
  r.commands = w.timed.size();
  r.runs = runs;
  std::vector<double> rates;
  std::vector<double> cpu_rates;
  Histogram hist;
  for (int i = 0; i < runs; ++i) {
    const Throughput t = run_throughput(w, &r.ok);
    rates.push_back(t.wall);
    cpu_rates.push_back(t.cpu);
    run_latency(w, cal, hist, &r.ok);
    std::printf("  run %d: %.2f M commands/s wall clock, %.2f M/s of CPU time; preempted %ld times,"
                " %ld page faults\n",
                i + 1, t.wall / 1e6, t.cpu / 1e6, t.during.preempted, t.during.page_faults);
    std::fflush(stdout);
  }
  r.median = median_of(rates);
  r.cpu_median = median_of(cpu_rates);
  r.min = *std::min_element(rates.begin(), rates.end());
  r.max = *std::max_element(rates.begin(), rates.end());
  const auto ns = [&](std::uint64_t ticks) { return static_cast<double>(ticks) * cal.ns_per_tick; };
  r.p50 = ns(hist.quantile(0.50));
  r.p99 = ns(hist.quantile(0.99));
  r.p999 = ns(hist.quantile(0.999));
  r.pmax = ns(hist.max());
  return r;
}

// --- memory: many non-crossing resting orders -------------------------------
struct MemoryResult {
  std::size_t orders = 0;
  double bytes_per_order = 0;        // RSS growth from before engine construction
  double bytes_per_order_after_ctor = 0;  // RSS growth during the inserts only
  double seconds = 0;
  bool ok = true;
};

MemoryResult run_memory(std::uint64_t seed, std::size_t orders) {
  MemoryResult m;
  m.orders = orders;
  Rng rng(seed);
  StreamBuilder b;
  std::vector<Event> out;
  out.reserve(1024);
  EngineConfig config;
  config.expected_orders = orders;

  const std::int64_t rss0 = vm_rss_bytes();
  Engine engine(config);
  engine.apply(b.next(bench_instrument(100'000)), out);
  const std::int64_t rss1 = vm_rss_bytes();

  // Buys at 95,000..99,999 and sells at 100,001..105,000: 10,000 levels that
  // never cross. Commands are made on the fly (a 1 GB pre-generated stream
  // would distort the RSS figure); making one costs a few ns.
  std::uint64_t rejected = 0;
  std::uint64_t traded = 0;
  const auto start = SteadyClock::now();
  for (std::size_t i = 0; i < orders; ++i) {
    const Side s = rng.below(2) == 0 ? Side::kBuy : Side::kSell;
    const Price price = s == Side::kBuy ? rng.between(95'000, 99'999) : rng.between(100'001, 105'000);
    const auto account = static_cast<AccountId>(rng.between(1, 100'000));
    out.clear();
    engine.apply(b.next(limit_order(account, s, price, rng.between(1, 1000), TimeInForce::kGtc)), out);
    for (const Event& e : out) {
      rejected += e.type == EventType::kRejected;
      traded += e.type == EventType::kTrade;
    }
  }
  m.seconds = seconds_since(start);
  const std::int64_t rss2 = vm_rss_bytes();
  m.bytes_per_order = static_cast<double>(rss2 - rss0) / static_cast<double>(orders);
  m.bytes_per_order_after_ctor = static_cast<double>(rss2 - rss1) / static_cast<double>(orders);
  std::printf("  RSS before engine %.1f MB, after construction %.1f MB, after inserts %.1f MB\n",
              static_cast<double>(rss0) / 1e6, static_cast<double>(rss1) / 1e6,
              static_cast<double>(rss2) / 1e6);
  if (rejected != 0 || traded != 0 || engine.open_orders() != orders) {
    std::printf("  !! expected %zu resting orders, got %zu (rejected %" PRIu64 ", trades %" PRIu64 ")\n",
                orders, engine.open_orders(), rejected, traded);
    m.ok = false;
  }
  return m;
}

// ---------------------------------------------------------------------------
struct Options {
  std::string workload = "all";
  int runs = 5;
  std::size_t commands = 3'000'000;
  std::size_t orders = 10'000'000;
  std::uint64_t seed = 42;
};

[[noreturn]] void usage(int code) {
  std::printf(
      "usage: engine_benchmark [--workload exchange-core|ledger|liquibook|memory|all] [--runs N]\n"
      "                        [--commands N] [--orders N] [--seed N]\n"
      "  --workload  which benchmark (default all)\n"
      "  --runs      timed runs per workload; figures are medians (default 5)\n"
      "  --commands  timed commands per run (default 3000000)\n"
      "  --orders    resting orders for the memory benchmark (default 10000000)\n"
      "  --seed      PRNG seed (default 42)\n");
  std::exit(code);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string value;
    const auto eq = arg.find('=');
    if (eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
    } else if (arg != "--help" && arg != "-h") {
      if (i + 1 >= argc) usage(2);
      value = argv[++i];
    }
    const auto number = [&]() -> std::uint64_t {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0') usage(2);
      return v;
    };
    if (arg == "--help" || arg == "-h") usage(0);
    else if (arg == "--workload") o.workload = value;
    else if (arg == "--runs") o.runs = static_cast<int>(std::max<std::uint64_t>(1, number()));
    else if (arg == "--commands") o.commands = std::max<std::uint64_t>(1, number());
    else if (arg == "--orders") o.orders = std::max<std::uint64_t>(1, number());
    else if (arg == "--seed") o.seed = number();
    else usage(2);
  }
  if (o.workload != "all" && o.workload != "exchange-core" && o.workload != "liquibook" &&
      o.workload != "memory" && o.workload != "ledger")
    usage(2);
  return o;
}

int run(const Options& opt) {
  print_machine();
  const TscCalibration cal = calibrate_tsc();
  std::printf("timer:   TSC (lfence; rdtsc), %.4f ns/tick (%.3f GHz) calibrated against steady_clock;"
              " one read costs %" PRIu64 " ticks = %.1f ns, subtracted from every sample\n\n",
              cal.ns_per_tick, 1.0 / cal.ns_per_tick, cal.overhead_ticks,
              static_cast<double>(cal.overhead_ticks) * cal.ns_per_tick);

  const bool all = opt.workload == "all";
  std::vector<Result> results;
  bool ok = true;
  // Memory first: later workloads leave freed heap behind that the engine
  // would reuse without growing the RSS, which would flatter the figure.
  if (all || opt.workload == "memory") {
    std::printf("memory: inserting %zu non-crossing resting orders...\n", opt.orders);
    std::fflush(stdout);
    const MemoryResult m = run_memory(opt.seed, opt.orders);
    std::printf("%-14s %10s | %16s %16s | %9s %9s\n", "memory", "orders", "bytes/order",
                "(after ctor)", "insert s", "ns/order");
    std::printf("%-14s %10zu | %16.1f %16.1f | %9.2f %9.1f\n", "", m.orders, m.bytes_per_order,
                m.bytes_per_order_after_ctor, m.seconds,
                m.seconds * 1e9 / static_cast<double>(m.orders));
    std::printf("\n");
    ok = ok && m.ok;
  }
  if (all || opt.workload == "exchange-core") {
    std::printf("exchange-core: generating %zu commands...\n", opt.commands);
    std::fflush(stdout);
    const auto start = SteadyClock::now();
    EventStats stats;
    Workload w = testing::exchange_core_workload(opt.seed, opt.commands, {}, &stats);
    std::printf("  generated in %.1f s; %s\n", seconds_since(start), w.notes.c_str());
    stats.print("  ");
    results.push_back(measure(w, opt.runs, cal));
  }
  if (all || opt.workload == "ledger") {
    std::printf("exchange-core with accounts, risk and ledger (1,000 funded accounts): generating...\n");
    std::fflush(stdout);
    EventStats stats;
    Workload with_ledger =
        testing::exchange_core_workload(opt.seed, opt.commands, {.accounts = 1000, .ledger = true}, &stats);
    std::printf("  %s\n", with_ledger.notes.c_str());
    stats.print("  ");
    // The identical command stream in matching-only mode, for the ratio.
    Workload matching_only = with_ledger;
    matching_only.name = "same, matching";
    matching_only.config.accounts = false;
    profile(matching_only);
    for (int round = 0; round < 2; ++round) {  // interleaved, so both see the same noise
      results.push_back(measure(matching_only, (opt.runs + 1) / 2, cal));
      results.push_back(measure(with_ledger, (opt.runs + 1) / 2, cal));
    }
  }
  if (all || opt.workload == "liquibook") {
    std::printf("liquibook: generating %zu commands...\n", opt.commands);
    std::fflush(stdout);
    Workload w = liquibook_workload(opt.seed, opt.commands);
    const EventStats stats = profile(w);
    std::printf("  resting orders at the end: %zu\n", w.expected_open_orders);
    stats.print("  ");
    results.push_back(measure(w, opt.runs, cal));
  }
  for (const Result& r : results) ok = ok && r.ok;

  if (!results.empty()) {
    std::printf("\n%-14s %10s %5s | %8s %8s %8s %8s | %8s %8s %8s %10s\n", "workload", "commands", "runs",
                "Mcmd/s", "min", "max", "cpu", "p50 ns", "p99 ns", "p99.9 ns", "max ns");
    for (const Result& r : results)
      std::printf("%-14s %10zu %5d | %8.2f %8.2f %8.2f %8.2f | %8.0f %8.0f %8.0f %10.0f%s\n", r.name.c_str(),
                  r.commands, r.runs, r.median / 1e6, r.min / 1e6, r.max / 1e6, r.cpu_median / 1e6, r.p50,
                  r.p99, r.p999, r.pmax, r.ok ? "" : "  (REPLAY MISMATCH)");
    std::printf("Mcmd/s: median (min, max) over the runs timed as a whole by steady_clock; cpu: median of\n"
                "commands per second of the thread's CPU time (what the wall figure would be with the core\n"
                "to itself). Latency: TSC-timed runs, all samples pooled; bucket upper bounds, +-3 %%.\n");
  }

  return ok ? 0 : 1;
}

}  // namespace
}  // namespace stox

int main(int argc, char** argv) { return stox::run(stox::parse(argc, argv)); }
