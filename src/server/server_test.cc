// Integration tests: the real server (Server::start) on a free port, driven
// over real sockets by the HTTP and WebSocket clients.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "server/core.h"
#include "server/testing/server_fixture.h"

namespace stox::server {
namespace {

using testing::Account;
using testing::Json;

class ServerTest : public testing::ServerFixture {
 protected:
  // AAPL, a buyer with cash and a seller with shares.
  void market() {
    list("AAPL", "0.01", "1", "100.00");
    buyer_ = open_account("buyer");
    seller_ = open_account("seller");
    deposit(buyer_, "USD", "100000");
    deposit(seller_, "AAPL", "1000");
  }
  Account buyer_, seller_;
};

TEST_F(ServerTest, HealthAndReadyAnswerOkWithTheCommittedSequence) {
  list("AAPL");  // one command, so the sequence is not trivially 0
  auto r = call("GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r.body).at("/status"), "ok");
  EXPECT_EQ(Json(r.body).at("/committedSeq"), std::to_string(server_->core().committed_seq()));
  EXPECT_EQ(Json(r.body).at("/committedSeq"), "1");
  EXPECT_EQ(call("GET", "/ready").status, 200);
}

TEST_F(ServerTest, AdminEndpointsHaveTheDocumentedShapes) {
  auto inst = call("POST", "/api/v1/admin/instruments",
                   R"({"symbol":"MSFT","tickSize":"0.01","lotSize":"1","referencePrice":"415.20","makerFeeBps":-1,"takerFeeBps":3})",
                   admin_);
  ASSERT_EQ(inst.status, 201) << inst.body;
  Json i(inst.body);
  EXPECT_EQ(i.at("/symbol"), "MSFT");
  EXPECT_EQ(i.at("/tickSize"), "0.01");
  EXPECT_EQ(i.at("/referencePrice"), "415.20");
  EXPECT_EQ(i.at("/makerFeeBps"), "-1");

  auto acct = call("POST", "/api/v1/admin/accounts", R"({"label":"desk-1"})", admin_);
  ASSERT_EQ(acct.status, 201) << acct.body;
  Json a(acct.body);
  EXPECT_NE(a.at("/accountId"), "0");
  EXPECT_EQ(a.at("/apiKey").rfind("stx_", 0), 0U) << acct.body;

  auto dep = call("POST", "/api/v1/admin/deposits",
                  R"({"accountId":)" + a.at("/accountId") + R"(,"asset":"USD","amount":"2500.5"})",
                  admin_);
  ASSERT_EQ(dep.status, 200) << dep.body;
  EXPECT_EQ(Json(dep.body).at("/balance/total"), "2500.5000");
  auto wd = call("POST", "/api/v1/admin/withdrawals",
                 R"({"accountId":)" + a.at("/accountId") + R"(,"asset":"USD","amount":500})", admin_);
  ASSERT_EQ(wd.status, 200) << wd.body;
  EXPECT_EQ(Json(wd.body).at("/balance/available"), "2000.5000");
  auto over = call("POST", "/api/v1/admin/withdrawals",
                   R"({"accountId":)" + a.at("/accountId") + R"(,"asset":"USD","amount":"1000000"})",
                   admin_);
  EXPECT_EQ(over.status, 422) << over.body;
  EXPECT_EQ(Json(over.body).at("/code"), "INSUFFICIENT_AVAILABLE");
  auto dup = call("POST", "/api/v1/admin/instruments",
                  R"({"symbol":"MSFT","tickSize":"0.01","lotSize":"1","referencePrice":"1","makerFeeBps":0,"takerFeeBps":0})",
                  admin_);
  EXPECT_EQ(dup.status, 409) << dup.body;
}

TEST_F(ServerTest, RestingOrderShowsInOrderbookAndOpenOrders) {
  market();
  auto r = order(buyer_, "BUY", "10", "99.50", "AAPL", R"(,"clientOrderId":"c-1")");
  ASSERT_EQ(r.status, 201) << r.body;
  Json o(r.body);
  EXPECT_EQ(o.at("/status"), "NEW");
  EXPECT_EQ(o.at("/clientOrderId"), "c-1");
  EXPECT_EQ(o.at("/price"), "99.50");
  EXPECT_EQ(o.at("/timeInForce"), "GTC");
  const std::string id = o.at("/orderId");

  Json book(call("GET", "/api/v1/orderbook/AAPL?depth=5").body);
  EXPECT_EQ(book.at("/bids/0/price"), "99.50");
  EXPECT_EQ(book.at("/bids/0/quantity"), "10");
  EXPECT_EQ(book.at("/bids/0/orders"), "1");
  EXPECT_EQ(book.size("/asks"), 0U);

  Json open(call("GET", "/api/v1/orders?status=open&symbol=AAPL", {}, buyer_.key).body);
  ASSERT_EQ(open.size(""), 1U);
  EXPECT_EQ(open.at("/0/orderId"), id);
  Json one(call("GET", "/api/v1/orders/" + id, {}, buyer_.key).body);
  EXPECT_EQ(one.at("/status"), "NEW");
  // The buyer's cash is held for the order (10 x 99.50 plus the taker fee bound).
  Json acct(call("GET", "/api/v1/account", {}, buyer_.key).body);
  EXPECT_EQ(acct.at("/balances/0/asset"), "USD");
  EXPECT_NE(acct.at("/balances/0/held"), "0.0000");
}

TEST_F(ServerTest, CrossingOrdersTradeAndEveryViewAgrees) {
  market();
  ASSERT_EQ(order(seller_, "SELL", "10", "100.00").status, 201);
  auto r = order(buyer_, "BUY", "4", "100.50");
  ASSERT_EQ(r.status, 201) << r.body;
  Json taker(r.body);
  EXPECT_EQ(taker.at("/status"), "FILLED");
  EXPECT_EQ(taker.at("/filledQuantity"), "4");
  EXPECT_EQ(taker.at("/averageFillPrice"), "100.00");  // the maker's price
  EXPECT_EQ(taker.at("/fills/0/liquidity"), "TAKER");
  EXPECT_EQ(taker.at("/fills/0/fee"), "0.4000");  // 10 bps of 400.00

  Json trades(call("GET", "/api/v1/trades/AAPL?limit=10").body);
  ASSERT_EQ(trades.size(""), 1U);
  EXPECT_EQ(trades.at("/0/price"), "100.00");
  EXPECT_EQ(trades.at("/0/side"), "BUY");
  Json ticker(call("GET", "/api/v1/ticker/AAPL").body);
  EXPECT_EQ(ticker.at("/last"), "100.00");
  EXPECT_EQ(ticker.at("/ask"), "100.00");
  EXPECT_EQ(ticker.at("/volume"), "4");
  Json candles(call("GET", "/api/v1/candles/AAPL?interval=1m").body);
  EXPECT_EQ(candles.at("/candles/0/close"), "100.00");
  Json book(call("GET", "/api/v1/orderbook/AAPL").body);
  EXPECT_EQ(book.at("/asks/0/quantity"), "6");
  EXPECT_EQ(book.at("/lastTrade/price"), "100.00");

  Json fills(call("GET", "/api/v1/fills", {}, seller_.key).body);
  ASSERT_EQ(fills.size(""), 1U);
  EXPECT_EQ(fills.at("/0/liquidity"), "MAKER");
  Json pos(call("GET", "/api/v1/positions", {}, buyer_.key).body);
  EXPECT_EQ(pos.at("/0/symbol"), "AAPL");
  EXPECT_EQ(pos.at("/0/quantity"), "4");
  EXPECT_EQ(pos.at("/0/averageCost"), "100.00");
  Json acct(call("GET", "/api/v1/account", {}, buyer_.key).body);
  EXPECT_EQ(acct.at("/balances/0/total"), "99599.6000");  // 100000 - 400 - 0.40 fee
  EXPECT_EQ(acct.at("/balances/1/asset"), "AAPL");
  EXPECT_EQ(acct.at("/balances/1/total"), "4");
}

TEST_F(ServerTest, CancelReplaceAndCancelAll) {
  market();
  const std::string a = Json(order(buyer_, "BUY", "10", "99.00").body).at("/orderId");
  const std::string b = Json(order(buyer_, "BUY", "5", "98.00").body).at("/orderId");
  auto rep = call("PUT", "/api/v1/orders/" + a, R"({"quantity":"20","price":"99.10"})", buyer_.key);
  ASSERT_EQ(rep.status, 200) << rep.body;
  EXPECT_EQ(Json(rep.body).at("/quantity"), "20");
  EXPECT_EQ(Json(rep.body).at("/price"), "99.10");
  auto can = call("DELETE", "/api/v1/orders/" + a, {}, buyer_.key);
  ASSERT_EQ(can.status, 200) << can.body;
  EXPECT_EQ(Json(can.body).at("/status"), "CANCELLED");
  EXPECT_EQ(Json(can.body).at("/cancelReason"), "USER");
  auto again = call("DELETE", "/api/v1/orders/" + a, {}, buyer_.key);
  EXPECT_EQ(again.status, 404);
  auto all = call("DELETE", "/api/v1/orders?symbol=AAPL", {}, buyer_.key);
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(Json(all.body).at("/cancelled"), "1");
  EXPECT_EQ(Json(call("GET", "/api/v1/orders/" + b, {}, buyer_.key).body).at("/status"),
            "CANCELLED");
  EXPECT_EQ(Json(call("GET", "/api/v1/orderbook/AAPL").body).size("/bids"), 0U);
}

TEST_F(ServerTest, EngineRejectsComeBackAs4xxWithTheEngineReasonCode) {
  market();
  auto funds = order(buyer_, "BUY", "100000", "100.00");
  EXPECT_EQ(funds.status, 422);
  EXPECT_EQ(Json(funds.body).at("/code"), "INSUFFICIENT_FUNDS");
  auto tick = order(buyer_, "BUY", "1", "100.005");
  EXPECT_EQ(tick.status, 400) << tick.body;
  auto shares = order(buyer_, "SELL", "1", "100.00");
  EXPECT_EQ(shares.status, 422);
  EXPECT_EQ(Json(shares.body).at("/code"), "INSUFFICIENT_SHARES");
  auto unknown = order(buyer_, "BUY", "1", "100.00", "NOPE");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Json(unknown.body).at("/code"), "UNKNOWN_SYMBOL");
}

TEST_F(ServerTest, AnotherAccountsOrderAnswersExactlyLikeAnUnknownOne) {
  market();
  const std::string id = Json(order(buyer_, "BUY", "10", "99.00").body).at("/orderId");
  const std::string unknown = "999999";
  struct Route {
    const char* method;
    std::string body;
  };
  for (const Route& r : {Route{"GET", ""}, Route{"DELETE", ""}, Route{"PUT", R"({"quantity":"5"})"}}) {
    auto theirs = call(r.method, "/api/v1/orders/" + id, r.body, seller_.key);
    auto none = call(r.method, "/api/v1/orders/" + unknown, r.body, seller_.key);
    EXPECT_EQ(theirs.status, 404) << r.method;
    EXPECT_EQ(theirs.status, none.status) << r.method;
    EXPECT_EQ(theirs.body, none.body) << r.method;
  }
  // Cancel-all, open orders and fills of the other account never show it.
  EXPECT_EQ(Json(call("DELETE", "/api/v1/orders", {}, seller_.key).body).at("/cancelled"), "0");
  EXPECT_EQ(Json(call("GET", "/api/v1/orders", {}, seller_.key).body).size(""), 0U);
  // Nothing changed: the order is still open, at its quantity.
  Json mine(call("GET", "/api/v1/orders/" + id, {}, buyer_.key).body);
  EXPECT_EQ(mine.at("/status"), "NEW");
  EXPECT_EQ(mine.at("/quantity"), "10");
}

TEST_F(ServerTest, AuthRulesOnEveryKindOfRoute) {
  market();
  const std::vector<std::pair<std::string, std::string>> private_routes = {
      {"GET", "/api/v1/account"},     {"GET", "/api/v1/positions"}, {"GET", "/api/v1/fills"},
      {"GET", "/api/v1/orders"},      {"POST", "/api/v1/orders"},   {"DELETE", "/api/v1/orders"},
      {"GET", "/api/v1/orders/1"},    {"DELETE", "/api/v1/orders/1"}, {"PUT", "/api/v1/orders/1"}};
  for (const auto& [method, target] : private_routes) {
    EXPECT_EQ(call(method, target).status, 401) << method << ' ' << target;
    EXPECT_EQ(call(method, target, {}, "stx_not-a-key").status, 401) << method << ' ' << target;
    EXPECT_EQ(call(method, target, {}, admin_).status, 403) << method << ' ' << target;
  }
  const std::vector<std::string> admin_routes = {
      "/api/v1/admin/instruments", "/api/v1/admin/accounts", "/api/v1/admin/deposits",
      "/api/v1/admin/withdrawals", "/api/v1/admin/instruments/AAPL/halt",
      "/api/v1/admin/instruments/AAPL/resume", "/api/v1/admin/accounts/1/kill-switch",
      "/api/v1/admin/accounts/1/limits"};
  for (const std::string& target : admin_routes) {
    EXPECT_EQ(call("POST", target, "{}").status, 401) << target;
    EXPECT_EQ(call("POST", target, "{}", buyer_.key).status, 403) << target;
  }
  for (const char* target : {"/api/v1/orderbook/AAPL", "/api/v1/trades/AAPL", "/api/v1/ticker/AAPL",
                             "/api/v1/candles/AAPL", "/api/v1/instruments"}) {
    EXPECT_EQ(call("GET", target).status, 200) << target;  // market data is public
  }
  EXPECT_EQ(call("GET", "/api/v1/orderbook/NOPE").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/nothing").status, 404);
}

TEST_F(ServerTest, HaltAndKillSwitchStopTrading) {
  market();
  ASSERT_EQ(call("POST", "/api/v1/admin/instruments/AAPL/halt", {}, admin_).status, 200);
  auto halted = order(buyer_, "BUY", "1", "100.00");
  EXPECT_EQ(halted.status, 422);
  EXPECT_EQ(Json(halted.body).at("/code"), "INSTRUMENT_HALTED");
  auto resumed = call("POST", "/api/v1/admin/instruments/AAPL/resume", {}, admin_);
  ASSERT_EQ(resumed.status, 200);
  EXPECT_EQ(Json(resumed.body).at("/status"), "TRADING");
  auto kill = call("POST", "/api/v1/admin/accounts/" + std::to_string(buyer_.id) + "/kill-switch",
                   R"({"enabled":true})", admin_);
  ASSERT_EQ(kill.status, 200) << kill.body;
  auto killed = order(buyer_, "BUY", "1", "100.00");
  EXPECT_EQ(Json(killed.body).at("/code"), "ACCOUNT_DISABLED");
  EXPECT_EQ(order(seller_, "SELL", "1", "101.00").status, 201);  // others still trade
}

TEST_F(ServerTest, AdminSetsAnAccountsOrderLimits) {
  market();
  const std::string route = "/api/v1/admin/accounts/" + std::to_string(buyer_.id) + "/limits";
  auto set = call("POST", route, R"({"maxOpenOrders":2,"maxOrdersPerSecond":5000,"maxOrderNotional":"500"})",
                  admin_);
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(Json(set.body).at("/maxOpenOrders"), "2");
  EXPECT_EQ(Json(set.body).at("/maxOrderNotional"), "500.0000");
  auto big = order(buyer_, "BUY", "10", "99.00");  // 990 > 500
  EXPECT_EQ(Json(big.body).at("/code"), "ORDER_NOTIONAL_TOO_LARGE") << big.body;
  ASSERT_EQ(order(buyer_, "BUY", "1", "99.00").status, 201);
  ASSERT_EQ(order(buyer_, "BUY", "1", "98.00").status, 201);
  auto third = order(buyer_, "BUY", "1", "97.00");
  EXPECT_EQ(Json(third.body).at("/code"), "TOO_MANY_OPEN_ORDERS") << third.body;
  // Back to the defaults, and the rules the other routes follow.
  ASSERT_EQ(call("POST", route, "{}", admin_).status, 200);
  EXPECT_EQ(order(buyer_, "BUY", "1", "97.00").status, 201);
  EXPECT_EQ(call("POST", route, "{}", buyer_.key).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/admin/accounts/999/limits", "{}", admin_).status, 404);
  EXPECT_EQ(call("POST", route, R"({"maxOpenOrders":-1})", admin_).status, 400);
}

TEST_F(ServerTest, AdminSetsAnInstrumentsCollarAndSizeLimits) {
  market();
  const std::string route = "/api/v1/admin/instruments/AAPL/limits";
  auto set = call("POST", route,
                  R"({"collarBps":100,"maxOrderQuantity":"5","maxOrderNotional":"400","breakerHaltSeconds":60})",
                  admin_);
  ASSERT_EQ(set.status, 200) << set.body;
  Json j(set.body);
  EXPECT_EQ(j.at("/symbol"), "AAPL");
  EXPECT_EQ(j.at("/collarBps"), "100");
  EXPECT_EQ(j.at("/maxOrderQuantity"), "5");
  EXPECT_EQ(j.at("/maxOrderNotional"), "400.0000");
  EXPECT_EQ(j.at("/breakerHaltSeconds"), "60");
  EXPECT_EQ(j.at("/breakerBps"), "0");
  // 1 % around the 100.00 reference: 102.00 is outside, 100.50 inside.
  EXPECT_EQ(Json(order(buyer_, "BUY", "1", "102.00").body).at("/code"), "PRICE_OUTSIDE_COLLAR");
  EXPECT_EQ(Json(order(buyer_, "BUY", "6", "100.00").body).at("/code"), "ORDER_QUANTITY_TOO_LARGE");
  EXPECT_EQ(Json(order(buyer_, "BUY", "5", "100.50").body).at("/code"), "ORDER_NOTIONAL_TOO_LARGE");
  ASSERT_EQ(order(buyer_, "BUY", "3", "100.50").status, 201);
  // Back to the defaults (10 % collar, no size limits).
  ASSERT_EQ(call("POST", route, "{}", admin_).status, 200);
  EXPECT_EQ(order(buyer_, "BUY", "6", "102.00").status, 201);
  // The rules every admin route follows.
  const SeqNo before = server_->core().committed_seq();
  EXPECT_EQ(call("POST", route, "{}", buyer_.key).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/admin/instruments/NOPE/limits", "{}", admin_).status, 404);
  EXPECT_EQ(call("POST", route, R"({"collarBps":-1})", admin_).status, 400);
  EXPECT_EQ(call("POST", route, R"({"collarBps":10001})", admin_).status, 400);
  EXPECT_EQ(call("POST", route, R"({"maxOrderQuantity":"1.5"})", admin_).status, 400);
  EXPECT_EQ(call("POST", route, R"({"maxOrderNotional":"-1"})", admin_).status, 400);
  EXPECT_EQ(call("POST", route, R"({"collar":100})", admin_).status, 400);
  EXPECT_EQ(server_->core().committed_seq(), before);
}

TEST_F(ServerTest, MalformedInputIsA4xxAndChangesNothing) {
  market();
  const SeqNo before = server_->core().committed_seq();
  const std::vector<std::string> bodies = {
      "", "{", "[]", "null", R"({"symbol":"AAPL"})",
      R"({"symbol":"AAPL","side":"BUY","type":"LIMIT","quantity":"1","price":"100.00","bogus":1})",
      R"({"symbol":"AAPL","side":"BUY","type":"LIMIT","quantity":true,"price":"100.00"})",
      R"({"symbol":"AAPL","side":"BUY","type":"LIMIT","quantity":"1","price":1e400})",
      R"({"symbol":"AAPL","side":"BUY","type":"LIMIT","quantity":"99999999999999999999999","price":"1"})",
      std::string(R"({"symbol":"AAPL","side":"BUY","type":"LIMIT","quantity":"1","price":"1","clientOrderId":")") +
          "\xff\xfe" + "\"}",
      std::string(5000, '[') + std::string(5000, ']'),
  };
  for (const std::string& body : bodies) {
    auto r = call("POST", "/api/v1/orders", body, buyer_.key);
    EXPECT_GE(r.status, 400) << body.substr(0, 80);
    EXPECT_LT(r.status, 500) << body.substr(0, 80);
    Json e(r.body);
    EXPECT_FALSE(e.at("/code").empty());
    EXPECT_FALSE(e.at("/message").empty());
  }
  EXPECT_EQ(server_->core().committed_seq(), before);
  EXPECT_EQ(call("GET", "/health").status, 200);
}

TEST_F(ServerTest, MetricsAreValidPrometheusText) {
  market();
  ASSERT_EQ(order(buyer_, "BUY", "1", "99.00").status, 201);
  auto r = call("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("stox_orders_total 1"), std::string::npos) << r.body.substr(0, 500);
  EXPECT_NE(r.body.find("stox_order_ack_latency_seconds_bucket"), std::string::npos);
  EXPECT_NE(r.body.find("stox_journal_sync_seconds_count"), std::string::npos);
  EXPECT_NE(r.body.find("stox_rejects_total{reason=\"INSUFFICIENT_FUNDS\"}"), std::string::npos);
  EXPECT_NE(r.body.find("stox_inbound_queue_depth"), std::string::npos);
  EXPECT_NE(r.body.find("stox_snapshot_follower_lag_commands "), std::string::npos);
  const std::string path = dir_ + "/metrics.txt";
  {
    std::ofstream(path) << r.body;
  }
  EXPECT_EQ(std::system(("promtool check metrics < " + path + " > /dev/null 2>&1").c_str()), 0);
}

TEST_F(ServerTest, RestartRecoversOrdersBalancesKeysAndMarketData) {
  market();
  ASSERT_EQ(order(seller_, "SELL", "10", "100.00").status, 201);
  const std::string id = Json(order(buyer_, "BUY", "3", "100.00").body).at("/orderId");
  const std::string resting = Json(order(buyer_, "BUY", "2", "99.00").body).at("/orderId");
  const std::string account_before = call("GET", "/api/v1/account", {}, buyer_.key).body;
  const std::string book_before = call("GET", "/api/v1/orderbook/AAPL").body;
  restart();
  // The clean stop left a snapshot (written by the follower engine).
  EXPECT_FALSE(std::filesystem::is_empty(config_.data_dir + "/snapshots"));
  EXPECT_EQ(call("GET", "/api/v1/account", {}, buyer_.key).body, account_before);
  EXPECT_EQ(call("GET", "/api/v1/orderbook/AAPL").body, book_before);
  EXPECT_EQ(Json(call("GET", "/api/v1/orders/" + id, {}, buyer_.key).body).at("/status"), "FILLED");
  EXPECT_EQ(Json(call("GET", "/api/v1/orders/" + resting, {}, buyer_.key).body).at("/status"), "NEW");
  EXPECT_EQ(Json(call("GET", "/api/v1/trades/AAPL").body).size(""), 1U);
  // Trading continues with new ids.
  auto next = order(buyer_, "BUY", "1", "98.00");
  ASSERT_EQ(next.status, 201);
  EXPECT_GT(std::stoull(Json(next.body).at("/orderId")), std::stoull(resting));
}

class RateLimitedServerTest : public testing::ServerFixture {
  void configure(ServerConfig& c) override {
    c.rate_limit_per_second = 1;
    c.rate_limit_burst = 3;
  }
};

TEST_F(RateLimitedServerTest, OverTheKeysRateAnswers429WithRetryAfter) {
  list("AAPL");
  Account a = open_account();
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 5; ++i) {
    auto r = call("GET", "/api/v1/account", {}, a.key);
    if (r.status == 429) {
      ++limited;
      retry_after = r.header("Retry-After").value_or("");
      EXPECT_EQ(Json(r.body).at("/code"), "RATE_LIMITED");
    }
  }
  EXPECT_GE(limited, 1);
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GE(std::stoi(retry_after), 1);
  // Another key has its own bucket.
  Account b = open_account();
  EXPECT_EQ(call("GET", "/api/v1/account", {}, b.key).status, 200);
}

class LimitsServerTest : public testing::ServerFixture {
  void configure(ServerConfig& c) override {
    c.max_body_bytes = 1024;
    c.max_header_bytes = 2048;
    c.max_ws_message_bytes = 512;
  }
};

TEST_F(LimitsServerTest, OversizedBodiesHeadersAndWebSocketMessagesAreRefused) {
  list("AAPL");
  Account a = open_account();
  auto big = call("POST", "/api/v1/orders", std::string(4096, ' '), a.key);
  EXPECT_EQ(big.status, 413);
  auto header = client()->request("GET", "/health", {}, std::string(4096, 'k'));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header.value().status, 431);
  auto w = ws();
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->send(std::string(2048, 'x')).ok());
  auto closed = w->read(std::chrono::seconds(5));
  ASSERT_FALSE(closed.ok());
  EXPECT_NE(closed.status().message().find("1009"), std::string::npos) << closed.status().message();
  EXPECT_EQ(call("GET", "/health").status, 200);
}

class ConnectionLimitsServerTest : public testing::ServerFixture {
  void configure(ServerConfig& c) override {
    c.max_connections = 3;
    c.request_timeout_ms = 300;
  }
};

TEST_F(ConnectionLimitsServerTest, ConnectionsOverTheLimitGet503) {
  // The fixture's client holds one connection; two more fill the limit.
  auto a = client();
  auto b = client();
  ASSERT_EQ(a->request("GET", "/health").value().status, 200);
  ASSERT_EQ(b->request("GET", "/health").value().status, 200);
  auto extra = client::HttpClient::connect("127.0.0.1", server_->port());
  ASSERT_TRUE(extra.ok());
  auto r = extra.value()->request("GET", "/health");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value().status, 503);
  EXPECT_EQ(Json(r.value().body).at("/code"), "TOO_MANY_CONNECTIONS");
}

// A client that trickles its request slower than request_timeout is cut off
// (slowloris); the server keeps serving everyone else.
TEST_F(ConnectionLimitsServerTest, ASlowRequestIsTimedOutAndClosed) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string partial = "GET /health HTTP/1.1\r\nHost: x\r\n";  // never finished
  ASSERT_EQ(send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  timeval limit{10, 0};  // a bound on the test, far above the 300 ms under test
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  std::string got;
  char buf[512];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      EXPECT_EQ(n, 0) << "the server should close the connection, not leave it hanging";
      break;
    }
    got.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  EXPECT_NE(got.find("408"), std::string::npos) << got;
  // A fresh connection (the fixture's idle one has been timed out as well).
  auto fresh = client::HttpClient::connect("127.0.0.1", server_->port());
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh.value()->request("GET", "/health").value().status, 200);
}

