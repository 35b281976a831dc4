#include "server/demo_market.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <utility>

#include "server/api_keys.h"

namespace stox::server {
namespace {

struct Listing {
  const char* symbol;
  Price reference_cents;
};

// Tick 0.01 and lot 1 share, as on US equity venues; reference prices are
// round figures near recent closes.
constexpr Listing kListings[] = {
    {"AAPL", 18950}, {"MSFT", 41520}, {"GOOGL", 17230}, {"AMZN", 18610}, {"TSLA", 24850},
};

constexpr Amount kCashScaleUnit = 10'000;  // EngineConfig::cash_scale = 4

struct Funding {
  const char* label;
  Amount usd;
  Quantity shares_each;
};
constexpr Funding kAccounts[] = {
    {"market-maker", 50'000'000, 200'000},
    {"alice", 1'000'000, 5'000},
    {"bob", 1'000'000, 5'000},
};

std::string keys_path(const std::string& data_dir) { return data_dir + "/demo-keys.txt"; }

Status write_demo_keys(const std::string& data_dir, const DemoMarket& demo) {
  std::ostringstream text;
  for (const DemoAccount& a : demo.accounts) {
    text << a.label << ' ' << a.account << ' ' << a.api_key << '\n';
  }
  const std::string body = text.str();
  const std::string path = keys_path(data_dir);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot create " + path, errno);
  const bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::OK() : Status::IOError("cannot write " + path, errno);
}

Result<DemoMarket> read_demo_keys(const std::string& data_dir) {
  std::ifstream in(keys_path(data_dir));
  if (!in) {
    return Status::NotFound(keys_path(data_dir) +
                            " is missing: this data directory was not created by --demo");
  }
  DemoMarket demo;
  DemoAccount a;
  while (in >> a.label >> a.account >> a.api_key) demo.accounts.push_back(a);
  for (const Listing& l : kListings) demo.symbols.emplace_back(l.symbol);
  if (demo.accounts.empty()) return Status::Corruption(keys_path(data_dir) + " holds no keys");
  return demo;
}

Status expect_ok(const Result<std::vector<Event>>& r, std::string_view what) {
  if (!r.ok()) return r.status();
  for (const Event& e : r.value()) {
    if (e.type == EventType::kRejected) {
      return Status::InvalidArgument(std::string(what) + ": rejected " +
                                     std::string(to_string(e.rejected.reason)));
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<Event>> submit_and_wait(Core& core, const Command& command) {
  auto promise = std::make_shared<std::promise<Result<std::vector<Event>>>>();
  auto future = promise->get_future();
  Work w;
  w.command = command;
  w.done = [promise](CoreContext& c) {
    if (c.failure != nullptr) {
      promise->set_value(*c.failure);
    } else {
      promise->set_value(std::vector<Event>(c.events.begin(), c.events.end()));
    }
  };
  if (!core.post(std::move(w))) return Status::IOError("the engine queue is full or stopped");
  return future.get();
}

Result<DemoMarket> set_up_demo(Core& core, KeyStore& keys, const std::string& data_dir) {
  if (core.committed_seq() != 0) return read_demo_keys(data_dir);
  DemoMarket demo;
  for (const Listing& l : kListings) {
    AddInstrument spec{};
    spec.symbol = Symbol::from(l.symbol);
    spec.tick_size = 1;
    spec.lot_size = 1;
    spec.reference_price = l.reference_cents;
    spec.taker_fee_bps = 3;
    spec.price_scale = 2;
    spec.quantity_scale = 0;
    if (Status s = expect_ok(submit_and_wait(core, Command::make(0, 0, spec)), l.symbol); !s.ok()) {
      return s;
    }
    demo.symbols.emplace_back(l.symbol);
  }
  for (const Funding& f : kAccounts) {
    CreateAccount spec{};
    spec.label = FixedString<16>::from(f.label);
    spec.type = AccountType::kCash;
    auto created = submit_and_wait(core, Command::make(0, 0, spec));
    if (Status s = expect_ok(created, f.label); !s.ok()) return s;
    AccountId id = 0;
    for (const Event& e : created.value()) {
      if (e.type == EventType::kAccountCreated) id = e.account_created.account;
    }
    Transfer cash{id, kCashAsset, f.usd * kCashScaleUnit};
    if (Status s = expect_ok(submit_and_wait(core, Command::deposit(0, 0, cash)), "deposit");
        !s.ok()) {
      return s;
    }
    for (std::size_t i = 0; i < demo.symbols.size(); ++i) {
      Transfer shares{id, static_cast<AssetId>(i + 1), f.shares_each};
      if (Status s = expect_ok(submit_and_wait(core, Command::deposit(0, 0, shares)), "deposit");
          !s.ok()) {
        return s;
      }
    }
    Result<std::string> key = keys.create_key(id, kRead | kTrade, f.label);
    if (!key.ok()) return key.status();
    demo.accounts.push_back(DemoAccount{f.label, id, key.value()});
  }
  if (Status s = write_demo_keys(data_dir, demo); !s.ok()) return s;
  return demo;
}

void print_demo(const DemoMarket& demo, const std::string& base_url, std::ostream& out) {
  out << "demo market: ";
  for (const std::string& s : demo.symbols) out << s << ' ';
  out << "\ndemo accounts (API keys also in DATA_DIR/demo-keys.txt):\n";
  for (const DemoAccount& a : demo.accounts) {
    out << "  " << a.label << " (account " << a.account << "): " << a.api_key << '\n';
  }
  if (demo.accounts.size() > 1) {
    const std::string& key = demo.accounts[1].api_key;
    out << "try:\n"
        << "  curl " << base_url << "/api/v1/orderbook/AAPL\n"
        << "  curl -H 'Authorization: Bearer " << key << "' " << base_url << "/api/v1/account\n"
        << "  curl -H 'Authorization: Bearer " << key << "' -d "
        << R"('{"symbol":"AAPL","side":"BUY","type":"LIMIT","quantity":"10","price":"189.00"}' )"
        << base_url << "/api/v1/orders\n";
  }
  out.flush();
}

// --- market maker ---------------------------------------------------------

MarketMaker::MarketMaker(Core& core, DemoMarket demo, std::uint64_t seed)
    : core_(core), demo_(std::move(demo)), rng_(seed | 1) {
  for (const std::string& s : demo_.symbols) {
    auto info = core_.symbols().find(s);
    const double ref = info ? static_cast<double>(info->spec.reference_price) : 10000.0;
    reference_.push_back(ref);
    mid_.push_back(ref);
  }
}

MarketMaker::~MarketMaker() { stop(); }

void MarketMaker::start() {
  thread_ = std::thread([this] { run(); });
}

void MarketMaker::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void MarketMaker::run() {
  std::mutex m;
  std::condition_variable never;  // a wait that stop() ends within one period
  std::uint64_t round = 0;
  while (!stop_.load()) {
    tick(round++);
    std::unique_lock lock(m);
    never.wait_for(lock, std::chrono::milliseconds(250), [&] { return stop_.load(); });
  }
}

void MarketMaker::tick(std::uint64_t round) {
  auto next = [this] {  // xorshift64: demo randomness, not security
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  };
  const AccountId mm = demo_.accounts.at(0).account;
  auto post = [this](const Command& c) {
    Work w;
    w.command = c;
    (void)core_.post(std::move(w));  // a full queue skips a requote: fine for a demo
  };
  for (std::size_t i = 0; i < mid_.size(); ++i) {
    const auto id = static_cast<InstrumentId>(i + 1);
    const double drift = (reference_[i] - mid_[i]) * 0.05;  // mean-reverting walk
    mid_[i] += drift + static_cast<double>(static_cast<int>(next() % 5) - 2);
    const auto mid = static_cast<Price>(std::llround(mid_[i]));
    post(Command::make(0, 0, MassCancel{mm, id}));
    for (int level = 1; level <= 5; ++level) {
      for (Side side : {Side::kBuy, Side::kSell}) {
        NewOrder o{};
        o.account = mm;
        o.instrument = id;
        o.side = side;
        o.type = OrderType::kLimit;
        o.time_in_force = TimeInForce::kGtc;
        o.price = side == Side::kBuy ? mid - Price{2} * level : mid + Price{2} * level;
        o.quantity = static_cast<Quantity>(10 + next() % 190);
        post(Command::make(0, 0, o));
      }
    }
    if (demo_.accounts.size() > 1 && (round + i) % 4 == 0) {  // a taker now and then
      const DemoAccount& taker = demo_.accounts[1 + (next() % (demo_.accounts.size() - 1))];
      NewOrder o{};
      o.account = taker.account;
      o.instrument = id;
      o.side = (next() & 1) != 0 ? Side::kBuy : Side::kSell;
      o.type = OrderType::kLimit;
      o.time_in_force = TimeInForce::kIoc;
      o.price = o.side == Side::kBuy ? mid + 4 : mid - 4;
      o.quantity = static_cast<Quantity>(1 + next() % 20);
      post(Command::make(0, 0, o));
    }
  }
}

}  // namespace stox::server
