#include "server/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace stox::server {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "stox-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_toml(const std::string& text) {
    std::string path = dir_ + "/stox.toml";
    std::ofstream(path) << text;
    return path;
  }

  // The error message of parsing args; fails the test if parsing succeeds.
  static std::string error_of(const std::vector<std::string>& args) {
    auto config = parse_serve_args(args);
    EXPECT_FALSE(config.ok());
    if (config.ok()) return "";
    EXPECT_TRUE(config.status().is_invalid_argument());
    return config.status().message();
  }

  std::string toml_error_of(const std::string& text) {
    return error_of({"--config", write_toml(text)});
  }

  std::string dir_;
};

TEST_F(ConfigTest, NoArgumentsGiveTheDefaults) {
  auto config = parse_serve_args({});
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  const ServerConfig defaults;
  EXPECT_FALSE(config->show_help);
  EXPECT_EQ(config->host, "127.0.0.1");
  EXPECT_EQ(config->port, 8080);
  EXPECT_EQ(config->data_dir, defaults.data_dir);
  EXPECT_EQ(config->sync, "batch");
  EXPECT_EQ(config->io_threads, 1);
  EXPECT_EQ(config->max_body_bytes, defaults.max_body_bytes);
  EXPECT_EQ(config->rate_limit_per_second, 2000);
  EXPECT_EQ(config->segment_bytes, defaults.segment_bytes);
}

TEST_F(ConfigTest, HelpIsReportedNotParsed) {
  for (const char* flag : {"--help", "-h"}) {
    auto config = parse_serve_args({"--io-threads", "2", flag});
    ASSERT_TRUE(config.ok()) << config.status().to_string();
    EXPECT_TRUE(config->show_help);
  }
  const std::string usage = serve_usage();
  for (const char* flag : {"--config", "--listen", "--data-dir", "--demo", "--sync",
                           "--io-threads", "--rate-limit", "--ws-hard-limit-bytes"}) {
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
}

TEST_F(ConfigTest, FileSetsEverySection) {
  const std::string path = write_toml(R"(
[server]
listen = "0.0.0.0:9001"
data_dir = "/var/lib/stox"
io_threads = 4
queue_capacity = 1024
demo = true
[journal]
sync = "none"
segment_bytes = 1048576
[snapshots]
every_commands = 5000
every_seconds = 30
[limits]
max_body_bytes = 1000
max_header_bytes = 2000
max_ws_message_bytes = 3000
max_connections = 10
request_timeout_ms = 500
idle_timeout_ms = 700
ws_ping_interval_ms = 900
ws_soft_limit_bytes = 4096
ws_hard_limit_bytes = 8192
rate_limit_per_second = 2.5
rate_limit_burst = 10
)");
  auto c = parse_serve_args({"--config", path});
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->host, "0.0.0.0");
  EXPECT_EQ(c->port, 9001);
  EXPECT_EQ(c->data_dir, "/var/lib/stox");
  EXPECT_EQ(c->io_threads, 4);
  EXPECT_EQ(c->queue_capacity, 1024u);
  EXPECT_TRUE(c->demo);
  EXPECT_EQ(c->sync, "none");
  EXPECT_EQ(c->segment_bytes, 1048576u);
  EXPECT_EQ(c->snapshot_every_commands, 5000u);
  EXPECT_EQ(c->snapshot_every_seconds, 30);
  EXPECT_EQ(c->max_body_bytes, 1000u);
  EXPECT_EQ(c->max_header_bytes, 2000u);
  EXPECT_EQ(c->max_ws_message_bytes, 3000u);
  EXPECT_EQ(c->max_connections, 10u);
  EXPECT_EQ(c->request_timeout_ms, 500);
  EXPECT_EQ(c->idle_timeout_ms, 700);
  EXPECT_EQ(c->ws_ping_interval_ms, 900);
  EXPECT_EQ(c->ws_soft_limit_bytes, 4096u);
  EXPECT_EQ(c->ws_hard_limit_bytes, 8192u);
  EXPECT_EQ(c->rate_limit_per_second, 2.5);
  EXPECT_EQ(c->rate_limit_burst, 10);
}

TEST_F(ConfigTest, FlagsOverrideTheFileWhichOverridesDefaults) {
  const std::string path = write_toml(
      "[server]\nlisten = \"0.0.0.0:9001\"\nio_threads = 4\n[limits]\nmax_connections = 10\n");
  auto c = parse_serve_args({"--listen", "127.0.0.1:7000", "--config", path, "--io-threads", "8",
                             "--rate-limit", "50", "--demo", "--sync", "none", "--data-dir", "d"});
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->host, "127.0.0.1");  // flag
  EXPECT_EQ(c->port, 7000);
  EXPECT_EQ(c->io_threads, 8);            // flag over file
  EXPECT_EQ(c->max_connections, 10u);     // file over default
  EXPECT_EQ(c->rate_limit_per_second, 50);
  EXPECT_EQ(c->rate_limit_burst, 4000);   // default
  EXPECT_TRUE(c->demo);
  EXPECT_EQ(c->sync, "none");
  EXPECT_EQ(c->data_dir, "d");
}

TEST_F(ConfigTest, ListenAcceptsNamesAddressesBracketedIpv6AndPortZero) {
  struct Case {
    const char* listen;
    const char* host;
    std::uint16_t port;
  };
  for (const Case& k : {Case{"0.0.0.0:0", "0.0.0.0", 0}, Case{"localhost:80", "localhost", 80},
                        Case{"[::1]:9000", "::1", 9000}, Case{"10.0.0.1:65535", "10.0.0.1", 65535}}) {
    auto c = parse_serve_args({"--listen", k.listen});
    ASSERT_TRUE(c.ok()) << k.listen << ": " << c.status().to_string();
    EXPECT_EQ(c->host, k.host);
    EXPECT_EQ(c->port, k.port);
  }
}

