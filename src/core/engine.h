// The matching engine: a deterministic, single-threaded state machine.
//
// Contract:
//  - apply() is a pure function of the engine state and the command: it never
//    reads a clock, does no I/O and, once its pools have grown to the working
//    set, allocates nothing per order.
//  - Every event of a command is appended to `out` in the order documented in
//    docs/design.md ("Event order"). `out` is never cleared by the engine.
//  - Two engines fed the same commands emit byte-identical events and have
//    equal state_hash().
// Thread-safety: none. One thread owns an Engine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/command.h"
#include "core/event.h"

namespace stox {

// System accounts that take part in ledger postings (accounts mode).
inline constexpr AccountId kFeeAccount = 0xFFFFFFFEu;
inline constexpr AccountId kExternalAccount = 0xFFFFFFFFu;

struct EngineConfig {
  std::size_t expected_orders = 1 << 16;  // pools are reserved for this many open orders
  // prefetch() does nothing below this many open orders: the book then fits
  // in the caches and the hints only cost (~15 % on the exchange-core mix);
  // above, nearly every command misses and replay gains ~40 %. A speed
  // setting only: results never depend on it (tests set 0 to exercise it).
  std::size_t prefetch_min_open_orders = 1 << 16;
  AccountId max_accounts = 1 << 20;        // account ids are 1..max_accounts
  std::int32_t default_market_band_bps = 500;

  // Accounts mode (docs/design.md, "Accounts, ledger and risk"): accounts
  // must be created and funded, every trade settles through the ledger, and
  // pre-trade risk applies. Off = the pure matcher.
  bool accounts = false;
  std::uint8_t cash_scale = 4;  // decimals of the settlement currency (asset 0)
  std::int32_t default_collar_bps = 1000;
  std::int32_t default_breaker_bps = 1000;
  Timestamp default_breaker_halt_ns = 300'000'000'000;
  std::uint32_t default_max_open_orders = 1000;
  std::uint32_t default_max_orders_per_second = 1000;
};

struct BalanceView {
  Amount total;
  Amount held;
  Amount available;
};

struct PositionView {
  Quantity quantity;     // share balance
  Amount cost;           // cost basis, cash scale
  Amount realized_pnl;   // cash scale
  Amount unrealized_pnl; // notional at the last (or reference) price minus cost
  Price average_cost;    // cost per share, price scale (floor); 0 when flat
};

struct LevelView {
  Price price;
  Quantity quantity;  // visible
  std::uint32_t count;
};

struct InstrumentView {
  InstrumentId id;
  AddInstrument spec;
  InstrumentStatus status;
  Price last_price;  // 0 = no trade since the last EndOfDay
};

struct OrderView {
  OrderId id;
  AccountId account;
  InstrumentId instrument;
  ClientOrderId client_order_id;
  Side side;
  OrderType type;
  TimeInForce time_in_force;
  Price price;
  Price stop_price;
  Quantity quantity;
  Quantity leaves;
  Quantity display;  // 0 unless iceberg
  Quantity visible;
  bool triggered;    // stop orders: elected and now a limit order
  bool post_only;
};

class Engine {
 public:
  explicit Engine(const EngineConfig& config = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void apply(const Command& command, std::vector<Event>& out);

  // Look-ahead for a stream known in advance (journal replay): `upcoming`
  // are the commands the next apply() calls will get, upcoming[0] first, as
  // many as are known. Issues CPU prefetches for the memory that a few of
  // them will touch (order-id index buckets, order records, their FIFO and
  // account-list neighbours, levels), staged over successive calls. A hint
  // only: it reads the state and changes nothing, so events and
  // state_hash() are the same with or without it. Pays off when the books
  // are far larger than the cache (recovery of a million resting orders);
  // call it before each apply().
  void prefetch(std::span<const Command> upcoming) const;

  // A deep copy: an independent engine in exactly this state (same
  // state_hash(), same events for every later command). REQUIRES: called
  // between commands. Cheaper than snapshot() + restore() (a copy of the
  // pools, no encoding): the server hands one to its snapshot follower.
  std::unique_ptr<Engine> clone() const;

  // The whole state as bytes (docs/snapshot-format.md). REQUIRES: called
  // between commands.
  std::string snapshot() const;
  // An engine restored from snapshot(): same state_hash(), same events for
  // every later command. nullptr (and *error set) if the bytes are damaged, of
  // another version, or were taken under a different config.
  static std::unique_ptr<Engine> restore(const EngineConfig& config, std::string_view bytes,
                                         std::string* error);

  // A 64-bit hash of the whole state (instruments, books in priority order,
  // stops, accounts' open orders, id counters). Equal states hash equal.
  std::uint64_t state_hash() const;

  // --- read-only views (tests, demo, market data snapshots) ---
  std::optional<InstrumentId> find_symbol(std::string_view symbol) const;
  std::optional<InstrumentView> instrument(InstrumentId id) const;
  // Up to max_levels levels from the best.
  std::vector<LevelView> depth(InstrumentId id, Side side, std::size_t max_levels) const;
  std::optional<OrderView> order(OrderId id) const;
  std::size_t open_orders() const;

  // Accounts mode only (nullopt otherwise). Also answers for kFeeAccount and
  // kExternalAccount.
  std::optional<BalanceView> balance(AccountId account, AssetId asset) const;
  std::optional<PositionView> position(AccountId account, InstrumentId instrument) const;

  // Accounts mode: conservation (every asset's balances, fee and external
  // accounts included, sum to zero), hold consistency (held = what the open
  // orders require), and no negative total or available. Empty when all
  // hold, else the first violations. O(accounts × assets + orders).
  std::string check_ledger() const;

  // Checks every structural invariant: book not crossed, level totals equal
  // the sum of their orders, the id and client-order-id indexes match the
  // books, account lists match. Returns an empty string when all hold,
  // otherwise a description of the first violation. O(orders): tests only.
  std::string check_invariants() const;

  struct Impl;  // opaque; defined in the internal core/engine_impl.h

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stox
