// Tape: recent trades, the day's ticker and candles, from a real Engine's
// events with scripted timestamps.
#include "marketdata/tape.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/testing/random_stream.h"
#include "marketdata/test_exchange.h"

namespace stox::marketdata {
namespace {

using testing::instrument_spec;
using testing::limit;
using testing::market;
using testing::TestExchange;

constexpr AccountId kAlice = 1;
constexpr AccountId kBob = 2;
constexpr Side kBuy = Side::kBuy;
constexpr Side kSell = Side::kSell;
constexpr Timestamp kSecond = 1'000'000'000;
constexpr Timestamp kMinute = 60 * kSecond;
constexpr Timestamp kDay = Timestamp{24} * 60 * kMinute;
constexpr Timestamp kMidnight = testing::kT0 / kDay * kDay;  // 00:00 UTC of kT0's day

class TapeTest : public ::testing::Test {
 protected:
  explicit TapeTest(const TapeConfig& config = {}) : x_({}, {}, config) {}
  void SetUp() override { ASSERT_EQ(x_.apply(instrument_spec("ACME")).size(), 1u); }

  // One print of `qty` at `price`, at time `t` (Bob buys from Alice).
  void print(Timestamp t, Price price, Quantity qty) {
    x_.now = t;
    x_.apply(limit(kAlice, kSell, price, qty));
    x_.now = t;
    x_.apply(market(kBob, kBuy, qty));
    ASSERT_EQ(x_.tape.batch_trades().size(), 1u);
  }

  TestExchange x_;
};

TEST_F(TapeTest, TickerCoversTheDayAndResetsOnDayEnded) {
  print(kMidnight + kMinute, 10000, 2);
  print(kMidnight + 2 * kMinute, 10100, 3);
  print(kMidnight + 3 * kMinute, 9950, 1);
  x_.apply(limit(kAlice, kBuy, 9900, 1));
  x_.apply(limit(kAlice, kSell, 10200, 1));
  Ticker t = x_.tape.ticker(1, x_.book);
  EXPECT_EQ(t.bid, 9900);
  EXPECT_EQ(t.ask, 10200);
  EXPECT_EQ(t.last, 9950);
  EXPECT_EQ(t.day.open, 10000);
  EXPECT_EQ(t.day.high, 10100);
  EXPECT_EQ(t.day.low, 9950);
  EXPECT_EQ(t.day.volume, 6);
  EXPECT_EQ(t.day.trades, 3u);
  EXPECT_EQ(to_json(t, x_.json()),
            R"({"symbol":"ACME","bid":"99.00","ask":"102.00","last":"99.50","open":"100.00",)"
            R"("high":"101.00","low":"99.50","volume":"6","trades":3})");

  x_.apply(EndOfDay{});  // the DAY orders expire too
  t = x_.tape.ticker(1, x_.book);
  EXPECT_EQ(t.last, 9950);
  EXPECT_EQ(t.day.trades, 0u);
  EXPECT_EQ(t.day.volume, 0);
  EXPECT_EQ(to_json(t, x_.json()),
            R"({"symbol":"ACME","bid":null,"ask":null,"last":"99.50","open":null,)"
            R"("high":null,"low":null,"volume":"0","trades":0})");
  print(kMidnight + kDay, 9900, 4);
  t = x_.tape.ticker(1, x_.book);
  EXPECT_EQ(t.day.open, 9900);
  EXPECT_EQ(t.day.volume, 4);
}

TEST_F(TapeTest, CandlesBucketTradesByEventTimestampPerInterval) {
  print(kMidnight + 10 * kSecond, 10000, 1);
  print(kMidnight + 50 * kSecond, 10100, 2);
  print(kMidnight + 70 * kSecond, 9900, 3);
  print(kMidnight + 6 * kMinute, 10200, 4);
  print(kMidnight + 120 * kMinute, 10300, 5);
  const auto m = kMidnight;
  EXPECT_EQ(x_.tape.candles(1, CandleInterval::k1m, 10),
            (std::vector<Candle>{{m, 10000, 10100, 10000, 10100, 3, 2},
                                 {m + kMinute, 9900, 9900, 9900, 9900, 3, 1},
                                 {m + 6 * kMinute, 10200, 10200, 10200, 10200, 4, 1},
                                 {m + 120 * kMinute, 10300, 10300, 10300, 10300, 5, 1}}));
  EXPECT_EQ(x_.tape.candles(1, CandleInterval::k5m, 10),
            (std::vector<Candle>{{m, 10000, 10100, 9900, 9900, 6, 3},
                                 {m + 5 * kMinute, 10200, 10200, 10200, 10200, 4, 1},
                                 {m + 120 * kMinute, 10300, 10300, 10300, 10300, 5, 1}}));
  EXPECT_EQ(x_.tape.candles(1, CandleInterval::k1h, 10),
            (std::vector<Candle>{{m, 10000, 10200, 9900, 10200, 10, 4},
                                 {m + 120 * kMinute, 10300, 10300, 10300, 10300, 5, 1}}));
  EXPECT_EQ(x_.tape.candles(1, CandleInterval::k1d, 10),
            (std::vector<Candle>{{m, 10000, 10300, 9900, 10300, 15, 5}}));
  EXPECT_EQ(x_.tape.candles(1, CandleInterval::k1m, 1).size(), 1u);
  EXPECT_EQ(x_.tape.candles(1, CandleInterval::k1m, 1)[0].open_time, m + 120 * kMinute);
  const CandleSeries daily{1, CandleInterval::k1d, x_.tape.candles(1, CandleInterval::k1d, 1)};
  EXPECT_EQ(to_json(daily, x_.json()),
            R"({"symbol":"ACME","interval":"1d","candles":[{"time":1699920000000000000,)"
            R"("open":"100.00","high":"103.00","low":"99.00","close":"103.00","volume":"15",)"
            R"("trades":5}]})");
}

TEST_F(TapeTest, RecentTradesAreNewestFirst) {
  print(kMidnight + kSecond, 10000, 1);
  print(kMidnight + 2 * kSecond, 10005, 2);
  const std::vector<PublicTrade> trades = x_.tape.recent_trades(1, 10);
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[0].trade_id, 2u);
  EXPECT_EQ(trades[1].trade_id, 1u);
  EXPECT_EQ(x_.tape.recent_trades(1, 1).size(), 1u);
  EXPECT_TRUE(x_.tape.recent_trades(7, 10).empty());
  EXPECT_EQ(to_json(trades[0], x_.json()),
            R"({"tradeId":2,"symbol":"ACME","price":"100.05","quantity":"2","side":"BUY",)"
            R"("time":1699920002000000000})");
}

TEST(CandleIntervalTest, ParsesTheApiNames) {
  EXPECT_EQ(parse_candle_interval("1m"), CandleInterval::k1m);
  EXPECT_EQ(parse_candle_interval("5m"), CandleInterval::k5m);
  EXPECT_EQ(parse_candle_interval("1h"), CandleInterval::k1h);
  EXPECT_EQ(parse_candle_interval("1d"), CandleInterval::k1d);
  EXPECT_EQ(parse_candle_interval("1w"), std::nullopt);
  EXPECT_EQ(parse_candle_interval(""), std::nullopt);
}

class BoundedTapeTest : public TapeTest {
 protected:
  static TapeConfig small() {
    TapeConfig c;
    c.max_trades = 2;
    c.max_candles = 2;
    return c;
  }
  BoundedTapeTest() : TapeTest(small()) {}
};

TEST_F(BoundedTapeTest, TradesAndCandlesKeepOnlyTheMostRecent) {
  for (int i = 0; i < 4; ++i) print(kMidnight + i * kMinute, 10000 + 5 * i, 1);
  const std::vector<PublicTrade> trades = x_.tape.recent_trades(1, 10);
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[0].trade_id, 4u);
  EXPECT_EQ(trades[1].trade_id, 3u);
  const std::vector<Candle> candles = x_.tape.candles(1, CandleInterval::k1m, 10);
  ASSERT_EQ(candles.size(), 2u);
  EXPECT_EQ(candles[0].open_time, kMidnight + 2 * kMinute);
  EXPECT_EQ(candles[1].open_time, kMidnight + 3 * kMinute);
  // Wider intervals are unaffected: one 1h candle holds all four.
  EXPECT_EQ(x_.tape.candles(1, CandleInterval::k1h, 10).at(0).trades, 4u);
}

