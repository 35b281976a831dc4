// Recovery benchmark: how fast a data directory comes back.
//
// Generates (sync mode none: the benchmark measures reading, not fsync) a
// data directory in matching-only mode with 10 instruments: 1 M resting
// limit orders that never cross (bids below the reference price, asks
// above), a snapshot, then a mix up to --commands in total (45 % new resting
// orders, 45 % cancels of random live orders, 10 % IOC orders that trade at
// the touch), keeping about 1 M orders resting, and a second snapshot at the
// end. Then it times, each on a cold engine but a warm page cache:
//   - full replay: recover() of the journal alone (no snapshot), in commands/s;
//   - restart from the last snapshot (1 M resting orders, nothing to replay
//     but the whole journal is still read and checked);
//   - restart from the first snapshot with ~9 M commands to replay;
//   - the snapshot write (encode + file + fsync) and its size;
//   - for comparison, the journal check alone and the engine alone.
// Last, on a separate data dir, the replay of engine_benchmark's own
// workload (the exchange-core mix, --xc-commands timed commands; see
// time_exchange_core), beside the engine applying it from memory.
//
//   recovery_benchmark [--dir DIR] [--commands N] [--resting N] [--keep] [--reuse]
//                      [--only LINE] [--runs N] [--xc-commands N]
//
// --keep leaves the data directories behind; --reuse (implies --keep) skips
// the generation when DIR holds one generated with the same options (not for
// the exchange-core line, whose journal is always written afresh). --only
// exchange-core runs that line alone, without the 1 M-order data dir.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/testing/exchange_core.h"
#include "journal/batch_reader.h"
#include "journal/reader.h"
#include "store/durable_engine.h"
#include "store/layout.h"
#include "store/recovery.h"
#include "store/replay.h"
#include "store/snapshot_file.h"

namespace stox::store {
namespace {

namespace fs = std::filesystem;
using Clock_ = std::chrono::steady_clock;

constexpr int kInstruments = 10;
// Timed runs of the cheap lines (they print the median); --runs.
int kRuns = 3;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
constexpr Price kReference = 1'000'000;

struct Options {
  std::string dir = (fs::temp_directory_path() / "stox-recovery-bench").string();
  std::uint64_t commands = 10'000'000;
  std::uint64_t resting = 1'000'000;
  bool keep = false;
  bool reuse = false;  // keep a data directory generated before (with --keep)
  std::string only;    // one line (read, engine, replay, restore, exchange-core, ...); empty: all
  std::size_t xc_commands = 3'000'000;  // timed commands of the exchange-core line
};

double seconds_since(Clock_::time_point t0) {
  return std::chrono::duration<double>(Clock_::now() - t0).count();
}

EngineConfig bench_config(std::uint64_t resting) {
  EngineConfig c;
  c.expected_orders = static_cast<std::size_t>(resting + resting / 4);
  return c;
}

// A deterministic workload: xorshift64*, live order ids learned from events.
class Workload {
 public:
  static Command instrument(int i) {
    AddInstrument a{};
    char symbol[8];
    std::snprintf(symbol, sizeof symbol, "S%d", i);
    a.symbol = Symbol::from(symbol);
    a.tick_size = 1;
    a.lot_size = 1;
    a.reference_price = kReference;
    return Command::make(0, 0, a);
  }

  Command resting_order() {
    NewOrder o = order(rand() % 2 ? Side::kBuy : Side::kSell, TimeInForce::kGtc);
    const Price away = 1 + static_cast<Price>(rand() % 1000);
    o.price = o.side == Side::kBuy ? kReference - away : kReference + away;
    return Command::make(0, 0, o);
  }

  Command mixed() {
    const std::uint64_t r = rand() % 100;
    if (r < 45 || live_.empty()) return resting_order();
    if (r < 90) {
      const std::size_t i = rand() % live_.size();
      const Cancel c{live_[i].account, live_[i].id};
      live_[i] = live_.back();
      live_.pop_back();
      return Command::make(0, 0, c);
    }
    NewOrder o = order(rand() % 2 ? Side::kBuy : Side::kSell, TimeInForce::kIoc);
    o.price = o.side == Side::kBuy ? kReference + 1000 : kReference - 1000;
    o.quantity = 1 + static_cast<Quantity>(rand() % 3);
    return Command::make(0, 0, o);
  }

  void observe(const std::vector<Event>& events) {
    for (const Event& e : events) {
      if (e.type == EventType::kAccepted && e.accepted.order.time_in_force == TimeInForce::kGtc) {
        live_.push_back({e.accepted.order_id, e.accepted.order.account});
      }
    }
  }

