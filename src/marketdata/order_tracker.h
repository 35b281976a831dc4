// OrderTracker: the state of every order as the API shows it, built from the
// engine's events alone (never by asking the engine).
//
// Batches. The engine emits all events of one command together, and some
// facts are only known once the command is over: a quote-quantity market buy
// that spent what it could ends with no event at all ("complete if it
// traded", docs/design.md). So the caller hands over the events of one
// command as a batch, apply_batch(events); at the end of the batch every
// order touched by it that cannot rest (MARKET, IOC, FOK, a triggered STOP)
// and is still open is closed: FILLED if it traded, else CANCELLED without
// a reason (the engine always emits a Cancelled in that case, so this is a
// safety net). apply(event) is the one-event form: it closes the open batch
// itself when an event of another command (another seq) arrives, and
// finish_batch() closes it explicitly.
//
// Status. Accepted: NEW, or PENDING_TRIGGER for STOP / STOP_LIMIT until
// StopTriggered (then NEW). A Trade moves maker and taker to FILLED when
// their leaves reach 0, else PARTIALLY_FILLED. Cancelled: CANCELLED with its
// reason (even after partial fills). Reduced and Replaced change quantity,
// leaves and prices but not the status. A Rejected NewOrder yields a
// REJECTED update (no order id, not stored) for the POST response.
//
// Fills carry price, quantity, liquidity (MAKER/TAKER) and the fee of that
// side from the Settled event that follows each Trade in accounts mode
// (cash scale; 0 in matching-only mode, where there is no Settled).
//
// Average fill price. OrderState keeps the exact rational
// filled_value / filled, where filled_value = Σ price × quantity (128 bits).
// average_fill_price() reports it at the instrument's price scale rounded to
// the nearest unit, halves rounded up (prices are positive, so "up" is away
// from zero): fills of 1 @ 100.00 and 1 @ 100.05 average to 100.03.
//
// Memory bounds (OrderTrackerConfig):
//  - open orders are always kept (the engine bounds them);
//  - closed orders (FILLED, CANCELLED) are kept for lookup in close order
//    and evicted oldest-closed first at the end of a batch, when there are
//    more than max_closed_orders of them or when they closed more than
//    closed_retention_ns (event time) before the batch's timestamp;
//  - each order keeps its most recent max_fills_per_order fills (its totals,
//    fill_count and average price always cover all of them);
//  - each account keeps its most recent max_fills_per_account fills.
//
// Thread-safety: none; one thread (the dispatch thread) owns a tracker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/event.h"

namespace stox::marketdata {

class ProjectionsCodec;

enum class OrderStatus : std::uint8_t {
  kNew = 1,
  kPartiallyFilled = 2,
  kFilled = 3,
  kCancelled = 4,
  kRejected = 5,
  kPendingTrigger = 6,
};

enum class Liquidity : std::uint8_t { kMaker = 1, kTaker = 2 };

struct Fill {
  TradeId trade_id = 0;
  OrderId order_id = 0;
  AccountId account = 0;
  InstrumentId instrument = 0;
  Side side{};
  Price price = 0;
  Quantity quantity = 0;
  Amount fee = 0;  // cash scale; negative for a maker rebate
  Liquidity liquidity{};
  Timestamp time = 0;
};

struct OrderState {
  // Fields are ordered so that the struct has no padding holes: there is one
  // per tracked order (the 16-byte filled_value fixes the alignment).
  OrderId id = 0;  // 0 for a rejected order
  AccountId account = 0;
  InstrumentId instrument = 0;
  ClientOrderId client_order_id{};
  Side side{};
  OrderType type{};
  TimeInForce time_in_force{};
  bool post_only = false;
  bool triggered = false;  // a stop that has been elected
  OrderStatus status = OrderStatus::kNew;
  CancelReason cancel_reason{};  // 0 unless CANCELLED with a reason
  RejectReason reject_reason = RejectReason::kNone;
  std::uint32_t fill_count = 0;
  Int128 filled_value = 0;  // Σ price × quantity over all fills
  Price price = 0;
  Price stop_price = 0;
  Quantity quantity = 0;  // current total: replaces and self-trade decrements change it
  Amount quote_quantity = 0;  // quote-quantity market buy: cash to spend, at price scale
  Quantity display_quantity = 0;
  Quantity leaves = 0;  // unspent cash for a quote-quantity order
  Quantity filled = 0;
  Amount fees = 0;          // Σ fees over all fills, cash scale
  Timestamp created_at = 0;  // timestamp of the Accepted (or Rejected) event
  Timestamp updated_at = 0;

  bool is_open() const {
    return status == OrderStatus::kNew || status == OrderStatus::kPartiallyFilled ||
           status == OrderStatus::kPendingTrigger;
  }
  // Nearest price-scale value of filled_value / filled, halves up; nullopt
  // before the first fill.
  std::optional<Price> average_fill_price() const;
};

// The most recent fills of one order, oldest first, at most a capacity the
// caller passes to push(). A vector used as a ring: no allocation while it is
// empty (most orders never trade), one buffer once it has fills, and no
// shifting once it is full (the oldest slot is overwritten). A std::deque
// costs ~600 bytes and two allocations even when empty, per order.
class FillRing {
 public:
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Fill;
    using difference_type = std::ptrdiff_t;
    using pointer = const Fill*;
    using reference = const Fill&;

    const_iterator() = default;
    const_iterator(const FillRing* ring, std::size_t i) : ring_(ring), i_(i) {}
    reference operator*() const { return (*ring_)[i_]; }
    pointer operator->() const { return &(*ring_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++i_;
      return before;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.i_ == b.i_;
    }

   private:
    const FillRing* ring_ = nullptr;
    std::size_t i_ = 0;
  };

