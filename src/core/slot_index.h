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
  // so it is only called for entries whose stored hash bits match: a lookup
  // of an absent key, or one whose probe run holds other keys, reads no
  // other record.
  template <class Eq>
  std::uint32_t find(std::uint64_t hash, Eq eq) const {
    const auto tag = static_cast<std::uint32_t>(hash);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Entry e = table_[i];
      if (e.slot == kNoSlot) return kNoSlot;
      if (e.tag == tag && eq(e.slot)) return e.slot;
    }
  }

  // Prefetch hints (they read nothing but the table): the bucket where a
  // probe for `hash` starts, and the slots of the probe run from there whose
  // stored hash bits match (at most `max` buckets, stopping at an empty one).
  void prefetch(std::uint64_t hash) const { prefetch_line(&table_[hash & mask_]); }
  template <class F>
  void for_candidates(std::uint64_t hash, std::size_t max, F f) const {
    const auto tag = static_cast<std::uint32_t>(hash);
    for (std::size_t i = hash & mask_, n = 0; n < max && table_[i].slot != kNoSlot;
         i = (i + 1) & mask_, ++n)
      if (table_[i].tag == tag) f(table_[i].slot);
  }

  // REQUIRES: no entry with an equal key.
  void insert(std::uint64_t hash, std::uint32_t slot) {
    if ((size_ + 1) * 4 > table_.size() * 3) grow();
    place(Entry{slot, static_cast<std::uint32_t>(hash)});
    ++size_;
  }

  // Removes the entry for `slot` (found by its hash). Returns false if absent.
  bool erase(std::uint64_t hash, std::uint32_t slot) {
    std::size_t i = hash & mask_;
    while (table_[i].slot != slot) {
      if (table_[i].slot == kNoSlot) return false;
      i = (i + 1) & mask_;
    }
    // Backward-shift: move later entries of the probe run into the hole when
    // the hole lies between their home position and where they sit. Homes
    // come from the stored hash bits, so no record is read.
    for (std::size_t j = (i + 1) & mask_; table_[j].slot != kNoSlot; j = (j + 1) & mask_) {
      const std::size_t home = table_[j].tag & mask_;
      const bool hole_between = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
      if (hole_between) {
        table_[i] = table_[j];
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
      run = table_[i & mask_].slot == kNoSlot ? 0 : run + 1;
      longest = std::max(longest, std::min(run, table_.size()));
    }
    return longest;
  }

  template <class F>
  void for_each(F f) const {
    for (const Entry& e : table_)
      if (e.slot != kNoSlot) f(e.slot);
  }

 private:
  // A slot and the low 32 bits of its key's hash: enough to find its home
  // bucket (tables stay below 2^32 buckets: slots are 32-bit) and to skip
  // entries of other keys without reading the pool.
  struct Entry {
    std::uint32_t slot = kNoSlot;
    std::uint32_t tag = 0;
  };
  static_assert(sizeof(Entry) == 8);

  void place(Entry e) {
    std::size_t i = e.tag & mask_;
    while (table_[i].slot != kNoSlot) i = (i + 1) & mask_;
    table_[i] = e;
  }

  void grow() {
    std::vector<Entry> old;
    old.swap(table_);
    table_.assign(old.size() * 2, Entry{});
    mask_ = table_.size() - 1;
    for (const Entry& e : old) {
      if (e.slot != kNoSlot) place(e);
    }
  }

  std::vector<Entry> table_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace stox
