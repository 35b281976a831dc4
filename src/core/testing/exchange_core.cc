// The exchange-core mix and the shared benchmark helpers; see exchange_core.h.
#include "core/testing/exchange_core.h"

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/reason.h"

namespace stox::testing {

void EventStats::add(const std::vector<Event>& out) {
  ++commands;
  events += out.size();
  bool traded = false;
  for (const Event& e : out) {
    ++by_type[static_cast<std::uint8_t>(e.type)];
    if (e.type == EventType::kTrade) traded = true;
    if (e.type == EventType::kRejected) ++rejects[e.rejected.reason];
    if (e.type == EventType::kCancelled) ++cancels[e.cancelled.reason];
  }
  if (traded) ++commands_with_trades;
}

void EventStats::print(const char* indent) const {
  const auto n = static_cast<double>(commands);
  std::printf("%sevents/command %.2f; commands with a trade %.2f %%; trades %" PRIu64
              "; accepted %" PRIu64 "; replaced %" PRIu64 "; rejected %" PRIu64 "\n",
              indent, static_cast<double>(events) / n, 100.0 * static_cast<double>(commands_with_trades) / n,
              by_type[static_cast<int>(EventType::kTrade)],
              by_type[static_cast<int>(EventType::kAccepted)],
              by_type[static_cast<int>(EventType::kReplaced)], rejected());
  for (const auto& [reason, count] : rejects)
    std::printf("%s  REJECT %-32s %" PRIu64 "\n", indent, std::string(to_string(reason)).c_str(), count);
  for (const auto& [reason, count] : cancels)
    std::printf("%s  cancel %-32s %" PRIu64 "\n", indent, std::string(to_string(reason)).c_str(), count);
}

EngineConfig ledger_config() {
  EngineConfig c;
  c.accounts = true;
  c.default_max_orders_per_second = 1'000'000'000;
  c.default_max_open_orders = 1'000'000;
  c.default_breaker_bps = 10000;
  return c;
}

namespace {

class ExchangeCoreGenerator {
 public:
  static constexpr Price kReference = 100'000;
  static constexpr std::size_t kTargetOrders = 1000;
  static constexpr Price kSpread = 1300;  // passive distance of a new GTC order: 1..kSpread ticks
  static constexpr double kCrossAtTarget = 0.03;  // share of moves that cross, at kTargetOrders

  ExchangeCoreGenerator(std::uint64_t seed, AccountId accounts, bool ledger)
      : rng_(seed), engine_(ledger ? ledger_config() : EngineConfig{}), accounts_(accounts),
        ledger_(ledger) {
    out_.reserve(1024);
  }

  Workload generate(std::size_t commands) {
    Workload w;
    w.name = ledger_ ? "ex-core+ledger" : "exchange-core";
    w.config = ledger_ ? ledger_config() : EngineConfig{};
    AddInstrument instrument = bench_instrument(kReference);
    if (ledger_) {
      instrument.taker_fee_bps = 5;
      instrument.maker_fee_bps = -2;
    }
    emit(w.setup, builder_.next(instrument), nullptr);
    if (ledger_) fund_accounts(w.setup);
    while (open_.size() < kTargetOrders)
      emit(w.setup, builder_.next(new_gtc(/*may_cross=*/false)), nullptr);

    EventStats stats;
    std::array<std::uint64_t, 4> mix{};
    double orders_sum = 0;
    double levels_sum = 0;
    std::size_t samples = 0;
    std::size_t levels_min = SIZE_MAX;
    std::size_t levels_max = 0;
    w.timed.reserve(commands);
    for (std::size_t i = 0; i < commands; ++i) {
      const std::uint64_t r = rng_.below(100);
      Command c;
      if (r < 9 || open_.empty()) {
        c = builder_.next(new_gtc(/*may_cross=*/true));
        ++mix[0];
      } else if (r < 12) {
        c = builder_.next(new_ioc());
        ++mix[1];
      } else if (r < 18) {
        c = builder_.next(cancel());
        ++mix[2];
      } else {
        c = builder_.next(move());
        ++mix[3];
      }
      emit(w.timed, c, &stats);
      if (i % 1000 == 0) {
        const std::size_t levels =
            engine_.depth(1, Side::kBuy, SIZE_MAX).size() + engine_.depth(1, Side::kSell, SIZE_MAX).size();
        orders_sum += static_cast<double>(open_.size());
        levels_sum += static_cast<double>(levels);
        levels_min = std::min(levels_min, levels);
        levels_max = std::max(levels_max, levels);
        ++samples;
      }
    }
    w.expected_hash = engine_.state_hash();
    w.expected_open_orders = engine_.open_orders();

    char buf[512];
    const auto n = static_cast<double>(commands);
    std::snprintf(buf, sizeof buf,
                  "mix: GTC %.1f %%, IOC %.1f %%, cancel %.1f %%, move %.1f %%; "
                  "resting orders avg %.0f; price levels avg %.0f (min %zu, max %zu)",
                  100.0 * static_cast<double>(mix[0]) / n, 100.0 * static_cast<double>(mix[1]) / n,
                  100.0 * static_cast<double>(mix[2]) / n, 100.0 * static_cast<double>(mix[3]) / n,
                  orders_sum / static_cast<double>(samples), levels_sum / static_cast<double>(samples),
                  levels_min, levels_max);
    w.notes = buf;
    stats_ = stats;
    return w;
  }

  const EventStats& stats() const { return stats_; }