TEST_F(ConfigTest, BadListenStringsAreRefusedNamingTheFlag) {
  for (const char* listen : {"x", "1.2.3.4:99999", ":80", "host:", "host:8o", "::1:80", "[]:80",
                             "[zz]:80", "a b:80", "host:-1", "host:+80", "host:000080"}) {
    const std::string message = error_of({"--listen", listen});
    EXPECT_NE(message.find("--listen"), std::string::npos) << listen << ": " << message;
  }
  const std::string message = toml_error_of("[server]\nlisten = \"1.2.3.4:99999\"\n");
  EXPECT_NE(message.find("[server] listen"), std::string::npos) << message;
}

TEST_F(ConfigTest, InvalidFlagValuesNameTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--io-threads", "0"}, "--io-threads"},
      {{"--io-threads", "65"}, "--io-threads"},
      {{"--io-threads", "abc"}, "--io-threads"},
      {{"--io-threads", "2x"}, "--io-threads"},
      {{"--queue-capacity", "1.5"}, "--queue-capacity"},
      {{"--queue-capacity=-1"}, "--queue-capacity"},
      {{"--rate-limit", "0"}, "--rate-limit"},
      {{"--rate-limit=-5"}, "--rate-limit"},
      {{"--rate-limit", "nan"}, "--rate-limit"},
      {{"--rate-limit-burst", "0.5"}, "--rate-limit-burst"},
      {{"--max-body-bytes", "0"}, "--max-body-bytes"},
      {{"--request-timeout-ms", "0"}, "--request-timeout-ms"},
      {{"--segment-bytes", "10"}, "--segment-bytes"},
      {{"--snapshot-every-seconds", "99999999999"}, "--snapshot-every-seconds"},
      {{"--sync", "fast"}, "--sync"},
      {{"--data-dir", ""}, "--data-dir"},
      {{"--ws-soft-limit-bytes", "100", "--ws-hard-limit-bytes", "10"}, "ws_soft_limit_bytes"},
      {{"--no-such-flag"}, "--no-such-flag"},
      {{"positional"}, "positional"},
      {{"--io-threads"}, "--io-threads"},  // value missing
  };
  for (const auto& [args, name] : cases) {
    const std::string message = error_of(args);
    EXPECT_NE(message.find(name), std::string::npos) << args[0] << ": " << message;
  }
}

TEST_F(ConfigTest, InvalidFileValuesNameTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[server]\nio_threads = 0\n", "[server] io_threads"},
      {"[server]\nio_threads = \"4\"\n", "[server] io_threads"},
      {"[server]\nio_threads = 2.0\n", "[server] io_threads"},
      {"[server]\nlisten = 8080\n", "[server] listen"},
      {"[server]\ndata_dir = \"\"\n", "[server] data_dir"},
      {"[server]\ndemo = \"yes\"\n", "[server] demo"},
      {"[journal]\nsync = \"always\"\n", "[journal] sync"},
      {"[snapshots]\nevery_seconds = -1\n", "[snapshots] every_seconds"},
      {"[limits]\nrate_limit_per_second = 0\n", "[limits] rate_limit_per_second"},
      {"[limits]\nrate_limit_per_second = inf\n", "[limits] rate_limit_per_second"},
      {"[limits]\nmax_body_bytes = 0\n", "[limits] max_body_bytes"},
      {"[limits]\nws_soft_limit_bytes = 9000\nws_hard_limit_bytes = 100\n", "ws_soft_limit_bytes"},
  };
  for (const auto& [text, name] : cases) {
    const std::string message = toml_error_of(text);
    EXPECT_NE(message.find(name), std::string::npos) << text << ": " << message;
  }
}

TEST_F(ConfigTest, UnknownKeysAndSectionsInTheFileAreErrors) {
  EXPECT_NE(toml_error_of("[limits]\nmax_body_byte = 100\n").find("max_body_byte"),
            std::string::npos);
  EXPECT_NE(toml_error_of("[server]\nport = 80\n").find("[server] port"), std::string::npos);
  EXPECT_NE(toml_error_of("[serverr]\nio_threads = 2\n").find("serverr"), std::string::npos);
  EXPECT_NE(toml_error_of("io_threads = 2\n").find("io_threads"), std::string::npos);
  EXPECT_NE(toml_error_of("[limits.extra]\nx = 1\n").find("extra"), std::string::npos);
}

TEST_F(ConfigTest, UnreadableOrMalformedFilesAreErrors) {
  const std::string missing = dir_ + "/missing.toml";
  EXPECT_NE(error_of({"--config", missing}).find(missing), std::string::npos);
  const std::string message = toml_error_of("[server]\nio_threads = = 2\n");
  EXPECT_NE(message.find("stox.toml:2:"), std::string::npos) << message;
}

TEST_F(ConfigTest, ExampleFileInDocsIsValid) {
  const fs::path example = fs::path(STOX_SOURCE_DIR) / "docs/stox.example.toml";
  auto c = parse_serve_args({"--config", example.string()});
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  // The example spells out the defaults.
  const ServerConfig d;
  EXPECT_EQ(c->host, d.host);
  EXPECT_EQ(c->port, d.port);
  EXPECT_EQ(c->max_body_bytes, d.max_body_bytes);
  EXPECT_EQ(c->ws_hard_limit_bytes, d.ws_hard_limit_bytes);
  EXPECT_EQ(c->rate_limit_burst, d.rate_limit_burst);
  EXPECT_EQ(c->snapshot_every_commands, d.snapshot_every_commands);
}

}  // namespace
}  // namespace stox::server
