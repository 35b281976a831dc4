// SlotIndex: an open-addressing hash index from a key to a 32-bit pool slot.
//
// The table stores slots with 32 bits of their key's hash (8 bytes each);
// the key lives in the pooled object itself, so lookups take the key's hash
// and an equality predicate that reads the pool, called only when the
// stored hash bits match. (Storing slots alone made every probe and every
// backward shift read an order record: with a million orders, a cache miss
// each.) Linear probing keeps a probe within a cache line or
// two; deletion shifts later entries back instead of leaving tombstones, so
// the table never degrades under the insert/erase churn of an order book.
// The table grows (doubling, which allocates) only when the load passes 3/4.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace stox {

inline constexpr std::uint32_t kNoSlot = 0xFFFFFFFFu;

// Brings the cache line holding p in (a hint: any address is safe). Not
// __builtin_prefetch: GCC treats that as free of side effects, and deletes
// loops and calls of functions whose only effect is prefetching (it dropped
// the engine's whole replay look-ahead). A volatile asm is never deleted.
inline void prefetch_line(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 0, 3);
#endif
}

inline std::uint64_t mix_hash(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

class SlotIndex {
 public:
  explicit SlotIndex(std::size_t expected) {
    std::size_t cap = 16;
    while (cap * 3 < expected * 4) cap <<= 1;
    table_.assign(cap, Entry{});
    mask_ = cap - 1;
  }

  std::size_t size() const { return size_; }

  // Returns the slot whose key matches, or kNoSlot. eq(slot) reads the pool,
  // so it is only called for entries with the key's home bucket: a lookup
  // reads the records of keys that hash to the same bucket, never those of
  // the rest of the probe run.
  template <class Eq>
  std::uint32_t find(std::uint64_t hash, Eq eq) const {
    const std::size_t home = hash & mask_;
    for (std::size_t i = home, dist = 0;; i = (i + 1) & mask_, ++dist) {
      const Entry& e = table_[i];
      if (e.empty()) return kNoSlot;
      if (e.dist == dist && eq(e.slot())) return e.slot();
    }
  }

  // Prefetch hints (they read nothing but the table): the bucket where a
  // probe for `hash` starts, and the slots of the probe run from there that
  // share its home bucket (at most `max` buckets, stopping at an empty one).
  void prefetch(std::uint64_t hash) const { prefetch_line(&table_[hash & mask_]); }
  template <class F>
  void for_candidates(std::uint64_t hash, std::size_t max, F f) const {
    for (std::size_t i = hash & mask_, dist = 0; dist < max && !table_[i].empty();
         i = (i + 1) & mask_, ++dist)
      if (table_[i].dist == dist) f(table_[i].slot());
  }

  // REQUIRES: no entry with an equal key. hash_of(slot) recomputes the hash
  // of a stored slot; it is called only when the table grows (an entry's
  // new home needs a hash bit the table does not keep).
  template <class HashOf>
  void insert(std::uint64_t hash, std::uint32_t slot, HashOf hash_of) {
    if ((size_ + 1) * 4 > table_.size() * 3) grow(hash_of);
    while (!place(hash & mask_, slot)) grow(hash_of);
    ++size_;
  }

  // Removes the entry for `slot` (found by its hash). Returns false if absent.
  bool erase(std::uint64_t hash, std::uint32_t slot) {
    std::size_t i = hash & mask_;
    while (table_[i].slot() != slot) {
      if (table_[i].empty()) return false;
      i = (i + 1) & mask_;
    }
    // Backward-shift: move later entries of the probe run into the hole when
    // the hole lies between their home bucket and where they sit. Homes come
    // from the stored distances, so no record is read.
    for (std::size_t j = (i + 1) & mask_; !table_[j].empty(); j = (j + 1) & mask_) {
      const std::size_t back = (j - i) & mask_;  // from j back to the hole
      if (table_[j].dist >= back) {              // its home is at or before the hole
        table_[i] = table_[j];
        table_[i].dist = static_cast<std::uint16_t>(table_[j].dist - back);
        i = j;
      }
    }
    table_[i] = Entry{};
    --size_;
    return true;
  }

  // The longest run of occupied buckets (what a miss may have to probe):
  // a health measure for tests.
  std::size_t longest_run() const {
    std::size_t longest = 0;
    std::size_t run = 0;
    for (std::size_t i = 0; i < 2 * table_.size(); ++i) {  // twice round: runs may wrap
      run = table_[i & mask_].empty() ? 0 : run + 1;
      longest = std::max(longest, std::min(run, table_.size()));
    }
    return longest;
  }

  template <class F>
  void for_each(F f) const {
    for (const Entry& e : table_)
      if (!e.empty()) f(e.slot());
  }

 private:
  // A slot and how far it sits from its home bucket (hash & mask). 6 bytes,
  // so that 10 M resting orders stay within 128 bytes each (a 32-bit hash
  // tag instead made entries 8 bytes); the distance lets lookups skip
  // entries of other homes and the erase shift find homes without reading
  // the pool (with slots alone, every probe and every shifted entry read an
  // order record: a cache miss each in a big book).
  struct Entry {
    std::uint16_t lo = 0xFFFF;
    std::uint16_t hi = 0xFFFF;
    std::uint16_t dist = 0;
    std::uint32_t slot() const { return static_cast<std::uint32_t>(hi) << 16 | lo; }
    bool empty() const { return slot() == kNoSlot; }
    static Entry of(std::uint32_t slot, std::size_t dist) {
      return Entry{static_cast<std::uint16_t>(slot & 0xFFFF), static_cast<std::uint16_t>(slot >> 16),
                   static_cast<std::uint16_t>(dist)};
    }
  };
  static_assert(sizeof(Entry) == 6);
  static constexpr std::size_t kMaxDist = 0xFFFF;

  // Puts slot in the first empty bucket from home; false (nothing changed)
  // if that is kMaxDist or more away (the table then grows: never seen at a
  // load of 3/4 with a mixing hash, but a distance must fit its 16 bits).
  bool place(std::size_t home, std::uint32_t slot) {
    std::size_t i = home;
    std::size_t dist = 0;
    while (!table_[i].empty()) {
      i = (i + 1) & mask_;
      if (++dist >= kMaxDist) return false;
    }
    table_[i] = Entry::of(slot, dist);
    return true;
  }

  // Doubles the table (more if an entry's distance would not fit, which a
  // mixing hash at half the load never gives).
  template <class HashOf>
  void grow(HashOf hash_of) {
    std::vector<Entry> old;
    old.swap(table_);
    for (std::size_t cap = old.size() * 2;; cap *= 2) {
      table_.assign(cap, Entry{});
      mask_ = cap - 1;
      bool placed = true;
      for (const Entry& e : old) {
        if (!e.empty()) placed = placed && place(hash_of(e.slot()) & mask_, e.slot());
      }
      if (placed) return;
    }
  }

  std::vector<Entry> table_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace stox
