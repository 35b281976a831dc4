// WsHub: subscriptions, fan-out and what a slow consumer gets, with fake
// sinks whose buffer the test fills and drains at will (deterministic; the
// real sockets are covered by transport_test and server_test).
#include "server/ws_hub.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/testing/builders.h"

namespace stox::server {
namespace {

class FakeSink : public WsSink {
 public:
  explicit FakeSink(std::uint64_t id) : id_(id) {}
  SendResult send(std::shared_ptr<const std::string> text, MessageClass cls) override {
    if (closed_) return SendResult::kClosed;
    if (full_ && cls == MessageClass::kMarketData) return SendResult::kDropped;
    if (full_) {  // private over the hard limit: the sink closes itself
      closed_ = true;
      return SendResult::kClosed;
    }
    messages.push_back(*text);
    return SendResult::kQueued;
  }
  void close(std::string reason) override {
    closed_ = true;
    close_reason = std::move(reason);
  }
  bool closed() const override { return closed_; }
  std::size_t buffered_bytes() const override { return full_ ? 1 << 30 : 0; }
  std::uint64_t id() const override { return id_; }

  void set_full(bool full) { full_ = full; }
  std::vector<std::string> messages;
  std::string close_reason;

 private:
  std::uint64_t id_;
  bool full_ = false;
  bool closed_ = false;
};

std::string field(const std::string& json, const char* pointer) {
  simdjson::dom::parser p;
  auto v = p.parse(json).at_pointer(pointer);
  if (v.error() != simdjson::SUCCESS) return "<missing>";
  if (v.is_string()) return std::string(v.get_string().value());
  return simdjson::minify(v.value());
}

class WsHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    apply(Command::make(0, 0, testing::instrument_spec("AAPL", 1, 1, 10000)));
  }
  // One command through the engine, the projections and the hub.
  void apply(Command c) {
    c.seq = ++seq_;
    c.timestamp = static_cast<Timestamp>(seq_);
    events_.clear();
    engine_.apply(c, events_);
    md_.apply_batch(events_);
    hub_.publish(md_);
    hub_.flush(md_);  // one command per batch here
    hub_.service(md_);
  }
  void limit(AccountId account, Side side, Price price, Quantity qty) {
    NewOrder o{};
    o.account = account;
    o.instrument = 1;
    o.side = side;
    o.type = OrderType::kLimit;
    o.time_in_force = TimeInForce::kGtc;
    o.price = price;
    o.quantity = qty;
    apply(Command::make(0, 0, o));
  }
  std::shared_ptr<FakeSink> connect(AccountId account, WsChannel channel) {
    auto sink = std::make_shared<FakeSink>(++sinks_);
    hub_.attach(sink, account);
    WsRequest r{WsAction::kSubscribe, channel, {}, 10};
    if (channel != WsChannel::kOrders) r.symbols = {"AAPL"};
    hub_.handle(sink->id(), r, md_);
    return sink;
  }

  Engine engine_;
  marketdata::Projections md_;
  WsHub hub_;
  std::vector<Event> events_;
  SeqNo seq_ = 0;
  std::uint64_t sinks_ = 0;
};

TEST_F(WsHubTest, DepthSubscriberGetsSnapshotThenGaplessUpdates) {
  limit(1, Side::kBuy, 9900, 5);
  auto sink = connect(0, WsChannel::kDepth);
  ASSERT_EQ(sink->messages.size(), 2U);  // confirmation, snapshot
  EXPECT_EQ(field(sink->messages[0], "/type"), "subscribed");
  EXPECT_EQ(field(sink->messages[1], "/type"), "snapshot");
  EXPECT_EQ(field(sink->messages[1], "/data/bids/0/quantity"), "5");
  const std::uint64_t seq = std::stoull(field(sink->messages[1], "/data/sequence"));
  limit(1, Side::kSell, 10100, 3);
  ASSERT_EQ(sink->messages.size(), 3U);
  EXPECT_EQ(field(sink->messages[2], "/data/0/sequence"), std::to_string(seq + 1));
}

TEST_F(WsHubTest, SlowDepthConsumerIsResyncedWithAFreshSnapshotOnceDrained) {
  auto sink = connect(0, WsChannel::kDepth);
  const std::size_t before = sink->messages.size();
  sink->set_full(true);
  for (int i = 0; i < 5; ++i) limit(1, Side::kBuy, 9900 - i, 1);  // all dropped
  EXPECT_EQ(sink->messages.size(), before);
  EXPECT_GE(hub_.stats().conflated, 1U);
  sink->set_full(false);
  hub_.service(md_);
  ASSERT_EQ(sink->messages.size(), before + 1);
  const std::string& snap = sink->messages.back();
  EXPECT_EQ(field(snap, "/type"), "snapshot");
  EXPECT_EQ(field(snap, "/data/sequence"), std::to_string(md_.book.sequence(1)));
  EXPECT_EQ(field(snap, "/data/bids/4/price"), "98.96");
  limit(1, Side::kBuy, 9800, 1);  // updates resume after the snapshot, without a gap
  EXPECT_EQ(field(sink->messages.back(), "/data/0/sequence"), std::to_string(md_.book.sequence(1)));
  EXPECT_EQ(field(sink->messages.back(), "/type"), "update");
}

