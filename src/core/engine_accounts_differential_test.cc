// Differential test of the accounts mode: the Engine against the naive
// ReferenceMatcher (accounts mode) on the seeded RandomStream in accounts
// mode: hundreds of accounts with limited cash and shares, fees and maker
// rebates, deposits and withdrawals, limits, kill switches and circuit
// breaker trips, mixed into the whole order flow of the matching test.
//
// After EVERY command: the events are equal one for one, engine.check_ledger()
// and engine.check_invariants() are empty, and the balances (total, held,
// available of every asset) of every account the command's events name, and
// of the fee and external accounts, equal the reference's. Every 1000
// commands: every account's balances and positions, the books and the open
// orders, and the reference's own conservation check.
//
// Longer or different runs: STOX_DIFF_SEED=<n> STOX_DIFF_COMMANDS=<n>
// (commands per seed; the seed and command index of a failure are printed).
#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/engine.h"
#include "core/testing/random_stream.h"
#include "core/testing/reference_matcher.h"
#include "core/testing/report.h"

namespace stox {
namespace {

using testing::RandomStream;
using testing::RandomStreamOptions;
using testing::ReferenceMatcher;
using testing::describe;
using testing::env_or;
using testing::same_events;

std::string describe(const std::optional<BalanceView>& b) {
  if (!b) return "(none)";
  std::ostringstream s;
  s << "total=" << b->total << " held=" << b->held << " available=" << b->available;
  return s.str();
}

std::string describe(const std::optional<PositionView>& p) {
  if (!p) return "(none)";
  std::ostringstream s;
  s << "qty=" << p->quantity << " cost=" << p->cost << " realized=" << p->realized_pnl
    << " unrealized=" << p->unrealized_pnl << " avg=" << p->average_cost;
  return s.str();
}

bool same(const std::optional<BalanceView>& a, const std::optional<BalanceView>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::tie(a->total, a->held, a->available) == std::tie(b->total, b->held, b->available);
}

bool same(const std::optional<PositionView>& a, const std::optional<PositionView>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::tie(a->quantity, a->cost, a->realized_pnl, a->unrealized_pnl,
                        a->average_cost) == std::tie(b->quantity, b->cost, b->realized_pnl,
                                                     b->unrealized_pnl, b->average_cost);
}

// Every account a command's events name.
std::set<AccountId> touched(const std::vector<Event>& events) {
  std::set<AccountId> a;
  for (const Event& e : events) {
    switch (e.type) {
      case EventType::kAccepted: a.insert(e.accepted.order.account); break;
      case EventType::kRejected: a.insert(e.rejected.account); break;
      case EventType::kTrade:
        a.insert(e.trade.maker_account);
        a.insert(e.trade.taker_account);
        break;
      case EventType::kSettled:
        a.insert(e.settled.buyer);
        a.insert(e.settled.seller);
        break;
      case EventType::kCancelled: a.insert(e.cancelled.account); break;
      case EventType::kReduced: a.insert(e.reduced.account); break;
      case EventType::kReplaced: a.insert(e.replaced.account); break;
      case EventType::kStopTriggered: a.insert(e.stop_triggered.account); break;
      case EventType::kTransferred: a.insert(e.transferred.account); break;
      case EventType::kKillSwitch: a.insert(e.kill_switch.account); break;
      case EventType::kMassCancelled: a.insert(e.mass_cancelled.account); break;
      case EventType::kAccountCreated: a.insert(e.account_created.account); break;
      default: break;
    }
  }
  return a;
}

// What a run exercised, so that a stream that silently stops covering a rule
// is noticed.
struct Coverage {
  std::map<int, std::uint64_t> events, cancel_reasons, reject_reasons;
  std::uint64_t commands = 0, breaker_trips = 0, breaker_resumes = 0, stops_at_resume = 0,
                kill_on = 0, kill_off = 0, deposits = 0, withdrawals = 0, rebates = 0,
                balance_checks = 0;

