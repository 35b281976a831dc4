// OrderTracker driven by a real Engine: each test scripts commands, feeds
// the engine's events (one batch per command) and checks the exact order
// views, fills and batch updates. Instrument 1 is "ACME": price scale 2,
// quantity scale 0, tick 0.05, lot 1, reference price 100.00.
#include "marketdata/order_tracker.h"

#include <gtest/gtest.h>

#include <random>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/testing/random_stream.h"
#include "marketdata/test_exchange.h"

namespace stox::marketdata {
namespace {

using testing::instrument_spec;
using testing::limit;
using testing::market;
using testing::quote_buy;
using testing::stop;
using testing::TestExchange;

constexpr AccountId kAlice = 1;
constexpr AccountId kBob = 2;
constexpr AccountId kCarol = 3;
constexpr Side kBuy = Side::kBuy;
constexpr Side kSell = Side::kSell;

class OrderTrackerTest : public ::testing::Test {
 protected:
  explicit OrderTrackerTest(const OrderTrackerConfig& config = {}) : x_({}, config) {}

  void SetUp() override { ASSERT_EQ(x_.apply(instrument_spec("ACME")).size(), 1u); }

  OrderId send(const NewOrder& o) {
    x_.apply(o);
    return x_.last_order_id();
  }
  const OrderState& state(OrderId id) const {
    const TrackedOrder* o = x_.tracker.find(id);
    EXPECT_NE(o, nullptr) << "order " << id;
    static const OrderState kNone;
    return o == nullptr ? kNone : o->state;
  }
  std::string json(OrderId id) const { return to_json(*x_.tracker.find(id), x_.json()); }
  std::vector<OrderId> updated_ids() const {
    std::vector<OrderId> ids;
    for (const OrderUpdate& u : x_.tracker.updates()) ids.push_back(u.state.id);
    return ids;
  }
  std::vector<OrderId> open_ids(AccountId a, InstrumentId i = 0) const {
    std::vector<OrderId> ids;
    for (const TrackedOrder* o : x_.tracker.open_orders(a, i)) ids.push_back(o->state.id);
    return ids;
  }

