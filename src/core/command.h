// Commands: the only input of the engine.
//
// Every command carries the sequence number and timestamp assigned by the
// sequencer before the engine sees it; the engine never reads a clock. A
// command is a fixed-layout, trivially copyable value so that the journal,
// the binary gateway and the tests can all hold it as bytes.
//
// Zero means "absent" in every optional field (prices, stop prices,
// quantities, ids): zero is never a valid value for any of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "common/types.h"

namespace stox {

enum class CommandType : std::uint8_t {
  kNewOrder = 1,
  kCancel = 2,
  kReplace = 3,
  kMassCancel = 4,
  kEndOfDay = 5,
  kSetInstrumentStatus = 6,
  kAddInstrument = 7,
  // Accounts, ledger and risk (docs/design.md, "Accounts, ledger and risk").
  kCreateAccount = 8,
  kDeposit = 9,
  kWithdraw = 10,
  kSetAccountLimits = 11,
  kSetInstrumentLimits = 12,
  kSetKillSwitch = 13,
};

enum class AccountType : std::uint8_t { kCash = 1, kMargin = 2 /* reserved, rejected today */ };

// Asset ids: 0 is the settlement currency (cash); any other id is the shares
// of the instrument with that id.
using AssetId = std::uint32_t;
inline constexpr AssetId kCashAsset = 0;

struct NewOrder {
  AccountId account;
  InstrumentId instrument;
  ClientOrderId client_order_id;  // empty = none
  Price price;                    // LIMIT, STOP_LIMIT; else 0
  Price stop_price;               // STOP, STOP_LIMIT; else 0
  Quantity quantity;              // 0 only with quote_quantity
  Amount quote_quantity;          // MARKET BUY only: cash to spend, at price scale
  Quantity display_quantity;      // iceberg: 0 < display < quantity; else 0
  Side side;
  OrderType type;
  TimeInForce time_in_force;
  StpMode stp;
  bool post_only;
};

struct Cancel {
  AccountId account;
  OrderId order_id;
};

// Cancel/replace. quantity is the new total order quantity (filled part
// included, as in FIX OrderQty). Zero fields are left unchanged.
struct Replace {
  AccountId account;
  OrderId order_id;
  Quantity quantity;
  Price price;
  Price stop_price;
};

struct MassCancel {
  AccountId account;
  InstrumentId instrument;  // 0 = every instrument
};

struct EndOfDay {};

struct SetInstrumentStatus {
  InstrumentId instrument;  // 0 = every instrument (market-wide halt/resume)
  InstrumentStatus status;
};

struct AddInstrument {
  Symbol symbol;
  Price tick_size;           // at price scale
  Quantity lot_size;         // at quantity scale
  Price reference_price;     // previous close, at price scale, on tick
  std::int32_t market_band_bps;  // market-order protection band; 0 = engine default
  std::int32_t maker_fee_bps;     // may be negative (rebate) down to -taker_fee_bps
  std::int32_t taker_fee_bps;     // 0..10000
  std::uint8_t price_scale;      // decimal places, 0..9
  std::uint8_t quantity_scale;   // decimal places, 0..9
};

struct CreateAccount {
  FixedString<16> label;
  AccountType type;
};

// Deposit and Withdraw move value between an account and the external world.
struct Transfer {
  AccountId account;
  AssetId asset;
  Amount amount;  // cash at the cash scale, or shares at the instrument's quantity scale
};

// Zero fields mean "no account-specific limit" (the engine default applies).
struct SetAccountLimits {
  AccountId account;
  std::uint32_t max_open_orders;
  std::uint32_t max_orders_per_second;
  Quantity max_order_quantity;
  Amount max_order_notional;  // at the cash scale
};

// Zero fields mean "engine default".
struct SetInstrumentLimits {
  InstrumentId instrument;
  std::int32_t collar_bps;
  std::int32_t breaker_bps;
  Quantity max_order_quantity;
  Amount max_order_notional;  // at the cash scale
  Timestamp breaker_halt_ns;
};

struct SetKillSwitch {
  AccountId account;
  bool enabled;
};

struct Command {
  SeqNo seq = 0;
  Timestamp timestamp = 0;
  CommandType type = CommandType::kEndOfDay;
  union {
    NewOrder new_order;
    Cancel cancel;
    Replace replace;
    MassCancel mass_cancel;
    EndOfDay end_of_day;
    SetInstrumentStatus set_status;
    AddInstrument add_instrument;
    CreateAccount create_account;
    Transfer transfer;  // kDeposit, kWithdraw
    SetAccountLimits account_limits;
    SetInstrumentLimits instrument_limits;
    SetKillSwitch kill_switch;
  };

