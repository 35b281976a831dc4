#include "server/metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace stox::server {
namespace {

TEST(MetricsTest, SmallRegistryExposesExactText) {
  Registry r;
  Counter& orders = r.counter("stox_orders_total", "Orders accepted.");
  Gauge& conns = r.gauge("stox_connections", "Open connections.", {{"kind", "ws"}});
  Histogram& latency =
      r.histogram("stox_latency_seconds", "Request latency.", {0.001, 0.01, 0.1});
  orders.inc();
  orders.inc(41);
  conns.set(3);
  conns.add(-0.5);
  latency.observe_ns(500'000);
  latency.observe_ns(1'000'000);  // on a bound: counted in that bucket ("le")
  latency.observe_ns(5'000'000);
  latency.observe_ns(2'000'000'000);

  EXPECT_EQ(r.expose(),
            "# HELP stox_orders_total Orders accepted.\n"
            "# TYPE stox_orders_total counter\n"
            "stox_orders_total 42\n"
            "# HELP stox_connections Open connections.\n"
            "# TYPE stox_connections gauge\n"
            "stox_connections{kind=\"ws\"} 2.5\n"
            "# HELP stox_latency_seconds Request latency.\n"
            "# TYPE stox_latency_seconds histogram\n"
            "stox_latency_seconds_bucket{le=\"0.001\"} 2\n"
            "stox_latency_seconds_bucket{le=\"0.01\"} 3\n"
            "stox_latency_seconds_bucket{le=\"0.1\"} 3\n"
            "stox_latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "stox_latency_seconds_sum 2.0065\n"
            "stox_latency_seconds_count 4\n");
  EXPECT_EQ(latency.count(), 4u);
  EXPECT_EQ(latency.sum_ns(), 2'006'500'000);
}

TEST(MetricsTest, SeriesOfOneNameShareOneHeader) {
  Registry r;
  r.counter("stox_rejects_total", "Rejected orders.", {{"reason", "INSUFFICIENT_FUNDS"}}).inc(3);
  r.gauge("stox_other", "Another family.").set(1);
  r.counter("stox_rejects_total", "Rejected orders.", {{"reason", "PRICE_BAND"}}).inc();
  EXPECT_EQ(r.expose(),
            "# HELP stox_rejects_total Rejected orders.\n"
            "# TYPE stox_rejects_total counter\n"
            "stox_rejects_total{reason=\"INSUFFICIENT_FUNDS\"} 3\n"
            "stox_rejects_total{reason=\"PRICE_BAND\"} 1\n"
            "# HELP stox_other Another family.\n"
            "# TYPE stox_other gauge\n"
            "stox_other 1\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.counter("x_total", "Back\\slash and\nnewline \"quoted\".",
            {{"path", "C:\\dir"}, {"q", "say \"hi\""}, {"nl", "a\nb"}})
      .inc();
  EXPECT_EQ(r.expose(),
            "# HELP x_total Back\\\\slash and\\nnewline \"quoted\".\n"
            "# TYPE x_total counter\n"
            "x_total{path=\"C:\\\\dir\",q=\"say \\\"hi\\\"\",nl=\"a\\nb\"} 1\n");
}

TEST(MetricsTest, HistogramWithLabelsPutsLeLastAndCountsNegativeAsZero) {
  Registry r;
  Histogram& h = r.histogram("h_seconds", "H.", {0.5}, {{"op", "new"}});
  h.observe_ns(-7);
  h.observe_ns(600'000'000);
  EXPECT_EQ(r.expose(),
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{op=\"new\",le=\"0.5\"} 1\n"
            "h_seconds_bucket{op=\"new\",le=\"+Inf\"} 2\n"
            "h_seconds_sum{op=\"new\"} 0.6\n"
            "h_seconds_count{op=\"new\"} 2\n");
}

TEST(MetricsTest, GaugeFnIsReadAtEachExposition) {
  Registry r;
  double depth = 5;
  r.gauge_fn("queue_depth", "Queued commands.", [&depth] { return depth; });
  EXPECT_NE(r.expose().find("\nqueue_depth 5\n"), std::string::npos);
  depth = 17;
  EXPECT_NE(r.expose().find("\nqueue_depth 17\n"), std::string::npos);
}

TEST(MetricsTest, SpecialGaugeValuesUseTheFormatsSpelling) {
  Registry r;
  r.gauge("a", "A.").set(std::numeric_limits<double>::infinity());
  r.gauge("b", "B.").set(-std::numeric_limits<double>::infinity());
  r.gauge("c", "C.").set(std::numeric_limits<double>::quiet_NaN());
  const std::string text = r.expose();
  EXPECT_NE(text.find("\na +Inf\n"), std::string::npos);
  EXPECT_NE(text.find("\nb -Inf\n"), std::string::npos);
  EXPECT_NE(text.find("\nc NaN\n"), std::string::npos);
}

TEST(MetricsTest, InvalidRegistrationsThrow) {
  Registry r;
  EXPECT_THROW(r.gauge("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(r.gauge("a-b", "x"), std::invalid_argument);
  EXPECT_THROW(r.gauge("", "x"), std::invalid_argument);
  EXPECT_THROW(r.gauge("ok", ""), std::invalid_argument);
  EXPECT_THROW(r.counter("requests", "x"), std::invalid_argument);  // no _total
  EXPECT_THROW(r.gauge("ok", "x", {{"1bad", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.gauge("ok", "x", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {0.1, 0.1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {0.2, 0.1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {std::numeric_limits<double>::infinity()}),
               std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {0.1}, {{"le", "1"}}), std::invalid_argument);

  r.gauge("g", "G.", {{"a", "1"}});
  EXPECT_THROW(r.gauge("g", "G.", {{"a", "1"}}), std::invalid_argument);  // twice
  EXPECT_THROW(r.gauge("g", "Other help.", {{"a", "2"}}), std::invalid_argument);
  EXPECT_NO_THROW(r.gauge("g", "G.", {{"a", "2"}}));
  EXPECT_THROW(r.histogram("g", "G.", {0.1}), std::invalid_argument);  // another type
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  Registry r;
  Counter& c = r.counter("c_total", "C.");
  Histogram& h = r.histogram("h_seconds", "H.", {0.001});
  Gauge& g = r.gauge("g", "G.");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100'000;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        c.inc();
        h.observe_ns(i % 2 == 0 ? 1 : 10'000'000);
        g.add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(h.count(), static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(g.value(), static_cast<double>(kThreads) * kPerThread);
  EXPECT_NE(r.expose().find("h_seconds_bucket{le=\"0.001\"} 200000\n"), std::string::npos);
}

// Runs `promtool check metrics < text`; returns its exit status.
int promtool_check(const std::string& text) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("stox-metrics-" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file, std::ios::binary);
    out << text;
  }
  const std::string command = "/usr/bin/promtool check metrics < " + file.string();
  const int status = std::system(command.c_str());  // NOLINT(cert-env33-c): a fixed test command
  std::filesystem::remove(file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(MetricsTest, PromtoolAcceptsAFullRegistry) {
  ASSERT_EQ(::access("/usr/bin/promtool", X_OK), 0)
      << "promtool missing: install the Debian package prometheus (scripts/install-deps.sh)";
  Registry r;
  r.counter("stox_orders_total", "Orders accepted.").inc(7);
  r.counter("stox_rejects_total", "Rejected orders.", {{"reason", "INSUFFICIENT_FUNDS"}}).inc();
  r.counter("stox_rejects_total", "Rejected orders.", {{"reason", "weird \"value\"\\\n"}});
  r.gauge("stox_connections", "Open connections.", {{"kind", "ws"}}).set(12);
  r.gauge_fn("stox_queue_depth", "Queued commands.", [] { return 3.0; });
  Histogram& h = r.histogram("stox_request_duration_seconds", "Request latency.",
                             {0.0001, 0.001, 0.01, 0.1, 1}, {{"route", "/v1/orders"}});
  for (std::int64_t ns = 1; ns < 5'000'000'000; ns *= 3) h.observe_ns(ns);
  EXPECT_EQ(promtool_check(r.expose()), 0) << r.expose();
}

TEST(MetricsTest, PromtoolRejectsMalformedText) {
  ASSERT_EQ(::access("/usr/bin/promtool", X_OK), 0);
  // A value that is not a number, and an unescaped quote in a label value.
  EXPECT_NE(promtool_check("# HELP a_total A.\n# TYPE a_total counter\na_total one\n"), 0);
  EXPECT_NE(promtool_check("# HELP a A.\n# TYPE a gauge\na{x=\"a\"b\"} 1\n"), 0);
}

}  // namespace
}  // namespace stox::server
