// ReferenceMatcher: the test oracle for core::Engine.
//
// A deliberately naive, obviously-correct implementation of every rule in
// docs/design.md ("Rules" and "Event order"). It is written independently of
// src/core/engine.cc and favours clarity over speed everywhere:
//  - each instrument keeps its resting orders in two plain std::vectors
//    (bids, asks), re-sorted by priority (price, then an arrival counter)
//    after every insertion; levels are recomputed by linear scans;
//  - stops sit in an unordered vector and are sorted only when elected;
//  - orders are found by id with a linear scan over every book;
//  - FOK is decided literally: the order is run as IOC on a copy of the whole
//    matcher, and only if that copy fills it completely is it run for real.
//
// Every event is zero-filled (padding included) before its fields are set.
//
// Readings of the spec where its text allows more than one (the engine agrees):
//  - A DECREMENT is not a fill: it lowers the order's total quantity with its
//    leaves, so quantity = filled + leaves always holds. This decides
//    kQuantityNotAboveFilled, kept_priority and Replaced.quantity later on.
//  - Cancelled.leaves is what was open just before the close (for a DECREMENT
//    that closes an order: d).
//  - A quote-quantity buy checks at a level, in order: band, one affordable
//    lot, then self-trade prevention against the front maker. Cash spent to
//    exactly 0 means complete: no further event.
//  - FOK "fills completely" = traded quantity equals the order quantity, so a
//    DECREMENT on the way makes it not fillable.
//  - Stop elections run once per finished order and once after each whole
//    triggered group (not after each stop in the group).
//  - SetInstrumentStatus with instrument 0 applies to every instrument (also
//    in matching-only mode).
//
// Accounts mode (EngineConfig::accounts, docs/design.md "Accounts, ledger and
// risk"), just as naive:
//  - balances keep only the totals; what is held is never stored but summed
//    from scratch over the open orders (resting, stops, and elected stops of a
//    running group that have not run yet) by the spec's requirement formulas,
//    whenever a decision needs "available" and whenever a test asks;
//  - positions keep cost and realized P&L in 128 bits;
//  - the circuit breaker is a check just before a trade would print; the
//    resume is done at the top of apply() for every due instrument, in id order.
// Readings where the accounts text allows more than one:
//  - risk check 5 prices a MARKET order at its band edge on its own side (BUY:
//    upper, SELL: lower); a notional (in cash) beyond int64 is kValueOverflow
//    ("Numbers"), checked where the engine checks it: after risk check 3,
//    before check 4; a Replace is priced (checks 4 and 5) on its new
//    total quantity; the collar of a Replace is checked on the merged price
//    even when the price does not change;
//  - a triggered stop-market BUY moves its hold to the band from the last
//    price at the moment it starts to run (the price its band is computed from);
//  - FOK: a trade the breaker would stop makes the order not fillable;
//  - when the breaker halts an instrument in the middle of a triggered group,
//    the stops of the group that have not run go back to the stop book and the
//    prices that elected them are kept, so the resume elects them again;
//  - a manual SetInstrumentStatus of a breaker-halted instrument ends the
//    breaker halt (no automatic resume afterwards);
//  - Deposit/Withdraw naming a system account are kUnknownAccount.
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/command.h"
#include "core/engine.h"
#include "core/event.h"

namespace stox::testing {

class ReferenceMatcher {
 public:
  explicit ReferenceMatcher(const EngineConfig& config = {});

  // Appends the events of `command` to `out` (never clears it).
  void apply(const Command& command, std::vector<Event>& out);

  // --- read-only views, shaped like Engine's so tests can compare ---
  // Every level of one side, best first.
  std::vector<LevelView> depth(InstrumentId id, Side side) const;
  std::optional<InstrumentView> instrument(InstrumentId id) const;
  std::optional<OrderView> order(OrderId id) const;
  std::size_t instrument_count() const { return instruments_.size(); }
  std::size_t open_orders() const;
  std::vector<OrderId> open_order_ids() const;  // ascending

