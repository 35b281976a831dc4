// The CLI client against a real in-test server (server/transport.h) whose
// handler records the request and answers a canned response: each command
// sends the right method, target, body and Authorization, prints what it
// should, and returns the documented exit code.
#include "app/client_commands.h"

#include <cstdlib>
#include <mutex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "server/transport.h"

namespace stox {
namespace {

using server::HttpRequest;
using server::HttpResponse;

class RecordingHttp : public server::HttpHandler {
 public:
  void handle(HttpRequest request, server::Responder respond) override {
    HttpResponse reply;
    {
      const std::lock_guard lock(mu_);
      requests_.push_back(std::move(request));
      reply = reply_;
    }
    respond(std::move(reply));
  }
  void set_reply(int status, std::string body) {
    const std::lock_guard lock(mu_);
    reply_.status = status;
    reply_.body = std::move(body);
  }
  std::vector<HttpRequest> requests() {
    const std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  HttpResponse reply_{201, R"({"orderId":"7","status":"NEW"})", "application/json", {}};
  std::vector<HttpRequest> requests_;
};

class NoWs : public server::WsHandler {
 public:
  std::unique_ptr<server::WsConnection> on_open(const HttpRequest&, std::shared_ptr<server::WsSink>,
                                                HttpResponse*) override {
    return nullptr;
  }
};

class ClientCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("STOX_SERVER");
    unsetenv("STOX_API_KEY");
    auto t = server::Transport::start({}, http_, ws_);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    transport_ = std::move(*t);
    url_ = "http://127.0.0.1:" + std::to_string(transport_->port());
  }

  // Runs the command with --server pointing at the test server.
  int run(std::vector<std::string> args, bool with_server = true) {
    if (with_server) {
      args.emplace_back("--server");
      args.push_back(url_);
    }
    const std::vector<std::string_view> views(args.begin(), args.end());
    out_.str("");
    err_.str("");
    return run_client_command(views, out_, err_);
  }

  // The one request the server got.
  HttpRequest only_request() {
    auto r = http_.requests();
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? HttpRequest{} : r.back();
  }

