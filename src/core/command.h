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

#include <cstdint>
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
};

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
  InstrumentId instrument;
  InstrumentStatus status;
};

struct AddInstrument {
  Symbol symbol;
  Price tick_size;           // at price scale
  Quantity lot_size;         // at quantity scale
  Price reference_price;     // previous close, at price scale, on tick
  std::int32_t market_band_bps;  // market-order protection band; 0 = engine default
  std::uint8_t price_scale;      // decimal places, 0..9
  std::uint8_t quantity_scale;   // decimal places, 0..9
};

struct Command {
  SeqNo seq;
  Timestamp timestamp;
  CommandType type;
  union {
    NewOrder new_order;
    Cancel cancel;
    Replace replace;
    MassCancel mass_cancel;
    EndOfDay end_of_day;
    SetInstrumentStatus set_status;
    AddInstrument add_instrument;
  };

  Command() : seq(0), timestamp(0), type(CommandType::kEndOfDay), new_order{} {}

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
static_assert(sizeof(NewOrder) == 80);
static_assert(sizeof(Command) == 104);

}  // namespace stox
