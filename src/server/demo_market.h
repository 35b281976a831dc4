// The demo market of `stox serve --demo` (what `make run` starts).
//
// On an empty data directory, set_up() lists a few instruments with real
// tick sizes and reference prices, creates demo accounts funded with cash
// and shares and gives each an API key. The keys are printed and kept in
// DATA_DIR/demo-keys.txt (mode 0600) so that a restart can print them again;
// this is a demo convenience that a production exchange never does (it
// stores hashes only, server/api_keys.h).
//
// MarketMaker keeps the books alive: a thread that, a few times a second,
// requotes five levels a side around a mean-reverting mid for every
// instrument, and now and then sends a small marketable order from the
// other demo accounts so that trades print. It is an ordinary client of the
// engine thread (Core::post, with its back-pressure); it never touches the
// engine directly.
#pragma once

#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "server/core.h"

namespace stox::server {

class KeyStore;

struct DemoAccount {
  std::string label;
  AccountId account = 0;
  std::string api_key;
};

struct DemoMarket {
  std::vector<DemoAccount> accounts;  // [0] is the market maker
  std::vector<std::string> symbols;
};

// Creates the demo market if the exchange is empty, else reads the keys
// back from DATA_DIR/demo-keys.txt. Blocks until every command is durable.
Result<DemoMarket> set_up_demo(Core& core, KeyStore& keys, const std::string& data_dir);

// Prints the accounts, their keys and curl examples.
void print_demo(const DemoMarket& demo, const std::string& base_url, std::ostream& out);

class MarketMaker {
 public:
  MarketMaker(Core& core, DemoMarket demo, std::uint64_t seed);
  ~MarketMaker();
  MarketMaker(const MarketMaker&) = delete;
  MarketMaker& operator=(const MarketMaker&) = delete;
  void start();
  void stop();  // idempotent

 private:
  void run();
  void tick(std::uint64_t round);

  Core& core_;
  DemoMarket demo_;
  std::uint64_t rng_;
  std::vector<double> mid_;       // current mid per symbol, in price units
  std::vector<double> reference_; // the listing's reference price
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Posts `command` and waits until it is durable; its events (or the failure).
Result<std::vector<Event>> submit_and_wait(Core& core, const Command& command);

}  // namespace stox::server
