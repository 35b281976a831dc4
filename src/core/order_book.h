// The order book's storage: pooled orders and price levels, and the ladder
// that keeps one side's levels in price order.
//
// Why arrays and slots instead of pointers and maps: an exchange-core style
// workload spends most of its time moving orders near the top of a book of a
// few hundred levels. Pools of fixed-size records addressed by 32-bit slots
// keep orders dense (120 bytes each), make every link 4 bytes, never
// allocate once warmed up, and survive the pool's vector growing. A side's
// levels sit in a vector sorted from worst to best, so the best level is the
// last element (O(1)), and inserting or removing a level near the top moves
// only the few entries above it. The worst case, a level appearing or
// vanishing at the far end of a deep book, is one memmove of the ladder
// (16 bytes a level).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/types.h"
#include "core/slot_index.h"

namespace stox {

// Where an order currently is.
enum class OrderPlace : std::uint8_t {
  kInFlight = 0,  // being matched as a taker (not yet resting)
  kBook = 1,      // resting in a price level
  kStops = 2,     // untriggered stop, in a stop ladder
};

struct Order {
  OrderId id;
  ClientOrderId client_order_id;
  AccountId account;
  InstrumentId instrument;
  Price price;          // limit price; 0 for MARKET and STOP
  Price stop_price;     // STOP, STOP_LIMIT
  SeqNo stop_priority;  // untriggered stops: seq of entry or of the last priority loss
  Quantity quantity;    // total; cash for a quote-quantity order
  Quantity leaves;      // still open; unspent cash for a quote-quantity order
  Quantity display;     // iceberg display size; 0 otherwise
  Quantity visible;     // shown at its level while resting
  std::uint32_t prev;   // FIFO links within the level (or stop level)
  std::uint32_t next;
  std::uint32_t level;
  std::uint32_t account_prev;  // links in the account's open-order list
  std::uint32_t account_next;
  Side side;
  OrderType type;
  TimeInForce time_in_force;
  StpMode stp;
  OrderPlace place;
  bool post_only;
  bool triggered;
  bool quote;       // quote-quantity market buy
  bool registered;  // in the id index, client-order-id index and account list
};
static_assert(sizeof(Order) <= 128, "an order must fit two cache lines");

struct Level {
  Price price;
  Quantity visible;  // sum of the orders' visible quantities
  Quantity total;    // sum of the orders' leaves (hidden iceberg parts included)
  std::uint32_t count;
  std::uint32_t head;
  std::uint32_t tail;
};

// A pool of T addressed by 32-bit slots, with a LIFO free list.
template <class T>
class Pool {
 public:
  explicit Pool(std::size_t expected) { items_.reserve(expected); }

  std::uint32_t alloc() {
    if (!free_.empty()) {
      const std::uint32_t s = free_.back();
      free_.pop_back();
      return s;
    }
    items_.emplace_back();
    return static_cast<std::uint32_t>(items_.size() - 1);
  }
  void release(std::uint32_t slot) { free_.push_back(slot); }

  T& operator[](std::uint32_t slot) { return items_[slot]; }
  const T& operator[](std::uint32_t slot) const { return items_[slot]; }
  std::size_t capacity_used() const { return items_.size(); }

 private:
  std::vector<T> items_;
  std::vector<std::uint32_t> free_;
};

// One side's price levels, sorted from worst to best by `key`: the price for
// a side where higher is better, minus the price where lower is better.
class Ladder {
 public:
  struct Entry {
    Price key;
    std::uint32_t level;
  };

  explicit Ladder(bool higher_is_better) : higher_is_better_(higher_is_better) {}

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  std::uint32_t best() const { return entries_.back().level; }
  void pop_best() { entries_.pop_back(); }

  // The level at `price`, or kNoSlot.
  std::uint32_t find(Price price) const {
    const Price k = key(price);
    auto it = lower(k);
    return (it != entries_.end() && it->key == k) ? it->level : kNoSlot;
  }
  // REQUIRES: no level at `price` yet.
  void insert(Price price, std::uint32_t level) {
    const Price k = key(price);
    // Fast path: a new best level (common when the book moves).
    if (entries_.empty() || entries_.back().key < k) {
      entries_.push_back({k, level});
      return;
    }
    entries_.insert(lower(k), Entry{k, level});
  }
  void erase(Price price) {
    const Price k = key(price);
    if (entries_.back().key == k) {
      entries_.pop_back();
      return;
    }
    entries_.erase(lower(k));
  }

  // Visits levels from best to worst while f(level) returns true.
  template <class F>
  void for_each_from_best(F f) const {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
      if (!f(it->level)) return;
  }

 private:
  Price key(Price price) const { return higher_is_better_ ? price : -price; }
  std::vector<Entry>::const_iterator lower(Price k) const {
    return std::lower_bound(entries_.begin(), entries_.end(), k,
                            [](const Entry& e, Price v) { return e.key < v; });
  }
  std::vector<Entry>::iterator lower(Price k) {
    return std::lower_bound(entries_.begin(), entries_.end(), k,
                            [](const Entry& e, Price v) { return e.key < v; });
  }

  std::vector<Entry> entries_;
  bool higher_is_better_;
};

}  // namespace stox
