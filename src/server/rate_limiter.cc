#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace stox::server {
namespace {

constexpr double kNanosPerSecond = 1e9;
// About 30 years: the largest interval; keeps every sum far from overflow.
constexpr double kMaxIntervalNs = 1e18;

std::uint32_t ceil_seconds(std::int64_t ns) {
  const std::int64_t seconds = (ns + 999'999'999) / 1'000'000'000;
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(seconds, 1, UINT32_MAX));
}

}  // namespace

RateLimiter::RateLimiter(double rate_per_second, double burst) {
  double interval = rate_per_second > 0 ? std::ceil(kNanosPerSecond / rate_per_second)
                                        : kMaxIntervalNs;
  interval = std::clamp(interval, 1.0, kMaxIntervalNs);
  const double extra = std::max(burst, 1.0) - 1.0;
  interval_ns_ = static_cast<std::int64_t>(interval);
  tolerance_ns_ = static_cast<std::int64_t>(std::min(extra * interval, kMaxIntervalNs));
}

RateDecision RateLimiter::check(std::string_view key_id, std::int64_t now_ns) {
  Shard& shard = shards_[StringHash{}(key_id) % kShards];
  const std::lock_guard lock(shard.mutex);
  auto it = shard.tat.find(key_id);
  if (it == shard.tat.end()) {
    if (shard.tat.size() >= shard.sweep_at) sweep(shard, now_ns);
    it = shard.tat.emplace(std::string(key_id), now_ns).first;
  }
  const std::int64_t tat = std::max(it->second, now_ns);
  const std::int64_t wait = tat - now_ns - tolerance_ns_;
  if (wait > 0) return {false, ceil_seconds(wait)};
  it->second = tat + interval_ns_;
  return {true, 0};
}

void RateLimiter::sweep(Shard& shard, std::int64_t now_ns) {
  std::erase_if(shard.tat, [now_ns](const auto& entry) { return entry.second <= now_ns; });
  shard.sweep_at = std::max(kMinSweepSize, 2 * shard.tat.size());
}

std::size_t RateLimiter::tracked_keys() const {
  std::size_t n = 0;
  for (const Shard& shard : shards_) {
    const std::lock_guard lock(shard.mutex);
    n += shard.tat.size();
  }
  return n;
}

}  // namespace stox::server
