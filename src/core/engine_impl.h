// Internal: the engine's state and the declaration of its parts. Not a
// public header; only the engine's own .cc files include it.
//
//   engine.cc    command dispatch, validation, cancel/replace/mass cancel,
//                end of day, public API, state hash, invariants
//   matching.cc  execute(), match(), fills, self-trade prevention, FOK, stops
//   ledger.cc    accounts, balances, holds, settlement, transfers, positions
//   risk.cc      pre-trade risk checks, limits, kill switch, circuit breaker
#pragma once

#include <string>
#include <limits>
#include <unordered_map>
#include <vector>

#include "core/engine.h"
#include "core/order_book.h"

namespace stox {

inline constexpr std::int64_t kMaxValue = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t kPow10[] = {1,      10,      100,      1000,      10000,
                                          100000, 1000000, 10000000, 100000000, 1000000000,
                                          10000000000, 100000000000, 1000000000000,
                                          10000000000000, 100000000000000,
                                          1000000000000000, 10000000000000000,
                                          100000000000000000, 1000000000000000000};

inline bool fits(Int128 v) { return v <= kMaxValue && v >= -kMaxValue; }
inline bool is_market_like(OrderType t) { return t == OrderType::kMarket || t == OrderType::kStop; }
inline bool is_stop(OrderType t) { return t == OrderType::kStop || t == OrderType::kStopLimit; }
inline bool rests(TimeInForce t) { return t == TimeInForce::kDay || t == TimeInForce::kGtc; }
// Is `level_price` acceptable to a taker on `side` whose bound is `limit`?
inline bool acceptable(Side side, Price level_price, Price limit) {
  return side == Side::kBuy ? level_price <= limit : level_price >= limit;
}

struct InstrumentLimits {
  std::int32_t collar_bps;
  std::int32_t breaker_bps;
  Quantity max_order_quantity;  // 0 = unlimited
  Amount max_order_notional;    // 0 = unlimited
  Timestamp breaker_halt_ns;
};

struct Instrument {
  InstrumentId id = 0;
  AddInstrument spec{};
  InstrumentStatus status = InstrumentStatus::kTrading;
  Price last = 0;  // last trade price; 0 = none since the last EndOfDay
  Price high = 0;  // highest / lowest trade price not yet checked for stop elections
  Price low = 0;
  InstrumentLimits limits{};
  Timestamp resume_at = 0;  // circuit-breaker halt: resume time; 0 = not breaker-halted
  Ladder bids{true};
  Ladder asks{false};
  Ladder buy_stops{false};  // the lowest buy stop elects first
  Ladder sell_stops{true};  // the highest sell stop elects first

  Ladder& book(Side s) { return s == Side::kBuy ? bids : asks; }
  const Ladder& book(Side s) const { return s == Side::kBuy ? bids : asks; }
  Ladder& stops(Side s) { return s == Side::kBuy ? buy_stops : sell_stops; }
  Price last_or_reference() const { return last != 0 ? last : spec.reference_price; }
};

// Open orders of one account id (both modes).
struct AccountOrders {
  std::uint32_t head = kNoSlot;
  std::uint32_t tail = kNoSlot;
  std::uint32_t count = 0;
};

struct Balance {
  Amount total = 0;
  Amount held = 0;
};

// Cost basis and realized P&L are not bounded by conservation the way
// balances are (deposited shares enter at the reference price, and the same
// cash can buy many times over), so they are kept in 128 bits and clamped to
// 64 only when reported.
struct Position {
  Int128 cost = 0;
  Int128 realized = 0;
};

// A ledger account (accounts mode).
struct Account {
  CreateAccount spec{};
  bool killed = false;
  SetAccountLimits limits{};
  std::int64_t rate_window = -1;  // whole second of the counted commands
  std::uint32_t rate_count = 0;
  std::vector<Balance> balances;    // index = asset id
  std::vector<Position> positions;  // index = instrument id
};

// How one order's matching ended.
struct MatchResult {
  bool traded = false;
  bool closed = false;        // the taker was cancelled during matching (STP, breaker)
  bool cash_limited = false;  // quote order: could not afford one lot at the best level
};

struct Engine::Impl {
  explicit Impl(const EngineConfig& c);

