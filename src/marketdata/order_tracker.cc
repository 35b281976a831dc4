#include "marketdata/order_tracker.h"

#include <algorithm>

namespace stox::marketdata {

namespace {
bool below(OrderId stored, OrderId key) { return (stored & ~(OrderId{1} << 63)) < key; }
}  // namespace

void OpenIds::add(OrderId id) {
  ++live_;
  if (ids_.empty() || below(ids_.back(), id)) {
    ids_.push_back(id);
    return;
  }
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id, below);
  if (it != ids_.end() && (*it & ~kDead) == id) {
    if ((*it & kDead) == 0) --live_;  // already there: nothing changes
    *it = id;                          // (or a dead entry of the same id comes back)
    return;
  }
  ids_.insert(it, id);
}

bool OpenIds::remove(OrderId id) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id, below);
  if (it == ids_.end() || *it != id) return false;  // absent, or already dead
  *it |= kDead;
  --live_;
  if (ids_.size() >= 64 && live_ * 2 < ids_.size()) {
    std::erase_if(ids_, [](OrderId stored) { return (stored & kDead) != 0; });
  }
  return true;
}

namespace {

bool is_stop(OrderType t) { return t == OrderType::kStop || t == OrderType::kStopLimit; }

// Whether an open order may stay open once its command is over: resting
// limits, stop-limits (before and after election) and untriggered stops.
bool can_rest(const OrderState& s) {
  if (s.type == OrderType::kMarket) return false;
  if (s.time_in_force == TimeInForce::kIoc || s.time_in_force == TimeInForce::kFok) return false;
  return !(s.type == OrderType::kStop && s.triggered);
}

template <class T>
void push_bounded(std::deque<T>& q, const T& v, std::size_t cap) {
  if (cap == 0) return;
  if (q.size() >= cap) q.pop_front();
  q.push_back(v);
}

}  // namespace

void FillRing::push(const Fill& f, std::size_t capacity) {
  if (capacity == 0) return;
  if (slots_.size() < capacity) {
    // Before the ring wraps, head_ is 0 and the slots are in age order.
    slots_.push_back(f);
    return;
  }
  slots_[head_] = f;  // the oldest
  head_ = static_cast<std::uint32_t>(slot(1));
}

std::optional<Price> OrderState::average_fill_price() const {
  if (filled <= 0) return std::nullopt;
  const Int128 q = filled;
  return static_cast<Price>((2 * filled_value + q) / (2 * q));
}

OrderTracker::OrderTracker(const OrderTrackerConfig& config) : config_(config) {}

void OrderTracker::apply_batch(std::span<const Event> events) {
  finish_batch();
  updates_.clear();  // an empty batch changes nothing
  rejects_.clear();
  for (const Event& e : events) apply(e);
  finish_batch();
}

void OrderTracker::apply(const Event& e) {
  if (batch_open_ && e.seq != batch_seq_) finish_batch();
  if (!batch_open_) begin_batch(e);
  batch_time_ = e.timestamp;
  apply_event(e);
}

void OrderTracker::begin_batch(const Event& first) {
  batch_open_ = true;
  batch_seq_ = first.seq;
  last_trade_ = TradeEvent{};  // a Settled never follows a Trade of another command
  batch_index_.clear();
  pending_.clear();
  pending_rejects_.clear();
}

void OrderTracker::finish_batch() {
  if (!batch_open_) return;
  batch_open_ = false;
  finalise_unrestable(batch_time_);
  for (OrderUpdate& u : pending_) {
    if (u.state.id == 0) continue;  // a rejected NewOrder: already complete
    u.state = orders_.at(u.state.id).state;
  }
  updates_.swap(pending_);
  rejects_.swap(pending_rejects_);
  pending_.clear();
  pending_rejects_.clear();
  evict(batch_time_);
}

void OrderTracker::apply_event(const Event& e) {
  switch (e.type) {
    case EventType::kAccepted: return on_accepted(e);
    case EventType::kRejected: return on_rejected(e);
    case EventType::kTrade: return on_trade(e);
    case EventType::kSettled: return on_settled(e);
    case EventType::kCancelled: return on_cancelled(e);
    case EventType::kReduced:
      if (TrackedOrder* o = touch(e.reduced.order_id, e.timestamp)) {
        o->state.quantity -= e.reduced.reduced_by;
        o->state.leaves = e.reduced.leaves;
      }
      return;
    case EventType::kReplaced:
      if (TrackedOrder* o = touch(e.replaced.order_id, e.timestamp)) {
        o->state.price = e.replaced.price;
        o->state.stop_price = e.replaced.stop_price;
        o->state.quantity = e.replaced.quantity;
        o->state.leaves = e.replaced.leaves;
      }
      return;
    case EventType::kStopTriggered:
      if (TrackedOrder* o = touch(e.stop_triggered.order_id, e.timestamp)) {
        o->state.triggered = true;
        o->state.status = OrderStatus::kNew;
      }
      return;
    default:
      return;  // market, instrument and account events change no order
  }
}

