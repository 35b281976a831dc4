// The engine thread's contracts that sockets cannot reach deterministically:
// a full inbound queue answers 503 at once, and a journal failure stops the
// exchange (fail-stop) and says why on /health.
#include "server/core.h"

#include <gtest/gtest.h>
#include <cstdlib>  // mkdtemp (POSIX, declared here by glibc)

#include <cerrno>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "journal/fault_env.h"
#include "server/api.h"
#include "server/api_keys.h"
#include "server/demo_market.h"
#include "server/rate_limiter.h"
#include "server/ws_hub.h"

namespace stox::server {
namespace {

class CoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stox-core-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::string generated;
    auto keys = KeyStore::open(dir_ + "/keys", std::string("test-admin-key-0123456789"), &generated);
    ASSERT_TRUE(keys.ok()) << keys.status().to_string();
    keys_ = std::move(keys.value());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Calls the API directly (no transport) and returns its answer.
  static HttpResponse call(Api& api, std::string method, std::string path, std::string body = {},
                           const std::string& key = {}) {
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto future = promise->get_future();
    HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = std::move(body);
    if (!key.empty()) r.authorization = "Bearer " + key;
    r.remote = "test";
    api.handle(std::move(r), [promise](HttpResponse resp) { promise->set_value(std::move(resp)); });
    return future.get();
  }

  std::string dir_;
  std::unique_ptr<KeyStore> keys_;
  RateLimiter limiter_{1e9, 1e9};
  WsHub hub_;
};

TEST_F(CoreTest, AFullInboundQueueAnswers503AtOnceWithRetryAfter) {
  CoreOptions options;
  options.data_dir = dir_ + "/data";
  options.engine = server_engine_config();
  options.queue_capacity = 4;
  auto core = Core::open(*journal::posix_env(), options, hub_, nullptr);
  ASSERT_TRUE(core.ok()) << core.status().to_string();
  // Not started: nothing drains the queue.
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(core.value()->post(Work{}));
  EXPECT_FALSE(core.value()->post(Work{}));
  Api api(*core.value(), *keys_, limiter_, [] { return std::string(); }, ApiOptions{});
  HttpResponse r = call(api, "GET", "/api/v1/orderbook/AAPL");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("BUSY"), std::string::npos);
  ASSERT_EQ(r.headers.size(), 1U);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  core.value()->start();  // drains (the queued Work has no callbacks) and stops cleanly
  core.value()->stop();
}

TEST_F(CoreTest, AFailedJournalSyncStopsTheExchangeAndHealthSaysWhy) {
  journal::FaultEnv env(7);
  CoreOptions options;
  options.data_dir = dir_ + "/data";
  options.engine = server_engine_config();
  auto core = Core::open(env, options, hub_, nullptr);
  ASSERT_TRUE(core.ok()) << core.status().to_string();
  core.value()->start();
  Api api(*core.value(), *keys_, limiter_, [] { return std::string(); }, ApiOptions{});
  const std::string admin = "test-admin-key-0123456789";
  const std::string listing =
      R"({"symbol":"AAPL","tickSize":"0.01","lotSize":"1","referencePrice":"100","makerFeeBps":0,"takerFeeBps":0})";
  ASSERT_EQ(call(api, "POST", "/api/v1/admin/instruments", listing, admin).status, 201);
  EXPECT_EQ(call(api, "GET", "/health").status, 200);

  env.fail_sync_at(1, EIO);
  HttpResponse failed = call(api, "POST", "/api/v1/admin/accounts", R"({"label":"x"})", admin);
  EXPECT_EQ(failed.status, 503);
  EXPECT_NE(failed.body.find("EXCHANGE_STOPPED"), std::string::npos) << failed.body;
  HttpResponse health = call(api, "GET", "/health");
  EXPECT_EQ(health.status, 503);
  EXPECT_NE(health.body.find("failed"), std::string::npos) << health.body;
  // Nothing is accepted afterwards, even though the disk "recovered".
  EXPECT_EQ(call(api, "POST", "/api/v1/admin/accounts", R"({"label":"y"})", admin).status, 503);
  // Reads are refused too: the engine may hold state that never became durable.
  EXPECT_EQ(call(api, "GET", "/api/v1/orderbook/AAPL").status, 503);
  EXPECT_TRUE(core.value()->failed());
  core.value()->stop();
}

}  // namespace
}  // namespace stox::server