 private:
  struct Live {
    OrderId id;
    AccountId account;
  };

  std::uint64_t rand() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }

  NewOrder order(Side side, TimeInForce tif) {
    NewOrder o{};
    o.account = static_cast<AccountId>(1 + rand() % 1000);
    o.instrument = static_cast<InstrumentId>(1 + rand() % kInstruments);
    o.quantity = 1 + static_cast<Quantity>(rand() % 100);
    o.side = side;
    o.type = OrderType::kLimit;
    o.time_in_force = tif;
    return o;
  }

  std::uint64_t state_ = 0x9E3779B97F4A7C15ull;
  std::vector<Live> live_;
};

struct Generated {
  double snapshot_seconds = 0;
  std::uint64_t snapshot_bytes = 0;
  std::size_t snapshot_orders = 0;
  std::uint64_t final_hash = 0;
  SeqNo first_snapshot_seq = 0;
};

void die(const Status& s, const char* what) {
  std::fprintf(stderr, "recovery_benchmark: %s: %s\n", what, s.to_string().c_str());
  std::exit(1);
}

// Submits through the DurableEngine and feeds the events back.
class Generator {
 public:
  Generator(DurableEngine& ex, Workload& w) : ex_(ex), w_(w) {}
  void submit(const Command& c) {
    Result<SeqNo> seq = ex_.submit(c);
    if (!seq.ok()) die(seq.status(), "submit");
    if (ex_.pending() >= 256) commit();
  }
  void commit() {
    events_.clear();
    Result<SeqNo> r = ex_.commit(&events_);
    if (!r.ok()) die(r.status(), "commit");
    w_.observe(events_);
  }