 private:
  struct Open {
    OrderId id;
    AccountId account;
    Side side;
    Price price;
  };

  // Applies `c` to the generator's engine, appends it to `stream`, and learns
  // ids, fills, closes and the last trade price from the events.
  void emit(std::vector<Command>& stream, const Command& c, EventStats* stats) {
    stream.push_back(c);
    out_.clear();
    engine_.apply(c, out_);
    if (stats != nullptr) stats->add(out_);
    for (const Event& e : out_) {
      switch (e.type) {
        case EventType::kAccepted:
          add_open({e.accepted.order_id, e.accepted.order.account, e.accepted.order.side,
                    e.accepted.order.price});
          break;
        case EventType::kTrade:
          last_ = e.trade.price;
          if (e.trade.maker_leaves == 0) remove_open(e.trade.maker_order);
          if (e.trade.taker_leaves == 0) remove_open(e.trade.taker_order);
          break;
        case EventType::kCancelled:
          remove_open(e.cancelled.order_id);
          break;
        case EventType::kReplaced: {
          auto it = index_.find(e.replaced.order_id);
          if (it != index_.end()) open_[it->second].price = e.replaced.price;
          break;
        }
        default:
          break;
      }
    }
  }

  void add_open(const Open& o) {
    index_[o.id] = open_.size();
    open_.push_back(o);
  }
  void remove_open(OrderId id) {
    auto it = index_.find(id);
    if (it == index_.end()) return;
    const std::size_t i = it->second;
    index_.erase(it);
    if (i != open_.size() - 1) {
      open_[i] = open_.back();
      index_[open_[i].id] = i;
    }
    open_.pop_back();
  }

  Quantity size() {
    const std::int64_t r = rng_.between(0, 5);
    return 1 + r * r * r;
  }
  Side side() { return rng_.below(2) == 0 ? Side::kBuy : Side::kSell; }
  AccountId account() { return static_cast<AccountId>(1 + rng_.below(accounts_)); }
  // The price `distance` ticks on the passive side of the last trade price
  // (negative: through it).
  Price at_distance(Side s, Price distance) const {
    const Price p = s == Side::kBuy ? last_ - distance : last_ + distance;
    return std::max<Price>(p, 1);
  }

  NewOrder new_gtc(bool may_cross) {
    const Side s = side();
    // Mostly passive, spread over kSpread ticks; a few cross by up to 2 ticks.
    const Price d = (may_cross && rng_.below(100) < 5) ? rng_.between(-2, 0) : rng_.between(1, kSpread);
    return limit_order(account(), s, at_distance(s, d), size(), TimeInForce::kGtc);
  }
  NewOrder new_ioc() {
    const Side s = side();
    return limit_order(account(), s, at_distance(s, -rng_.between(1, 8)), size(), TimeInForce::kIoc);
  }
  Cancel cancel() {
    const Open& o = open_[rng_.below(open_.size())];
    return Cancel{o.account, o.id};
  }
  // Moves a random open order toward the last trade price. Usually a passive
  // step of up to 1/8 of its distance (never reaching the last price); with
  // probability cross_probability() it goes through the last price by 0..3
  // ticks and trades like an incoming order. That probability grows with the
  // cube of (open orders / target), which holds the book near kTargetOrders.
  Replace move() {
    const Open& o = open_[rng_.below(open_.size())];
    const Price distance = o.side == Side::kBuy ? last_ - o.price : o.price - last_;
    Price d;
    if (rng_.below(1'000'000) < cross_ppm()) {
      d = -rng_.between(0, 3);
    } else if (distance > 1) {
      d = distance - rng_.between(1, std::max<Price>(1, distance / 8));
    } else {
      d = rng_.between(1, 4);  // at or through the last price: step back
    }
    Price price = at_distance(o.side, d);
    if (price == o.price) price = o.side == Side::kBuy ? o.price - 1 : o.price + 1;
    Replace r{};
    r.account = o.account;
    r.order_id = o.id;
    r.price = std::max<Price>(price, 1);
    return r;
  }
  std::uint64_t cross_ppm() const {
    const double x = static_cast<double>(open_.size()) / static_cast<double>(kTargetOrders);
    return static_cast<std::uint64_t>(std::min(1.0, kCrossAtTarget * x * x * x) * 1e6);
  }

  void fund_accounts(std::vector<Command>& setup) {
    for (AccountId a = 1; a <= accounts_; ++a) {
      CreateAccount c{};
      c.label = FixedString<16>::from("bench");
      c.type = AccountType::kCash;
      emit(setup, builder_.next(c), nullptr);
      emit(setup, builder_.deposit(Transfer{a, kCashAsset, 1'000'000'000'000'000}), nullptr);
      emit(setup, builder_.deposit(Transfer{a, 1, 100'000'000}), nullptr);
    }
  }

  Rng rng_;
  Engine engine_;
  AccountId accounts_;
  bool ledger_;
  StreamBuilder builder_;
  std::vector<Event> out_;
  std::vector<Open> open_;
  std::unordered_map<OrderId, std::size_t> index_;
  Price last_ = kReference;
  EventStats stats_;
};

}  // namespace

Workload exchange_core_workload(std::uint64_t seed, std::size_t commands,
                                const ExchangeCoreOptions& options, EventStats* stats) {
  ExchangeCoreGenerator gen(seed, options.accounts, options.ledger);
  Workload w = gen.generate(commands);
  if (stats != nullptr) *stats = gen.stats();
  return w;
}

}  // namespace stox::testing