// --- WebSocket -------------------------------------------------------------

std::string read_type(client::WsClient& w, std::string_view type, std::string* out = nullptr) {
  for (int i = 0; i < 100; ++i) {
    auto m = w.read(std::chrono::seconds(5));
    if (!m.ok()) return "error: " + m.status().message();
    Json j(m.value());
    if (j.at("/type") == type) {
      if (out != nullptr) *out = m.value();
      return std::string(type);
    }
  }
  return "not found";
}

TEST_F(ServerTest, WebSocketChannelsDeliverSnapshotUpdatesQuotesTradesAndOrders) {
  market();
  ASSERT_EQ(order(seller_, "SELL", "10", "101.00").status, 201);
  auto pub = ws();
  ASSERT_NE(pub, nullptr);
  ASSERT_TRUE(pub->send(R"({"action":"subscribe","channel":"depth","symbols":["AAPL"]})").ok());
  std::string snap;
  ASSERT_EQ(read_type(*pub, "subscribed"), "subscribed");
  ASSERT_EQ(read_type(*pub, "snapshot", &snap), "snapshot");
  Json s(snap);
  EXPECT_EQ(s.at("/data/asks/0/price"), "101.00");
  const std::uint64_t seq = std::stoull(s.at("/data/sequence"));
  ASSERT_TRUE(pub->send(R"({"action":"subscribe","channel":"trades","symbols":["AAPL"]})").ok());
  ASSERT_EQ(read_type(*pub, "subscribed"), "subscribed");

  auto priv = ws(buyer_.key);
  ASSERT_NE(priv, nullptr);
  ASSERT_TRUE(priv->send(R"({"action":"subscribe","channel":"orders"})").ok());
  ASSERT_EQ(read_type(*priv, "subscribed"), "subscribed");
  auto anon = ws();
  ASSERT_TRUE(anon->send(R"({"action":"subscribe","channel":"orders"})").ok());
  std::string err;
  ASSERT_EQ(read_type(*anon, "error", &err), "error");
  EXPECT_EQ(Json(err).at("/code"), "UNAUTHORIZED");

  ASSERT_EQ(order(buyer_, "BUY", "4", "101.00").status, 201);
  // The batch's depth update and trade, in either order.
  std::map<std::string, std::string> got;
  while (got.size() < 2) {
    auto m = pub->read(std::chrono::seconds(5));
    ASSERT_TRUE(m.ok()) << m.status().message();
    got[Json(m.value()).at("/type")] = m.value();
  }
  Json u(got["update"]);
  EXPECT_EQ(u.at("/symbol"), "AAPL");
  EXPECT_EQ(u.at("/data/0/sequence"), std::to_string(seq + 1));
  EXPECT_EQ(u.at("/data/0/quantity"), "6");
  EXPECT_EQ(Json(got["trade"]).at("/data/0/price"), "101.00");
  std::string mine;
  ASSERT_EQ(read_type(*priv, "order", &mine), "order");
  EXPECT_EQ(Json(mine).at("/data/0/status"), "FILLED");
  EXPECT_EQ(Json(mine).at("/data/0/fills/0/quantity"), "4");
}

