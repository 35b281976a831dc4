#include "core/event.h"

#include <sstream>
#include <tuple>

namespace stox {
namespace {

auto key(const NewOrder& o) {
  return std::tie(o.account, o.instrument, o.client_order_id, o.price, o.stop_price, o.quantity,
                  o.quote_quantity, o.display_quantity, o.side, o.type, o.time_in_force, o.stp,
                  o.post_only);
}
auto key(const AddInstrument& a) {
  return std::tie(a.symbol, a.tick_size, a.lot_size, a.reference_price, a.market_band_bps,
                  a.maker_fee_bps, a.taker_fee_bps, a.price_scale, a.quantity_scale);
}

const char* side_name(Side s) { return s == Side::kBuy ? "BUY" : "SELL"; }

}  // namespace

bool operator==(const Event& a, const Event& b) {
  if (a.seq != b.seq || a.timestamp != b.timestamp || a.type != b.type) return false;
  switch (a.type) {
    case EventType::kInstrumentAdded:
      return a.instrument_added.instrument == b.instrument_added.instrument &&
             key(a.instrument_added.spec) == key(b.instrument_added.spec);
    case EventType::kInstrumentStatus:
      return a.instrument_status.instrument == b.instrument_status.instrument &&
             a.instrument_status.status == b.instrument_status.status;
    case EventType::kAccepted:
      return a.accepted.order_id == b.accepted.order_id &&
             key(a.accepted.order) == key(b.accepted.order);
    case EventType::kRejected: {
      const auto& x = a.rejected;
      const auto& y = b.rejected;
      return std::tie(x.command, x.reason, x.account, x.order_id, x.client_order_id) ==
             std::tie(y.command, y.reason, y.account, y.order_id, y.client_order_id);
    }
    case EventType::kTrade: {
      const auto& x = a.trade;
      const auto& y = b.trade;
      return std::tie(x.trade_id, x.instrument, x.aggressor, x.price, x.quantity, x.maker_order,
                      x.taker_order, x.maker_account, x.taker_account, x.maker_leaves,
                      x.taker_leaves) ==
             std::tie(y.trade_id, y.instrument, y.aggressor, y.price, y.quantity, y.maker_order,
                      y.taker_order, y.maker_account, y.taker_account, y.maker_leaves,
                      y.taker_leaves);
    }
    case EventType::kCancelled: {
      const auto& x = a.cancelled;
      const auto& y = b.cancelled;
      return std::tie(x.order_id, x.account, x.instrument, x.reason, x.leaves) ==
             std::tie(y.order_id, y.account, y.instrument, y.reason, y.leaves);
    }
    case EventType::kReduced: {
      const auto& x = a.reduced;
      const auto& y = b.reduced;
      return std::tie(x.order_id, x.account, x.instrument, x.reduced_by, x.leaves) ==
             std::tie(y.order_id, y.account, y.instrument, y.reduced_by, y.leaves);
    }
    case EventType::kReplaced: {
      const auto& x = a.replaced;
      const auto& y = b.replaced;
      return std::tie(x.order_id, x.account, x.instrument, x.price, x.stop_price, x.quantity,
                      x.leaves, x.kept_priority) ==
             std::tie(y.order_id, y.account, y.instrument, y.price, y.stop_price, y.quantity,
                      y.leaves, y.kept_priority);
    }
    case EventType::kStopTriggered: {
      const auto& x = a.stop_triggered;
      const auto& y = b.stop_triggered;
      return std::tie(x.order_id, x.account, x.instrument, x.last_price) ==
             std::tie(y.order_id, y.account, y.instrument, y.last_price);
    }
    case EventType::kBookLevel: {
      const auto& x = a.book_level;
      const auto& y = b.book_level;
      return std::tie(x.instrument, x.side, x.price, x.quantity, x.count) ==
             std::tie(y.instrument, y.side, y.price, y.quantity, y.count);
    }
    case EventType::kMassCancelled: {
      const auto& x = a.mass_cancelled;
      const auto& y = b.mass_cancelled;
      return std::tie(x.account, x.instrument, x.count) == std::tie(y.account, y.instrument, y.count);
    }
    case EventType::kDayEnded:
      return a.day_ended.expired == b.day_ended.expired;
    case EventType::kAccountCreated:
      return a.account_created.account == b.account_created.account &&
             a.account_created.spec.label == b.account_created.spec.label &&
             a.account_created.spec.type == b.account_created.spec.type;
    case EventType::kTransferred: {
      const auto& x = a.transferred;
      const auto& y = b.transferred;
      return std::tie(x.kind, x.account, x.asset, x.amount, x.total_after) ==
             std::tie(y.kind, y.account, y.asset, y.amount, y.total_after);
    }
    case EventType::kSettled: {
      const auto& x = a.settled;
      const auto& y = b.settled;
      return std::tie(x.trade_id, x.instrument, x.buyer, x.seller, x.quantity, x.notional,
                      x.buyer_fee, x.seller_fee) ==
             std::tie(y.trade_id, y.instrument, y.buyer, y.seller, y.quantity, y.notional,
                      y.buyer_fee, y.seller_fee);
    }
    case EventType::kLimitsSet:
      return a.limits_set.command == b.limits_set.command &&
             a.limits_set.target == b.limits_set.target;
    case EventType::kKillSwitch:
      return a.kill_switch.account == b.kill_switch.account &&
             a.kill_switch.enabled == b.kill_switch.enabled &&
             a.kill_switch.cancelled == b.kill_switch.cancelled;
  }
  return false;
}

std::string to_string(const Event& e) {
  std::ostringstream s;
  s << "#" << e.seq << " ";
  switch (e.type) {
    case EventType::kInstrumentAdded:
      s << "InstrumentAdded id=" << e.instrument_added.instrument
        << " symbol=" << e.instrument_added.spec.symbol.view();
      break;
    case EventType::kInstrumentStatus:
      s << "InstrumentStatus id=" << e.instrument_status.instrument
        << " status=" << int(e.instrument_status.status);
      break;
    case EventType::kAccepted: {
      const auto& o = e.accepted.order;
      s << "Accepted order=" << e.accepted.order_id << " acct=" << o.account
        << " instr=" << o.instrument << " " << side_name(o.side) << " type=" << int(o.type)
        << " tif=" << int(o.time_in_force) << " qty=" << o.quantity << " quote=" << o.quote_quantity
        << " px=" << o.price << " stop=" << o.stop_price << " display=" << o.display_quantity
        << " stp=" << int(o.stp) << " postonly=" << o.post_only
        << " clid=" << o.client_order_id.view();
      break;
    }
    case EventType::kRejected:
      s << "Rejected cmd=" << int(e.rejected.command) << " reason=" << to_string(e.rejected.reason)
        << " acct=" << e.rejected.account << " order=" << e.rejected.order_id;
      break;
    case EventType::kTrade: {
      const auto& t = e.trade;
      s << "Trade id=" << t.trade_id << " instr=" << t.instrument << " px=" << t.price
        << " qty=" << t.quantity << " maker=" << t.maker_order << "/" << t.maker_account
        << " taker=" << t.taker_order << "/" << t.taker_account
        << " aggressor=" << side_name(t.aggressor) << " maker_leaves=" << t.maker_leaves
        << " taker_leaves=" << t.taker_leaves;
      break;
    }
    case EventType::kCancelled:
      s << "Cancelled order=" << e.cancelled.order_id << " acct=" << e.cancelled.account
        << " reason=" << to_string(e.cancelled.reason) << " leaves=" << e.cancelled.leaves;
      break;
    case EventType::kReduced:
      s << "Reduced order=" << e.reduced.order_id << " by=" << e.reduced.reduced_by
        << " leaves=" << e.reduced.leaves;
      break;
    case EventType::kReplaced: {
      const auto& r = e.replaced;
      s << "Replaced order=" << r.order_id << " px=" << r.price << " stop=" << r.stop_price
        << " qty=" << r.quantity << " leaves=" << r.leaves << " kept=" << r.kept_priority;
      break;
    }
    case EventType::kStopTriggered:
      s << "StopTriggered order=" << e.stop_triggered.order_id
        << " last=" << e.stop_triggered.last_price;
      break;
    case EventType::kBookLevel:
      s << "BookLevel instr=" << e.book_level.instrument << " " << side_name(e.book_level.side)
        << " px=" << e.book_level.price << " qty=" << e.book_level.quantity
        << " count=" << e.book_level.count;
      break;
    case EventType::kMassCancelled:
      s << "MassCancelled acct=" << e.mass_cancelled.account
        << " instr=" << e.mass_cancelled.instrument << " count=" << e.mass_cancelled.count;
      break;
    case EventType::kDayEnded:
      s << "DayEnded expired=" << e.day_ended.expired;
      break;
    case EventType::kAccountCreated:
      s << "AccountCreated acct=" << e.account_created.account
        << " label=" << e.account_created.spec.label.view();
      break;
    case EventType::kTransferred: {
      const auto& t = e.transferred;
      s << (t.kind == CommandType::kDeposit ? "Deposited" : "Withdrawn") << " acct=" << t.account
        << " asset=" << t.asset << " amount=" << t.amount << " total=" << t.total_after;
      break;
    }
    case EventType::kSettled: {
      const auto& t = e.settled;
      s << "Settled trade=" << t.trade_id << " buyer=" << t.buyer << " seller=" << t.seller
        << " qty=" << t.quantity << " notional=" << t.notional << " buyer_fee=" << t.buyer_fee
        << " seller_fee=" << t.seller_fee;
      break;
    }
    case EventType::kLimitsSet:
      s << "LimitsSet cmd=" << int(e.limits_set.command) << " target=" << e.limits_set.target;
      break;
    case EventType::kKillSwitch:
      s << "KillSwitch acct=" << e.kill_switch.account << " enabled=" << e.kill_switch.enabled
        << " cancelled=" << e.kill_switch.cancelled;
      break;
  }
  return s.str();
}

}  // namespace stox
