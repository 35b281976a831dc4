// How long matching pauses while a snapshot of ~1 M resting orders is
// written (durability issue; docs/benchmarks.md, "Snapshot pause").
//
// An in-process Core (journal sync `none`, so the disk does not hide the
// pause) is filled with N resting orders; then a probe posts one small
// command every 200 µs and records each one's ack latency (queue entry to
// answer on the engine thread), first with no snapshot running (baseline),
// then while the follower writes a snapshot of the full book. If matching
// paused for the write, the probes queued behind it would show it as their
// latency.
//
// Then (--extra N) N more commands are journaled after that snapshot, the
// core is stopped without a final snapshot, and a restart is timed:
// Core::open = recovery of the engine and the market-data projections from
// the snapshot (engine + its projections extension), the replay of the
// journal after it, and the copies handed to the snapshot follower.
//
//   snapshot_pause_benchmark [--orders 1000000] [--extra 0] [--dir /tmp/x] [--restarts 1]
//                            [--keep 0] [--restart-only 0] [--tail rejects|mix]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "journal/env.h"
#include "server/core.h"
#include "server/ws_hub.h"

namespace stox::server {
namespace {

using Clock = std::chrono::steady_clock;

struct Probe {
  std::vector<std::int64_t> latencies_ns;
};

Command resting_order(AccountId account, std::uint64_t i, Side side) {
  NewOrder o{};
  o.account = account;
  o.instrument = 1 + static_cast<InstrumentId>(i % 10);
  o.side = side;
  o.type = OrderType::kLimit;
  o.time_in_force = TimeInForce::kGtc;
  // Bids 90.01-99.99, asks 100.01-109.99 (inside the 10 % collar around
  // the 100.00 reference): never crossing, ~1,000 levels a side.
  const auto offset = static_cast<Price>((i * 7919) % 999);
  o.price = side == Side::kBuy ? 9001 + offset : 10001 + offset;
  o.quantity = 1;
  return Command::make(0, 0, o);
}

// Core::post moves from the Work only when it takes it; a full queue leaves
// it untouched, so retrying with the same object is the contract.
void post_retrying(Core& core, Work w) {
  while (!core.post(std::move(w))) {  // NOLINT(bugprone-use-after-move): see above
    std::this_thread::yield();
  }
}

void post_and_wait(Core& core, const Command& c) {
  std::promise<void> done;
  Work w;
  w.command = c;
  w.done = [&done](CoreContext&) { done.set_value(); };
  post_retrying(core, std::move(w));
  done.get_future().wait();
}

// Open orders once everything posted before has been applied (a read
// queued behind it).
std::size_t resting_count(Core& core) {
  std::size_t open = 0;
  std::promise<void> done;
  Work w;
  w.done = [&](CoreContext& ctx) {
    open = ctx.engine.open_orders();
    done.set_value();
  };
  post_retrying(core, std::move(w));
  done.get_future().wait();
  return open;
}

// Probes every 200 µs until `until` says stop; latency from post to done.
Probe probe(Core& core, AccountId account, const std::function<bool()>& until) {
  Probe p;
  std::uint64_t i = 0;
  while (!until()) {
    const auto t0 = Clock::now();
    std::promise<std::int64_t> done;
    Work w;
    w.command = Command::make(0, 0, Cancel{account, 1 + (i++ % 1000)});  // cheap: a reject
    w.done = [&done, t0](CoreContext&) {
      done.set_value(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
    };
    post_retrying(core, std::move(w));
    p.latencies_ns.push_back(done.get_future().get());
    std::this_thread::sleep_until(t0 + std::chrono::microseconds(200));
  }
  return p;
}

void report(const char* name, Probe p) {
  std::sort(p.latencies_ns.begin(), p.latencies_ns.end());
  const auto at = [&](double q) {
    return static_cast<double>(p.latencies_ns[static_cast<std::size_t>(q * static_cast<double>(p.latencies_ns.size() - 1))]) / 1e3;
  };
  std::printf("%-22s probes=%zu p50=%.1fus p99=%.1fus p99.9=%.1fus max=%.1fus\n", name,
              p.latencies_ns.size(), at(0.5), at(0.99), at(0.999), at(1.0));
}

// The --tail mix workload: `n` commands, half new resting orders (as the
// fill, never crossing), half cancels of a random live order. Order ids are
// the engine's acceptance order: the `resting` orders before took ids
// 1..resting (the fill checks that all of them rest), and every order here
// is accepted, so each new one takes the next id; cancels only name live
// ones, so nothing is rejected.
// Returns how many orders should rest afterwards.
std::size_t post_order_mix(Core& core, std::uint64_t resting, std::uint64_t n) {
  struct Live {
    OrderId id;
    AccountId account;
  };
  std::vector<Live> live;
  live.reserve(resting + n);
  for (std::uint64_t i = 0; i < resting; ++i) live.push_back({i + 1, i % 2 == 0 ? 1U : 2U});
  OrderId next_id = resting + 1;
  std::uint64_t rng = 0x9E3779B97F4A7C15ULL;
  for (std::uint64_t i = 0; i < n; ++i) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    Work w;
    if ((rng & 1) == 0 || live.empty()) {
      const std::uint64_t k = resting + i;
      const AccountId account = k % 2 == 0 ? 1 : 2;
      w.command = resting_order(account, k, account == 1 ? Side::kBuy : Side::kSell);
      live.push_back({next_id++, account});
    } else {
      const std::size_t at = (rng >> 1) % live.size();
      w.command = Command::make(0, 0, Cancel{live[at].account, live[at].id});
      live[at] = live.back();
      live.pop_back();
    }
    post_retrying(core, std::move(w));
  }
  return live.size();
}

// Times Core::open of options.data_dir (then stops it without writing a
// snapshot, so the directory is unchanged for the next restart).
bool time_restart(const CoreOptions& options) {
  WsHub hub;
  const auto r0 = Clock::now();
  auto reopened = Core::open(*journal::posix_env(), options, hub, nullptr);
  const double restart_s = std::chrono::duration<double>(Clock::now() - r0).count();
  if (!reopened.ok()) {
    std::fprintf(stderr, "reopen: %s\n", reopened.status().to_string().c_str());
    return false;
  }
  const store::Recovered& r = reopened.value()->recovery();
  std::printf("restart: %.2f s for a journal of %llu commands, snapshot at %llu: snapshot restore "
              "%.2f s, replay of %llu commands %.2f s, the rest (follower copies) %.2f s\n",
              restart_s, static_cast<unsigned long long>(r.last_seq),
              static_cast<unsigned long long>(r.snapshot_seq), static_cast<double>(r.restore_ns) / 1e9,
              static_cast<unsigned long long>(r.replayed), static_cast<double>(r.replay_ns) / 1e9,
              restart_s - static_cast<double>(r.restore_ns + r.replay_ns) / 1e9);
  std::fflush(stdout);
  reopened.value()->stop();
  return true;
}

int run(int argc, char** argv) {
  std::uint64_t orders = 1'000'000;
  std::uint64_t extra = 0;
  std::string dir = "/tmp/stox-snapshot-pause";
  int restarts = 1;
  bool keep = false;          // leave the data directory for --restart-only runs
  bool restart_only = false;  // time restarts of an existing --dir (built with --keep 1)
  bool tail_mix = false;      // --tail mix: the extra commands are real orders and cancels
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--orders") orders = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--dir") dir = argv[i + 1];
    if (flag == "--extra") extra = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--restarts") restarts = std::atoi(argv[i + 1]);
    if (flag == "--keep") keep = std::string(argv[i + 1]) == "1";
    if (flag == "--restart-only") restart_only = std::string(argv[i + 1]) == "1";
    if (flag == "--tail") tail_mix = std::string(argv[i + 1]) == "mix";
  }
  CoreOptions options;
  options.data_dir = dir;
  options.engine = server_engine_config();
  options.engine.default_max_open_orders = 4'000'000;
  options.engine.default_max_orders_per_second = 1'000'000'000;
  options.durable.journal.sync = journal::SyncMode::kNone;
  options.snapshots.every_commands = 0;  // only the one this benchmark asks for
  options.snapshots.every = std::chrono::seconds(0);
  options.snapshots.on_stop = false;
  if (restart_only) {
    for (int i = 0; i < restarts; ++i) {
      if (!time_restart(options)) return 1;
    }
    return 0;
  }
  std::filesystem::remove_all(dir);
  WsHub hub;
  auto core = Core::open(*journal::posix_env(), options, hub, nullptr);
  if (!core.ok()) {
    std::fprintf(stderr, "open: %s\n", core.status().to_string().c_str());
    return 1;
  }
  Core& c = *core.value();
  c.start();
  for (int s = 0; s < 10; ++s) {
    AddInstrument a{};
    char symbol[8];
    std::snprintf(symbol, sizeof(symbol), "S%d", s);  // not operator+: GCC 12's false -Wrestrict
    a.symbol = Symbol::from(symbol);
    a.tick_size = 1;
    a.lot_size = 1;
    a.reference_price = 10000;
    a.price_scale = 2;
    a.quantity_scale = 0;
    post_and_wait(c, Command::make(0, 0, a));
  }
  CreateAccount acct{};
  acct.type = AccountType::kCash;
  post_and_wait(c, Command::make(0, 0, acct));  // account 1 buys
  post_and_wait(c, Command::make(0, 0, acct));  // account 2 sells
  post_and_wait(c, Command::deposit(0, 0, Transfer{1, kCashAsset, 1'000'000'000'000'000}));
  for (AssetId s = 1; s <= 10; ++s) post_and_wait(c, Command::deposit(0, 0, Transfer{2, s, 10'000'000}));
  const auto fill0 = Clock::now();
  for (std::uint64_t i = 0; i < orders; ++i) {
    Work w;
    w.command = resting_order(i % 2 == 0 ? 1 : 2, i, i % 2 == 0 ? Side::kBuy : Side::kSell);
    post_retrying(c, std::move(w));
  }
  std::size_t open = resting_count(c);
  std::printf("posted %llu orders in %.2f s; %zu rest on the books\n",
              static_cast<unsigned long long>(orders),
              std::chrono::duration<double>(Clock::now() - fill0).count(), open);
  if (open < orders * 9 / 10) {
    std::fprintf(stderr, "most orders were rejected: the workload is broken\n");
    return 1;
  }

  const auto base_end = Clock::now() + std::chrono::seconds(2);
  report("baseline", probe(c, 3, [&] { return Clock::now() >= base_end; }));
  const std::uint64_t before = c.snapshots().snapshots_written();
  const auto snap0 = Clock::now();
  c.snapshots().request_snapshot();
  Probe during = probe(c, 3, [&] { return c.snapshots().snapshots_written() > before; });
  std::printf("snapshot written by the follower in %.2f s (seq %llu)\n",
              std::chrono::duration<double>(Clock::now() - snap0).count(),
              static_cast<unsigned long long>(c.snapshots().last_snapshot_seq()));
  report("during snapshot", std::move(during));
  std::size_t expected_open = open;
  if (tail_mix) {
    expected_open = post_order_mix(c, orders, extra);
  } else {
    for (std::uint64_t i = 0; i < extra; ++i) {  // cheap commands: cancels of unknown ids
      Work w;
      w.command = Command::make(0, 0, Cancel{3, 5'000'000 + i});
      post_retrying(c, std::move(w));
    }
  }
  open = resting_count(c);
  if (open != expected_open) {
    std::fprintf(stderr, "%zu orders rest, %zu expected: the tail workload is broken\n", open,
                 expected_open);
    return 1;
  }
  std::printf("tail: %llu %s; %zu orders rest\n", static_cast<unsigned long long>(extra),
              tail_mix ? "new resting orders and cancels of live ones" : "cancels of unknown ids",
              open);
  post_and_wait(c, Command::make(0, 0, Cancel{3, 1}));
  c.stop();
  core.value().reset();
  for (int i = 0; i < restarts; ++i) {
    if (!time_restart(options)) return 1;
  }
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
}  // namespace
}  // namespace stox::server

int main(int argc, char** argv) { return stox::server::run(argc, argv); }