TEST_F(WsHubTest, SlowTradesConsumerGetsAGapMessageWithTheMissedCount) {
  auto sink = connect(0, WsChannel::kTrades);
  limit(1, Side::kSell, 10000, 10);
  sink->set_full(true);
  for (int i = 0; i < 3; ++i) limit(2, Side::kBuy, 10000, 1);  // 3 batches of 1 trade
  sink->set_full(false);
  hub_.service(md_);
  ASSERT_FALSE(sink->messages.empty());
  EXPECT_EQ(field(sink->messages.back(), "/type"), "gap");
  EXPECT_EQ(field(sink->messages.back(), "/missed"), "3");
  limit(2, Side::kBuy, 10000, 1);
  EXPECT_EQ(field(sink->messages.back(), "/type"), "trade");
}

TEST_F(WsHubTest, PrivateOrderUpdatesGoOnlyToTheirAccountAndAreNeverDropped) {
  auto mine = connect(1, WsChannel::kOrders);
  auto other = connect(2, WsChannel::kOrders);
  const std::size_t other_before = other->messages.size();
  limit(1, Side::kBuy, 9900, 5);
  EXPECT_EQ(field(mine->messages.back(), "/data/0/status"), "NEW");
  EXPECT_EQ(other->messages.size(), other_before);
  mine->set_full(true);  // over the hard limit: the sink closes rather than drop
  limit(1, Side::kBuy, 9800, 5);
  EXPECT_TRUE(mine->closed());
  hub_.service(md_);  // forgotten: later updates go nowhere, and nothing crashes
  limit(1, Side::kBuy, 9700, 5);
}

TEST_F(WsHubTest, OrdersChannelNeedsAnAccountAndUnknownSymbolsAreRefused) {
  auto anon = connect(0, WsChannel::kOrders);
  EXPECT_EQ(field(anon->messages.back(), "/code"), "UNAUTHORIZED");
  auto sink = std::make_shared<FakeSink>(99);
  hub_.attach(sink, 0);
  hub_.handle(99, WsRequest{WsAction::kSubscribe, WsChannel::kQuotes, {"NOPE"}, 10}, md_);
  EXPECT_EQ(field(sink->messages.back(), "/code"), "UNKNOWN_SYMBOL");
}

TEST_F(WsHubTest, UnsubscribeStopsUpdates) {
  auto sink = connect(0, WsChannel::kQuotes);
  limit(1, Side::kBuy, 9900, 5);
  const std::size_t n = sink->messages.size();
  hub_.handle(sink->id(), WsRequest{WsAction::kUnsubscribe, WsChannel::kQuotes, {"AAPL"}, 10}, md_);
  EXPECT_EQ(field(sink->messages.back(), "/type"), "unsubscribed");
  limit(1, Side::kBuy, 9950, 5);
  EXPECT_EQ(sink->messages.size(), n + 1);
}

TEST_F(WsHubTest, ChangesOfOneBatchGoOutAsOneMessagePerSymbol) {
  auto sink = connect(0, WsChannel::kDepth);
  const std::size_t before = sink->messages.size();
  // Three commands in one engine batch: publish after each, flush once.
  for (Price p : {9900, 9800, 9700}) {
    NewOrder o{};
    o.account = 1;
    o.instrument = 1;
    o.side = Side::kBuy;
    o.type = OrderType::kLimit;
    o.time_in_force = TimeInForce::kGtc;
    o.price = p;
    o.quantity = 1;
    ++seq_;
    Command c = Command::make(seq_, static_cast<Timestamp>(seq_), o);
    events_.clear();
    engine_.apply(c, events_);
    md_.apply_batch(events_);
    hub_.publish(md_);
  }
  EXPECT_EQ(sink->messages.size(), before);  // nothing before the flush
  hub_.flush(md_);
  ASSERT_EQ(sink->messages.size(), before + 1);
  const std::string& m = sink->messages.back();
  EXPECT_EQ(field(m, "/symbol"), "AAPL");
  EXPECT_EQ(field(m, "/data/0/price"), "99.00");
  EXPECT_EQ(field(m, "/data/2/price"), "97.00");
  EXPECT_EQ(std::stoull(field(m, "/data/2/sequence")), std::stoull(field(m, "/data/0/sequence")) + 2);
}

}  // namespace
}  // namespace stox::server
