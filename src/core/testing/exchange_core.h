// Benchmark workloads shared by engine_benchmark (src/core) and
// recovery_benchmark (src/store), so that the engine's figure and the
// replay of its journal are measured on the very same commands.
//
// Everything here is deterministic: a seeded splitmix64 PRNG (never the std
// distributions, whose output differs between standard libraries) and, for
// the exchange-core mix, a real engine driven while generating, so that
// cancels and moves name orders that exist. The engine being a pure function
// of its commands, applying setup then timed to a fresh engine built with
// Workload::config ends in exactly expected_hash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/types.h"
#include "core/command.h"
#include "core/engine.h"
#include "core/event.h"

namespace stox::testing {

// PRNG: splitmix64. Small, fast, and fully determined by its seed. Inline:
// the memory benchmark makes its commands inside the timed loop.
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

// Streams start at seq 1 and step timestamps by kTimestampStep ns per
// command (seq * kTimestampStep): what a journal of them would also carry.
inline constexpr SeqNo kFirstSeq = 1;
inline constexpr Timestamp kTimestampStep = 1000;  // the engine ignores timestamps

struct Workload {
  std::string name;
  EngineConfig config;
  std::vector<Command> setup;  // instrument(s), accounts, initial book; applied untimed
  std::vector<Command> timed;  // seqs continue those of setup
  std::uint64_t expected_hash = 0;         // state_hash() after setup + timed
  std::size_t expected_open_orders = 0;    // open_orders() after setup + timed
  std::string notes;  // workload-specific facts measured while generating
};

// Gives each command the next seq (kFirstSeq, kFirstSeq + 1, ...) and the
// timestamp seq * kTimestampStep. (The seq is taken in its own statement:
// the order in which function arguments are evaluated is unspecified.)
class StreamBuilder {
 public:
  // Body: any command body Command::make takes (NewOrder, Cancel, ...).
  template <typename Body>
  Command next(const Body& body) {
    const SeqNo s = seq_++;
    return Command::make(s, timestamp(s), body);
  }
  Command deposit(const Transfer& t) {
    const SeqNo s = seq_++;
    return Command::deposit(s, timestamp(s), t);
  }

 private:
  static Timestamp timestamp(SeqNo s) { return static_cast<Timestamp>(s) * kTimestampStep; }
  SeqNo seq_ = kFirstSeq;
};

// Instrument 1 of every benchmark: "BENCH", tick 1, lot 1, unscaled, no band.
inline AddInstrument bench_instrument(Price reference_price) {
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

// A limit order on instrument 1, self-trade prevention cancel-taker.
inline NewOrder limit_order(AccountId account, Side side, Price price, Quantity qty,
                            TimeInForce tif) {
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

// Counts of what a stream made an engine do.
struct EventStats {
  std::uint64_t commands = 0;
  std::uint64_t events = 0;
  std::uint64_t commands_with_trades = 0;
  std::array<std::uint64_t, 256> by_type{};  // indexed by EventType
  std::map<RejectReason, std::uint64_t> rejects;
  std::map<CancelReason, std::uint64_t> cancels;

  // Counts one command's events.
  void add(const std::vector<Event>& out);
  std::uint64_t rejected() const { return by_type[static_cast<int>(EventType::kRejected)]; }
  // Prints the counts to stdout, each line starting with indent.
  void print(const char* indent) const;
};

// The exchange-core mix in accounts mode: accounts on, the per-second and
// open-order limits raised and the breaker widened so that the stream is
// accepted exactly as in matching-only mode (every check still runs).
EngineConfig ledger_config();

struct ExchangeCoreOptions {
  AccountId accounts = 100;  // orders come from accounts 1..accounts
  // Accounts mode (ledger_config()): the accounts are created and funded
  // (cash and shares) in setup, the instrument charges a taker fee and pays
  // a maker rebate; every order goes through pre-trade risk and every trade
  // through settlement.
  bool ledger = false;
};

// The exchange-core single-book mix: setup commands (instrument, initial
// book of ~1,000 resting orders; with options.ledger also the accounts) and
// the timed stream of `commands` commands, both with seq numbers, generated
// by driving a real engine. One symbol, ~1,000 resting orders over several
// hundred price levels. Timed commands: 9 % new GTC limit, 3 % IOC limit,
// 6 % cancel, 82 % move (a Replace of a random open order's price toward the
// last trade price). Sizes are 1 + r^3 with r uniform in 0..5. notes holds
// the measured mix, book size and price levels; *stats (if set) receives
// the events of the timed commands.
Workload exchange_core_workload(std::uint64_t seed, std::size_t commands,
                                const ExchangeCoreOptions& options = {},
                                EventStats* stats = nullptr);

}  // namespace stox::testing
