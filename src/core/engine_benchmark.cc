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
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <ctime>
#include <unordered_map>
#include <vector>

#include "common/reason.h"
#include "core/command.h"
#include "core/engine.h"
#include "core/event.h"

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
// PRNG: splitmix64. Small, fast, and fully determined by its seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); 0 < n < 2^63. (Multiply-shift; the bias is below 2^-40.)
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((Int128{next()} * n) >> 64);
  }
  // Uniform in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }

 private:
  std::uint64_t state_;
};

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
// Workloads.
constexpr SeqNo kFirstSeq = 1;
constexpr Timestamp kTimestampStep = 1000;  // ns between commands; the engine ignores it

struct Workload {
  std::string name;
  EngineConfig config;
  std::vector<Command> setup;  // applied untimed before each run (instrument, initial book)
  std::vector<Command> timed;
  std::uint64_t expected_hash = 0;
  std::size_t expected_open_orders = 0;
  std::string notes;  // workload-specific facts measured while generating
};

class StreamBuilder {
 public:
  Command next(const NewOrder& o) { return Command::make(seq_, ts(), o); }
  Command next(const Cancel& o) { return Command::make(seq_, ts(), o); }
  Command next(const Replace& o) { return Command::make(seq_, ts(), o); }
  Command next(const AddInstrument& o) { return Command::make(seq_, ts(), o); }
  Command next(const CreateAccount& o) { return Command::make(seq_, ts(), o); }
  Command deposit(const Transfer& t) { return Command::deposit(seq_, ts(), t); }

 private:
  Timestamp ts() {
    const SeqNo s = seq_++;
    return static_cast<Timestamp>(s) * kTimestampStep;
  }
  SeqNo seq_ = kFirstSeq;
};

AddInstrument bench_instrument(Price reference_price) {
  AddInstrument a{};
  a.symbol = Symbol::from("BENCH");
  a.tick_size = 1;
  a.lot_size = 1;
  a.reference_price = reference_price;
  a.market_band_bps = 0;
  a.price_scale = 0;
  a.quantity_scale = 0;
  return a;
}

NewOrder limit_order(AccountId account, Side side, Price price, Quantity qty, TimeInForce tif) {
  NewOrder o{};
  o.account = account;
  o.instrument = 1;
  o.price = price;
  o.quantity = qty;
  o.side = side;
  o.type = OrderType::kLimit;
  o.time_in_force = tif;
  o.stp = StpMode::kCancelTaker;
  return o;
}

// Counts of what a stream made the engine do (untimed pass only).
struct EventStats {
  std::uint64_t commands = 0;
  std::uint64_t events = 0;
  std::uint64_t commands_with_trades = 0;
  std::array<std::uint64_t, 256> by_type{};  // indexed by EventType
  std::map<RejectReason, std::uint64_t> rejects;
  std::map<CancelReason, std::uint64_t> cancels;

  void add(const std::vector<Event>& out) {
    ++commands;
    events += out.size();
    bool traded = false;
    for (const Event& e : out) {
      ++by_type[static_cast<std::uint8_t>(e.type)];
      if (e.type == EventType::kTrade) traded = true;
      if (e.type == EventType::kRejected) ++rejects[e.rejected.reason];
      if (e.type == EventType::kCancelled) ++cancels[e.cancelled.reason];
    }
    if (traded) ++commands_with_trades;
  }

  std::uint64_t rejected() const { return by_type[static_cast<int>(EventType::kRejected)]; }

  void print(const char* indent) const {
    const auto n = static_cast<double>(commands);
    std::printf("%sevents/command %.2f; commands with a trade %.2f %%; trades %" PRIu64
                "; accepted %" PRIu64 "; replaced %" PRIu64 "; rejected %" PRIu64 "\n",
                indent, static_cast<double>(events) / n, 100.0 * static_cast<double>(commands_with_trades) / n,
                by_type[static_cast<int>(EventType::kTrade)],
                by_type[static_cast<int>(EventType::kAccepted)],
                by_type[static_cast<int>(EventType::kReplaced)], rejected());
    for (const auto& [reason, count] : rejects)
      std::printf("%s  REJECT %-32s %" PRIu64 "\n", indent, std::string(to_string(reason)).c_str(), count);
    for (const auto& [reason, count] : cancels)
      std::printf("%s  cancel %-32s %" PRIu64 "\n", indent, std::string(to_string(reason)).c_str(), count);
  }
};

// --- exchange-core single-book mix ------------------------------------------
//
// One symbol, ~1,000 resting orders spread over several hundred price levels,
// 100 accounts. Timed commands: 9 % new GTC limit, 3 % IOC limit, 6 % cancel,
// 82 % move (a Replace of a random open order's price toward the last trade
// price). Sizes are 1 + r^3 with r uniform in 0..5.
//
// With `ledger` on, the same mix runs in accounts mode: 1,000 accounts are
// created and funded (cash and shares) untimed, the instrument charges a
// taker fee and pays a maker rebate, and every order goes through pre-trade
// risk and every trade through settlement. The per-second and open-order
// limits are raised and the breaker widened so that the stream is accepted
// exactly as in matching-only mode (every check still runs).
EngineConfig ledger_config() {
  EngineConfig c;
  c.accounts = true;
  c.default_max_orders_per_second = 1'000'000'000;
  c.default_max_open_orders = 1'000'000;
  c.default_breaker_bps = 10000;
  return c;
}

