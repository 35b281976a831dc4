// What the server's market-data projections cost with ~1 M resting orders:
// the time to apply the events, to encode and decode them (the snapshot
// extension of docs/snapshot-format.md) and to copy them, with the encoded
// size and the memory they hold.
//
// Workload: an accounts-mode engine configured as the server's
// (server_engine_config(): accounts, expected_orders 1 << 20) with the
// per-account limits lifted; 10 instruments (price scale 2, tick 0.01,
// reference 100.00), 4 funded cash accounts (odd ones buy, even ones sell),
// then N GTC limit orders of quantity 1 that never cross: bids 90.01-99.99,
// asks 100.01-109.99, ~1,000 levels a side per instrument. Every 16th order
// carries a client order id. One command per batch, as on the dispatch
// thread.
//
//   projections_benchmark [orders=1000000]
//
// Not a test: it prints figures, run it at least 3 times and quote medians.
#include <malloc.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/engine.h"
#include "marketdata/projections.h"
#include "marketdata/projections_codec.h"

namespace stox::marketdata {
namespace {

using Clock = std::chrono::steady_clock;

constexpr InstrumentId kInstruments = 10;
constexpr AccountId kAccounts = 4;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Resident set size in MiB, from /proc/self/status.
double rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

// Bytes the allocator has handed out and not taken back.
double heap_mib() { return static_cast<double>(mallinfo2().uordblks) / (1024.0 * 1024.0); }

class Feeder {
 public:
  Feeder() : engine_(config()) {}

  // Runs `c` and hands its events to `p` as one batch; counts the time each takes.
  void run(Command c, Projections& p) {
    c.seq = ++seq_;
    c.timestamp = now_;
    now_ += 1000;
    events_.clear();
    const auto t0 = Clock::now();
    engine_.apply(c, events_);
    const auto t1 = Clock::now();
    p.apply_batch(events_);
    engine_ns_ += (t1 - t0).count();
    projections_ns_ += (Clock::now() - t1).count();
  }

  double engine_ms() const { return static_cast<double>(engine_ns_) / 1e6; }
  double projections_ms() const { return static_cast<double>(projections_ns_) / 1e6; }

 private:
  static EngineConfig config() {
    EngineConfig c;
    c.accounts = true;
    c.expected_orders = 1 << 20;
    c.default_max_open_orders = 4'000'000;
    c.default_max_orders_per_second = 1'000'000'000;
    return c;
  }

  Engine engine_;
  std::vector<Event> events_;
  SeqNo seq_ = 0;
  Timestamp now_ = 1'700'000'000LL * 1'000'000'000;
  std::int64_t engine_ns_ = 0;
  std::int64_t projections_ns_ = 0;
};

void set_up(Feeder& f, Projections& p) {
  for (InstrumentId i = 1; i <= kInstruments; ++i) {
    AddInstrument a{};
    char symbol[24];
    std::snprintf(symbol, sizeof symbol, "SYM%u", i);
    a.symbol = Symbol::from(symbol);
    a.tick_size = 1;
    a.lot_size = 1;
    a.reference_price = 10000;
    a.price_scale = 2;
    a.quantity_scale = 0;
    f.run(Command::make(0, 0, a), p);
  }
  for (AccountId a = 1; a <= kAccounts; ++a) {
    CreateAccount acct{};
    acct.type = AccountType::kCash;
    f.run(Command::make(0, 0, acct), p);
    if (a % 2 == 1) {
      f.run(Command::deposit(0, 0, Transfer{a, kCashAsset, 1'000'000'000'000'000}), p);
    } else {
      for (AssetId s = 1; s <= kInstruments; ++s) {
        f.run(Command::deposit(0, 0, Transfer{a, s, 10'000'000}), p);
      }
    }
  }
}

Command resting(std::uint64_t i) {
  NewOrder o{};
  o.account = static_cast<AccountId>(1 + i % kAccounts);
  o.instrument = 1 + static_cast<InstrumentId>((i / kAccounts) % kInstruments);
  o.side = o.account % 2 == 1 ? Side::kBuy : Side::kSell;
  o.type = OrderType::kLimit;
  o.time_in_force = TimeInForce::kGtc;
  const auto offset = static_cast<Price>((i * 7919) % 999);
  o.price = o.side == Side::kBuy ? 9001 + offset : 10001 + offset;
  o.quantity = 1;
  if (i % 16 == 0) {
    char id[24];
    std::snprintf(id, sizeof id, "c%llu", static_cast<unsigned long long>(i));
    o.client_order_id = ClientOrderId::from(id);
  }
  return Command::make(0, 0, o);
}

int run(std::uint64_t orders) {
  Feeder feeder;
  Projections p;
  set_up(feeder, p);
  for (std::uint64_t i = 0; i < orders; ++i) feeder.run(resting(i), p);
  std::printf("orders %llu open %zu\n", static_cast<unsigned long long>(orders),
              p.orders.open_count());
  std::printf("apply: engine %.0f ms, projections %.0f ms; rss %.0f MiB heap %.0f MiB\n",
              feeder.engine_ms(), feeder.projections_ms(), rss_mib(), heap_mib());

  std::string bytes;
  auto t0 = Clock::now();
  encode_projections(p, &bytes);
  std::printf("encode: %.0f ms, %.1f MiB (%.1f bytes/order)\n", ms_since(t0),
              static_cast<double>(bytes.size()) / (1024.0 * 1024.0),
              static_cast<double>(bytes.size()) / static_cast<double>(orders));

  double heap0 = heap_mib();
  Projections decoded;
  t0 = Clock::now();
  const Status s = decode_projections(bytes, ProjectionsConfig{}, &decoded);
  std::printf("decode: %.0f ms (%s), holds %.0f MiB heap\n", ms_since(t0), s.to_string().c_str(),
              heap_mib() - heap0);
  if (!s.ok()) return 1;

  heap0 = heap_mib();
  t0 = Clock::now();
  const Projections copy(p);
  std::printf("copy: %.0f ms, holds %.0f MiB heap\n", ms_since(t0), heap_mib() - heap0);
  std::printf("rss at end %.0f MiB (engine, projections, encoding, decoded, copy)\n", rss_mib());
  return copy.orders.open_count() == p.orders.open_count() ? 0 : 1;
}

}  // namespace
}  // namespace stox::marketdata

int main(int argc, char** argv) {
  const std::uint64_t orders = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  return stox::marketdata::run(orders);
}