  EngineConfig config;
  std::vector<Instrument> instruments;  // index = id - 1
  std::unordered_map<std::string, InstrumentId> symbols;
  Pool<Order> orders;
  Pool<Level> levels;
  SlotIndex ids;         // order id -> slot, registered orders
  SlotIndex client_ids;  // (account, client order id) -> slot, registered orders with one
  std::vector<AccountOrders> account_orders;  // index = account id
  std::size_t registered = 0;
  OrderId last_order_id = 0;
  TradeId last_trade_id = 0;

  // Accounts mode.
  std::vector<Account> accounts;  // index = id - 1
  std::vector<Balance> fee_balances;       // index = asset id
  std::vector<Balance> external_balances;  // index = asset id
  std::uint32_t breaker_halts = 0;         // instruments waiting for a breaker resume

  // Per-command context.
  const Command* cmd = nullptr;
  std::vector<Event>* out = nullptr;
  // Scratch space, reused so that no command allocates once warm.
  std::vector<std::uint32_t> scratch_slots;
  std::vector<std::uint32_t> group;
  struct FokSim {
    AccountId account;
    Quantity visible;
    Quantity leaves;
    Quantity display;
  };
  std::vector<FokSim> fok_queue;

  // ---- engine.cc: dispatch, events, lookups, registration, commands
  void apply(const Command& c, std::vector<Event>& events);
  // Appends to the command's event vector; not const in meaning, whatever
  // the compiler could prove.
  Event& emit(EventType type);  // NOLINT(readability-make-member-function-const)
  void emit_reject(RejectReason reason, AccountId account, OrderId order_id,
                   const ClientOrderId& client_id);
  void emit_cancelled(const Order& o, CancelReason reason, Quantity leaves);
  void emit_reduced(const Order& o, Quantity by);
  void emit_level(InstrumentId instrument, Side side, Price price, std::uint32_t level);
  void emit_replaced(const Order& o, bool kept);
  void emit_status(const Instrument& ins);

  Instrument* instrument(InstrumentId id);
  const Instrument* instrument(InstrumentId id) const;
  std::uint32_t find_order(OrderId id) const;
  std::uint32_t find_client_id(AccountId account, const ClientOrderId& cid) const;
  std::uint32_t own_open_order(AccountId account, OrderId id) const;
  bool account_exists(AccountId a) const;

  void register_order(std::uint32_t slot);
  void unregister_order(std::uint32_t slot);
  void close_order(std::uint32_t slot);
  std::uint32_t append_to_level(Ladder& ladder, Price price, std::uint32_t slot, Quantity visible,
                                Quantity total);
  std::uint32_t unlink_from_level(Ladder& ladder, std::uint32_t slot, Quantity visible,
                                  Quantity total);
  std::uint32_t unlink_resting(Instrument& ins, std::uint32_t slot);
  void unlink_stop(Instrument& ins, std::uint32_t slot);
  void cancel_open(std::uint32_t slot, CancelReason reason);
  void cancel_in_id_order(std::vector<std::uint32_t>& slots, CancelReason reason);

  void on_add_instrument(const AddInstrument& a);
  void on_set_status(const SetInstrumentStatus& s);
  void set_status(Instrument& ins, InstrumentStatus status);
  void on_new_order(const NewOrder& n);
  RejectReason validate_new_order(const NewOrder& o) const;
  void on_cancel(const Cancel& c);
  void on_mass_cancel(const MassCancel& m);
  void on_end_of_day();
  struct ReplaceTarget {
    Price price;
    Price stop_price;
    Quantity quantity;
  };
  RejectReason validate_replace(const Replace& r, const Order& o, const Instrument& ins,
                                ReplaceTarget& t) const;
  void on_replace(const Replace& r);
  void replace_stop(Instrument& ins, std::uint32_t slot, const ReplaceTarget& t, Quantity leaves,
                    bool keep);
  void replace_in_place(Instrument& ins, std::uint32_t slot, const ReplaceTarget& t,
                        Quantity leaves);
  static bool stop_elected_now(const Instrument& ins, Side side, Price stop);
  bool crosses(const Instrument& ins, Side side, Price price) const;

  std::uint64_t state_hash() const;
  std::string check_invariants() const;