class ExchangeCoreGenerator {
 public:
  static constexpr Price kReference = 100'000;
  static constexpr std::size_t kTargetOrders = 1000;
  static constexpr Price kSpread = 1300;  // passive distance of a new GTC order: 1..kSpread ticks
  static constexpr double kCrossAtTarget = 0.03;  // share of moves that cross, at kTargetOrders

  ExchangeCoreGenerator(std::uint64_t seed, AccountId accounts, bool ledger)
      : rng_(seed), engine_(ledger ? ledger_config() : EngineConfig{}), accounts_(accounts),
        ledger_(ledger) {
    out_.reserve(1024);
  }

  Workload generate(std::size_t commands) {
    Workload w;
    w.name = ledger_ ? "ex-core+ledger" : "exchange-core";
    w.config = ledger_ ? ledger_config() : EngineConfig{};
    AddInstrument instrument = bench_instrument(kReference);
    if (ledger_) {
      instrument.taker_fee_bps = 5;
      instrument.maker_fee_bps = -2;
    }
    emit(w.setup, builder_.next(instrument), nullptr);
    if (ledger_) fund_accounts(w.setup);
    while (open_.size() < kTargetOrders)
      emit(w.setup, builder_.next(new_gtc(/*may_cross=*/false)), nullptr);

    EventStats stats;
    std::array<std::uint64_t, 4> mix{};
    double orders_sum = 0;
    double levels_sum = 0;
    std::size_t samples = 0;
    std::size_t levels_min = SIZE_MAX;
    std::size_t levels_max = 0;
    w.timed.reserve(commands);
    for (std::size_t i = 0; i < commands; ++i) {
      const std::uint64_t r = rng_.below(100);
      Command c;
      if (r < 9 || open_.empty()) {
        c = builder_.next(new_gtc(/*may_cross=*/true));
        ++mix[0];
      } else if (r < 12) {
        c = builder_.next(new_ioc());
        ++mix[1];
      } else if (r < 18) {
        c = builder_.next(cancel());
        ++mix[2];
      } else {
        c = builder_.next(move());
        ++mix[3];
      }
      emit(w.timed, c, &stats);
      if (i % 1000 == 0) {
        const std::size_t levels =
            engine_.depth(1, Side::kBuy, SIZE_MAX).size() + engine_.depth(1, Side::kSell, SIZE_MAX).size();
        orders_sum += static_cast<double>(open_.size());
        levels_sum += static_cast<double>(levels);
        levels_min = std::min(levels_min, levels);
        levels_max = std::max(levels_max, levels);
        ++samples;
      }
    }
    w.expected_hash = engine_.state_hash();
    w.expected_open_orders = engine_.open_orders();

    char buf[512];
    const auto n = static_cast<double>(commands);
    std::snprintf(buf, sizeof buf,
                  "mix: GTC %.1f %%, IOC %.1f %%, cancel %.1f %%, move %.1f %%; "
                  "resting orders avg %.0f; price levels avg %.0f (min %zu, max %zu)",
                  100.0 * static_cast<double>(mix[0]) / n, 100.0 * static_cast<double>(mix[1]) / n,
                  100.0 * static_cast<double>(mix[2]) / n, 100.0 * static_cast<double>(mix[3]) / n,
                  orders_sum / static_cast<double>(samples), levels_sum / static_cast<double>(samples),
                  levels_min, levels_max);
    w.notes = buf;
    stats_ = stats;
    return w;
  }

  const EventStats& stats() const { return stats_; }

 private:
  struct Open {
    OrderId id;
    AccountId account;
    Side side;
    Price price;
  };

  // Applies `c` to the generator's engine, appends it to `stream`, and learns
  // ids, fills, closes and the last trade price from the events.
  void emit(std::vector<Command>& stream, const Command& c, EventStats* stats) {
    stream.push_back(c);
    out_.clear();
    engine_.apply(c, out_);
    if (stats != nullptr) stats->add(out_);
    for (const Event& e : out_) {
      switch (e.type) {
        case EventType::kAccepted:
          add_open({e.accepted.order_id, e.accepted.order.account, e.accepted.order.side,
                    e.accepted.order.price});
          break;
        case EventType::kTrade:
          last_ = e.trade.price;
          if (e.trade.maker_leaves == 0) remove_open(e.trade.maker_order);
          if (e.trade.taker_leaves == 0) remove_open(e.trade.taker_order);
          break;
        case EventType::kCancelled:
          remove_open(e.cancelled.order_id);
          break;
        case EventType::kReplaced: {
          auto it = index_.find(e.replaced.order_id);
          if (it != index_.end()) open_[it->second].price = e.replaced.price;
          break;
        }
        default:
          break;
      }
    }
  }

