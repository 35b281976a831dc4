// A real server for integration tests: Server::start on a free loopback
// port with a fresh data directory, and real HTTP / WebSocket clients.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>
#include <cstdlib>  // mkdtemp (POSIX, declared here by glibc)

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "client/http_client.h"
#include "common/types.h"
#include "server/server.h"

namespace stox::server::testing {

// A parsed JSON document; at("/fills/0/price") by JSON pointer.
class Json {
 public:
  explicit Json(const std::string& text) : parser_(std::make_unique<simdjson::dom::parser>()) {
    auto r = parser_->parse(text);
    if (r.error() != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << text;
      return;
    }
    root_ = r.value();
    ok_ = true;
  }
  bool ok() const { return ok_; }
  simdjson::dom::element root() const { return root_; }
  // The value at `pointer` as text: strings unquoted, others as JSON.
  std::string at(std::string_view pointer) const {
    if (!ok_) return "<not json>";
    auto v = root_.at_pointer(pointer);
    if (v.error() != simdjson::SUCCESS) return "<missing " + std::string(pointer) + ">";
    if (v.is_string()) return std::string(v.get_string().value());
    return simdjson::minify(v.value());
  }
  std::size_t size(std::string_view pointer) const {
    if (!ok_) return 0;
    auto v = root_.at_pointer(pointer);
    if (v.is_array()) return v.get_array().size();
    return 0;
  }

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::element root_;
  bool ok_ = false;
};

struct Account {
  AccountId id = 0;
  std::string key;
};

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stox-server-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.port = 0;
    config_.data_dir = dir_ + "/data";
    config_.snapshot_every_seconds = 0;
    configure(config_);
    start();
  }
  void TearDown() override {
    clients_.clear();
    if (server_) server_->stop();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Tests override to change limits before the server starts.
  virtual void configure(ServerConfig& /*config*/) {}

  void start() {
    std::ostringstream log;
    auto s = Server::start(config_, log);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    server_ = std::move(s.value());
    admin_ = server_->admin_key();
    http_ = client();
  }
  void restart() {
    http_.reset();
    clients_.clear();
    server_->stop();
    server_.reset();
    start();
  }

  std::shared_ptr<client::HttpClient> client() {
    auto c = client::HttpClient::connect("127.0.0.1", server_->port());
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    std::shared_ptr<client::HttpClient> p(std::move(c.value()));
    clients_.push_back(p);
    return p;
  }

  client::ClientResponse call(std::string_view method, std::string_view target,
                              std::string_view body = {}, std::string_view key = {}) {
    auto r = http_->request(method, target, body, key);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? r.value() : client::ClientResponse{};
  }

  std::unique_ptr<client::WsClient> ws(std::string_view key = {}) {
    auto c = client::WsClient::connect("127.0.0.1", server_->port(), "/ws", key);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? std::move(c.value()) : nullptr;
  }

  // --- admin helpers (each asserts success) ---
  void list(std::string_view symbol, std::string_view tick = "0.01", std::string_view lot = "1",
            std::string_view reference = "100.00") {
    const std::string body = std::string(R"({"symbol":")") + std::string(symbol) +
                             R"(","tickSize":")" + std::string(tick) + R"(","lotSize":")" +
                             std::string(lot) + R"(","referencePrice":")" + std::string(reference) +
                             R"(","makerFeeBps":0,"takerFeeBps":10})";
    auto r = call("POST", "/api/v1/admin/instruments", body, admin_);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  Account open_account(std::string_view label = "t") {
    auto r = call("POST", "/api/v1/admin/accounts", R"({"label":")" + std::string(label) + R"("})",
                  admin_);
    EXPECT_EQ(r.status, 201) << r.body;
    Json j(r.body);
    return Account{static_cast<AccountId>(std::stoul(j.at("/accountId"))), j.at("/apiKey")};
  }
  void deposit(const Account& a, std::string_view asset, std::string_view amount) {
    auto r = call("POST", "/api/v1/admin/deposits",
                  R"({"accountId":)" + std::to_string(a.id) + R"(,"asset":")" + std::string(asset) +
                      R"(","amount":")" + std::string(amount) + R"("})",
                  admin_);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  client::ClientResponse order(const Account& a, std::string_view side, std::string_view qty,
                               std::string_view price, std::string_view symbol = "AAPL",
                               std::string_view extra = "") {
    std::string body = R"({"symbol":")" + std::string(symbol) + R"(","side":")" +
                       std::string(side) + R"(","type":"LIMIT","quantity":")" + std::string(qty) +
                       R"(","price":")" + std::string(price) + "\"" + std::string(extra) + "}";
    return call("POST", "/api/v1/orders", body, a.key);
  }

  std::string dir_;
  ServerConfig config_;
  std::unique_ptr<Server> server_;
  std::string admin_;
  std::shared_ptr<client::HttpClient> http_;
  std::vector<std::shared_ptr<client::HttpClient>> clients_;
};

}  // namespace stox::server::testing
