// BookView: scripted scenarios for the level, quote and sequence rules, and
// long random runs in which the view must equal Engine::depth() and the
// depth updates must let a client rebuild the book without gaps.
#include "marketdata/book_view.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
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
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

// "" when the view equals the engine's book on both sides, else the first difference.
std::string compare_with_engine(const TestExchange& x, InstrumentId id) {
  const std::optional<DepthSnapshot> s = x.book.snapshot(id, kAll);
  if (!s) return "no view of instrument " + std::to_string(id);
  for (Side side : {kBuy, kSell}) {
    const std::vector<LevelView> want = x.engine.depth(id, side, kAll);
    const std::vector<DepthLevel>& got = side == kBuy ? s->bids : s->asks;
    if (want.size() != got.size()) {
      return "instrument " + std::to_string(id) + " side " + std::to_string(int(side)) + ": " +
             std::to_string(got.size()) + " levels, engine has " + std::to_string(want.size());
    }
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (got[i] != DepthLevel{want[i].price, want[i].quantity, want[i].count}) {
        return "instrument " + std::to_string(id) + " level " + std::to_string(i) + " differs";
      }
    }
  }
  return "";
}

// Runs `commands` random commands; after every `every` commands, the view
// of every instrument must equal the engine's book.
void run_consistency(std::uint64_t seed, std::size_t commands, std::size_t every) {
  TestExchange x;
  stox::testing::RandomStream stream(seed);
  for (std::size_t step = 1; step <= commands; ++step) {
    x.run(stream.next());
    stream.observe(x.events);
    if (step % every != 0) continue;
    for (const InstrumentInfo& i : x.instruments.all()) {
      ASSERT_EQ(compare_with_engine(x, i.id), "") << "seed " << seed << " step " << step;
    }
  }
}

