// The engine's contract says apply() allocates nothing per order once its
// pools have grown to the working set (engine.h). This test proves it by
// replacing the global operator new with one that counts calls, warming an
// engine up with a workload, and then counting the allocations made by
// apply() alone (the test's own bookkeeping is not counted) while the same
// kind of workload goes on.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/command.h"
#include "core/engine.h"
#include "core/testing/exchange_core.h"
#include "core/event.h"

namespace {

// Only calls made while `g_counting` is set are counted; gtest and the
// workload generators allocate freely outside those windows.
bool g_counting = false;
std::uint64_t g_allocations = 0;

void* allocate(std::size_t n) {
  if (g_counting) ++g_allocations;
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* allocate_aligned(std::size_t n, std::align_val_t align) {
  if (g_counting) ++g_allocations;
  const auto a = static_cast<std::size_t>(align);
  void* p = std::aligned_alloc(a, (n + a - 1) / a * a);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate_aligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t /*size*/) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t /*align*/) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t /*align*/) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/, std::align_val_t /*align*/) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t /*size*/, std::align_val_t /*align*/) noexcept { std::free(p); }

namespace stox {
namespace {

using testing::Rng;  // splitmix64 (core/testing/exchange_core.h)

// Applies commands to one engine, learns order ids and fills from the
// events, and counts the allocations of apply() when asked to.
class Driver {
 public:
  explicit Driver(Price reference) {
    out_.reserve(4096);
    AddInstrument a{};
    a.symbol = Symbol::from("ALLOC");
    a.tick_size = 1;
    a.lot_size = 1;
    a.reference_price = reference;
    apply(Command::make(seq_, 0, a));
    EXPECT_EQ(out_.size(), 1u);
    EXPECT_EQ(out_[0].type, EventType::kInstrumentAdded);
  }

  void set_counting(bool on) { counting_ = on; }
  std::uint64_t allocations() const { return allocations_; }
  std::uint64_t rejects() const { return rejects_; }
  std::uint64_t trades() const { return trades_; }
  const Engine& engine() const { return engine_; }
  Price last() const { return last_; }

  struct Open {
    OrderId id;
    AccountId account;
    Side side;
    Price price;
  };
  const std::vector<Open>& open() const { return open_; }

  void limit(AccountId account, Side side, Price price, Quantity qty, TimeInForce tif) {
    apply(Command::make(seq_, 0, testing::limit_order(account, side, price, qty, tif)));
  }
  void cancel(const Open& o) { apply(Command::make(seq_, 0, Cancel{o.account, o.id})); }
  void move(const Open& o, Price price) {
    Replace r{};
    r.account = o.account;
    r.order_id = o.id;
    r.price = price;
    apply(Command::make(seq_, 0, r));
  }

 private:
  void apply(const Command& c) {
    ++seq_;
    out_.clear();
    const std::uint64_t before = g_allocations;
    g_counting = counting_;
    engine_.apply(c, out_);
    g_counting = false;
    allocations_ += g_allocations - before;
    learn();
  }

  void learn() {
    for (const Event& e : out_) {
      switch (e.type) {
        case EventType::kAccepted:
          index_[e.accepted.order_id] = open_.size();
          open_.push_back({e.accepted.order_id, e.accepted.order.account, e.accepted.order.side,
                           e.accepted.order.price});
          break;
        case EventType::kTrade:
          ++trades_;
          last_ = e.trade.price;
          if (e.trade.maker_leaves == 0) forget(e.trade.maker_order);
          if (e.trade.taker_leaves == 0) forget(e.trade.taker_order);
          break;
        case EventType::kCancelled:
          forget(e.cancelled.order_id);
          break;
        case EventType::kReplaced: {
          auto it = index_.find(e.replaced.order_id);
          if (it != index_.end()) open_[it->second].price = e.replaced.price;
          break;
        }
        case EventType::kRejected:
          ++rejects_;
          break;
        default:
          break;
      }
    }
  }

  void forget(OrderId id) {
    auto it = index_.find(id);
    if (it == index_.end()) return;
    const std::size_t i = it->second;
    index_.erase(it);
    if (i + 1 != open_.size()) {
      open_[i] = open_.back();
      index_[open_[i].id] = i;
    }
    open_.pop_back();
  }