void OrderTracker::on_accepted(const Event& e) {
  const NewOrder& n = e.accepted.order;
  OrderState s;
  s.id = e.accepted.order_id;
  s.account = n.account;
  s.instrument = n.instrument;
  s.client_order_id = n.client_order_id;
  s.side = n.side;
  s.type = n.type;
  s.time_in_force = n.time_in_force;
  s.post_only = n.post_only;
  s.status = is_stop(n.type) ? OrderStatus::kPendingTrigger : OrderStatus::kNew;
  s.price = n.price;
  s.stop_price = n.stop_price;
  s.quantity = n.quantity;
  s.quote_quantity = n.quote_quantity;
  s.display_quantity = n.display_quantity;
  s.leaves = n.quote_quantity != 0 ? n.quote_quantity : n.quantity;
  s.created_at = e.timestamp;
  s.updated_at = e.timestamp;
  orders_[s.id] = TrackedOrder{s, {}};
  open_by_account_[s.account].add(s.id);
  touch(s.id, e.timestamp);
}

void OrderTracker::on_rejected(const Event& e) {
  const RejectedEvent& r = e.rejected;
  pending_rejects_.push_back(
      {r.command, r.reason, r.account, r.order_id, r.client_order_id, e.timestamp});
  if (r.command != CommandType::kNewOrder) return;
  OrderUpdate u;
  u.state.account = r.account;
  u.state.client_order_id = r.client_order_id;
  u.state.status = OrderStatus::kRejected;
  u.state.reject_reason = r.reason;
  u.state.created_at = e.timestamp;
  u.state.updated_at = e.timestamp;
  pending_.push_back(std::move(u));
}

void OrderTracker::on_trade(const Event& e) {
  const TradeEvent& t = e.trade;
  last_trade_ = t;
  Fill f;
  f.trade_id = t.trade_id;
  f.instrument = t.instrument;
  f.price = t.price;
  f.quantity = t.quantity;
  f.time = e.timestamp;

  f.order_id = t.maker_order;
  f.account = t.maker_account;
  f.side = opposite(t.aggressor);
  f.liquidity = Liquidity::kMaker;
  add_fill(t.maker_order, f, t.maker_leaves);

  f.order_id = t.taker_order;
  f.account = t.taker_account;
  f.side = t.aggressor;
  f.liquidity = Liquidity::kTaker;
  add_fill(t.taker_order, f, t.taker_leaves);
}

void OrderTracker::add_fill(OrderId id, const Fill& fill, Quantity leaves_after) {
  TrackedOrder* o = touch(id, fill.time);
  if (o == nullptr) return;
  OrderState& s = o->state;
  s.filled += fill.quantity;
  s.filled_value += Int128{fill.price} * fill.quantity;
  s.leaves = leaves_after;
  ++s.fill_count;
  o->fills.push(fill, config_.max_fills_per_order);
  push_bounded(fills_by_account_[s.account], fill, config_.max_fills_per_account);
  pending_[batch_index_.at(id)].fills.push_back(fill);
  if (leaves_after == 0) {
    close(s, OrderStatus::kFilled, fill.time);
  } else {
    s.status = OrderStatus::kPartiallyFilled;
  }
}

// The Settled posting follows its Trade at once; it carries the fees by
// buyer and seller, which map to maker and taker by the aggressor's side.
void OrderTracker::on_settled(const Event& e) {
  const SettledEvent& s = e.settled;
  if (s.trade_id != last_trade_.trade_id) return;
  const bool taker_buys = last_trade_.aggressor == Side::kBuy;
  patch_fee(last_trade_.maker_order, s.trade_id, taker_buys ? s.seller_fee : s.buyer_fee);
  patch_fee(last_trade_.taker_order, s.trade_id, taker_buys ? s.buyer_fee : s.seller_fee);
}