  // Accounts mode. Accounts created so far are 1..account_count(); balance()
  // also answers for kFeeAccount and kExternalAccount.
  AccountId account_count() const { return static_cast<AccountId>(accounts_.size()); }
  std::optional<BalanceView> balance(AccountId account, AssetId asset) const;
  std::optional<PositionView> position(AccountId account, InstrumentId instrument) const;
  // Empty when every asset's totals (fee and external accounts included) sum
  // to zero and no account has a negative total or available.
  std::string check_conservation() const;

 private:
  struct Order {
    OrderId id = 0;
    AccountId account = 0;
    InstrumentId instrument = 0;
    ClientOrderId client_order_id;
    Side side = Side::kBuy;
    OrderType type = OrderType::kLimit;
    TimeInForce tif = TimeInForce::kDay;
    StpMode stp = StpMode::kCancelTaker;
    bool post_only = false;
    bool triggered = false;     // stop orders: elected, now trading as MARKET/LIMIT
    bool quote = false;         // quote-quantity market buy: leaves is unspent cash
    Price price = 0;
    Price stop_price = 0;
    Quantity quantity = 0;      // total = filled + leaves (a DECREMENT lowers it)
    Quantity leaves = 0;
    Quantity display = 0;       // 0 unless iceberg
    Quantity visible = 0;       // resting orders only
    std::uint64_t arrival = 0;  // time priority in the book: smaller is older
    SeqNo stop_priority = 0;    // time priority among stops: seq of the placing command
  };

  struct Instrument {
    InstrumentId id = 0;
    AddInstrument spec{};
    InstrumentStatus status = InstrumentStatus::kTrading;
    Price last = 0;  // 0 = no trade since the last EndOfDay
    // Trade prices printed since the last stop election check.
    bool printed = false;
    Price high = 0;
    Price low = 0;
    std::vector<Order> bids;  // best price first, then oldest first
    std::vector<Order> asks;  // best price first, then oldest first
    std::vector<Order> stops; // untriggered stops, in no particular order
    // Accounts mode.
    SetInstrumentLimits limits{};   // zero fields: engine defaults
    std::vector<Order> pending;     // elected stops of the running group, not yet run
    bool breaker_halted = false;    // halted by the circuit breaker ...
    Timestamp resume_at = 0;        // ... until the first command at/after this
  };

  struct Account {
    bool exists = false;
    bool killed = false;
    SetAccountLimits limits{};
    std::int64_t rate_window = -1;  // whole second of the counted commands
    std::uint32_t rate_count = 0;
    std::vector<Amount> total;      // by asset id
    std::vector<Int128> cost;       // by instrument id
    std::vector<Int128> realized;   // by instrument id
  };

  // Why the matching loop of one taker stopped.
  enum class MatchEnd { kFilled, kExhausted, kQuoteTooSmall, kSelfTrade, kBreaker };
  struct MatchResult {
    MatchEnd end = MatchEnd::kFilled;
    bool traded = false;
    Quantity executed = 0;  // quantity traded (not cash)
  };

  // Where an open order lives: the instrument and the vector holding it.
  struct Location {
    Instrument* instrument;
    std::vector<Order>* list;
    std::size_t index;
    bool resting() const { return list != &instrument->stops; }
    Order& order() const { return (*list)[index]; }
  };

  // Commands.
  void add_instrument(const AddInstrument& c);
  void set_status(const SetInstrumentStatus& c);
  void new_order(const NewOrder& c);
  void cancel(const Cancel& c);
  void replace(const Replace& c);
  void replace_losing_priority(Location loc, Price price, Price stop_price, Quantity quantity);
  void mass_cancel(const MassCancel& c);
  void end_of_day();

  // Accounts commands.
  void create_account(const CreateAccount& c);
  void transfer(CommandType kind, const Transfer& c);
  void set_account_limits(const SetAccountLimits& c);
  void set_instrument_limits(const SetInstrumentLimits& c);
  void set_kill_switch(const SetKillSwitch& c);
  void resume_due_instruments();