  // Appends `f`, dropping the oldest fill when there are already `capacity`.
  // REQUIRES: the same capacity on every call.
  void push(const Fill& f, std::size_t capacity);

  std::size_t size() const { return slots_.size(); }
  bool empty() const { return slots_.empty(); }
  // 0 is the oldest. REQUIRES: i < size().
  const Fill& operator[](std::size_t i) const { return slots_[slot(i)]; }
  Fill& back() { return slots_[slot(size() - 1)]; }
  const Fill& back() const { return slots_[slot(size() - 1)]; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

 private:
  std::size_t slot(std::size_t i) const {
    const std::size_t s = head_ + i;
    return s < slots_.size() ? s : s - slots_.size();
  }

  std::vector<Fill> slots_;
  std::uint32_t head_ = 0;  // slot of the oldest fill (0 until the ring wraps)
};

struct TrackedOrder {
  OrderState state;
  FillRing fills;  // oldest first; the most recent max_fills_per_order
};

// One order's change within a batch: its state at the end of the batch and
// the fills the batch added (for the orders WebSocket channel). Updates are
// listed in the order the batch first touched their orders.
struct OrderUpdate {
  OrderState state;
  std::vector<Fill> fills;
};

// A rejected command of the batch (NewOrder, Cancel, Replace, ...), for the
// REST response.
struct CommandReject {
  CommandType command{};
  RejectReason reason = RejectReason::kNone;
  AccountId account = 0;
  OrderId order_id = 0;  // Cancel/Replace target
  ClientOrderId client_order_id{};
  Timestamp time = 0;
};

struct OrderTrackerConfig {
  std::size_t max_closed_orders = 100'000;
  Timestamp closed_retention_ns = 24LL * 3600 * 1'000'000'000;  // 0 = no time limit
  std::size_t max_fills_per_order = 100;
  std::size_t max_fills_per_account = 1000;
};

// The open order ids of one account, ascending. Ids arrive in ascending
// order (the engine numbers orders as it accepts them), so add() appends;
// remove() finds the id by binary search in the contiguous array and marks
// it dead, and the array is compacted once half of it is dead. (A std::set
// cost ~20 cache-missing node hops per removal: with half a million open
// orders in one account, a restart's replay spent 40 % of its time there.)
class OpenIds {
 public:
  // O(1) for an id above every one added before (the engine's order);
  // anything else is inserted in place.
  void add(OrderId id);
  // Returns false if id is not a live entry.
  bool remove(OrderId id);
  std::size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }
  template <class F>
  void for_each(F f) const {
    for (OrderId id : ids_)
      if ((id & kDead) == 0) f(id);
  }

 private:
  static constexpr OrderId kDead = OrderId{1} << 63;  // order ids stay far below
  std::vector<OrderId> ids_;  // ascending when the dead bit is ignored
  std::size_t live_ = 0;
};

class OrderTracker {
 public:
  explicit OrderTracker(const OrderTrackerConfig& config = {});

  // REQUIRES: `events` are all the events of one command, in engine order.
  void apply_batch(std::span<const Event> events);
  // One event; closes the open batch first if `e` belongs to another command.
  void apply(const Event& e);
  // Ends the open batch (no-op if none): finalises orders that cannot rest,
  // fills updates(), evicts closed orders.
  void finish_batch();

  // Changes and rejects of the last finished batch (an open batch collects
  // its own until it finishes).
  const std::vector<OrderUpdate>& updates() const { return updates_; }
  const std::vector<CommandReject>& rejects() const { return rejects_; }

  // nullptr if unknown or evicted. Valid until the next apply.
  const TrackedOrder* find(OrderId id) const;
  // The account's open orders, ascending order id; instrument 0 = all.
  std::vector<const TrackedOrder*> open_orders(AccountId account,
                                              InstrumentId instrument = 0) const;
  // The account's most recent fills, oldest first.
  const std::deque<Fill>& fills(AccountId account) const;

  std::size_t open_count() const { return orders_.size() - closed_.size(); }
  std::size_t closed_count() const { return closed_.size(); }

 private:
  friend class ProjectionsCodec;  // projections_codec.cc: reads and restores the state

  void begin_batch(const Event& first);
  void apply_event(const Event& e);
  void on_accepted(const Event& e);
  void on_rejected(const Event& e);
  void on_trade(const Event& e);
  void on_settled(const Event& e);
  void on_cancelled(const Event& e);
  void add_fill(OrderId id, const Fill& fill, Quantity leaves_after);
  void patch_fee(OrderId id, TradeId trade, Amount fee);
  TrackedOrder* touch(OrderId id, Timestamp t);
  void close(OrderState& s, OrderStatus status, Timestamp t);
  void finalise_unrestable(Timestamp t);
  void evict(Timestamp now);

  OrderTrackerConfig config_;
  std::unordered_map<OrderId, TrackedOrder> orders_;
  std::unordered_map<AccountId, OpenIds> open_by_account_;
  std::unordered_map<AccountId, std::deque<Fill>> fills_by_account_;
  std::deque<std::pair<OrderId, Timestamp>> closed_;  // (id, closed at), oldest first

  // The open batch.
  bool batch_open_ = false;
  SeqNo batch_seq_ = 0;
  Timestamp batch_time_ = 0;
  std::unordered_map<OrderId, std::size_t> batch_index_;  // order id -> index in pending_
  TradeEvent last_trade_{};  // for the Settled that follows it (same batch)
  std::vector<OrderUpdate> pending_;  // of the open batch
  std::vector<CommandReject> pending_rejects_;
  std::vector<OrderUpdate> updates_;  // of the last finished batch
  std::vector<CommandReject> rejects_;
};

std::string_view to_string(OrderStatus s);
std::string_view to_string(Liquidity l);

}  // namespace stox::marketdata