  RecordingHttp http_;
  NoWs ws_;
  std::unique_ptr<server::Transport> transport_;
  std::string url_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(ClientCommandsTest, LimitOrderPostsEveryFieldAsJson) {
  ASSERT_EQ(run({"order", "BUY", "ACME", "10", "150.25", "--tif", "GTC", "--post-only", "--client-id",
                 "c-1", "--key", "k1"}),
            0)
      << err_.str();
  const HttpRequest r = only_request();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/v1/orders");
  EXPECT_EQ(r.body,
            R"({"symbol":"ACME","side":"BUY","type":"LIMIT","quantity":"10","price":"150.25",)"
            R"("timeInForce":"GTC","postOnly":true,"clientOrderId":"c-1"})");
  EXPECT_EQ(r.authorization, "Bearer k1");
  EXPECT_EQ(out_.str(), "{\"orderId\":\"7\",\"status\":\"NEW\"}\n");
}

TEST_F(ClientCommandsTest, OrderWithoutPriceIsMarket) {
  ASSERT_EQ(run({"order", "sell", "ACME", "5"}), 0) << err_.str();
  const HttpRequest r = only_request();
  EXPECT_EQ(r.body, R"({"symbol":"ACME","side":"SELL","type":"MARKET","quantity":"5"})");
  EXPECT_EQ(r.authorization, "");
}

TEST_F(ClientCommandsTest, StopLimitOrderCarriesStopPrice) {
  ASSERT_EQ(run({"order", "BUY", "ACME", "1", "101.5", "--type", "STOP_LIMIT", "--stop", "100"}), 0)
      << err_.str();
  EXPECT_EQ(only_request().body,
            R"({"symbol":"ACME","side":"BUY","type":"STOP_LIMIT","quantity":"1","price":"101.5",)"
            R"("stopPrice":"100"})");
}

TEST_F(ClientCommandsTest, BadOrderArgumentsAreUsageErrorsAndSendNothing) {
  const std::vector<std::vector<std::string>> bad = {
      {"order", "BUY", "ACME"},                                  // no quantity
      {"order", "HOLD", "ACME", "1"},                            // bad side
      {"order", "BUY", "ACME", "1e3"},                           // not plain decimal
      {"order", "BUY", "ACME", "1", ".5"},                       // bad price
      {"order", "BUY", "AC/ME", "1"},                            // symbol not a path token
      {"order", "BUY", "ACME", "1", "--type", "LIMIT"},          // LIMIT needs PRICE
      {"order", "BUY", "ACME", "1", "100", "--type", "MARKET"},  // MARKET takes none
      {"order", "BUY", "ACME", "1", "--type", "STOP"},           // STOP needs --stop
      {"order", "BUY", "ACME", "1", "100", "--stop", "99"},      // LIMIT takes no --stop
      {"order", "BUY", "ACME", "1", "--tif", "SOMETIMES"},
      {"order", "BUY", "ACME", "1", "--type", "ICEBERG"},
      {"order", "BUY", "ACME", "1", "--frobnicate"},
      {"order", "BUY", "ACME", "1", "--client-id"},  // flag without value (before --server)
      {"order", "BUY", "ACME", "1", "--post-only", "--post-only"},
  };
  for (const auto& args : bad) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    if (args.back() == "--client-id") {
      EXPECT_EQ(run(args, false), 2) << joined;
    } else {
      EXPECT_EQ(run(args), 2) << joined;
    }
    EXPECT_TRUE(err_.str().starts_with("stox: ")) << joined << ": " << err_.str();
  }
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(ClientCommandsTest, CancelOneOrAll) {
  http_.set_reply(200, R"({"cancelled":1})");
  ASSERT_EQ(run({"cancel", "42"}), 0) << err_.str();
  ASSERT_EQ(run({"cancel", "--all", "--symbol", "ACME"}), 0) << err_.str();
  ASSERT_EQ(run({"cancel", "--all"}), 0) << err_.str();
  const auto r = http_.requests();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].method + " " + r[0].path, "DELETE /api/v1/orders/42");
  EXPECT_EQ(r[1].method + " " + r[1].path + "?" + r[1].query, "DELETE /api/v1/orders?symbol=ACME");
  EXPECT_EQ(r[2].method + " " + r[2].path + r[2].query, "DELETE /api/v1/orders");
}

