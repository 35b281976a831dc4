#include "server/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace stox::server {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kStart = 1'000 * kSecond;  // an arbitrary monotonic clock reading

int allowed_now(RateLimiter& limiter, std::string_view key, std::int64_t now, int attempts) {
  int allowed = 0;
  for (int i = 0; i < attempts; ++i) allowed += limiter.check(key, now).allowed ? 1 : 0;
  return allowed;
}

TEST(RateLimiterTest, BurstIsAllowedAtOnceThenDenied) {
  RateLimiter limiter(10, 5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.check("k", kStart).allowed) << i;
  const RateDecision denied = limiter.check("k", kStart);
  EXPECT_FALSE(denied.allowed);
  EXPECT_GE(denied.retry_after_seconds, 1u);
}

TEST(RateLimiterTest, TokensRefillAtTheRate) {
  RateLimiter limiter(10, 5);  // one token per 100 ms
  EXPECT_EQ(allowed_now(limiter, "k", kStart, 10), 5);
  EXPECT_FALSE(limiter.check("k", kStart + 99'999'999).allowed);
  EXPECT_TRUE(limiter.check("k", kStart + 100'000'000).allowed);
  EXPECT_FALSE(limiter.check("k", kStart + 100'000'000).allowed);
  // 350 ms later three more tokens (not 3.5) are available.
  EXPECT_EQ(allowed_now(limiter, "k", kStart + 450'000'000, 10), 3);
}

TEST(RateLimiterTest, RefillStopsAtTheBurst) {
  RateLimiter limiter(10, 5);
  EXPECT_EQ(allowed_now(limiter, "k", kStart, 10), 5);
  EXPECT_EQ(allowed_now(limiter, "k", kStart + 3600 * kSecond, 100), 5);
}

TEST(RateLimiterTest, KeysHaveIndependentBuckets) {
  RateLimiter limiter(1, 2);
  EXPECT_EQ(allowed_now(limiter, "alice", kStart, 5), 2);
  EXPECT_EQ(allowed_now(limiter, "bob", kStart, 5), 2);
  EXPECT_FALSE(limiter.check("alice", kStart).allowed);
}

TEST(RateLimiterTest, RetryAfterIsWholeSecondsUntilTheNextToken) {
  RateLimiter slow(0.1, 1);  // one token per 10 s
  EXPECT_TRUE(slow.check("k", kStart).allowed);
  EXPECT_EQ(slow.check("k", kStart).retry_after_seconds, 10u);
  EXPECT_EQ(slow.check("k", kStart + 2 * kSecond + 1).retry_after_seconds, 8u);  // 7.99.. up
  EXPECT_EQ(slow.check("k", kStart + 3 * kSecond).retry_after_seconds, 7u);
  EXPECT_EQ(slow.check("k", kStart + 10 * kSecond - 1).retry_after_seconds, 1u);
  EXPECT_TRUE(slow.check("k", kStart + 10 * kSecond).allowed);

  RateLimiter fast(1000, 1);  // a token every millisecond: still at least 1 s
  EXPECT_TRUE(fast.check("k", kStart).allowed);
  const RateDecision d = fast.check("k", kStart);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 1u);
}

TEST(RateLimiterTest, ClockGoingBackwardsNeverAllowsMore) {
  RateLimiter limiter(1, 3);
  EXPECT_EQ(allowed_now(limiter, "k", kStart, 3), 3);
  EXPECT_EQ(allowed_now(limiter, "k", kStart - 100 * kSecond, 3), 0);
}

TEST(RateLimiterTest, FullBucketsAreEvictedWithoutChangingDecisions) {
  RateLimiter limiter(10, 2);
  constexpr int kKeys = 40'000;
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(limiter.check(std::to_string(i), kStart).allowed);
  EXPECT_EQ(limiter.tracked_keys(), static_cast<std::size_t>(kKeys));
  // One second later every bucket is full again: the old ones may go.
  const std::int64_t later = kStart + kSecond;
  for (int i = kKeys; i < 2 * kKeys; ++i) {
    ASSERT_TRUE(limiter.check(std::to_string(i), later).allowed);
  }
  EXPECT_LT(limiter.tracked_keys(), static_cast<std::size_t>(2 * kKeys));
  // An evicted key behaves exactly as a full bucket.
  EXPECT_EQ(allowed_now(limiter, "0", later, 5), 2);
  // A key used at `later` was not evicted and is still limited.
  EXPECT_EQ(allowed_now(limiter, std::to_string(2 * kKeys - 1), later, 5), 1);
}

TEST(RateLimiterTest, ConcurrentChecksNeverExceedBurstPlusRefill) {
  constexpr double kRate = 1000;  // one token per millisecond
  constexpr double kBurst = 50;
  RateLimiter limiter(kRate, kBurst);
  constexpr int kThreads = 4;
  constexpr int kStepsPerThread = 20'000;
  constexpr std::int64_t kStepNs = 10'000;  // each thread advances its clock 10 us per step
  std::atomic<std::int64_t> allowed{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::int64_t mine = 0;
      for (int i = 0; i < kStepsPerThread; ++i) {
        if (limiter.check("shared", kStart + i * kStepNs).allowed) ++mine;
      }
      allowed.fetch_add(mine);
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed_s = static_cast<double>((kStepsPerThread - 1) * kStepNs) / 1e9;
  const auto bound = static_cast<std::int64_t>(kBurst + kRate * elapsed_s);
  EXPECT_LE(allowed.load(), bound);
  // Not just denying everything: demand is far above the rate, so most of
  // the refill is granted (the exact count depends on the interleaving).
  EXPECT_GE(allowed.load(), static_cast<std::int64_t>(kRate * elapsed_s / 2));
}

}  // namespace
}  // namespace stox::server