// Over a random run, the ticker's day equals the trades since the last
// EndOfDay, and the 1m candles add up to every trade printed.
TEST(TapeRandomTest, DayStatsAndCandlesAddUpToThePrintedTrades) {
  TapeConfig config;
  config.max_candles = 1'000'000;
  TestExchange x({}, {}, config);
  stox::testing::RandomStream stream(5);
  std::map<InstrumentId, DayStats> day;
  std::map<InstrumentId, Quantity> total;
  for (std::size_t step = 1; step <= 50'000; ++step) {
    x.run(stream.next());
    stream.observe(x.events);
    for (const Event& e : x.events) {
      if (e.type == EventType::kDayEnded) day.clear();
      if (e.type != EventType::kTrade) continue;
      DayStats& d = day[e.trade.instrument];
      if (d.trades++ == 0) d.open = d.high = d.low = e.trade.price;
      d.high = std::max(d.high, e.trade.price);
      d.low = std::min(d.low, e.trade.price);
      d.volume += e.trade.quantity;
      total[e.trade.instrument] += e.trade.quantity;
    }
    for (const InstrumentInfo& i : x.instruments.all()) {
      const Ticker t = x.tape.ticker(i.id, x.book);
      const DayStats& d = day[i.id];
      ASSERT_EQ(t.day.trades, d.trades) << "step " << step;
      ASSERT_EQ(t.day.volume, d.volume) << "step " << step;
      ASSERT_EQ(t.day.open, d.open) << "step " << step;
      ASSERT_EQ(t.day.high, d.high) << "step " << step;
      ASSERT_EQ(t.day.low, d.low) << "step " << step;
    }
  }
  for (const InstrumentInfo& i : x.instruments.all()) {
    Quantity sum = 0;
    for (const Candle& c : x.tape.candles(i.id, CandleInterval::k1m, 1'000'000)) sum += c.volume;
    EXPECT_EQ(sum, total[i.id]) << "instrument " << i.id;
    EXPECT_GT(total[i.id], 0);
  }
}

}  // namespace
}  // namespace stox::marketdata