 private:
  DurableEngine& ex_;
  Workload& w_;
  std::vector<Event> events_;
};

Generated generate(const Options& o) {
  DurableOptions options;
  options.journal.sync = journal::SyncMode::kNone;
  Timestamp now = 1'700'000'000'000'000'000;
  auto ex = DurableEngine::open(*journal::posix_env(), o.dir, bench_config(o.resting),
                                [&now] { return now += 1000; }, options);
  if (!ex.ok()) die(ex.status(), "open");
  Workload w;
  Generator g(**ex, w);
  for (int i = 1; i <= kInstruments; ++i) g.submit(Workload::instrument(i));
  while ((*ex)->engine().open_orders() + (*ex)->pending() < o.resting) g.submit(w.resting_order());
  g.commit();
  Generated out;
  auto t0 = Clock_::now();
  Result<std::string> path = (*ex)->snapshot_now();
  out.snapshot_seconds = seconds_since(t0);
  if (!path.ok()) die(path.status(), "snapshot");
  (void)journal::posix_env()->file_size(*path, &out.snapshot_bytes);
  out.snapshot_orders = (*ex)->engine().open_orders();
  out.first_snapshot_seq = (*ex)->committed_seq();
  while ((*ex)->last_seq() < o.commands) g.submit(w.mixed());
  g.commit();
  out.final_hash = (*ex)->engine().state_hash();
  std::printf("generated %llu commands, %zu orders resting at the end\n",
              static_cast<unsigned long long>((*ex)->committed_seq()), (*ex)->engine().open_orders());
  return out;
}

// recover() timed; checks that it reached the generator's final state.
double time_recover(const std::string& dir, const Options& o, const Generated& g, const char* what) {
  auto t0 = Clock_::now();
  Result<Recovered> r = recover(*journal::posix_env(), dir, bench_config(o.resting));
  const double s = seconds_since(t0);
  if (!r.ok()) die(r.status(), what);
  if (r->engine->state_hash() != g.final_hash) {
    std::fprintf(stderr, "recovery_benchmark: %s: state hash differs from the generator's\n", what);
    std::exit(1);
  }
  std::printf("%-44s %7.3f s  (%llu commands replayed, %.2f M commands/s; snapshot seq %llu)\n", what,
              s, static_cast<unsigned long long>(r->replayed), static_cast<double>(r->replayed) / s / 1e6,
              static_cast<unsigned long long>(r->snapshot_seq));
  return s;
}

// A data dir with the same journal (hard links) and only the given snapshots.
std::string view_with(const Options& o, const std::string& name, const std::vector<SeqNo>& snaps) {
  std::string dir = o.dir + "-" + name;
  fs::remove_all(dir);
  fs::create_directories(journal_dir(dir));
  fs::create_directories(snapshot_dir(dir));
  for (const auto& e : fs::directory_iterator(journal_dir(o.dir))) {
    fs::create_hard_link(e.path(), journal_dir(dir) + "/" + e.path().filename().string());
  }
  for (SeqNo seq : snaps) {
    fs::create_hard_link(snapshot_dir(o.dir) + "/" + snapshot_name(seq),
                         snapshot_dir(dir) + "/" + snapshot_name(seq));
  }
  return dir;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Applies every command, with Engine::prefetch of up to 64 commands ahead
// before each if asked (what replay_journal does within a batch).
void apply_commands(Engine& engine, std::span<const Command> all, bool prefetch,
                    std::vector<Event>& events) {
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (prefetch) engine.prefetch(all.subspan(i, std::min<std::size_t>(64, all.size() - i)));
    engine.apply(all[i], events);
    events.clear();
  }
}

// The engine alone: the same commands from memory, for comparison.
void time_engine_only(const Options& o, const Generated& g, bool plain, bool prefetched) {
  std::vector<Command> commands;
  commands.reserve(static_cast<std::size_t>(o.commands));
  auto reader = journal::JournalReader::open(journal::posix_env(), journal_dir(o.dir), 0);
  if (!reader.ok()) die(reader.status(), "reader");
  Command c;
  for (;;) {
    Result<bool> more = (*reader)->next(&c);
    if (!more.ok()) die(more.status(), "read");
    if (!*more) break;
    commands.push_back(c);
  }
  // The variants alternate run by run, so that a noisy neighbour hurts both.
  std::vector<double> runs[2];
  std::vector<double> cpu[2];
  for (int run = 0; run < kRuns; ++run) {
    for (const bool prefetch : {false, true}) {
      if (prefetch ? !prefetched : !plain) continue;
      Engine engine(bench_config(o.resting));
      std::vector<Event> events;
      auto t0 = Clock_::now();
      const double c0 = thread_cpu_seconds();
      apply_commands(engine, commands, prefetch, events);
      cpu[prefetch].push_back(thread_cpu_seconds() - c0);
      runs[prefetch].push_back(seconds_since(t0));
      if (engine.state_hash() != g.final_hash) die(Status::Corruption("hash"), "engine only");
    }
  }
  for (const bool prefetch : {false, true}) {
    if (runs[prefetch].empty()) continue;
    const double s = median(runs[prefetch]);
    std::printf("%-44s %7.3f s  (%.2f M commands/s; cpu %.3f s; median of %d)\n",
                prefetch ? "engine apply + prefetch, commands in memory"
                         : "engine apply only, commands in memory",
                s, static_cast<double>(commands.size()) / s / 1e6, median(cpu[prefetch]), kRuns);
  }
}

// The BatchReader alone (reading, checking, decoding on its thread; this
// thread only takes the batches).
void time_pipelined_read(const Options& o) {
  std::vector<double> runs;
  std::uint64_t n = 0;
  for (int run = 0; run < kRuns; ++run) {
    auto t0 = Clock_::now();
    auto reader = journal::BatchReader::open(journal::posix_env(), journal_dir(o.dir), 0);
    if (!reader.ok()) die(reader.status(), "batch reader");
    n = 0;
    for (;;) {
      Result<std::span<const Command>> batch = (*reader)->next();
      if (!batch.ok()) die(batch.status(), "batch reader");
      if (batch->empty()) break;
      n += batch->size();
    }
    runs.push_back(seconds_since(t0));
  }
  const double s = median(runs);
  std::printf("%-44s %7.3f s  (%.2f M commands/s; median of %d)\n",
              "journal read, pipelined (BatchReader) only", s, static_cast<double>(n) / s / 1e6, kRuns);
}

// replay_journal of the whole journal into an empty engine (constructed
// before the clock starts), as recovery without a snapshot does it.
void time_replay(const Options& o, const Generated& g) {
  std::vector<double> runs;
  std::vector<double> cpu;
  std::uint64_t n = 0;
  for (int run = 0; run < kRuns; ++run) {
    Engine engine(bench_config(o.resting));
    ReplayProgress progress;
    auto t0 = Clock_::now();
    const double c0 = thread_cpu_seconds();
    Result<journal::JournalSummary> r =
        replay_journal(*journal::posix_env(), journal_dir(o.dir), engine, &progress);
    cpu.push_back(thread_cpu_seconds() - c0);
    runs.push_back(seconds_since(t0));
    if (!r.ok()) die(r.status(), "replay");
    if (engine.state_hash() != g.final_hash) die(Status::Corruption("hash"), "replay");
    n = progress.applied;
  }
  const double s = median(runs);
  std::printf("%-44s %7.3f s  (%.2f M commands/s; applying thread busy %.3f s; median of %d)\n",
              "replay_journal, pipelined, no snapshot", s, static_cast<double>(n) / s / 1e6,
              median(cpu), kRuns);
}

// Engine::restore of the end snapshot alone (file already loaded), and the
// two whole-state walks recovery adds to it: check_invariants (inside
// restore) and state_hash (recovery compares it with the file's).
void time_restore(const Options& o, const Generated& g) {
  Result<LoadedSnapshot> loaded =
      load_snapshot(*journal::posix_env(), snapshot_dir(o.dir) + "/" + snapshot_name(o.commands));
  if (!loaded.ok()) die(loaded.status(), "load snapshot");
  std::vector<double> restore;
  std::vector<double> check;
  std::vector<double> hash;
  std::size_t orders = 0;
  for (int run = 0; run < kRuns; ++run) {
    auto t0 = Clock_::now();
    std::string error;
    std::unique_ptr<Engine> e = Engine::restore(bench_config(o.resting), loaded->payload, &error);
    restore.push_back(seconds_since(t0));
    if (!e) die(Status::Corruption(error), "restore");
    t0 = Clock_::now();
    const std::string err = e->check_invariants();
    check.push_back(seconds_since(t0));
    t0 = Clock_::now();
    const std::uint64_t h = e->state_hash();
    hash.push_back(seconds_since(t0));
    if (!err.empty() || h != g.final_hash) die(Status::Corruption("restored state"), "restore");
    orders = e->open_orders();
  }
  std::printf("%-44s %7.3f s  (%zu orders; of which check_invariants %.3f s; state_hash %.3f s "
              "more; median of %d)\n",
              "Engine::restore of the end snapshot", median(restore), orders, median(check),
              median(hash), kRuns);
}

// --- the engine benchmark's workload, journaled and replayed -----------------
//
// engine_benchmark quotes the engine on the exchange-core mix
// (core/testing/exchange_core.h: one book of ~1,000 orders that stays in the
// cache). This line measures the replay of that very stream's journal, so
// the two figures compare: its setup and timed commands go through a
// DurableEngine (sync none, commits of kCommitBatch commands) into a fresh
// data dir, then replay_journal of the whole journal into a fresh engine is
// timed against the same commands applied from memory, with and without
// Engine::prefetch. The three alternate run by run, so that a noisy
// neighbour hurts all of them; each checks the generator's final state_hash.

constexpr std::uint64_t kExchangeCoreSeed = 42;  // engine_benchmark's default --seed
constexpr std::size_t kCommitBatch = 256;

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void check_hash(const Engine& engine, const testing::Workload& w, const char* what) {
  if (engine.state_hash() == w.expected_hash && engine.open_orders() == w.expected_open_orders) return;
  std::fprintf(stderr, "recovery_benchmark: %s: state_hash %016llx, %zu open orders; the generator's "
               "%016llx, %zu\n", what, static_cast<unsigned long long>(engine.state_hash()),
               engine.open_orders(), static_cast<unsigned long long>(w.expected_hash),
               w.expected_open_orders);
  std::exit(1);
}

// Journals setup then timed into a fresh data dir, each command with the seq
// and timestamp the generator gave it (the DurableEngine's clock returns the
// command's own timestamp), so that the journal holds exactly the stream.
void journal_workload(const testing::Workload& w, const std::string& dir) {
  fs::remove_all(dir);
  DurableOptions options;
  options.journal.sync = journal::SyncMode::kNone;
  Timestamp now = 0;
  auto ex = DurableEngine::open(*journal::posix_env(), dir, w.config, [&now] { return now; }, options);
  if (!ex.ok()) die(ex.status(), "exchange-core: open");
  std::vector<Event> released;
  const auto commit = [&] {
    Result<SeqNo> r = (*ex)->commit(&released);
    if (!r.ok()) die(r.status(), "exchange-core: commit");
    released.clear();
  };
  for (const std::vector<Command>* part : {&w.setup, &w.timed}) {
    for (const Command& c : *part) {
      now = c.timestamp;
      Result<SeqNo> seq = (*ex)->submit(c);
      if (!seq.ok()) die(seq.status(), "exchange-core: submit");
      if (*seq != c.seq) die(Status::Corruption("seq differs from the generator's"), "exchange-core");
      if ((*ex)->pending() >= kCommitBatch) commit();
    }
  }
  commit();
  check_hash((*ex)->engine(), w, "exchange-core: journaling engine");
}

struct Timed {
  std::vector<double> wall;
  std::vector<double> cpu;          // the applying thread
  std::vector<double> process_cpu;  // all threads (replay: the reader's too)
  void print(const char* what, std::size_t commands, bool with_process) const {
    const double s = median(wall);
    std::printf("  %-42s %7.3f s  (%.2f M commands/s; applying thread CPU %.3f s", what, s,
                static_cast<double>(commands) / s / 1e6, median(cpu));
    if (with_process) std::printf(", process CPU %.3f s", median(process_cpu));
    std::printf("; median of %zu)\n", wall.size());
  }
};

template <typename F>
void time_into(Timed& t, F&& body) {
  auto t0 = Clock_::now();
  const double c0 = thread_cpu_seconds();
  const double p0 = process_cpu_seconds();
  std::forward<F>(body)();
  t.process_cpu.push_back(process_cpu_seconds() - p0);
  t.cpu.push_back(thread_cpu_seconds() - c0);
  t.wall.push_back(seconds_since(t0));
}

void time_exchange_core(const Options& o) {
  std::printf("exchange-core mix (engine_benchmark --workload exchange-core --seed %llu --commands %zu):\n",
              static_cast<unsigned long long>(kExchangeCoreSeed), o.xc_commands);
  std::fflush(stdout);
  auto t0 = Clock_::now();
  const testing::Workload w = testing::exchange_core_workload(kExchangeCoreSeed, o.xc_commands);
  std::printf("  generated in %.1f s; %s\n", seconds_since(t0), w.notes.c_str());
  const std::string dir = o.dir + "-exchange-core";
  t0 = Clock_::now();
  journal_workload(w, dir);
  const std::size_t commands = w.setup.size() + w.timed.size();
  std::uint64_t bytes = 0;
  for (const auto& e : fs::directory_iterator(journal_dir(dir))) bytes += e.file_size();
  std::printf("  journaled %zu commands (%zu setup + %zu timed) in %.1f s (sync none, commits of %zu):"
              " %.0f MB\n", commands, w.setup.size(), w.timed.size(), seconds_since(t0), kCommitBatch,
              static_cast<double>(bytes) / 1e6);
  std::fflush(stdout);
  Timed replay;
  Timed plain;
  Timed prefetched;
  for (int run = 0; run < kRuns; ++run) {
    {
      Engine engine(w.config);
      ReplayProgress progress;
      Status status;
      time_into(replay, [&] {
        status = replay_journal(*journal::posix_env(), journal_dir(dir), engine, &progress).status();
      });
      if (!status.ok()) die(status, "exchange-core: replay");
      if (progress.applied != commands) die(Status::Corruption("command count"), "exchange-core: replay");
      check_hash(engine, w, "exchange-core: replay");
    }
    for (const bool prefetch : {false, true}) {
      Engine engine(w.config);
      std::vector<Event> events;
      events.reserve(256);
      time_into(prefetch ? prefetched : plain, [&] {
        apply_commands(engine, w.setup, prefetch, events);
        apply_commands(engine, w.timed, prefetch, events);
      });
      check_hash(engine, w, "exchange-core: from memory");
    }
  }
  replay.print("replay_journal into a fresh engine", commands, /*with_process=*/true);
  plain.print("engine apply, commands in memory", commands, false);
  prefetched.print("engine apply + prefetch, commands in memory", commands, false);
  std::printf("  replay / in memory: %.2f of plain apply, %.2f of apply + prefetch (wall-clock medians);"
              " page cache warm\n", median(plain.wall) / median(replay.wall),
              median(prefetched.wall) / median(replay.wall));
  if (!o.keep) fs::remove_all(dir);
}

void time_journal_check(const Options& o) {
  auto t0 = Clock_::now();
  Result<journal::JournalSummary> j = journal::verify_journal(journal::posix_env(), journal_dir(o.dir));
  const double s = seconds_since(t0);
  if (!j.ok()) die(j.status(), "verify_journal");
  std::printf("%-44s %7.3f s  (%llu segments, %.0f MB/s)\n", "journal read + CRC + hash chain only", s,
              static_cast<unsigned long long>(j->segments),
              static_cast<double>(j->commands) * 120 / s / 1e6);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool v = i + 1 < argc;
    if (a == "--dir" && v) o.dir = argv[++i];
    else if (a == "--commands" && v) o.commands = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--resting" && v) o.resting = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--keep") o.keep = true;
    else if (a == "--reuse") o.reuse = o.keep = true;
    else if (a == "--only" && v) o.only = argv[++i];
    else if (a == "--runs" && v) kRuns = std::atoi(argv[++i]);
    else if (a == "--xc-commands" && v) o.xc_commands = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: recovery_benchmark [--dir DIR] [--commands N] [--resting N] [--keep] [--reuse] [--only LINE] [--runs N]\n"
                           "                          [--xc-commands N]\n");
      std::exit(2);
    }
  }
  return o;
}