  Command() : new_order{} {}

  static Command make(SeqNo seq, Timestamp ts, const NewOrder& b) {
    Command c = header(seq, ts, CommandType::kNewOrder);
    c.new_order = b;
    return c;
  }
  static Command make(SeqNo seq, Timestamp ts, const Cancel& b) {
    Command c = header(seq, ts, CommandType::kCancel);
    c.cancel = b;
    return c;
  }
  static Command make(SeqNo seq, Timestamp ts, const Replace& b) {
    Command c = header(seq, ts, CommandType::kReplace);
    c.replace = b;
    return c;
  }
  static Command make(SeqNo seq, Timestamp ts, const MassCancel& b) {
    Command c = header(seq, ts, CommandType::kMassCancel);
    c.mass_cancel = b;
    return c;
  }
  static Command make(SeqNo seq, Timestamp ts, const EndOfDay&) {
    return header(seq, ts, CommandType::kEndOfDay);
  }
  static Command make(SeqNo seq, Timestamp ts, const SetInstrumentStatus& b) {
    Command c = header(seq, ts, CommandType::kSetInstrumentStatus);
    c.set_status = b;
    return c;
  }
  static Command make(SeqNo seq, Timestamp ts, const AddInstrument& b) {
    Command c = header(seq, ts, CommandType::kAddInstrument);
    c.add_instrument = b;
    return c;
  }
  static Command make(SeqNo seq, Timestamp ts, const CreateAccount& b) {
    Command c = header(seq, ts, CommandType::kCreateAccount);
    c.create_account = b;
    return c;
  }
  static Command deposit(SeqNo seq, Timestamp ts, const Transfer& b) {
    Command c = header(seq, ts, CommandType::kDeposit);
    c.transfer = b;
    return c;
  }
  static Command withdraw(SeqNo seq, Timestamp ts, const Transfer& b) {
    Command c = header(seq, ts, CommandType::kWithdraw);
    c.transfer = b;
    return c;
  }
  static Command make(SeqNo seq, Timestamp ts, const SetAccountLimits& b) {
    Command c = header(seq, ts, CommandType::kSetAccountLimits);
    c.account_limits = b;
    return c;
  }
  static Command make(SeqNo seq, Timestamp ts, const SetInstrumentLimits& b) {
    Command c = header(seq, ts, CommandType::kSetInstrumentLimits);
    c.instrument_limits = b;
    return c;
  }
  static Command make(SeqNo seq, Timestamp ts, const SetKillSwitch& b) {
    Command c = header(seq, ts, CommandType::kSetKillSwitch);
    c.kill_switch = b;
    return c;
  }

 private:
  static Command header(SeqNo seq, Timestamp ts, CommandType t) {
    Command c;
    c.seq = seq;
    c.timestamp = ts;
    c.type = t;
    return c;
  }
};

static_assert(std::is_trivially_copyable_v<Command>);

// One line of text, for logs and test failures.
std::string to_string(const Command& c);
// Layout (bytes): Command = seq 0..7 | timestamp 8..15 | type 16 | pad 17..23 |
// body 24..95. NewOrder = account 0..3 | instrument 4..7 | client_order_id
// 8..23 | price 24..31 | stop_price 32..39 | quantity 40..47 | quote_quantity
// 48..55 | display_quantity 56..63 | side 64 | type 65 | tif 66 | stp 67 |
// post_only 68 | pad 69..71. The binary formats of later issues build on this.
static_assert(sizeof(NewOrder) == 72);
static_assert(offsetof(NewOrder, price) == 24 && offsetof(NewOrder, side) == 64);
static_assert(sizeof(AddInstrument) == 56);
static_assert(offsetof(Command, new_order) == 24);
static_assert(sizeof(Command) == 96);

}  // namespace stox