  void add(const Command& command, const std::vector<Event>& events_of_command) {
    ++commands;
    bool breaker = false;
    // A breaker resume opens the command's events (before its own).
    bool resuming = command.type != CommandType::kSetInstrumentStatus &&
                    !events_of_command.empty() &&
                    events_of_command.front().type == EventType::kInstrumentStatus &&
                    events_of_command.front().instrument_status.status ==
                        InstrumentStatus::kTrading;
    for (const Event& e : events_of_command) {
      if (resuming && e.type == EventType::kStopTriggered) ++stops_at_resume;
      if (e.type == EventType::kAccepted || e.type == EventType::kRejected) resuming = false;
      ++events[int(e.type)];
      if (e.type == EventType::kCancelled) {
        ++cancel_reasons[int(e.cancelled.reason)];
        breaker = breaker || e.cancelled.reason == CancelReason::kCircuitBreaker;
      }
      if (e.type == EventType::kRejected) ++reject_reasons[int(e.rejected.reason)];
      if (e.type == EventType::kInstrumentStatus) {
        if (breaker && e.instrument_status.status == InstrumentStatus::kHalted) ++breaker_trips;
        if (command.type != CommandType::kSetInstrumentStatus &&
            e.instrument_status.status == InstrumentStatus::kTrading) {
          ++breaker_resumes;
        }
      }
      if (e.type == EventType::kKillSwitch) ++(e.kill_switch.enabled ? kill_on : kill_off);
      if (e.type == EventType::kTransferred) {
        ++(e.transferred.kind == CommandType::kDeposit ? deposits : withdrawals);
      }
      if (e.type == EventType::kSettled && (e.settled.buyer_fee < 0 || e.settled.seller_fee < 0)) {
        ++rebates;
      }
    }
  }
  std::string text() const {
    std::ostringstream s;
    s << "commands: " << commands << ", balance comparisons: " << balance_checks << "\nevents:";
    for (auto [k, n] : events) s << " " << k << "=" << n;
    s << "\ncancel reasons:";
    for (auto [k, n] : cancel_reasons) s << " " << to_string(CancelReason(k)) << "=" << n;
    s << "\nreject reasons:";
    for (auto [k, n] : reject_reasons) s << " " << to_string(RejectReason(k)) << "=" << n;
    s << "\nbreaker trips " << breaker_trips << ", breaker resumes " << breaker_resumes
      << " (stops triggered at a resume " << stops_at_resume << "), kill switch on/off " << kill_on << "/" << kill_off << ", deposits " << deposits
      << ", withdrawals " << withdrawals << ", settlements with a rebate " << rebates << "\n";
    return s.str();
  }
};

class AccountsRun {
 public:
  AccountsRun(std::uint64_t seed, const RandomStreamOptions& options)
      : seed_(seed), engine_(config(options)), ref_(config(options)), stream_(seed, options) {}

  static EngineConfig config(const RandomStreamOptions& options) {
    EngineConfig c;
    c.accounts = true;
    c.max_accounts = options.max_accounts;
    c.expected_orders = 256;  // small on purpose: the pools must grow
    return c;
  }

