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
    index.insert(mix_hash(key), s);
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
      ASSERT_TRUE(index.erase(keys.hash(old), old));
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
    index.insert(keys.hash(static_cast<std::uint32_t>(k)), static_cast<std::uint32_t>(k));
  }
  for (std::uint32_t s = 0; s < 5'000; s += 3)
    ASSERT_TRUE(index.erase(keys.hash(s), s));
  for (std::uint32_t s = 0; s < 5'000; ++s) {
    const std::uint32_t found =
        index.find(keys.hash(s), [&](std::uint32_t x) { return keys.of_slot[x] == keys.of_slot[s]; });
    EXPECT_EQ(found, s % 3 == 0 ? kNoSlot : s) << s;
  }
}

// The stored hash bits spare the pool: a lookup reads (calls eq for) only
// entries whose low 32 hash bits match; keys that share them are still told
// apart by eq, and erasing among them keeps the rest findable.
TEST(SlotIndex, EqIsCalledOnlyForEntriesWithTheSameHashBits) {
  SlotIndex index(64);
  // Eight keys with one home (128 buckets) in one probe run, and a lookup
  // from that home: distinct low 32 bits throughout.
  for (std::uint32_t s = 0; s < 8; ++s) index.insert(0x1000 + (std::uint64_t{s} << 40) + std::uint64_t{s} * 128, s);
  int reads = 0;
  auto never_equal = [&](std::uint32_t) {
    ++reads;
    return false;
  };
  EXPECT_EQ(index.find(0x1000 + 0xABCDULL * 128, never_equal), kNoSlot);
  EXPECT_EQ(reads, 0) << "absent key: no entry's bits match, no record may be read";
  // Keys that share their low 32 bits (differ only above): eq decides.
  SlotIndex same(64);
  const std::uint64_t low = 0x77;
  std::vector<std::uint64_t> key_of(6);
  for (std::uint32_t s = 0; s < 6; ++s) {
    key_of[s] = low | (std::uint64_t{s + 1} << 32);
    same.insert(key_of[s], s);
  }
  for (std::uint32_t s = 0; s < 6; ++s) {
    EXPECT_EQ(same.find(key_of[s], [&](std::uint32_t x) { return x == s; }), s);
  }
  ASSERT_TRUE(same.erase(key_of[2], 2));
  ASSERT_TRUE(same.erase(key_of[0], 0));
  EXPECT_FALSE(same.erase(key_of[0], 0));
  for (std::uint32_t s = 0; s < 6; ++s) {
    const std::uint32_t found = same.find(key_of[s], [&](std::uint32_t x) { return x == s; });
    EXPECT_EQ(found, (s == 0 || s == 2) ? kNoSlot : s) << s;
  }
  EXPECT_EQ(same.size(), 4u);
}

}  // namespace
}  // namespace stox