// Many clients trade while a subscriber rebuilds the book from the depth
// stream; at the end its book equals GET /orderbook at the same sequence.
TEST_F(ServerTest, DepthStreamStaysConsistentWithOrderbookUnderLoad) {
  market();
  auto sub = ws();
  ASSERT_NE(sub, nullptr);
  ASSERT_TRUE(sub->send(R"({"action":"subscribe","channel":"depth","symbols":["AAPL"]})").ok());
  std::string snap;
  ASSERT_EQ(read_type(*sub, "snapshot", &snap), "snapshot");
  std::map<std::string, std::string> bids;  // price -> quantity
  std::map<std::string, std::string> asks;
  std::uint64_t seq = std::stoull(Json(snap).at("/data/sequence"));
  ASSERT_EQ(Json(snap).size("/data/bids") + Json(snap).size("/data/asks"), 0U);  // empty to start

  constexpr int kThreads = 4;
  constexpr int kOrders = 150;
  std::vector<std::thread> traders;
  traders.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    traders.emplace_back([&, t] {
      auto c = client::HttpClient::connect("127.0.0.1", server_->port());
      ASSERT_TRUE(c.ok());
      const Account& who = t % 2 == 0 ? buyer_ : seller_;
      for (int i = 0; i < kOrders; ++i) {
        const int cents = 9950 + (i * 7 + t * 13) % 100;
        const std::string price = std::to_string(cents / 100) + "." +
                                  (cents % 100 < 10 ? "0" : "") + std::to_string(cents % 100);
        std::string body = R"({"symbol":"AAPL","side":")" + std::string(t % 2 == 0 ? "BUY" : "SELL") +
                           R"(","type":"LIMIT","quantity":"1","price":")" + price + "\"}";
        auto r = c.value()->request("POST", "/api/v1/orders", body, who.key);
        ASSERT_TRUE(r.ok());
      }
    });
  }
  for (auto& t : traders) t.join();
  // Everything is committed now; the book's sequence is final.
  Json book(call("GET", "/api/v1/orderbook/AAPL?depth=1000").body);
  const std::uint64_t final_seq = std::stoull(book.at("/sequence"));
  while (seq < final_seq) {
    auto m = sub->read(std::chrono::seconds(5));
    ASSERT_TRUE(m.ok()) << m.status().message();
    Json u(m.value());
    if (u.at("/type") != "update") continue;
    for (std::size_t i = 0; i < u.size("/data"); ++i) {
      std::string item = "/data/";
      item += std::to_string(i);
      const std::uint64_t next = std::stoull(u.at(item + "/sequence"));
      ASSERT_EQ(next, seq + 1) << "gap in the depth stream";
      seq = next;
      auto& side = u.at(item + "/side") == "BUY" ? bids : asks;
      if (u.at(item + "/quantity") == "0") {
        side.erase(u.at(item + "/price"));
      } else {
        side[u.at(item + "/price")] = u.at(item + "/quantity");
      }
    }
  }
  std::map<std::string, std::string> want_bids;
  std::map<std::string, std::string> want_asks;
  for (std::size_t i = 0; i < book.size("/bids"); ++i) {
    want_bids[book.at("/bids/" + std::to_string(i) + "/price")] =
        book.at("/bids/" + std::to_string(i) + "/quantity");
  }
  for (std::size_t i = 0; i < book.size("/asks"); ++i) {
    want_asks[book.at("/asks/" + std::to_string(i) + "/price")] =
        book.at("/asks/" + std::to_string(i) + "/quantity");
  }
  EXPECT_EQ(bids, want_bids);
  EXPECT_EQ(asks, want_asks);
}

}  // namespace
}  // namespace stox::server