  Engine engine_;
  std::vector<Event> out_;
  SeqNo seq_ = 1;
  bool counting_ = false;
  std::uint64_t allocations_ = 0;
  std::uint64_t rejects_ = 0;
  std::uint64_t trades_ = 0;
  Price last_ = 0;
  std::vector<Open> open_;
  std::unordered_map<OrderId, std::size_t> index_;
};

// One cycle: 1,000 resting orders on 400 levels, a quarter moved to new
// prices, IOC orders that trade through the top of both sides, then every
// remaining order cancelled. Every cycle has the same shape, so after the
// first the engine's pools, indexes and ladders are already large enough.
void resting_cycle(Driver& d, Rng& rng) {
  constexpr Price kMid = 10'000;
  for (int i = 0; i < 1000; ++i) {
    const bool buy = i % 2 == 0;
    const Price price = buy ? kMid - 1 - rng.between(0, 199) : kMid + 1 + rng.between(0, 199);
    d.limit(static_cast<AccountId>(1 + i % 50), buy ? Side::kBuy : Side::kSell, price, rng.between(1, 100),
            TimeInForce::kGtc);
  }
  for (int i = 0; i < 250 && !d.open().empty(); ++i) {
    const auto n = static_cast<std::int64_t>(d.open().size());
    const Driver::Open o = d.open()[static_cast<std::size_t>(rng.between(0, n - 1))];
    const Price step = rng.between(1, 20);
    d.move(o, o.side == Side::kBuy ? std::max<Price>(o.price - step, 1) : o.price + step);
  }
  for (int i = 0; i < 20; ++i) {
    d.limit(1000, Side::kBuy, kMid + 5, 200, TimeInForce::kIoc);
    d.limit(1001, Side::kSell, kMid - 5, 200, TimeInForce::kIoc);
  }
  while (!d.open().empty()) d.cancel(d.open().back());
}

TEST(EngineAllocTest, RestingOrderCyclesDoNotAllocateOnceWarm) {
  Driver d(10'000);
  Rng rng(7);
  for (int i = 0; i < 3; ++i) resting_cycle(d, rng);
  d.set_counting(true);
  for (int i = 0; i < 20; ++i) resting_cycle(d, rng);
  d.set_counting(false);
  EXPECT_EQ(d.allocations(), 0u);
  EXPECT_EQ(d.rejects(), 0u);
  EXPECT_GT(d.trades(), 0u);
  EXPECT_EQ(d.engine().open_orders(), 0u);
}

// The exchange-core mix of engine_benchmark (9 % GTC, 3 % IOC, 6 % cancel,
// 82 % move toward the last trade price) around ~1,000 resting orders.
TEST(EngineAllocTest, ExchangeCoreMixDoesNotAllocateAfterWarmUp) {
  constexpr Price kReference = 100'000;
  Driver d(kReference);
  Rng rng(11);
  const auto size = [&] {
    const std::int64_t r = rng.between(0, 5);
    return 1 + r * r * r;
  };
  const auto last = [&] { return d.last() != 0 ? d.last() : kReference; };
  const auto step = [&](bool counted) {
    d.set_counting(counted);
    const std::int64_t r = rng.between(0, 99);
    const Side side = rng.between(0, 1) == 0 ? Side::kBuy : Side::kSell;
    const int sign = side == Side::kBuy ? -1 : 1;
    const auto account = static_cast<AccountId>(rng.between(1, 100));
    if (r < 9 || d.open().size() < 1000 || d.open().empty()) {
      d.limit(account, side, last() + sign * rng.between(1, 1000), size(), TimeInForce::kGtc);
    } else if (r < 12) {
      d.limit(account, side, last() - sign * rng.between(1, 8), size(), TimeInForce::kIoc);
    } else if (r < 18) {
      d.cancel(d.open()[static_cast<std::size_t>(rng.between(0, static_cast<std::int64_t>(d.open().size()) - 1))]);
    } else {
      const Driver::Open o =
          d.open()[static_cast<std::size_t>(rng.between(0, static_cast<std::int64_t>(d.open().size()) - 1))];
      const int o_sign = o.side == Side::kBuy ? -1 : 1;
      const Price distance = o_sign * (o.price - last());
      const bool cross = rng.between(0, 99) < (d.open().size() > 1000 ? 6 : 1);
      const Price to = cross ? -rng.between(0, 3)
                     : distance > 1 ? distance - rng.between(1, std::max<Price>(1, distance / 8))
                                    : rng.between(1, 4);
      Price price = std::max<Price>(last() + o_sign * to, 1);
      if (price == o.price) price = o.price - o_sign;
      d.move(o, std::max<Price>(price, 1));
    }
    d.set_counting(false);
  };
  for (int i = 0; i < 300'000; ++i) step(false);
  for (int i = 0; i < 200'000; ++i) step(true);
  EXPECT_EQ(d.allocations(), 0u);
  EXPECT_EQ(d.rejects(), 0u);
  EXPECT_GT(d.trades(), 1000u);
  EXPECT_GT(d.engine().open_orders(), 500u);
}

}  // namespace
}  // namespace stox
