// RateLimiter: one token bucket per API key (by key_id).
//
// Each key may make `burst` requests at once and then `rate_per_second` on
// average. The bucket is kept in the GCRA form (generic cell rate
// algorithm): instead of a token count it stores one integer, the
// "theoretical arrival time" (TAT) at which the bucket would be full again.
// A request at `now` is allowed iff TAT - now <= (burst - 1) * interval, and
// then moves TAT one interval (1/rate seconds, rounded up to a nanosecond so
// the limiter never allows more than configured) into the future. This is
// exactly a token bucket, but in integer nanoseconds: no drift, exact tests.
//
// Time is passed in, so tests are exact; the server passes a monotonic
// clock. A clock that goes backwards never allows more requests, it only
// delays them.
//
// Memory: a bucket whose TAT has passed is full, which is the same as having
// no bucket, so such buckets are evicted whenever a shard has doubled since
// its last sweep. Memory is thus bounded by about twice the number of keys
// active within one refill period (burst / rate seconds).
//
// Thread-safety: check() may be called from any thread; keys are spread
// over kShards mutex-protected shards.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace stox::server {

struct RateDecision {
  bool allowed = false;
  // When denied: whole seconds until one request will be allowed (rounded
  // up, at least 1), for the Retry-After header. 0 when allowed.
  std::uint32_t retry_after_seconds = 0;
};

class RateLimiter {
 public:
  // REQUIRES: rate_per_second > 0 and burst >= 1 (config.cc validates).
  // Values outside are clamped: a rate below one request per ~30 years is
  // treated as that, a burst below 1 as 1.
  RateLimiter(double rate_per_second, double burst);

  RateDecision check(std::string_view key_id, std::int64_t now_ns);

  // Buckets currently held (for tests of eviction).
  std::size_t tracked_keys() const;

 private:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMinSweepSize = 1024;

  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>> tat;  // key_id -> TAT
    std::size_t sweep_at = kMinSweepSize;
  };

  static void sweep(Shard& shard, std::int64_t now_ns);

  std::int64_t interval_ns_;   // nanoseconds per request at the sustained rate
  std::int64_t tolerance_ns_;  // (burst - 1) * interval_ns_
  std::array<Shard, kShards> shards_;
};

}  // namespace stox::server