  // Validation: kNone when valid.
  RejectReason check_new_order(const NewOrder& c) const;
  RejectReason check_replace(const Replace& c);
  RejectReason check_risk_new(const NewOrder& c);
  RejectReason check_risk_replace(const Order& o, Price price, Price stop_price,
                                  Quantity quantity);
  RejectReason check_rate(Account& a);

  // Accounts helpers (amounts in 128 bits; cash at the cash scale).
  Account* find_account(AccountId id);
  const Account* find_account(AccountId id) const;
  Amount& total_of(Account& a, AssetId asset);
  Int128 cash_multiplier(const Instrument& inst) const;
  Int128 notional(const Instrument& inst, Price price, Quantity qty) const;
  Int128 need(const Instrument& inst, Price price, Quantity qty) const;
  static Int128 band_high(const Instrument& inst, Int128 ref);
  static Int128 band_low(const Instrument& inst, Int128 ref);
  static Price last_or_reference(const Instrument& inst);
  // What an open order holds: cash for a BUY, shares for a SELL.
  Int128 requirement(const Instrument& inst, const Order& o) const;
  Int128 held(AccountId account, AssetId asset) const;
  Int128 available(AccountId account, AssetId asset) const;
  std::size_t open_orders_of(AccountId account) const;
  bool breaker_stops(const Instrument& inst, Price price) const;
  void settle(Instrument& inst, const Order& maker, const Order& taker, Price price, Quantity qty,
              TradeId trade_id);

  // Matching.
  void execute(Instrument& inst, Order taker);
  MatchResult match(Instrument& inst, Order& taker);
  bool self_trade(Instrument& inst, Order& taker);
  void trade(Instrument& inst, Order& taker, Quantity qty, MatchResult& result);
  void finish(Instrument& inst, Order& taker, const MatchResult& result);
  bool fok_fillable(const Instrument& inst, const Order& taker) const;
  void rest(Instrument& inst, Order order);
  void check_stops(Instrument& inst);

  // Helpers.
  Instrument* find_instrument(InstrumentId id);
  const Instrument* find_instrument(InstrumentId id) const;
  std::optional<Location> find_open(OrderId id);
  std::vector<const Order*> open_orders_by_id() const;
  void close_open_order(OrderId id, CancelReason reason);
  static bool crosses(const Instrument& inst, Side side, Price price) ;
  static bool stop_elected(const Instrument& inst, Side side, Price stop_price) ;
  bool client_order_id_in_use(AccountId account, const ClientOrderId& id) const;
  static std::vector<Order>& book_side(Instrument& inst, Side side);
  static const std::vector<Order>& book_side(const Instrument& inst, Side side);
  static void sort_side(std::vector<Order>& orders, Side side);
  static LevelView level(const Instrument& inst, Side side, Price price);

  // Events.
  Event& new_event(EventType type);  // appended to out_, zero-filled, header set
  void emit_rejected(CommandType command, RejectReason reason, AccountId account,
                     OrderId order_id, const ClientOrderId& client_order_id);
  void emit_cancelled(const Order& o, CancelReason reason, Quantity leaves);
  void emit_reduced(const Order& o, Quantity by);
  void emit_replaced(const Order& o, bool kept_priority);
  void emit_book_level(const Instrument& inst, Side side, Price price);

  EngineConfig config_;
  bool trial_ = false;  // a FOK trial copy: matching only, no settlement
  std::vector<Instrument> instruments_;  // instrument id i is at index i - 1
  std::vector<Account> accounts_;        // account id i is at index i - 1
  Account fee_account_;
  Account external_account_;
  OrderId next_order_id_ = 1;
  TradeId next_trade_id_ = 1;
  std::uint64_t next_arrival_ = 1;

  // The command being applied and where its events go.
  SeqNo seq_ = 0;
  Timestamp timestamp_ = 0;
  std::vector<Event>* out_ = nullptr;
};

}  // namespace stox::testing