// What the timings check against, kept beside the data for --reuse.
std::string info_path(const Options& o) { return o.dir + "/bench-info"; }

void save_info(const Options& o, const Generated& g) {
  FILE* f = std::fopen(info_path(o).c_str(), "w");
  if (f == nullptr) return;
  std::fprintf(f, "%llu %llu %llu %llu\n", static_cast<unsigned long long>(o.commands),
               static_cast<unsigned long long>(o.resting), static_cast<unsigned long long>(g.final_hash),
               static_cast<unsigned long long>(g.first_snapshot_seq));
  std::fclose(f);
}

bool load_info(const Options& o, Generated* g) {
  FILE* f = std::fopen(info_path(o).c_str(), "r");
  if (f == nullptr) return false;
  unsigned long long commands = 0;
  unsigned long long resting = 0;
  unsigned long long hash = 0;
  unsigned long long first = 0;
  const bool ok = std::fscanf(f, "%llu %llu %llu %llu", &commands, &resting, &hash, &first) == 4;
  std::fclose(f);
  if (!ok || commands != o.commands || resting != o.resting) return false;
  g->final_hash = hash;
  g->first_snapshot_seq = first;
  return true;
}

Generated generate_with_snapshots(const Options& o) {
  fs::remove_all(o.dir);
  auto t0 = Clock_::now();
  const Generated g = generate(o);
  std::printf("generation (sync none)                       %7.3f s\n", seconds_since(t0));
  std::printf("snapshot write, %zu resting orders:       %7.3f s, %.1f MB (%.1f bytes/order)\n",
              g.snapshot_orders, g.snapshot_seconds, static_cast<double>(g.snapshot_bytes) / 1e6,
              static_cast<double>(g.snapshot_bytes) / static_cast<double>(g.snapshot_orders));
  // The end snapshot, written by a restarted pipeline (also times the open).
  {
    auto ex = DurableEngine::open(*journal::posix_env(), o.dir, bench_config(o.resting),
                                  [] { return Timestamp{0}; });
    if (!ex.ok()) die(ex.status(), "reopen");
    Result<std::string> path = (*ex)->snapshot_now();
    if (!path.ok()) die(path.status(), "final snapshot");
  }
  save_info(o, g);
  return g;
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (o.only == "exchange-core") {  // its own data dir: skip the 1 M-order one
    time_exchange_core(o);
    return 0;
  }
  Generated g;
  if (!o.reuse || !load_info(o, &g)) {
    g = generate_with_snapshots(o);
  } else {
    std::printf("reusing the data directory %s\n", o.dir.c_str());
  }
  auto want = [&o](const char* line) { return o.only.empty() || o.only == line; };
  if (want("check")) time_journal_check(o);
  if (want("read")) time_pipelined_read(o);
  if (want("engine") || o.only == "engine-plain" || o.only == "engine-prefetch") {
    time_engine_only(o, g, o.only != "engine-prefetch", o.only != "engine-plain");
  }
  if (want("replay")) time_replay(o, g);
  if (want("restore")) time_restore(o, g);
  if (!o.only.empty()) return 0;
  const std::string full = view_with(o, "full", {});
  time_recover(full, o, g, "full replay, no snapshot");
  const std::string last = view_with(o, "last", {o.commands});
  time_recover(last, o, g, "restart: snapshot at the end");
  const std::string first = view_with(o, "first", {g.first_snapshot_seq});
  time_recover(first, o, g, "restart: snapshot after 1 M orders + replay");
  if (!o.keep) {
    for (const std::string& d : {o.dir, full, last, first}) fs::remove_all(d);
  }
  time_exchange_core(o);
  return 0;
}

}  // namespace
}  // namespace stox::store

int main(int argc, char** argv) { return stox::store::run(argc, argv); }
