// SlotIndex stays healthy under an order book's key pattern: sequential ids,
// most of them closed soon, a few resting for ever.
#include "core/slot_index.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <vector>

namespace stox {
namespace {

// Keys are stored in a side array indexed by slot, as the engine stores ids
// in its order pool.
struct Keys {
  std::vector<std::uint64_t> of_slot;
  std::uint64_t hash(std::uint32_t s) const { return mix_hash(of_slot[s]); }
};

TEST(SlotIndex, SequentialKeysWithLongLivedOnesNeverFormLongProbeRuns) {
  Keys keys;
  SlotIndex index(1024);
  std::vector<std::uint32_t> free_slots;
  auto add = [&](std::uint64_t key) {
    std::uint32_t s;
    if (free_slots.empty()) {
      s = static_cast<std::uint32_t>(keys.of_slot.size());
      keys.of_slot.push_back(key);
    } else {
      s = free_slots.back();
      free_slots.pop_back();
      keys.of_slot[s] = key;
    }
    index.insert(mix_hash(key), s, [&](std::uint32_t x) { return keys.hash(x); });
    return s;
  };
  std::deque<std::uint32_t> recent;
  std::uint64_t next = 1;
  // One key in 50 stays for ever (GTC orders deep in the book); the others
  // live for the next 500 keys (orders that trade or are cancelled soon).
  for (int i = 0; i < 400'000; ++i) {
    const std::uint64_t key = next++;
    const std::uint32_t s = add(key);
    if (key % 50 != 0) recent.push_back(s);
    if (recent.size() > 500) {
      const std::uint32_t old = recent.front();
      recent.pop_front();
      ASSERT_TRUE(index.erase(keys.hash(old), old, [&](std::uint32_t x) { return keys.hash(x); }));
      free_slots.push_back(old);
    }
    const std::uint64_t probe = key;
    ASSERT_EQ(index.find(mix_hash(probe), [&](std::uint32_t x) { return keys.of_slot[x] == probe; }),
              s);
  }
  EXPECT_EQ(index.size(), 400'000u / 50 + 500);
  // At load <= 3/4 with a mixing hash the longest run stays short; the raw
  // sequential key (the bug this pins) gave runs as long as the live window.
  EXPECT_LT(index.longest_run(), 200u);
}

TEST(SlotIndex, EraseKeepsEveryOtherKeyFindable) {
  Keys keys;
  SlotIndex index(16);
  for (std::uint64_t k = 0; k < 5'000; ++k) {
    keys.of_slot.push_back(k * 7919);
    index.insert(keys.hash(static_cast<std::uint32_t>(k)), static_cast<std::uint32_t>(k),
                 [&](std::uint32_t x) { return keys.hash(x); });
  }
  for (std::uint32_t s = 0; s < 5'000; s += 3)
    ASSERT_TRUE(index.erase(keys.hash(s), s, [&](std::uint32_t x) { return keys.hash(x); }));
  for (std::uint32_t s = 0; s < 5'000; ++s) {
    const std::uint32_t found =
        index.find(keys.hash(s), [&](std::uint32_t x) { return keys.of_slot[x] == keys.of_slot[s]; });
    EXPECT_EQ(found, s % 3 == 0 ? kNoSlot : s) << s;
  }
}

}  // namespace
}  // namespace stox
