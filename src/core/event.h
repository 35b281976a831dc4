// Events: the only output of the engine. Market data, order state, the
// REST/WebSocket views and the ledger are all built from events alone.
//
// Every event carries the sequence number and timestamp of the command that
// caused it. The exact order in which one command emits its events is part
// of the contract (docs/design.md, "Event order"); the reference matcher in
// the tests reproduces it event for event.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "common/reason.h"
#include "common/types.h"
#include "core/command.h"

namespace stox {

enum class EventType : std::uint8_t {
  kInstrumentAdded = 1,
  kInstrumentStatus = 2,
  kAccepted = 3,
  kRejected = 4,
  kTrade = 5,
  kCancelled = 6,
  kReduced = 7,
  kReplaced = 8,
  kStopTriggered = 9,
  kBookLevel = 10,
  kMassCancelled = 11,
  kDayEnded = 12,
  kAccountCreated = 13,
  kTransferred = 14,
  kSettled = 15,
  kLimitsSet = 16,
  kKillSwitch = 17,
};

struct InstrumentAddedEvent {
  InstrumentId instrument;
  AddInstrument spec;  // market_band_bps resolved (never 0)
};

struct InstrumentStatusEvent {
  InstrumentId instrument;
  InstrumentStatus status;
};

struct AcceptedEvent {
  OrderId order_id;
  NewOrder order;
};

struct RejectedEvent {
  CommandType command;
  RejectReason reason;
  AccountId account;
  OrderId order_id;               // Cancel/Replace target; 0 for NewOrder
  ClientOrderId client_order_id;  // NewOrder only
};

struct TradeEvent {
  TradeId trade_id;
  InstrumentId instrument;
  Side aggressor;  // the taker's side
  Price price;     // always the maker's price
  Quantity quantity;
  OrderId maker_order;
  OrderId taker_order;
  AccountId maker_account;
  AccountId taker_account;
  Quantity maker_leaves;  // after this trade
  Quantity taker_leaves;  // after this trade; unspent cash for quote-quantity orders
};

// The order is closed; `leaves` is what was left open (cash for a
// quote-quantity market order).
struct CancelledEvent {
  OrderId order_id;
  AccountId account;
  InstrumentId instrument;
  CancelReason reason;
  Quantity leaves;
};

// Self-trade DECREMENT: the order lost `reduced_by` without trading and stays open.
struct ReducedEvent {
  OrderId order_id;
  AccountId account;
  InstrumentId instrument;
  Quantity reduced_by;
  Quantity leaves;
};

struct ReplacedEvent {
  OrderId order_id;
  AccountId account;
  InstrumentId instrument;
  Price price;
  Price stop_price;
  Quantity quantity;  // new total
  Quantity leaves;
  bool kept_priority;
};

struct StopTriggeredEvent {
  OrderId order_id;
  AccountId account;
  InstrumentId instrument;
  Price last_price;  // last trade price when the stop was elected
};

// A public price level after a change: visible quantity and order count.
// quantity 0 and count 0 mean the level is gone.
struct BookLevelEvent {
  InstrumentId instrument;
  Side side;
  Price price;
  Quantity quantity;
  std::uint32_t count;
};

struct MassCancelledEvent {
  AccountId account;
  InstrumentId instrument;
  std::uint32_t count;
};

struct DayEndedEvent {
  std::uint32_t expired;
};

struct AccountCreatedEvent {
  AccountId account;
  CreateAccount spec;
};

// A deposit or withdrawal: a two-entry posting between the account and the
// external account (kExternalAccount) in one asset.
struct TransferredEvent {
  CommandType kind;  // kDeposit or kWithdraw
  AccountId account;
  AssetId asset;
  Amount amount;
  Amount total_after;  // the account's total balance of the asset afterwards
};

// The ledger posting of one trade (it follows its Trade event). Entries, per
// asset summing to zero:
//   cash:   buyer -(notional + buyer_fee), seller +(notional - seller_fee),
//           fee account +(buyer_fee + seller_fee)
//   shares: seller -quantity, buyer +quantity
// Fees are negative for a maker rebate.
struct SettledEvent {
  TradeId trade_id;
  InstrumentId instrument;
  AccountId buyer;
  AccountId seller;
  Quantity quantity;
  Amount notional;  // cash scale
  Amount buyer_fee;
  Amount seller_fee;
};

// Acknowledges SetAccountLimits / SetInstrumentLimits (`command` says which).
struct LimitsSetEvent {
  CommandType command;
  std::uint32_t target;  // account or instrument id
};

struct KillSwitchEvent {
  AccountId account;
  bool enabled;
  std::uint32_t cancelled;
};

struct Event {
  SeqNo seq;
  Timestamp timestamp;
  EventType type;
  union {
    InstrumentAddedEvent instrument_added;
    InstrumentStatusEvent instrument_status;
    AcceptedEvent accepted;
    RejectedEvent rejected;
    TradeEvent trade;
    CancelledEvent cancelled;
    ReducedEvent reduced;
    ReplacedEvent replaced;
    StopTriggeredEvent stop_triggered;
    BookLevelEvent book_level;
    MassCancelledEvent mass_cancelled;
    DayEndedEvent day_ended;
    AccountCreatedEvent account_created;
    TransferredEvent transferred;
    SettledEvent settled;
    LimitsSetEvent limits_set;
    KillSwitchEvent kill_switch;
  };

  // Every byte zero, padding included, so event streams are byte-comparable.
  Event() { std::memset(static_cast<void*>(this), 0, sizeof *this); }
};

static_assert(std::is_trivially_copyable_v<Event>);

// Field-by-field equality (padding bytes are not compared).
bool operator==(const Event& a, const Event& b);
// One line of text, for test failure messages and the demo.
std::string to_string(const Event& e);

}  // namespace stox