  // ---- engine.cc: replay look-ahead (Engine::prefetch), by distance
  void prefetch(std::span<const Command> upcoming) const;
  void prefetch_far(const Command& c) const;
  void prefetch_mid(const Command& c) const;
  void prefetch_near(const Command& c) const;
  void prefetch_order_run(OrderId id) const;  // inline below (snapshot.cc uses it too)
  void prefetch_neighbours(std::uint32_t slot) const;
  std::uint32_t level_at(InstrumentId instrument, Side side, Price price) const;
  std::uint32_t best_opposite(InstrumentId instrument, Side side) const;

  // ---- snapshot.cc
  std::string encode_snapshot() const;
  std::string decode_snapshot(std::string_view bytes);  // empty = restored

  // ---- matching.cc
  static Price band_edge(const Instrument& ins, Side side, Price ref);
  static void start_market(const Instrument& ins, Order& o);
  void execute(Instrument& ins, std::uint32_t slot);
  void finish(Instrument& ins, std::uint32_t slot, const MatchResult& r);
  void rest(Instrument& ins, std::uint32_t slot);
  MatchResult match(Instrument& ins, std::uint32_t taker_slot);
  void fill(Instrument& ins, std::uint32_t taker_slot, std::uint32_t maker_slot, std::uint32_t lv,
            Quantity qty);
  void refresh_iceberg(std::uint32_t slot);
  bool prevent_self_trade(Instrument& ins, std::uint32_t taker_slot, std::uint32_t maker_slot);
  bool decrement(Instrument& ins, std::uint32_t taker_slot, std::uint32_t maker_slot);
  bool fok_fillable(const Instrument& ins, const Order& taker);
  Quantity simulate_level_until_own(const Level& level, AccountId account, Quantity need);
  void add_stop(Instrument& ins, std::uint32_t slot);
  void run_elections(Instrument& ins);
  void trigger(Instrument& ins, std::uint32_t slot, Price last);
  static Quantity affordable(const Instrument& ins, Amount cash, Price price);
  static Amount notional(const Instrument& ins, Price price, Quantity qty);

  // ---- ledger.cc (accounts mode)
  Account* account(AccountId id);
  const Account* account(AccountId id) const;
  static Balance& balance(Account& a, AssetId asset);
  void grow_accounts();  // gives every account a balance/position for a new asset
  void on_create_account(const CreateAccount& c);
  void on_transfer(const Transfer& t, bool deposit);
  Amount to_cash(const Instrument& ins, Amount price_scale_amount) const;
  Amount cash_notional(const Instrument& ins, Price price, Quantity qty) const;
  Int128 exact_cash_notional(const Instrument& ins, Price price, Quantity qty) const;
  static std::int32_t max_fee_bps(const Instrument& ins);
  Amount buy_need(const Instrument& ins, Price price, Quantity qty) const;
  static Price hold_price(const Instrument& ins, const Order& o);
  Amount requirement(const Instrument& ins, const Order& o) const;
  static AssetId hold_asset(const Order& o);
  Amount available(AccountId id, AssetId asset);
  void adjust_hold(const Order& o, Amount delta);
  void settle(const Instrument& ins, Order& taker, Order& maker, Price price, Quantity qty,
              Amount taker_before, Amount maker_before, TradeId trade_id);
  std::string check_ledger() const;

  // ---- risk.cc (accounts mode)
  RejectReason check_risk_new(const NewOrder& n, const Instrument& ins);
  RejectReason check_risk_replace(const Order& o, const Instrument& ins, const ReplaceTarget& t);
  RejectReason check_rate(Account& a) const;
  static RejectReason check_size(const Instrument& ins, const Account& a, Quantity qty,
                                 Amount notional_cash);
  bool outside_collar(const Instrument& ins, OrderType type, Price price, Price stop) const;
  bool breaker_trips(const Instrument& ins, Price price) const;
  void trip_breaker(Instrument& ins);
  void resume_breaker_halts();
  void on_account_limits(const SetAccountLimits& l);
  void on_instrument_limits(const SetInstrumentLimits& l);
  void on_kill_switch(const SetKillSwitch& k);
};

// The record the id's index entry points to (the index stores hash bits, so
// other entries of the probe run are not candidates and are never read).
inline void Engine::Impl::prefetch_order_run(OrderId id) const {
  constexpr std::size_t kRunEntries = 4;
  ids.for_candidates(mix_hash(id), kRunEntries, [&](std::uint32_t s) {
    if (const Order* o = orders.at_or_null(s)) {
      prefetch_line(&o->id);
      prefetch_line(&o->account_next);
    }
  });
}

}  // namespace stox