TEST(BookViewRandomTest, ViewEqualsEngineDepthAfterEveryCommand) {
  run_consistency(1, 20'000, 1);
}

TEST(BookViewRandomTest, ViewEqualsEngineDepthEveryHundredCommandsOverLongRun) {
  run_consistency(2, 150'000, 100);
}

// A client that took a snapshot and applies every later update in sequence
// order has the same book as a fresh snapshot; sequences never skip.
TEST(BookViewRandomTest, SnapshotPlusGapFreeUpdatesRebuildsTheBook) {
  using ClientBook = std::map<std::pair<int, Price>, DepthLevel>;
  TestExchange x;
  stox::testing::RandomStream stream(3);
  std::map<InstrumentId, ClientBook> client;
  std::map<InstrumentId, std::uint64_t> client_seq;
  std::size_t updates = 0;
  for (std::size_t step = 1; step <= 30'000; ++step) {
    x.run(stream.next());
    stream.observe(x.events);
    if (step == 2'000) {  // subscribe: one snapshot per instrument
      for (const InstrumentInfo& i : x.instruments.all()) {
        const DepthSnapshot s = *x.book.snapshot(i.id, kAll);
        for (const DepthLevel& l : s.bids) client[i.id][{1, l.price}] = l;
        for (const DepthLevel& l : s.asks) client[i.id][{2, l.price}] = l;
        client_seq[i.id] = s.sequence;
      }
    }
    if (step <= 2'000) continue;
    for (const DepthUpdate& u : x.book.updates()) {
      ++updates;
      ASSERT_EQ(u.sequence, client_seq[u.instrument] + 1) << "gap at step " << step;
      client_seq[u.instrument] = u.sequence;
      const std::pair<int, Price> key{int(u.side), u.price};
      if (u.count == 0) {
        ASSERT_EQ(u.quantity, 0);
        client[u.instrument].erase(key);
      } else {
        client[u.instrument][key] = DepthLevel{u.price, u.quantity, u.count};
      }
    }
  }
  EXPECT_GT(updates, 10'000u);
  for (const InstrumentInfo& i : x.instruments.all()) {
    const DepthSnapshot s = *x.book.snapshot(i.id, kAll);
    EXPECT_EQ(client_seq[i.id], s.sequence);
    ClientBook fresh;
    for (const DepthLevel& l : s.bids) fresh[{1, l.price}] = l;
    for (const DepthLevel& l : s.asks) fresh[{2, l.price}] = l;
    EXPECT_EQ(client[i.id], fresh) << "instrument " << i.id;
  }
}

// Every top-of-book change between commands is reported once, and only then.
TEST(BookViewRandomTest, QuoteChangesAreExactlyTheTopChangesBetweenCommands) {
  TestExchange x;
  stox::testing::RandomStream stream(4);
  std::map<InstrumentId, Quote> before;
  std::size_t quotes = 0;
  for (std::size_t step = 1; step <= 20'000; ++step) {
    x.run(stream.next());
    stream.observe(x.events);
    std::map<InstrumentId, Quote> reported;
    for (const Quote& q : x.book.quote_changes()) {
      ASSERT_TRUE(reported.emplace(q.instrument, q).second) << "two quotes in one batch";
    }
    quotes += reported.size();
    for (const InstrumentInfo& i : x.instruments.all()) {
      const Quote now = x.book.top(i.id);
      const bool changed = !now.same_top(before[i.id]);
      ASSERT_EQ(changed, reported.count(i.id) == 1) << "step " << step << " instrument " << i.id;
      if (changed) {
        EXPECT_TRUE(reported[i.id].same_top(now));
      }
      before[i.id] = now;
    }
  }
  EXPECT_GT(quotes, 1'000u);
}

class BookViewTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(x_.apply(instrument_spec("ACME")).size(), 1u); }
  TestExchange x_;
};

TEST_F(BookViewTest, LevelsAreSortedBestFirstAndRemovedWhenEmpty) {
  x_.apply(limit(kAlice, kBuy, 9900, 1));
  x_.apply(limit(kAlice, kBuy, 9950, 2));
  x_.apply(limit(kAlice, kBuy, 9950, 3));
  x_.apply(limit(kBob, kSell, 10100, 4));
  x_.apply(limit(kBob, kSell, 10050, 5));
  DepthSnapshot s = *x_.book.snapshot(1, 10);
  EXPECT_EQ(s.bids, (std::vector<DepthLevel>{{9950, 5, 2}, {9900, 1, 1}}));
  EXPECT_EQ(s.asks, (std::vector<DepthLevel>{{10050, 5, 1}, {10100, 4, 1}}));
  EXPECT_EQ(s.sequence, 5u);
  EXPECT_EQ(x_.book.snapshot(1, 1)->bids.size(), 1u);

  x_.apply(market(kBob, kSell, 5));  // takes the whole 99.50 level
  s = *x_.book.snapshot(1, 10);
  EXPECT_EQ(s.bids, (std::vector<DepthLevel>{{9900, 1, 1}}));
  ASSERT_EQ(x_.book.updates().size(), 2u);  // one per maker
  EXPECT_EQ(x_.book.updates()[1].count, 0u);
  EXPECT_EQ(x_.book.updates()[1].sequence, 7u);
  ASSERT_TRUE(s.last_trade.has_value());
  EXPECT_EQ(s.last_trade->price, 9950);
  EXPECT_EQ(s.last_trade->quantity, 3);
  EXPECT_FALSE(x_.book.snapshot(2, 10).has_value());
}

TEST_F(BookViewTest, IcebergShowsOnlyItsVisiblePart) {
  NewOrder ice = limit(kAlice, kSell, 10000, 10);
  ice.display_quantity = 3;
  x_.apply(ice);
  EXPECT_EQ(x_.book.snapshot(1, 10)->asks, (std::vector<DepthLevel>{{10000, 3, 1}}));
  x_.apply(market(kBob, kBuy, 5));
  EXPECT_EQ(x_.book.snapshot(1, 10)->asks, (std::vector<DepthLevel>{{10000, 1, 1}}));
  EXPECT_EQ(compare_with_engine(x_, 1), "");
}

TEST_F(BookViewTest, QuoteIsReportedOnlyWhenTheTopChanges) {
  x_.apply(limit(kAlice, kBuy, 9900, 1));
  ASSERT_EQ(x_.book.quote_changes().size(), 1u);
  EXPECT_EQ(x_.book.quote_changes()[0].bid_price, 9900);
  EXPECT_EQ(x_.book.quote_changes()[0].ask_price, 0);
  x_.apply(limit(kAlice, kBuy, 9800, 1));  // behind the top
  EXPECT_TRUE(x_.book.quote_changes().empty());
  x_.apply(limit(kAlice, kBuy, 9900, 2));  // same price, more quantity
  ASSERT_EQ(x_.book.quote_changes().size(), 1u);
  EXPECT_EQ(x_.book.quote_changes()[0].bid_quantity, 3);
  EXPECT_EQ(x_.book.quote_changes()[0].sequence, 3u);
  x_.apply(Cancel{kAlice, 99});  // rejected: nothing changes
  EXPECT_TRUE(x_.book.quote_changes().empty());
  EXPECT_TRUE(x_.book.updates().empty());
}

TEST_F(BookViewTest, OrderbookJsonHasTheApiShape) {
  x_.apply(limit(kAlice, kBuy, 9900, 1));
  x_.apply(limit(kBob, kSell, 10050, 5));
  x_.apply(limit(kAlice, kBuy, 10050, 2));
  EXPECT_EQ(to_json(*x_.book.snapshot(1, 10), x_.json()),
            R"({"symbol":"ACME","sequence":3,"timestamp":1700000000000003000,)"
            R"("bids":[{"price":"99.00","quantity":"1","orders":1}],)"
            R"("asks":[{"price":"100.50","quantity":"3","orders":1}],)"
            R"("lastTrade":{"price":"100.50","quantity":"2","time":1700000000000003000}})");
  EXPECT_EQ(to_json(x_.book.updates()[0], x_.json()),
            R"({"symbol":"ACME","sequence":3,"timestamp":1700000000000003000,"side":"SELL",)"
            R"("price":"100.50","quantity":"3","orders":1})");
  EXPECT_EQ(to_json(x_.book.quote_changes()[0], x_.json()),
            R"({"symbol":"ACME","sequence":3,"timestamp":1700000000000003000,"bid":"99.00",)"
            R"("bidQuantity":"1","ask":"100.50","askQuantity":"3"})");
}

TEST_F(BookViewTest, EmptyBookHasNullLastTrade) {
  EXPECT_EQ(to_json(*x_.book.snapshot(1, 10), x_.json()),
            R"({"symbol":"ACME","sequence":0,"timestamp":0,"bids":[],"asks":[],"lastTrade":null})");
}

}  // namespace
}  // namespace stox::marketdata