  void run(std::size_t commands, Coverage& coverage) {
    std::vector<Event> got;
    std::vector<Event> want;
    for (std::size_t i = 0; i < commands; ++i) {
      const Command command = stream_.next();
      got.clear();
      want.clear();
      engine_.apply(command, got);
      ref_.apply(command, want);
      const std::string where = "seed " + std::to_string(seed_) + ", command index " +
                                std::to_string(i) + "\n  " + describe(command);
      ASSERT_TRUE(same_events(got, want)) << where << "\n  engine events:\n"
                                          << describe(got) << "  reference events:\n"
                                          << describe(want);
      const std::string ledger = engine_.check_ledger();
      ASSERT_TRUE(ledger.empty()) << where << "\n  check_ledger: " << ledger << "\n  events:\n"
                                  << describe(got);
      const std::string broken = engine_.check_invariants();
      ASSERT_TRUE(broken.empty()) << where << "\n  invariant: " << broken;

      std::set<AccountId> accounts = touched(want);
      accounts.insert(kFeeAccount);
      accounts.insert(kExternalAccount);
      expect_balances(accounts, where, got, coverage);
      if (::testing::Test::HasFatalFailure()) return;

      coverage.add(command, want);
      stream_.observe(want);
      if (i % 1000 == 999 || i + 1 == commands) {
        expect_everything(where, coverage);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }

 private:
  void expect_balances(const std::set<AccountId>& accounts, const std::string& where,
                       const std::vector<Event>& events, Coverage& coverage) {
    const auto assets = static_cast<AssetId>(ref_.instrument_count());
    for (AccountId a : accounts) {
      const bool system = a == kFeeAccount || a == kExternalAccount;
      if (!system && (a == 0 || a > ref_.account_count())) continue;
      for (AssetId asset = 0; asset <= assets; ++asset) {
        const std::optional<BalanceView> want = ref_.balance(a, asset);
        const std::optional<BalanceView> got = engine_.balance(a, asset);
        ++coverage.balance_checks;
        ASSERT_TRUE(same(got, want))
            << where << "\n  balance of account " << a << " asset " << asset
            << "\n    engine:    " << describe(got) << "\n    reference: " << describe(want)
            << "\n  events:\n"
            << describe(events);
      }
    }
  }

  void expect_everything(const std::string& where, Coverage& coverage) {
    std::set<AccountId> all = {kFeeAccount, kExternalAccount};
    for (AccountId a = 1; a <= ref_.account_count(); ++a) all.insert(a);
    expect_balances(all, where, {}, coverage);
    if (::testing::Test::HasFatalFailure()) return;
    for (AccountId a = 1; a <= ref_.account_count(); ++a) {
      for (InstrumentId id = 1; id <= ref_.instrument_count(); ++id) {
        const std::optional<PositionView> want = ref_.position(a, id);
        const std::optional<PositionView> got = engine_.position(a, id);
        ASSERT_TRUE(same(got, want)) << where << "\n  position of account " << a
                                     << " in instrument " << id << "\n    engine:    "
                                     << describe(got) << "\n    reference: " << describe(want);
      }
    }
    const std::string conservation = ref_.check_conservation();
    ASSERT_TRUE(conservation.empty()) << where << "\n  " << conservation;
    for (InstrumentId id = 1; id <= ref_.instrument_count(); ++id) {
      for (Side side : {Side::kBuy, Side::kSell}) {
        const std::vector<LevelView> want = ref_.depth(id, side);
        const std::vector<LevelView> got = engine_.depth(id, side, 1'000'000);
        ASSERT_EQ(got.size(), want.size()) << where << ": depth of instrument " << id;
        for (std::size_t k = 0; k < got.size(); ++k) {
          ASSERT_TRUE(std::tie(got[k].price, got[k].quantity, got[k].count) ==
                      std::tie(want[k].price, want[k].quantity, want[k].count))
              << where << ": depth of instrument " << id << " level " << k;
        }
      }
      const std::optional<InstrumentView> want = ref_.instrument(id);
      const std::optional<InstrumentView> got = engine_.instrument(id);
      ASSERT_TRUE(got.has_value());
      ASSERT_EQ(got->status, want->status) << where << ": status of instrument " << id;
      ASSERT_EQ(got->last_price, want->last_price) << where << ": last of instrument " << id;
      ASSERT_EQ(got->spec.reference_price, want->spec.reference_price) << where;
    }
    ASSERT_EQ(engine_.open_orders(), ref_.open_orders()) << where;
    for (OrderId id : ref_.open_order_ids()) {
      const OrderView want = *ref_.order(id);
      const std::optional<OrderView> got = engine_.order(id);
      ASSERT_TRUE(got.has_value()) << where << ": engine lost order " << id;
      ASSERT_TRUE(std::tie(got->account, got->price, got->stop_price, got->quantity, got->leaves,
                           got->triggered) == std::tie(want.account, want.price, want.stop_price,
                                                       want.quantity, want.leaves, want.triggered))
          << where << ": order " << id;
    }
  }

  std::uint64_t seed_;
  Engine engine_;
  ReferenceMatcher ref_;
  RandomStream stream_;
};

RandomStreamOptions accounts_options() {
  RandomStreamOptions o;
  o.accounts_mode = true;
  o.accounts = 250;
  o.active_accounts = 4;
  o.max_accounts = 1 << 20;
  o.target_open_orders = 300;
  // Market orders whose band notional overflows (regression:
  // MarketBuyWhoseBandNotionalOverflowsIsRejected below).
  o.huge_market_orders = true;
  return o;
}

TEST(EngineAccountsDifferentialTest, EngineMatchesReferenceWithAccountsOnRandomStream) {
  const bool seed_given = std::getenv("STOX_DIFF_SEED") != nullptr;
  const std::uint64_t base = env_or("STOX_DIFF_SEED", 20261123);
  const std::size_t commands = env_or("STOX_DIFF_COMMANDS", 150'000);
  const std::vector<std::uint64_t> seeds =
      seed_given ? std::vector<std::uint64_t>{base}
                 : std::vector<std::uint64_t>{base, 11, 12, 13};

  // A second shape: fewer, poorer accounts on one crowded book.
  RandomStreamOptions crowded = accounts_options();
  crowded.instruments = 2;
  crowded.accounts = 120;
  crowded.active_accounts = 2;
  crowded.target_open_orders = 120;
  crowded.invalid_per_mille = 80;

  Coverage coverage;
  for (std::uint64_t seed : seeds) {
    SCOPED_TRACE("accounts stream, seed " + std::to_string(seed));
    AccountsRun(seed, accounts_options()).run(commands, coverage);
    if (HasFatalFailure()) return;
  }
  {
    SCOPED_TRACE("crowded accounts stream, seed " + std::to_string(base + 1) +
                 " (STOX_DIFF_SEED + 1)");
    AccountsRun(base + 1, crowded).run(commands / 2, coverage);
    if (HasFatalFailure()) return;
  }

  std::cout << coverage.text();
  if (commands < 50'000) return;  // a short run by flag need not cover everything
  for (EventType t : {EventType::kTrade, EventType::kSettled, EventType::kTransferred,
                      EventType::kLimitsSet, EventType::kKillSwitch, EventType::kAccountCreated,
                      EventType::kStopTriggered, EventType::kReduced, EventType::kReplaced,
                      EventType::kDayEnded, EventType::kMassCancelled}) {
    EXPECT_GT(coverage.events[int(t)], 0u) << "event type " << int(t) << " never happened";
  }
  for (int r = int(CancelReason::kUser); r <= int(CancelReason::kInsufficientFunds); ++r) {
    EXPECT_GT(coverage.cancel_reasons[r], 0u) << to_string(CancelReason(r)) << " never happened";
  }
  for (RejectReason r :
       {RejectReason::kInsufficientFunds, RejectReason::kInsufficientShares,
        RejectReason::kOrderQuantityTooLarge, RejectReason::kOrderNotionalTooLarge,
        RejectReason::kPriceOutsideCollar, RejectReason::kTooManyOpenOrders,
        RejectReason::kRateLimited, RejectReason::kAccountDisabled, RejectReason::kInvalidLimits,
        RejectReason::kUnsupportedAccountType, RejectReason::kInvalidAsset,
        RejectReason::kInvalidAmount, RejectReason::kInsufficientAvailable,
        RejectReason::kBalanceOverflow, RejectReason::kUnknownAccount,
        RejectReason::kInstrumentHalted, RejectReason::kInvalidInstrument,
        RejectReason::kUnknownOrder}) {
    EXPECT_GT(coverage.reject_reasons[int(r)], 0u) << to_string(r) << " never happened";
  }
  EXPECT_GT(coverage.breaker_trips, 0u);
  EXPECT_GT(coverage.breaker_resumes, 0u);
  EXPECT_GT(coverage.stops_at_resume, 0u);
  EXPECT_GT(coverage.kill_on, 0u);
  EXPECT_GT(coverage.kill_off, 0u);
  EXPECT_GT(coverage.deposits, 0u);
  EXPECT_GT(coverage.withdrawals, 0u);
  EXPECT_GT(coverage.rebates, 0u);
}

// Regression (found by this test's stream): a MARKET order's band price x
// quantity used to wrap in 64 bits, so a MARKET BUY of quantity INT64_MAX by
// an account with no cash was accepted and left its cash negative. It must be
// rejected with kValueOverflow, by the engine and the reference alike.
TEST(EngineAccountsDifferentialTest, MarketBuyWhoseBandNotionalOverflowsIsRejected) {
  EngineConfig config;
  config.accounts = true;
  Engine engine(config);
  ReferenceMatcher ref(config);
  AddInstrument w{};
  w.symbol = Symbol::from("W");
  w.tick_size = 1000;
  w.lot_size = 7;
  w.reference_price = 12345000;
  w.market_band_bps = 50;
  w.price_scale = 4;
  w.quantity_scale = 3;
  NewOrder ask{};
  ask.account = 2;
  ask.instrument = 1;
  ask.side = Side::kSell;
  ask.type = OrderType::kLimit;
  ask.time_in_force = TimeInForce::kGtc;
  ask.price = 12345000;
  ask.quantity = 700;
  NewOrder buy{};
  buy.account = 1;  // no cash at all
  buy.instrument = 1;
  buy.side = Side::kBuy;
  buy.type = OrderType::kMarket;
  buy.time_in_force = TimeInForce::kIoc;
  buy.quantity = std::numeric_limits<Quantity>::max();  // a multiple of the lot 7
  const Timestamp t = 1'700'000'000'000'000'000;
  const std::vector<Command> commands = {
      Command::make(1, t, w),
      Command::make(2, t + 1, CreateAccount{FixedString<16>::from("a"), AccountType::kCash}),
      Command::make(3, t + 2, CreateAccount{FixedString<16>::from("b"), AccountType::kCash}),
      Command::deposit(4, t + 3, Transfer{2, 1, 700}),
      Command::make(5, t + 4, ask),
      Command::make(6, t + 5, buy),
  };
  for (const Command& c : commands) {
    std::vector<Event> got;
    std::vector<Event> want;
    engine.apply(c, got);
    ref.apply(c, want);
    EXPECT_TRUE(same_events(got, want)) << describe(c) << "\n  engine events:\n"
                                        << describe(got) << "  reference events:\n"
                                        << describe(want);
    EXPECT_EQ(engine.check_ledger(), "") << describe(c);
  }
  EXPECT_EQ(engine.balance(1, kCashAsset)->total, 0);
  EXPECT_EQ(engine.balance(1, 1)->total, 0);
  EXPECT_EQ(engine.open_orders(), 1u);  // only the ask
}

}  // namespace
}  // namespace stox