  TestExchange x_;
};

TEST_F(OrderTrackerTest, RestingOrderGoesNewThenPartiallyFilledThenFilled) {
  const OrderId sell = send(limit(kAlice, kSell, 10000, 10));
  EXPECT_EQ(state(sell).status, OrderStatus::kNew);
  EXPECT_EQ(state(sell).created_at, testing::kT0 + 1000);
  EXPECT_EQ(open_ids(kAlice), std::vector<OrderId>{sell});

  const OrderId buy1 = send(limit(kBob, kBuy, 10000, 4));
  EXPECT_EQ(state(sell).status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(state(sell).filled, 4);
  EXPECT_EQ(state(sell).leaves, 6);
  EXPECT_EQ(state(buy1).status, OrderStatus::kFilled);
  EXPECT_EQ(updated_ids(), (std::vector<OrderId>{buy1, sell}));

  const OrderId buy2 = send(limit(kBob, kBuy, 10000, 6));
  EXPECT_EQ(state(sell).status, OrderStatus::kFilled);
  EXPECT_EQ(state(sell).filled, 10);
  EXPECT_EQ(state(sell).fill_count, 2u);
  EXPECT_EQ(state(buy2).status, OrderStatus::kFilled);
  EXPECT_TRUE(open_ids(kAlice).empty());
  EXPECT_TRUE(open_ids(kBob).empty());
  EXPECT_EQ(x_.tracker.open_count(), 0u);
  EXPECT_EQ(x_.tracker.closed_count(), 3u);
}

TEST_F(OrderTrackerTest, CancelAfterPartialFillKeepsFilledQuantityAndReason) {
  const OrderId sell = send(limit(kAlice, kSell, 10000, 10));
  send(market(kBob, kBuy, 3));
  x_.apply(Cancel{kAlice, sell});
  const OrderState& s = state(sell);
  EXPECT_EQ(s.status, OrderStatus::kCancelled);
  EXPECT_EQ(s.cancel_reason, CancelReason::kUser);
  EXPECT_EQ(s.filled, 3);
  EXPECT_EQ(s.leaves, 7);
  EXPECT_EQ(updated_ids(), std::vector<OrderId>{sell});
  EXPECT_NE(json(sell).find(R"("status":"CANCELLED")"), std::string::npos);
  EXPECT_NE(json(sell).find(R"("cancelReason":"USER")"), std::string::npos);
}

TEST_F(OrderTrackerTest, StopIsPendingUntilTriggeredThenFillsAsMarket) {
  const OrderId a1 = send(limit(kAlice, kSell, 10050, 2));
  const OrderId a2 = send(limit(kAlice, kSell, 10100, 5));
  const OrderId stop_buy = send(stop(kCarol, kBuy, 10050, 3));
  EXPECT_EQ(state(stop_buy).status, OrderStatus::kPendingTrigger);
  EXPECT_EQ(open_ids(kCarol), std::vector<OrderId>{stop_buy});

  // Bob's buy prints at 100.50, which elects Carol's stop; it buys 3 at 101.00.
  const OrderId bob = send(limit(kBob, kBuy, 10050, 2));
  const OrderState& s = state(stop_buy);
  EXPECT_EQ(s.status, OrderStatus::kFilled);
  EXPECT_TRUE(s.triggered);
  EXPECT_EQ(s.filled, 3);
  EXPECT_EQ(s.average_fill_price(), 10100);
  EXPECT_EQ(state(a1).status, OrderStatus::kFilled);
  EXPECT_EQ(state(a2).status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(updated_ids(), (std::vector<OrderId>{bob, a1, stop_buy, a2}));
  const OrderUpdate& carol = x_.tracker.updates()[2];
  ASSERT_EQ(carol.fills.size(), 1u);
  EXPECT_EQ(carol.fills[0].liquidity, Liquidity::kTaker);
  EXPECT_EQ(carol.fills[0].price, 10100);
  EXPECT_EQ(carol.fills[0].quantity, 3);
  EXPECT_TRUE(open_ids(kCarol).empty());
}

TEST_F(OrderTrackerTest, IcebergMakerFillsAcrossRefreshes) {
  NewOrder ice = limit(kAlice, kSell, 10000, 10);
  ice.display_quantity = 3;
  const OrderId id = send(ice);
  send(market(kBob, kBuy, 5));  // 3, refresh, then 2
  const TrackedOrder& o = *x_.tracker.find(id);
  EXPECT_EQ(o.state.status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(o.state.filled, 5);
  EXPECT_EQ(o.state.leaves, 5);
  ASSERT_EQ(o.fills.size(), 2u);
  EXPECT_EQ(o.fills[0].quantity, 3);
  EXPECT_EQ(o.fills[1].quantity, 2);
  EXPECT_EQ(o.fills[1].liquidity, Liquidity::kMaker);
}

TEST_F(OrderTrackerTest, FokThatCannotFillIsCancelledWithoutFills) {
  const OrderId sell = send(limit(kAlice, kSell, 10000, 5));
  const OrderId fok = send(limit(kBob, kBuy, 10000, 10, TimeInForce::kFok));
  EXPECT_EQ(state(fok).status, OrderStatus::kCancelled);
  EXPECT_EQ(state(fok).cancel_reason, CancelReason::kFokNotFillable);
  EXPECT_EQ(state(fok).fill_count, 0u);
  EXPECT_EQ(state(sell).status, OrderStatus::kNew);
  EXPECT_NE(
      json(fok).find(R"("averageFillPrice":null,"fills":[],"cancelReason":"FOK_NOT_FILLABLE")"),
      std::string::npos)
      << json(fok);
}

TEST_F(OrderTrackerTest, MarketRemainderIsCancelledAfterPartialFill) {
  send(limit(kAlice, kSell, 10000, 5));
  const OrderId m = send(market(kBob, kBuy, 8));
  EXPECT_EQ(state(m).status, OrderStatus::kCancelled);
  EXPECT_EQ(state(m).cancel_reason, CancelReason::kMarketRemainder);
  EXPECT_EQ(state(m).filled, 5);
  const OrderId none = send(market(kBob, kBuy, 1));
  EXPECT_EQ(state(none).cancel_reason, CancelReason::kMarketNoLiquidity);
}

TEST_F(OrderTrackerTest, QuoteQuantityBuyThatCannotAffordAnotherLotEndsFilledAtEndOfCommand) {
  send(limit(kAlice, kSell, 10000, 10));
  // 350.00 buys 3 at 100.00; the 50.00 left cannot buy a lot, and the engine
  // emits nothing more: the end of the batch closes it.
  const OrderId q = send(quote_buy(kBob, 35000));
  const OrderState& s = state(q);
  EXPECT_EQ(s.status, OrderStatus::kFilled);
  EXPECT_EQ(s.filled, 3);
  EXPECT_EQ(s.leaves, 5000);  // unspent cash
  EXPECT_TRUE(open_ids(kBob).empty());
  const std::string j = json(q);
  EXPECT_NE(j.find(R"("quantity":null,"quoteQuantity":"350.00","filledQuantity":"3")"),
            std::string::npos)
      << j;

  const OrderId exact = send(quote_buy(kBob, 20000));  // spends exactly 200.00
  EXPECT_EQ(state(exact).status, OrderStatus::kFilled);
  EXPECT_EQ(state(exact).leaves, 0);
}

TEST_F(OrderTrackerTest, AverageFillPriceIsRoundedHalfUpAtPriceScale) {
  send(limit(kAlice, kSell, 10000, 1));
  send(limit(kAlice, kSell, 10005, 2));
  const OrderId b = send(limit(kBob, kBuy, 10005, 2));  // 1 @ 100.00, 1 @ 100.05
  EXPECT_EQ(state(b).filled_value, Int128{20005});
  EXPECT_EQ(state(b).average_fill_price(), 10003);  // 100.025 -> 100.03
  OrderState s;
  s.filled = 3;
  s.filled_value = 10000 + 2 * 10005;  // 100.0333...
  EXPECT_EQ(s.average_fill_price(), 10003);
  s.filled_value = 10000 + 2 * 10010;  // 100.0666...
  EXPECT_EQ(s.average_fill_price(), 10007);
  EXPECT_EQ(OrderState{}.average_fill_price(), std::nullopt);
}

TEST_F(OrderTrackerTest, RejectedNewOrderYieldsRejectedViewWithoutOrderId) {
  NewOrder bad = limit(kAlice, kSell, 10001, 5);  // off tick
  bad.client_order_id = ClientOrderId::from("c-1");
  x_.apply(bad);
  ASSERT_EQ(x_.tracker.updates().size(), 1u);
  const OrderUpdate& u = x_.tracker.updates()[0];
  EXPECT_EQ(u.state.status, OrderStatus::kRejected);
  EXPECT_EQ(u.state.reject_reason, RejectReason::kPriceOffTick);
  EXPECT_EQ(u.state.id, 0u);
  ASSERT_EQ(x_.tracker.rejects().size(), 1u);
  EXPECT_EQ(x_.tracker.open_count() + x_.tracker.closed_count(), 0u);
  EXPECT_EQ(to_json(rejected_order(bad, u), x_.json()),
            R"({"orderId":null,"clientOrderId":"c-1","status":"REJECTED","symbol":"ACME",)"
            R"("side":"SELL","type":"LIMIT","timeInForce":"DAY","quantity":"5",)"
            R"("filledQuantity":"0","price":"100.01","stopPrice":null,"averageFillPrice":null,)"
            R"("fills":[],"cancelReason":null,"rejectReason":"PRICE_OFF_TICK",)"
            R"("createdAt":1700000000000001000})");
}

TEST_F(OrderTrackerTest, RejectedCancelIsReportedButChangesNoOrder) {
  const OrderId id = send(limit(kAlice, kSell, 10000, 5));
  x_.apply(Cancel{kBob, id});  // another account's order
  EXPECT_TRUE(x_.tracker.updates().empty());
  ASSERT_EQ(x_.tracker.rejects().size(), 1u);
  EXPECT_EQ(x_.tracker.rejects()[0].reason, RejectReason::kUnknownOrder);
  EXPECT_EQ(x_.tracker.rejects()[0].order_id, id);
  EXPECT_EQ(state(id).status, OrderStatus::kNew);
}

TEST_F(OrderTrackerTest, ReplaceChangesPriceAndQuantityButNotStatus) {
  const OrderId id = send(limit(kAlice, kSell, 10100, 10));
  send(limit(kBob, kBuy, 10100, 4));
  x_.apply(Replace{kAlice, id, 12, 10200, 0});
  const OrderState& s = state(id);
  EXPECT_EQ(s.status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(s.price, 10200);
  EXPECT_EQ(s.quantity, 12);
  EXPECT_EQ(s.leaves, 8);
  EXPECT_EQ(updated_ids(), std::vector<OrderId>{id});
}

TEST_F(OrderTrackerTest, SelfTradeDecrementShrinksBothOrders) {
  const OrderId maker = send(limit(kAlice, kSell, 10000, 10));
  NewOrder taker = limit(kAlice, kBuy, 10000, 4);
  taker.stp = StpMode::kDecrement;
  const OrderId t = send(taker);
  EXPECT_EQ(state(maker).quantity, 6);
  EXPECT_EQ(state(maker).leaves, 6);
  EXPECT_EQ(state(maker).status, OrderStatus::kNew);
  EXPECT_EQ(state(t).status, OrderStatus::kCancelled);
  EXPECT_EQ(state(t).cancel_reason, CancelReason::kSelfTrade);
}

TEST_F(OrderTrackerTest, EndOfDayExpiresDayOrdersAndKeepsGtc) {
  const OrderId day = send(limit(kAlice, kSell, 10100, 1));
  const OrderId gtc = send(limit(kAlice, kSell, 10200, 1, TimeInForce::kGtc));
  const OrderId stop_day = send(stop(kAlice, kSell, 9000, 1));
  x_.apply(EndOfDay{});
  EXPECT_EQ(state(day).cancel_reason, CancelReason::kExpired);
  EXPECT_EQ(state(stop_day).cancel_reason, CancelReason::kExpired);
  EXPECT_EQ(state(gtc).status, OrderStatus::kNew);
  EXPECT_EQ(open_ids(kAlice), std::vector<OrderId>{gtc});
}

TEST_F(OrderTrackerTest, OpenOrdersAreListedPerAccountAndSymbolInIdOrder) {
  ASSERT_EQ(x_.apply(instrument_spec("BETA")).size(), 1u);
  NewOrder on_beta = limit(kAlice, kBuy, 9000, 1);
  on_beta.instrument = 2;
  const OrderId a = send(limit(kAlice, kBuy, 9500, 1));
  const OrderId b = send(on_beta);
  const OrderId c = send(limit(kAlice, kBuy, 9600, 1));
  send(limit(kBob, kBuy, 9700, 1));
  EXPECT_EQ(open_ids(kAlice), (std::vector<OrderId>{a, b, c}));
  EXPECT_EQ(open_ids(kAlice, 1), (std::vector<OrderId>{a, c}));
  EXPECT_EQ(open_ids(kAlice, 2), std::vector<OrderId>{b});
  EXPECT_TRUE(open_ids(kCarol).empty());
}

TEST_F(OrderTrackerTest, AccountFillsListTheAccountsRecentFillsInOrder) {
  send(limit(kAlice, kSell, 10000, 2));
  send(limit(kAlice, kSell, 10005, 2));
  const OrderId b = send(market(kBob, kBuy, 3));
  const std::deque<Fill>& bob = x_.tracker.fills(kBob);
  ASSERT_EQ(bob.size(), 2u);
  EXPECT_EQ(bob[0].trade_id, 1u);
  EXPECT_EQ(bob[1].trade_id, 2u);
  EXPECT_EQ(bob[1].order_id, b);
  EXPECT_EQ(bob[1].side, kBuy);
  EXPECT_EQ(bob[1].quantity, 1);
  EXPECT_EQ(x_.tracker.fills(kAlice).size(), 2u);
  EXPECT_EQ(x_.tracker.fills(kAlice)[0].side, kSell);
  EXPECT_TRUE(x_.tracker.fills(kCarol).empty());
  EXPECT_EQ(to_json(bob[1], x_.json()),
            R"({"tradeId":2,"orderId":3,"symbol":"ACME","side":"BUY","price":"100.05",)"
            R"("quantity":"1","fee":"0.0000","liquidity":"TAKER","time":1700000000000003000})");
}

TEST_F(OrderTrackerTest, FilledOrderJsonHasEveryApiField) {
  NewOrder sell = limit(kAlice, kSell, 10000, 3);
  sell.client_order_id = ClientOrderId::from("my \"id\"");
  const OrderId id = send(sell);
  send(market(kBob, kBuy, 3));
  EXPECT_EQ(json(id),
            R"({"orderId":1,"clientOrderId":"my \"id\"","status":"FILLED","symbol":"ACME",)"
            R"("side":"SELL","type":"LIMIT","timeInForce":"DAY","quantity":"3",)"
            R"("filledQuantity":"3","price":"100.00","stopPrice":null,)"
            R"("averageFillPrice":"100.00","fills":[{"tradeId":1,"price":"100.00",)"
            R"("quantity":"3","fee":"0.0000","liquidity":"MAKER"}],"cancelReason":null,)"
            R"("createdAt":1700000000000001000})");
}

// apply(event) one at a time closes a batch when the next command's first
// event arrives (or on finish_batch()), with the same result as apply_batch.
TEST_F(OrderTrackerTest, EventByEventFeedingFinalisesOnTheNextCommand) {
  send(limit(kAlice, kSell, 10000, 10));
  std::vector<std::vector<Event>> batches;
  for (Amount cash : {Amount{35000}, Amount{20000}}) {
    x_.apply(quote_buy(kBob, cash));
    batches.push_back(x_.events);
  }
  // Replay the whole stream into a second tracker event by event.
  OrderTracker replay;
  TestExchange fresh;
  fresh.apply(instrument_spec("ACME"));
  replay.apply_batch(fresh.events);
  fresh.apply(limit(kAlice, kSell, 10000, 10));
  for (const Event& e : fresh.events) replay.apply(e);
  for (const Event& e : batches[0]) replay.apply(e);
  EXPECT_EQ(replay.find(2)->state.status, OrderStatus::kPartiallyFilled);  // batch still open
  replay.apply(batches[1][0]);  // the next command closes it
  EXPECT_EQ(replay.find(2)->state.status, OrderStatus::kFilled);
  ASSERT_EQ(replay.updates().size(), 2u);  // the finished batch: the buy and its maker
  EXPECT_EQ(replay.updates()[0].state.id, 2u);
  EXPECT_EQ(replay.updates()[0].state.status, OrderStatus::kFilled);
  EXPECT_EQ(replay.updates()[1].state.id, 1u);
  for (std::size_t i = 1; i < batches[1].size(); ++i) replay.apply(batches[1][i]);
  replay.finish_batch();
  EXPECT_EQ(replay.find(3)->state.status, OrderStatus::kFilled);
  EXPECT_EQ(replay.find(1)->state.filled, 5);
}

// --- bounded memory ---------------------------------------------------------

class BoundedOrderTrackerTest : public OrderTrackerTest {
 protected:
  static OrderTrackerConfig small() {
    OrderTrackerConfig c;
    c.max_closed_orders = 2;
    c.closed_retention_ns = 1'000'000;  // 1 ms
    c.max_fills_per_order = 2;
    c.max_fills_per_account = 3;
    return c;
  }
  BoundedOrderTrackerTest() : OrderTrackerTest(small()) {}
};

TEST_F(BoundedOrderTrackerTest, OldestClosedOrdersAreEvictedBeyondTheCap) {
  const OrderId open = send(limit(kAlice, kBuy, 9000, 1));
  const OrderId c1 = send(market(kBob, kBuy, 1));  // no liquidity: closed at once
  const OrderId c2 = send(market(kBob, kBuy, 1));
  EXPECT_NE(x_.tracker.find(c1), nullptr);
  const OrderId c3 = send(market(kBob, kBuy, 1));
  EXPECT_EQ(x_.tracker.find(c1), nullptr);
  EXPECT_NE(x_.tracker.find(c2), nullptr);
  EXPECT_NE(x_.tracker.find(c3), nullptr);
  // The update of the batch that closed c3 stays complete even if evicted.
  EXPECT_EQ(x_.tracker.updates()[0].state.status, OrderStatus::kCancelled);
  EXPECT_EQ(x_.tracker.closed_count(), 2u);
  EXPECT_NE(x_.tracker.find(open), nullptr);
}

TEST_F(BoundedOrderTrackerTest, ClosedOrdersAreEvictedAfterTheRetentionTime) {
  const OrderId open = send(limit(kAlice, kBuy, 9000, 1));
  const OrderId closed = send(market(kBob, kBuy, 1));
  x_.now += 2'000'000;  // 2 ms later
  x_.apply(Cancel{kCarol, 99});  // any command moves the tracker's clock
  EXPECT_EQ(x_.tracker.find(closed), nullptr);
  EXPECT_EQ(x_.tracker.closed_count(), 0u);
  EXPECT_NE(x_.tracker.find(open), nullptr);  // open orders never expire
}

TEST_F(BoundedOrderTrackerTest, FillListsKeepTheMostRecentButTotalsCoverAll) {
  for (Price p : {10000, 10005, 10010}) send(limit(kAlice, kSell, p, 1));
  const OrderId b = send(market(kBob, kBuy, 3));
  const TrackedOrder& o = *x_.tracker.find(b);
  ASSERT_EQ(o.fills.size(), 2u);
  EXPECT_EQ(o.fills[0].trade_id, 2u);
  EXPECT_EQ(o.state.fill_count, 3u);
  EXPECT_EQ(o.state.average_fill_price(), 10005);
  EXPECT_EQ(x_.tracker.updates()[0].fills.size(), 3u);  // the batch has them all
  send(market(kBob, kBuy, 1));  // no liquidity, no fill
  for (Price p : {10000, 10005}) send(limit(kAlice, kSell, p, 1));
  send(market(kBob, kBuy, 2));
  const std::deque<Fill>& bob = x_.tracker.fills(kBob);
  ASSERT_EQ(bob.size(), 3u);
  EXPECT_EQ(bob.front().trade_id, 3u);
  EXPECT_EQ(bob.back().trade_id, 5u);
}

// --- accounts mode: fees ----------------------------------------------------

class OrderTrackerFeesTest : public ::testing::Test {
 protected:
  static EngineConfig config() {
    EngineConfig c;
    c.accounts = true;
    c.expected_orders = 1024;
    return c;
  }
  void SetUp() override {
    ASSERT_EQ(x_.apply(instrument_spec("ACME", 10, 20)).size(), 1u);  // maker 10 bps, taker 20
    for (const char* label : {"alice", "bob"}) {
      x_.apply(CreateAccount{FixedString<16>::from(label), AccountType::kCash});
    }
    x_.run(Command::deposit(++x_.seq, x_.now, Transfer{kAlice, 1, 100}));
    x_.run(Command::deposit(++x_.seq, x_.now, Transfer{kBob, kCashAsset, 1'000'000'000'000}));
  }
  TestExchange x_{config()};
};

TEST_F(OrderTrackerFeesTest, FillsCarryEachSidesFeeAndLiquidity) {
  x_.apply(limit(kAlice, kSell, 10000, 10));
  const OrderId sell = x_.last_order_id();
  x_.apply(limit(kBob, kBuy, 10000, 4));
  const OrderId buy = x_.last_order_id();
  // Notional 4 × 100.00 = 400.0000 cash; taker pays 20 bps, maker 10 bps.
  const TrackedOrder& maker = *x_.tracker.find(sell);
  const TrackedOrder& taker = *x_.tracker.find(buy);
  ASSERT_EQ(maker.fills.size(), 1u);
  ASSERT_EQ(taker.fills.size(), 1u);
  EXPECT_EQ(maker.fills[0].fee, 4000);
  EXPECT_EQ(maker.fills[0].liquidity, Liquidity::kMaker);
  EXPECT_EQ(taker.fills[0].fee, 8000);
  EXPECT_EQ(taker.fills[0].liquidity, Liquidity::kTaker);
  EXPECT_EQ(maker.state.fees, 4000);
  EXPECT_EQ(x_.tracker.fills(kAlice).back().fee, 4000);
  EXPECT_EQ(x_.tracker.fills(kBob).back().fee, 8000);
  // The batch's copies carry the fee too (the orders channel).
  for (const OrderUpdate& u : x_.tracker.updates()) {
    ASSERT_EQ(u.fills.size(), 1u);
    EXPECT_EQ(u.fills[0].fee, u.state.id == sell ? 4000 : 8000);
  }
  EXPECT_NE(to_json(taker, x_.json()).find(R"("fee":"0.8000","liquidity":"TAKER")"),
            std::string::npos);
}

TEST_F(OrderTrackerFeesTest, SellerTakerPaysTakerFee) {
  x_.apply(limit(kBob, kBuy, 10000, 5));
  const OrderId buy = x_.last_order_id();
  x_.apply(market(kAlice, kSell, 5));
  const OrderId sell = x_.last_order_id();
  EXPECT_EQ(x_.tracker.find(buy)->fills[0].fee, 5000);    // maker: 500.0000 × 10 bps
  EXPECT_EQ(x_.tracker.find(sell)->fills[0].fee, 10000);  // taker: × 20 bps
  EXPECT_EQ(x_.tracker.find(sell)->state.status, OrderStatus::kFilled);
}

// --- consistency with the engine over a random stream -----------------------

// After every command, the tracker's open orders are exactly the engine's,
// with the same leaves, quantity and prices.
void expect_open_orders_match(const TestExchange& x, AccountId accounts, std::size_t step) {
  std::size_t open = 0;
  for (AccountId a = 1; a <= accounts; ++a) {
    for (const TrackedOrder* o : x.tracker.open_orders(a)) {
      ++open;
      const std::optional<OrderView> v = x.engine.order(o->state.id);
      ASSERT_TRUE(v.has_value()) << "step " << step << " order " << o->state.id;
      EXPECT_EQ(o->state.leaves, v->leaves) << "step " << step << " order " << v->id;
      EXPECT_EQ(o->state.quantity, v->quantity) << "step " << step << " order " << v->id;
      EXPECT_EQ(o->state.price, v->price) << "step " << step << " order " << v->id;
      EXPECT_EQ(o->state.stop_price, v->stop_price) << "step " << step << " order " << v->id;
      const bool pending = o->state.status == OrderStatus::kPendingTrigger;
      EXPECT_EQ(pending, v->stop_price != 0 && !v->triggered) << "step " << step;
    }
  }
  ASSERT_EQ(open, x.engine.open_orders()) << "step " << step;
}

TEST(OrderTrackerRandomTest, OpenOrdersMatchTheEngineAfterEveryCommand) {
  stox::testing::RandomStreamOptions options;
  TestExchange x;
  stox::testing::RandomStream stream(11, options);
  for (std::size_t step = 0; step < 100'000; ++step) {
    x.run(stream.next());
    stream.observe(x.events);
    expect_open_orders_match(x, options.accounts, step);
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(x.tracker.closed_count(), 1000u);
}

// OpenIds (an account's open order ids) against a std::set: ascending
// iteration, size, and removal of present, absent and already removed ids,
// through many compactions; ids mostly arrive ascending, as from the engine.
TEST(OpenIds, BehavesLikeASortedSet) {
  std::mt19937_64 rng(3);
  OpenIds ids;
  std::set<OrderId> reference;
  OrderId next = 1;
  for (int step = 0; step < 100'000; ++step) {
    const std::uint64_t r = rng() % 100;
    if (r < 50) {
      const OrderId id = r < 48 ? next++ : 1 + rng() % next;  // sometimes out of order or again
      ids.add(id);
      reference.insert(id);
    } else {
      const OrderId id = 1 + rng() % (next + 2);
      EXPECT_EQ(ids.remove(id), reference.erase(id) == 1) << "step " << step << " id " << id;
    }
    if (step % 5'000 != 0) continue;
    ASSERT_EQ(ids.size(), reference.size());
    std::vector<OrderId> seen;
    ids.for_each([&](OrderId id) { seen.push_back(id); });
    ASSERT_EQ(seen, std::vector<OrderId>(reference.begin(), reference.end())) << "step " << step;
  }
}

}  // namespace
}  // namespace stox::marketdata