TEST_F(ClientCommandsTest, CancelUsageErrors) {
  EXPECT_EQ(run({"cancel"}), 2);
  EXPECT_EQ(run({"cancel", "42", "--all"}), 2);
  EXPECT_EQ(run({"cancel", "42", "--symbol", "ACME"}), 2);
  EXPECT_EQ(run({"cancel", "1", "2"}), 2);
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(ClientCommandsTest, OrdersListsOpenOrdersOfASymbol) {
  http_.set_reply(200, R"({"orders":[]})");
  ASSERT_EQ(run({"orders", "--symbol", "ACME", "--key", "k2"}), 0) << err_.str();
  const HttpRequest r = only_request();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/api/v1/orders");
  EXPECT_EQ(r.query, "status=open&symbol=ACME");
  EXPECT_EQ(r.authorization, "Bearer k2");
  EXPECT_EQ(out_.str(), "{\"orders\":[]}\n");
}

TEST_F(ClientCommandsTest, AccountUsesTheEnvironmentDefaults) {
  http_.set_reply(200, R"({"balances":[]})");
  setenv("STOX_SERVER", url_.c_str(), 1);
  setenv("STOX_API_KEY", "env-key", 1);
  const int rc = run({"account"}, false);
  unsetenv("STOX_SERVER");
  unsetenv("STOX_API_KEY");
  ASSERT_EQ(rc, 0) << err_.str();
  const HttpRequest r = only_request();
  EXPECT_EQ(r.method + " " + r.path, "GET /api/v1/account");
  EXPECT_EQ(r.authorization, "Bearer env-key");
}

TEST_F(ClientCommandsTest, BookPrintsALadderWithAsksAboveBids) {
  http_.set_reply(200, R"({"symbol":"ACME","sequence":42,"timestamp":1,)"
                       R"("bids":[{"price":"100.00","quantity":"200","orders":1},)"
                       R"({"price":"99.50","quantity":"10","orders":2}],)"
                       R"("asks":[{"price":"100.50","quantity":"100","orders":1},)"
                       R"({"price":"101.00","quantity":"300","orders":2}],)"
                       R"("lastTrade":{"price":"100.25","quantity":"50"}})");
  ASSERT_EQ(run({"book", "ACME", "--depth", "5"}), 0) << err_.str();
  const HttpRequest r = only_request();
  EXPECT_EQ(r.path, "/api/v1/orderbook/ACME");
  EXPECT_EQ(r.query, "depth=5");
  const std::string out = out_.str();
  const auto at = [&](std::string_view s) { return out.find(s); };
  EXPECT_NE(at("ACME  sequence 42"), std::string::npos) << out;
  ASSERT_NE(at("101.00"), std::string::npos) << out;
  EXPECT_LT(at("101.00"), at("100.50")) << out;  // highest ask first
  EXPECT_LT(at("100.50"), at("-----")) << out;   // the spread in the middle
  EXPECT_LT(at("-----"), at("100.00")) << out;
  EXPECT_LT(at("100.00"), at("99.50")) << out;   // best bid first
  EXPECT_NE(at("last trade: 100.25 x 50"), std::string::npos) << out;
}

TEST_F(ClientCommandsTest, BookDefaultsToDepth10AndRejectsBadDepth) {
  http_.set_reply(200, R"({"symbol":"ACME","sequence":1,"bids":[],"asks":[],"lastTrade":null})");
  ASSERT_EQ(run({"book", "ACME"}), 0) << err_.str();
  EXPECT_EQ(only_request().query, "depth=10");
  EXPECT_EQ(run({"book", "ACME", "--depth", "0"}), 2);
  EXPECT_EQ(run({"book", "ACME", "--depth", "ten"}), 2);
  EXPECT_EQ(run({"book"}), 2);
}

TEST_F(ClientCommandsTest, BookThatIsNotABookFails) {
  http_.set_reply(200, R"({"unexpected":true})");
  EXPECT_EQ(run({"book", "ACME"}), 1);
  EXPECT_NE(err_.str().find("unexpected order book response"), std::string::npos) << err_.str();
}

TEST_F(ClientCommandsTest, ErrorResponsePrintsCodeAndMessageAndExits1) {
  http_.set_reply(404, R"({"code":"NOT_FOUND","message":"no such order"})");
  EXPECT_EQ(run({"cancel", "99"}), 1);
  EXPECT_EQ(err_.str(), "stox: HTTP 404 NOT_FOUND: no such order\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(ClientCommandsTest, UnreachableServerExits1) {
  const std::string url = url_;
  transport_.reset();  // nothing listens on that port any more
  EXPECT_EQ(run({"account", "--server", url}, false), 1);
  EXPECT_NE(err_.str().find("cannot reach"), std::string::npos) << err_.str();
}

TEST_F(ClientCommandsTest, BadServerUrlAndUnknownCommandAreUsageErrors) {
  EXPECT_EQ(run({"account", "--server", "https://example.com"}, false), 2);
  EXPECT_EQ(run({"account", "--server", "127.0.0.1"}, false), 2);
  EXPECT_EQ(run({"account", "extra"}), 2);
  EXPECT_EQ(run({"trade"}), 2);
  EXPECT_EQ(run({}, false), 2);
  EXPECT_TRUE(http_.requests().empty());
  EXPECT_TRUE(is_client_command("book"));
  EXPECT_FALSE(is_client_command("serve"));
}

}  // namespace
}  // namespace stox
