// Text form of a command, for logs, test failures and the demo.
#include <sstream>
#include <string>

#include "core/command.h"

namespace stox {

std::string to_string(const Command& c) {
  std::ostringstream s;
  s << "#" << c.seq << " ts=" << c.timestamp << " ";
  switch (c.type) {
    case CommandType::kNewOrder: {
      const NewOrder& o = c.new_order;
      s << "NewOrder acct=" << o.account << " instr=" << o.instrument << " side=" << int(o.side)
        << " type=" << int(o.type) << " tif=" << int(o.time_in_force) << " px=" << o.price
        << " stop=" << o.stop_price << " qty=" << o.quantity << " quote=" << o.quote_quantity
        << " display=" << o.display_quantity << " stp=" << int(o.stp)
        << " postonly=" << o.post_only << " clid=" << o.client_order_id.view();
      break;
    }
    case CommandType::kCancel:
      s << "Cancel acct=" << c.cancel.account << " order=" << c.cancel.order_id;
      break;
    case CommandType::kReplace:
      s << "Replace acct=" << c.replace.account << " order=" << c.replace.order_id
        << " qty=" << c.replace.quantity << " px=" << c.replace.price
        << " stop=" << c.replace.stop_price;
      break;
    case CommandType::kMassCancel:
      s << "MassCancel acct=" << c.mass_cancel.account << " instr=" << c.mass_cancel.instrument;
      break;
    case CommandType::kEndOfDay:
      s << "EndOfDay";
      break;
    case CommandType::kSetInstrumentStatus:
      s << "SetInstrumentStatus instr=" << c.set_status.instrument
        << " status=" << int(c.set_status.status);
      break;
    case CommandType::kAddInstrument: {
      const AddInstrument& a = c.add_instrument;
      s << "AddInstrument symbol=" << a.symbol.view() << " tick=" << a.tick_size
        << " lot=" << a.lot_size << " ref=" << a.reference_price << " band=" << a.market_band_bps
        << " maker=" << a.maker_fee_bps << " taker=" << a.taker_fee_bps
        << " pscale=" << int(a.price_scale) << " qscale=" << int(a.quantity_scale);
      break;
    }
    case CommandType::kCreateAccount:
      s << "CreateAccount label=" << c.create_account.label.view()
        << " type=" << int(c.create_account.type);
      break;
    case CommandType::kDeposit:
    case CommandType::kWithdraw:
      s << (c.type == CommandType::kDeposit ? "Deposit" : "Withdraw")
        << " acct=" << c.transfer.account << " asset=" << c.transfer.asset
        << " amount=" << c.transfer.amount;
      break;
    case CommandType::kSetAccountLimits: {
      const SetAccountLimits& l = c.account_limits;
      s << "SetAccountLimits acct=" << l.account << " open=" << l.max_open_orders
        << " per_second=" << l.max_orders_per_second << " qty=" << l.max_order_quantity
        << " notional=" << l.max_order_notional;
      break;
    }
    case CommandType::kSetInstrumentLimits: {
      const SetInstrumentLimits& l = c.instrument_limits;
      s << "SetInstrumentLimits instr=" << l.instrument << " collar=" << l.collar_bps
        << " breaker=" << l.breaker_bps << " qty=" << l.max_order_quantity
        << " notional=" << l.max_order_notional << " halt_ns=" << l.breaker_halt_ns;
      break;
    }
    case CommandType::kSetKillSwitch:
      s << "SetKillSwitch acct=" << c.kill_switch.account << " on=" << c.kill_switch.enabled;
      break;
    default:
      s << "command type " << int(c.type);
      break;
  }
  return s.str();
}

}  // namespace stox