// The fill of `trade` is the newest one everywhere it was recorded, since
// nothing else happens between a Trade and its Settled.
void OrderTracker::patch_fee(OrderId id, TradeId trade, Amount fee) {
  auto it = orders_.find(id);
  if (it == orders_.end()) return;
  TrackedOrder& o = it->second;
  o.state.fees += fee;
  if (!o.fills.empty() && o.fills.back().trade_id == trade) o.fills.back().fee = fee;
  std::deque<Fill>& by_account = fills_by_account_[o.state.account];
  if (!by_account.empty() && by_account.back().trade_id == trade) by_account.back().fee = fee;
  auto u = batch_index_.find(id);
  if (u != batch_index_.end()) {
    std::vector<Fill>& batch_fills = pending_[u->second].fills;
    if (!batch_fills.empty() && batch_fills.back().trade_id == trade) batch_fills.back().fee = fee;
  }
}

void OrderTracker::on_cancelled(const Event& e) {
  TrackedOrder* o = touch(e.cancelled.order_id, e.timestamp);
  if (o == nullptr || !o->state.is_open()) return;
  o->state.cancel_reason = e.cancelled.reason;
  o->state.leaves = e.cancelled.leaves;
  close(o->state, OrderStatus::kCancelled, e.timestamp);
}

// Marks the order as changed by this batch. nullptr if the tracker never saw
// it accepted (or has evicted it).
TrackedOrder* OrderTracker::touch(OrderId id, Timestamp t) {
  auto it = orders_.find(id);
  if (it == orders_.end()) return nullptr;
  it->second.state.updated_at = t;
  if (batch_index_.emplace(id, pending_.size()).second) {
    OrderUpdate u;
    u.state.id = id;
    pending_.push_back(std::move(u));
  }
  return &it->second;
}

void OrderTracker::close(OrderState& s, OrderStatus status, Timestamp t) {
  s.status = status;
  s.updated_at = t;
  auto acct = open_by_account_.find(s.account);
  if (acct != open_by_account_.end()) {
    acct->second.remove(s.id);
    if (acct->second.empty()) open_by_account_.erase(acct);
  }
  closed_.emplace_back(s.id, t);
}

void OrderTracker::finalise_unrestable(Timestamp t) {
  for (const OrderUpdate& u : pending_) {
    if (u.state.id == 0) continue;
    OrderState& s = orders_.at(u.state.id).state;
    if (!s.is_open() || can_rest(s)) continue;
    close(s, s.filled > 0 ? OrderStatus::kFilled : OrderStatus::kCancelled, t);
  }
}

void OrderTracker::evict(Timestamp now) {
  const auto expired = [&](Timestamp closed_at) {
    return config_.closed_retention_ns > 0 && closed_at <= now - config_.closed_retention_ns;
  };
  while (!closed_.empty() &&
         (closed_.size() > config_.max_closed_orders || expired(closed_.front().second))) {
    orders_.erase(closed_.front().first);
    closed_.pop_front();
  }
}

const TrackedOrder* OrderTracker::find(OrderId id) const {
  auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

std::vector<const TrackedOrder*> OrderTracker::open_orders(AccountId account,
                                                           InstrumentId instrument) const {
  std::vector<const TrackedOrder*> result;
  auto acct = open_by_account_.find(account);
  if (acct == open_by_account_.end()) return result;
  acct->second.for_each([&](OrderId id) {
    const TrackedOrder& o = orders_.at(id);
    if (instrument == 0 || o.state.instrument == instrument) result.push_back(&o);
  });
  return result;
}

const std::deque<Fill>& OrderTracker::fills(AccountId account) const {
  static const std::deque<Fill> kNone;
  auto it = fills_by_account_.find(account);
  return it == fills_by_account_.end() ? kNone : it->second;
}

std::string_view to_string(OrderStatus s) {
  switch (s) {
    case OrderStatus::kNew: return "NEW";
    case OrderStatus::kPartiallyFilled: return "PARTIALLY_FILLED";
    case OrderStatus::kFilled: return "FILLED";
    case OrderStatus::kCancelled: return "CANCELLED";
    case OrderStatus::kRejected: return "REJECTED";
    case OrderStatus::kPendingTrigger: return "PENDING_TRIGGER";
  }
  return "UNKNOWN";
}

std::string_view to_string(Liquidity l) {
  return l == Liquidity::kMaker ? "MAKER" : "TAKER";
}

}  // namespace stox::marketdata