  void add_open(const Open& o) {
    index_[o.id] = open_.size();
    open_.push_back(o);
  }
  void remove_open(OrderId id) {
    auto it = index_.find(id);
    if (it == index_.end()) return;
    const std::size_t i = it->second;
    index_.erase(it);
    if (i != open_.size() - 1) {
      open_[i] = open_.back();
      index_[open_[i].id] = i;
    }
    open_.pop_back();
  }

  Quantity size() {
    const std::int64_t r = rng_.between(0, 5);
    return 1 + r * r * r;
  }
  Side side() { return rng_.below(2) == 0 ? Side::kBuy : Side::kSell; }
  AccountId account() { return static_cast<AccountId>(1 + rng_.below(accounts_)); }
  // The price `distance` ticks on the passive side of the last trade price
  // (negative: through it).
  Price at_distance(Side s, Price distance) const {
    const Price p = s == Side::kBuy ? last_ - distance : last_ + distance;
    return std::max<Price>(p, 1);
  }

  NewOrder new_gtc(bool may_cross) {
    const Side s = side();
    // Mostly passive, spread over kSpread ticks; a few cross by up to 2 ticks.
    const Price d = (may_cross && rng_.below(100) < 5) ? rng_.between(-2, 0) : rng_.between(1, kSpread);
    return limit_order(account(), s, at_distance(s, d), size(), TimeInForce::kGtc);
  }
  NewOrder new_ioc() {
    const Side s = side();
    return limit_order(account(), s, at_distance(s, -rng_.between(1, 8)), size(), TimeInForce::kIoc);
  }
  Cancel cancel() {
    const Open& o = open_[rng_.below(open_.size())];
    return Cancel{o.account, o.id};
  }
  // Moves a random open order toward the last trade price. Usually a passive
  // step of up to 1/8 of its distance (never reaching the last price); with
  // probability cross_probability() it goes through the last price by 0..3
  // ticks and trades like an incoming order. That probability grows with the
  // cube of (open orders / target), which holds the book near kTargetOrders.
  Replace move() {
    const Open& o = open_[rng_.below(open_.size())];
    const Price distance = o.side == Side::kBuy ? last_ - o.price : o.price - last_;
    Price d;
    if (rng_.below(1'000'000) < cross_ppm()) {
      d = -rng_.between(0, 3);
    } else if (distance > 1) {
      d = distance - rng_.between(1, std::max<Price>(1, distance / 8));
    } else {
      d = rng_.between(1, 4);  // at or through the last price: step back
    }
    Price price = at_distance(o.side, d);
    if (price == o.price) price = o.side == Side::kBuy ? o.price - 1 : o.price + 1;
    Replace r{};
    r.account = o.account;
    r.order_id = o.id;
    r.price = std::max<Price>(price, 1);
    return r;
  }
  std::uint64_t cross_ppm() const {
    const double x = static_cast<double>(open_.size()) / static_cast<double>(kTargetOrders);
    return static_cast<std::uint64_t>(std::min(1.0, kCrossAtTarget * x * x * x) * 1e6);
  }

  void fund_accounts(std::vector<Command>& setup) {
    for (AccountId a = 1; a <= accounts_; ++a) {
      CreateAccount c{};
      c.label = FixedString<16>::from("bench");
      c.type = AccountType::kCash;
      emit(setup, builder_.next(c), nullptr);
      emit(setup, builder_.deposit(Transfer{a, kCashAsset, 1'000'000'000'000'000}), nullptr);
      emit(setup, builder_.deposit(Transfer{a, 1, 100'000'000}), nullptr);
    }
  }

  Rng rng_;
  Engine engine_;
  AccountId accounts_;
  bool ledger_;
  StreamBuilder builder_;
  std::vector<Event> out_;
  std::vector<Open> open_;
  std::unordered_map<OrderId, std::size_t> index_;
  Price last_ = kReference;
  EventStats stats_;
};

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
    ExchangeCoreGenerator gen(opt.seed, 100, /*ledger=*/false);
    Workload w = gen.generate(opt.commands);
    std::printf("  generated in %.1f s; %s\n", seconds_since(start), w.notes.c_str());
    gen.stats().print("  ");
    results.push_back(measure(w, opt.runs, cal));
  }
  if (all || opt.workload == "ledger") {
    std::printf("exchange-core with accounts, risk and ledger (1,000 funded accounts): generating...\n");
    std::fflush(stdout);
    ExchangeCoreGenerator gen(opt.seed, 1000, /*ledger=*/true);
    Workload with_ledger = gen.generate(opt.commands);
    std::printf("  %s\n", with_ledger.notes.c_str());
    gen.stats().print("  ");
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
