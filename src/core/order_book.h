// The order book's storage: pooled orders and price levels, and the ladder
// that keeps one side's levels in price order.
//
// Why arrays and slots instead of pointers and maps: an exchange-core style
// workload spends most of its time moving orders near the top of a book of a
// few hundred levels. Pools of fixed-size records addressed by 32-bit slots
// keep orders dense (112 bytes each), make every link 4 bytes, never
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
  // Packed into 16 bits so that an order is 112 bytes (docs/benchmarks.md,
  // memory per resting order).
  Side side : 2;
  OrderType type : 3;
  TimeInForce time_in_force : 3;
  StpMode stp : 2;
  OrderPlace place : 2;
  bool post_only : 1;
  bool triggered : 1;
  bool quote : 1;       // quote-quantity market buy
  bool registered : 1;  // in the id index, client-order-id index and account list
};
static_assert(sizeof(Order) == 112, "keep resting orders at 112 bytes");

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
  // The first `expected` records are constructed (so their pages are touched)
  // up front: a growing book then takes no page faults on the matching path.
  explicit Pool(std::size_t expected) : items_(expected) {}

  std::uint32_t alloc() {
    if (!free_.empty()) {
      const std::uint32_t s = free_.back();
      free_.pop_back();
      return s;
    }
    if (used_ == items_.size()) items_.emplace_back();
    return static_cast<std::uint32_t>(used_++);
  }
  void release(std::uint32_t slot) { free_.push_back(slot); }

  T& operator[](std::uint32_t slot) { return items_[slot]; }
  const T& operator[](std::uint32_t slot) const { return items_[slot]; }
  // The record at slot if the pool has one there (any slot ever handed out,
  // free or not), else nullptr: for prefetch hints that follow possibly
  // stale links.
  const T* at_or_null(std::uint32_t slot) const {
    return slot < items_.size() ? &items_[slot] : nullptr;
  }

 private:
  std::vector<T> items_;
  std::size_t used_ = 0;
  std::vector<std::uint32_t> free_;
};

// One side's price levels, sorted from worst to best by `key`: the price for
// a side where higher is better, minus the price where lower is better.
// (Tombstoning emptied deep levels instead of erasing them was measured and
// gave nothing on the exchange-core mix, so erase is a plain vector erase.)
class Ladder {
 public:
  struct Entry {
    Price key;
    std::uint32_t level;
  };

  explicit Ladder(bool higher_is_better) : higher_is_better_(higher_is_better) {}

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  // REQUIRES: !empty().
  std::uint32_t best() const { return entries_.back().level; }
  void pop_best() { entries_.pop_back(); }

  // The level at `price`; if there is none, make_level() makes one and it is
  // inserted in place (one search either way).
  template <class MakeLevel>
  std::uint32_t find_or_insert(Price price, MakeLevel make_level) {
    const Price k = key(price);
    const std::size_t i = lower_from_best(k);
    if (i < entries_.size() && entries_[i].key == k) return entries_[i].level;
    const std::uint32_t level = make_level();
    entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(i), Entry{k, level});
    return level;
  }
  // The level at `price`, or kNoSlot.
  std::uint32_t find(Price price) const {
    const Price k = key(price);
    const std::size_t i = lower_from_best(k);
    return (i < entries_.size() && entries_[i].key == k) ? entries_[i].level : kNoSlot;
  }
  // REQUIRES: a level at `price`.
  void erase(Price price) {
    const std::size_t i = lower_from_best(key(price));
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  // Visits levels from best to worst while f(level) returns true.
  template <class F>
  void for_each_from_best(F f) const {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)  // NOLINT(modernize-loop-convert): reverse
      if (!f(it->level)) return;
  }

 private:
  Price key(Price price) const { return higher_is_better_ ? price : -price; }

  // Index of the first entry whose key is >= k. Most activity is within a few
  // levels of the best price, which is the back of the vector, so the search
  // gallops from the back (1, 2, 4, ... entries) and finishes with a
  // branch-free binary search inside the last step: O(log distance from best).
  std::size_t lower_from_best(Price k) const {
    const Entry* data = entries_.data();
    std::size_t hi = entries_.size();  // entries [hi, size) have key >= k
    std::size_t lo = 0;                // entries [0, lo) have key < k
    for (std::size_t step = 1; step <= hi; step <<= 1) {
      const std::size_t probe = hi - step;
      if (data[probe].key < k) {
        lo = probe + 1;
        break;
      }
      hi = probe;
    }
    const Entry* first = data + lo;
    std::size_t len = hi - lo;
    while (len > 0) {
      const std::size_t half = len >> 1;
      const bool less = first[half].key < k;
      first = less ? first + half + 1 : first;
      len = less ? len - half - 1 : half;
    }
    return static_cast<std::size_t>(first - data);
  }

  std::vector<Entry> entries_;
  bool higher_is_better_;
};

}  // namespace stox
