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
#include <thread>
#include <vector>

#include "core/testing/random_stream.h"
#include "journal/fault_env.h"
#include "marketdata/projections_codec.h"
#include "server/api.h"
#include "server/api_keys.h"
#include "server/demo_market.h"
#include "server/rate_limiter.h"
#include "server/ws_hub.h"
#include "store/layout.h"
#include "store/snapshot_file.h"

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

// Runs `read` on the engine thread (a Work without a command) and waits.
template <class F>
void read_on_engine_thread(Core& core, F read) {
  std::promise<void> done;
  Work w;
  w.done = [&](CoreContext& ctx) {
    read(ctx);
    done.set_value();
  };
  ASSERT_TRUE(core.post(std::move(w)));
  done.get_future().wait();
}

// Applies `n` commands of a random accounts-mode stream through the core,
// one at a time, feeding each one's events back to the stream.
void drive(Core& core, testing::RandomStream& stream, int n) {
  for (int i = 0; i < n; ++i) {
    std::promise<std::vector<Event>> done;
    Work w;
    w.command = stream.next();
    w.done = [&done](CoreContext& ctx) {
      done.set_value(std::vector<Event>(ctx.events.begin(), ctx.events.end()));
    };
    ASSERT_TRUE(core.post(std::move(w)));
    stream.observe(done.get_future().get());
  }
}

struct ServedState {
  std::uint64_t engine_hash = 0;
  std::string projections;  // canonical encoding
  SeqNo seq = 0;
};

ServedState served_state(Core& core) {
  ServedState s;
  read_on_engine_thread(core, [&](CoreContext& ctx) {
    s.engine_hash = ctx.engine.state_hash();
    marketdata::encode_projections(ctx.md, &s.projections);
  });
  s.seq = core.committed_seq();
  return s;
}

// A restart restores the projections from the snapshot's extension and the
// journal after it: what the server shows afterwards (orders, fills, depth,
// tape, candles: all of the projections' state) is exactly what it showed
// before, and exactly what a replay of the whole journal builds.
TEST_F(CoreTest, RestartRestoresTheProjectionsFromTheSnapshotAndTheJournalTail) {
  journal::FaultEnv env(11);
  CoreOptions options;
  options.data_dir = "/data";
  options.engine = server_engine_config();
  options.engine.cash_scale = 9;  // the random stream uses price scales up to 9
  options.engine.default_max_orders_per_second = 1'000'000;
  options.snapshots.every_commands = 0;
  options.snapshots.every = std::chrono::seconds(0);
  options.snapshots.on_stop = false;
  testing::RandomStreamOptions stream_options;
  stream_options.accounts_mode = true;
  testing::RandomStream stream(5, stream_options);
  ServedState before;
  SeqNo snapshot_seq = 0;
  {
    auto core = Core::open(env, options, hub_, nullptr);
    ASSERT_TRUE(core.ok()) << core.status().to_string();
    core.value()->start();
    drive(*core.value(), stream, 2000);
    core.value()->snapshots().request_snapshot();
    while (core.value()->snapshots().snapshots_written() == 0) std::this_thread::yield();
    snapshot_seq = core.value()->snapshots().last_snapshot_seq();
    drive(*core.value(), stream, 700);
    before = served_state(*core.value());
    core.value()->stop();
  }
  ASSERT_GT(snapshot_seq, 0u);
  ASSERT_GT(before.seq, snapshot_seq);
  ASSERT_GT(before.projections.size(), 1000u) << "the run must have built some state";

  auto restarted = Core::open(env, options, hub_, nullptr);
  ASSERT_TRUE(restarted.ok()) << restarted.status().to_string();
  EXPECT_EQ(restarted.value()->recovery().replayed, before.seq - snapshot_seq);
  restarted.value()->start();
  ServedState after = served_state(*restarted.value());
  EXPECT_EQ(after.seq, before.seq);
  EXPECT_EQ(after.engine_hash, before.engine_hash);
  EXPECT_TRUE(after.projections == before.projections) << "projections differ after the restart";
  restarted.value()->stop();
  restarted.value().reset();

  // Without the snapshot: everything from the journal's start.
  auto snaps = store::list_snapshots(env, store::snapshot_dir(options.data_dir));
  ASSERT_TRUE(snaps.ok());
  for (const store::SnapshotInfo& info : snaps.value()) ASSERT_TRUE(env.remove(info.path).ok());
  auto rebuilt = Core::open(env, options, hub_, nullptr);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().to_string();
  EXPECT_EQ(rebuilt.value()->recovery().replayed, before.seq);
  rebuilt.value()->start();
  ServedState full = served_state(*rebuilt.value());
  EXPECT_EQ(full.engine_hash, before.engine_hash);
  EXPECT_TRUE(full.projections == before.projections) << "a full replay builds other projections";
  rebuilt.value()->stop();
}

}  // namespace
}  // namespace stox::server
