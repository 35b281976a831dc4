// Unit tests of the accounts mode of core::Engine: one test per rule of
// docs/design.md, "Accounts, ledger and risk", written from the spec alone
// (not from ledger.cc / risk.cc) and named after the behaviour they pin down.
//
// Each test is a scenario script in the style of engine_test.cc: commands go
// in through the fixture's verbs, then the test states the exact events of
// the last command and the exact balances, worked out by hand from the
// formulas of the spec. Every command is followed by check_ledger(), and every
// test ends with check_ledger() and check_invariants().
//
// Money: cash (asset 0) is at the default cash scale 4, so 1 USD = 10000.
// Instrument 1, "ACME", has price scale 2, quantity scale 0, tick 5, lot 1,
// reference price 10000 (100.00), the default 5 % band and no fees, so the
// cash notional of a fill is price × quantity × 100: 1 share at 100.00 is
// 1,000,000. Tests that need fees add their own instrument (id 2).
//
// Accounts 1 (alice), 2 (bob) and 3 (carol) are created empty by SetUp;
// each test deposits what it needs.
#include "core/engine.h"
#include "core/testing/builders.h"
#include "core/testing/scenario.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace stox {
namespace {

constexpr AccountId kAlice = 1;
constexpr AccountId kBob = 2;
constexpr AccountId kCarol = 3;
constexpr AccountId kNobody = 9;  // within max_accounts, never created

constexpr Side kBuy = Side::kBuy;
constexpr Side kSell = Side::kSell;

constexpr Timestamp kSecond = 1'000'000'000;
constexpr Timestamp kT0 = testing::kScenarioT0;  // a whole second

AddInstrument spec(std::string_view symbol, std::int32_t maker_bps = 0, std::int32_t taker_bps = 0,
                   Price reference = 10000, std::uint8_t price_scale = 2,
                   std::uint8_t quantity_scale = 0, Price tick = 5, Quantity lot = 1) {
  return testing::instrument_spec(symbol, tick, lot, reference, 0, price_scale, quantity_scale,
                                  maker_bps, taker_bps);
}

using testing::Levels;

// The scenario fixture (core/testing/scenario.h) in accounts mode, with ACME
// (instrument 1) listed and alice, bob and carol (accounts 1-3) created empty.
class AccountsTest : public testing::Scenario {
 protected:
  static EngineConfig config() {
    EngineConfig c;
    c.accounts = true;
    c.expected_orders = 1024;
    return c;
  }
  AccountsTest() : Scenario(config()) {}

  void SetUp() override {
    ASSERT_EQ(add(spec("ACME")), 1u);
    inst_ = 1;
    for (const char* label : {"alice", "bob", "carol"}) {
      apply(CreateAccount{FixedString<16>::from(label), AccountType::kCash});
      ASSERT_EQ(events_.size(), 1u);
      ASSERT_EQ(events_[0].type, EventType::kAccountCreated);
    }
    ASSERT_EQ(events_[0].account_created.account, kCarol);
  }

  // --- accounts commands -------------------------------------------------

  void deposit(AccountId account, AssetId asset, Amount amount) {
    run([&](SeqNo s, Timestamp t) { return Command::deposit(s, t, Transfer{account, asset, amount}); });
  }
  void withdraw(AccountId account, AssetId asset, Amount amount) {
    run([&](SeqNo s, Timestamp t) { return Command::withdraw(s, t, Transfer{account, asset, amount}); });
  }
  void fund(AccountId account, Amount cash) {
    deposit(account, kCashAsset, cash);
    ASSERT_EQ(events_.size(), 1u);
    ASSERT_EQ(events_[0].type, EventType::kTransferred);
  }
  void give_shares(AccountId account, InstrumentId inst, Quantity qty) {
    deposit(account, inst, qty);
    ASSERT_EQ(events_.size(), 1u);
    ASSERT_EQ(events_[0].type, EventType::kTransferred);
  }
  void kill(AccountId account, bool on) { apply(SetKillSwitch{account, on}); }
  void account_limits(AccountId account, std::uint32_t open_orders, std::uint32_t per_second,
                      Quantity max_qty, Amount max_notional) {
    apply(SetAccountLimits{account, open_orders, per_second, max_qty, max_notional});
  }
  void instrument_limits(InstrumentId inst, std::int32_t collar, std::int32_t breaker,
                         Quantity max_qty, Amount max_notional, Timestamp halt_ns) {
    apply(SetInstrumentLimits{inst, collar, breaker, max_qty, max_notional, halt_ns});
  }

  // --- assertions on balances and positions ------------------------------

  // total and held of an account's asset; available must be their difference.
  ::testing::AssertionResult holds(AccountId account, AssetId asset, Amount total,
                                   Amount held) const {
    const std::optional<BalanceView> b = engine_.balance(account, asset);
    if (!b) return ::testing::AssertionFailure() << "no balance for " << account;
    if (b->total == total && b->held == held && b->available == total - held) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "account " << account << " asset " << asset << ": expected total=" << total
           << " held=" << held << " available=" << total - held << ", got total=" << b->total
           << " held=" << b->held << " available=" << b->available;
  }
  Amount total(AccountId account, AssetId asset = kCashAsset) const {
    const std::optional<BalanceView> b = engine_.balance(account, asset);
    return b ? b->total : std::numeric_limits<Amount>::min();
  }

  ::testing::AssertionResult position_is(AccountId account, InstrumentId inst, Quantity qty,
                                         Amount cost, Amount realized, Amount unrealized,
                                         Price average) const {
    const std::optional<PositionView> p = engine_.position(account, inst);
    if (!p) return ::testing::AssertionFailure() << "no position for " << account;
    if (std::tie(p->quantity, p->cost, p->realized_pnl, p->unrealized_pnl, p->average_cost) ==
        std::tie(qty, cost, realized, unrealized, average)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "position of " << account << " in " << inst << ": expected qty=" << qty
           << " cost=" << cost << " realized=" << realized << " unrealized=" << unrealized
           << " avg=" << average << ", got qty=" << p->quantity << " cost=" << p->cost
           << " realized=" << p->realized_pnl << " unrealized=" << p->unrealized_pnl
           << " avg=" << p->average_cost;
  }
};

// =========================================================================
// Accounts, instruments and transfers
// =========================================================================

TEST_F(AccountsTest, CreateAccountAssignsIdsFromOneAndRejectsMargin) {
  // SetUp created 1, 2 and 3; a fresh account starts empty.
  apply(CreateAccount{FixedString<16>::from("dave"), AccountType::kCash});
  EXPECT_EVENTS(account_created(4, "dave"));
  EXPECT_TRUE(holds(4, kCashAsset, 0, 0));
  EXPECT_TRUE(holds(4, inst_, 0, 0));

  apply(CreateAccount{FixedString<16>::from("margin"), AccountType::kMargin});
  EXPECT_EVENTS(rejected(CommandType::kCreateAccount, RejectReason::kUnsupportedAccountType, 0));

  // A rejected account takes no id.
  apply(CreateAccount{FixedString<16>::from("erin"), AccountType::kCash});
  EXPECT_EVENTS(account_created(5, "erin"));
}

TEST_F(AccountsTest, UnknownAccountIsRejectedInAccountsMode) {
  const NewOrder o = limit(kBuy, 10000, 1).account(kNobody);
  EXPECT_TRUE(rejects(o, RejectReason::kUnknownAccount));
  // The instrument is checked first.
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1).account(kNobody).on(77), RejectReason::kUnknownSymbol));

  apply(MassCancel{kNobody, 0});
  EXPECT_EVENTS(rejected(CommandType::kMassCancel, RejectReason::kUnknownAccount, kNobody));
  deposit(kNobody, kCashAsset, 100);
  EXPECT_EVENTS(rejected(CommandType::kDeposit, RejectReason::kUnknownAccount, kNobody));
  kill(kNobody, true);
  EXPECT_EVENTS(rejected(CommandType::kSetKillSwitch, RejectReason::kUnknownAccount, kNobody));
}

TEST_F(AccountsTest, AddInstrumentValidatesFeesAndPriceScaleInAccountsMode) {
  const std::vector<AddInstrument> bad = {
      spec("T1", 0, -1),          // taker below 0
      spec("T2", 0, 10001),       // taker above 10000
      spec("T3", -6, 5),          // rebate larger than the taker fee
      spec("T4", 10001, 10),      // maker above 10000
      spec("T5", 0, 0, 10000, 5), // price scale 5 > cash scale 4
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    EXPECT_EQ(add(bad[i]), 0u);
    EXPECT_EVENTS(rejected(CommandType::kAddInstrument, RejectReason::kInvalidInstrument, 0));
  }
  // The edges are valid, and the event echoes the fees.
  const AddInstrument edge = spec("EDGE", -10000, 10000);
  EXPECT_EQ(add(edge), 2u);
  EXPECT_EVENTS(instrument_added(2, edge));
  const AddInstrument cash_scale = spec("CS", -5, 5, 123456, 4, 0, 1);
  EXPECT_EQ(add(cash_scale), 3u);
  EXPECT_EVENTS(instrument_added(3, cash_scale));
  const AddInstrument maker_only = spec("MK", 10000, 0);
  EXPECT_EQ(add(maker_only), 4u);
  EXPECT_EVENTS(instrument_added(4, maker_only));
}

TEST_F(AccountsTest, DepositAndWithdrawPostAgainstExternalAccount) {
  deposit(kAlice, kCashAsset, 5'000'000);
  EXPECT_EVENTS(transferred(CommandType::kDeposit, kAlice, kCashAsset, 5'000'000, 5'000'000));
  deposit(kBob, inst_, 3);
  EXPECT_EVENTS(transferred(CommandType::kDeposit, kBob, inst_, 3, 3));
  deposit(kAlice, kCashAsset, 1);
  EXPECT_EVENTS(transferred(CommandType::kDeposit, kAlice, kCashAsset, 1, 5'000'001));
  EXPECT_EQ(total(kExternalAccount), -5'000'001);
  EXPECT_EQ(total(kExternalAccount, inst_), -3);

  withdraw(kAlice, kCashAsset, 1'250'000);
  EXPECT_EVENTS(transferred(CommandType::kWithdraw, kAlice, kCashAsset, 1'250'000, 3'750'001));
  withdraw(kBob, inst_, 3);
  EXPECT_EVENTS(transferred(CommandType::kWithdraw, kBob, inst_, 3, 0));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 3'750'001, 0));
  EXPECT_TRUE(holds(kBob, inst_, 0, 0));
  EXPECT_EQ(total(kExternalAccount), -3'750'001);
  EXPECT_EQ(total(kExternalAccount, inst_), 0);
  EXPECT_EQ(total(kFeeAccount), 0);
}

TEST_F(AccountsTest, WithdrawalBeyondAvailableIsRejected) {
  fund(kAlice, 3'000'000);
  const OrderId b = send(limit(kBuy, 10000, 2));
  ASSERT_NE(b, 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 3'000'000, 2'000'000));

  withdraw(kAlice, kCashAsset, 1'000'001);
  EXPECT_EVENTS(rejected(CommandType::kWithdraw, RejectReason::kInsufficientAvailable, kAlice));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 3'000'000, 2'000'000));
  withdraw(kAlice, kCashAsset, 1'000'000);
  EXPECT_EVENTS(transferred(CommandType::kWithdraw, kAlice, kCashAsset, 1'000'000, 2'000'000));

  // Held shares cannot be withdrawn either.
  give_shares(kBob, inst_, 5);
  ASSERT_NE(send(limit(kSell, 10100, 4).account(kBob)), 0u);
  withdraw(kBob, inst_, 2);
  EXPECT_EVENTS(rejected(CommandType::kWithdraw, RejectReason::kInsufficientAvailable, kBob));
  withdraw(kBob, inst_, 1);
  EXPECT_EVENTS(transferred(CommandType::kWithdraw, kBob, inst_, 1, 4));
  EXPECT_TRUE(holds(kBob, inst_, 4, 4));
}

TEST_F(AccountsTest, TransferIsValidatedInSpecifiedOrder) {
  deposit(kNobody, 77, 0);
  EXPECT_EVENTS(rejected(CommandType::kDeposit, RejectReason::kUnknownAccount, kNobody));
  deposit(kAlice, 77, 0);
  EXPECT_EVENTS(rejected(CommandType::kDeposit, RejectReason::kInvalidAsset, kAlice));
  deposit(kAlice, 2, 5);  // no instrument 2 yet
  EXPECT_EVENTS(rejected(CommandType::kDeposit, RejectReason::kInvalidAsset, kAlice));
  deposit(kAlice, kCashAsset, 0);
  EXPECT_EVENTS(rejected(CommandType::kDeposit, RejectReason::kInvalidAmount, kAlice));
  deposit(kAlice, inst_, -1);
  EXPECT_EVENTS(rejected(CommandType::kDeposit, RejectReason::kInvalidAmount, kAlice));
  withdraw(kAlice, 77, -1);
  EXPECT_EVENTS(rejected(CommandType::kWithdraw, RejectReason::kInvalidAsset, kAlice));
  withdraw(kAlice, kCashAsset, 0);  // amount before available
  EXPECT_EVENTS(rejected(CommandType::kWithdraw, RejectReason::kInvalidAmount, kAlice));
  withdraw(kAlice, kCashAsset, 1);
  EXPECT_EVENTS(rejected(CommandType::kWithdraw, RejectReason::kInsufficientAvailable, kAlice));
  withdraw(kAlice, inst_, 1);
  EXPECT_EVENTS(rejected(CommandType::kWithdraw, RejectReason::kInsufficientAvailable, kAlice));

  constexpr Amount kMax = std::numeric_limits<Amount>::max();
  deposit(kAlice, kCashAsset, kMax);
  EXPECT_EVENTS(transferred(CommandType::kDeposit, kAlice, kCashAsset, kMax, kMax));
  deposit(kAlice, kCashAsset, 1);
  EXPECT_EVENTS(rejected(CommandType::kDeposit, RejectReason::kBalanceOverflow, kAlice));
  EXPECT_TRUE(holds(kAlice, kCashAsset, kMax, 0));
  EXPECT_EQ(total(kExternalAccount), -kMax);
}

// =========================================================================
// Holds
// =========================================================================

TEST_F(AccountsTest, BuyLimitHoldsNotionalPlusMaximumFee) {
  const InstrumentId f1 = add(spec("F1", 10, 30));   // B = 30 (taker)
  const InstrumentId f2 = add(spec("F2", 40, 30));   // B = 40 (maker)
  const InstrumentId f3 = add(spec("F3", -10, 20));  // B = 20
  fund(kAlice, 10'000'000);

  // N = 10005 × 7 × 100 = 7,003,500; fee trunc(21,010.5) = 21,010.
  ASSERT_NE(send(limit(kBuy, 10005, 7).on(f1)), 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 7'024'510));
  // N = 1,000,500; fee at the maker's 40 bps: 4,002.
  ASSERT_NE(send(limit(kBuy, 10005, 1).on(f2)), 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 8'029'012));
  // A rebate does not lower the hold: fee at the taker's 20 bps, 2,001.
  ASSERT_NE(send(limit(kBuy, 10005, 1).on(f3)), 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 9'031'513));

  // 968,487 left: one more share at 100.00 (1,000,000) is too much.
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1), RejectReason::kInsufficientFunds));
  ASSERT_NE(send(limit(kBuy, 9680, 1)), 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 9'999'513));
}

TEST_F(AccountsTest, FundsAreCheckedToTheUnit) {
  fund(kAlice, 999'999);
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1), RejectReason::kInsufficientFunds));
  fund(kAlice, 1);
  ASSERT_NE(send(limit(kBuy, 10000, 1)), 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 1'000'000, 1'000'000));
}

TEST_F(AccountsTest, SellHoldsShares) {
  give_shares(kBob, inst_, 10);
  ASSERT_NE(send(limit(kSell, 10100, 4).account(kBob)), 0u);
  EXPECT_TRUE(holds(kBob, inst_, 10, 4));
  ASSERT_NE(send(stop(kSell, 9900, 3).account(kBob)), 0u);
  EXPECT_TRUE(holds(kBob, inst_, 10, 7));
  ASSERT_NE(send(stop_limit(kSell, 9900, 9850, 2).account(kBob)), 0u);
  EXPECT_TRUE(holds(kBob, inst_, 10, 9));
  // Selling needs no cash.
  EXPECT_TRUE(holds(kBob, kCashAsset, 0, 0));
}

TEST_F(AccountsTest, NoShortSellingWithoutShares) {
  EXPECT_TRUE(rejects(limit(kSell, 10000, 1).account(kBob), RejectReason::kInsufficientShares));
  EXPECT_TRUE(rejects(market(kSell, 1).account(kBob), RejectReason::kInsufficientShares));
  EXPECT_TRUE(rejects(stop(kSell, 9900, 1).account(kBob), RejectReason::kInsufficientShares));

  give_shares(kBob, inst_, 5);
  ASSERT_NE(send(limit(kSell, 10100, 4).account(kBob)), 0u);
  EXPECT_TRUE(rejects(limit(kSell, 10200, 2).account(kBob), RejectReason::kInsufficientShares));
  ASSERT_NE(send(limit(kSell, 10200, 1).account(kBob)), 0u);
  EXPECT_TRUE(holds(kBob, inst_, 5, 5));
  EXPECT_TRUE(rejects(limit(kSell, 10200, 1).account(kBob), RejectReason::kInsufficientShares));
}

TEST_F(AccountsTest, IcebergHoldsItsWholeQuantity) {
  fund(kAlice, 9'999'999);
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 10).display(2), RejectReason::kInsufficientFunds));
  fund(kAlice, 1);
  const OrderId ice = send(limit(kBuy, 10000, 10).display(2));
  ASSERT_NE(ice, 0u);
  EXPECT_EQ(bids(), (Levels{{10000, 2, 1}}));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 10'000'000));

  // Selling into it: 3 shares trade, the hold drops by exactly their notional.
  give_shares(kBob, inst_, 3);
  ASSERT_NE(send(limit(kSell, 10000, 3).account(kBob)), 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 7'000'000, 7'000'000));
  EXPECT_TRUE(holds(kAlice, inst_, 3, 0));
  EXPECT_TRUE(holds(kBob, kCashAsset, 3'000'000, 0));
}

TEST_F(AccountsTest, StopLimitBuyHoldsAtLimitFromEntry) {
  fund(kAlice, 3'000'000);
  const OrderId s = send(stop_limit(kBuy, 10100, 10200, 2));
  ASSERT_NE(s, 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 3'000'000, 2'040'000));

  give_shares(kBob, inst_, 1);
  const OrderId ask = send(limit(kSell, 10100, 1).account(kBob));
  fund(kCarol, 2'000'000);
  const OrderId t = send(limit(kBuy, 10100, 1).account(kCarol));
  EXPECT_EVENTS(accepted(t), trade(1, ask, t, 10100, 1, 0, 0),
                settled(1, inst_, kCarol, kBob, 1, 1'010'000, 0, 0), level(kSell, 10100, 0, 0),
                triggered(s, 10100), level(kBuy, 10200, 2, 1));
  // Elected and resting at its limit: the same requirement.
  EXPECT_TRUE(holds(kAlice, kCashAsset, 3'000'000, 2'040'000));
}

TEST_F(AccountsTest, StopMarketBuyMovesItsHoldToTheBandAtTrigger) {
  fund(kAlice, 3'000'000);
  // Band edge from the stop: 10100 + floor(10100 × 5 %) = 10605.
  const OrderId s = send(stop(kBuy, 10100, 2));
  ASSERT_NE(s, 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 3'000'000, 2'121'000));

  give_shares(kBob, inst_, 6);
  const OrderId a1 = send(limit(kSell, 10300, 1).account(kBob));
  const OrderId a2 = send(limit(kSell, 10400, 5).account(kBob));
  fund(kCarol, 2'000'000);
  // A gap: the first trade is at 10300, so the band edge is 10300 + 515 =
  // 10815 and the hold must become 2,163,000 (+42,000, available 879,000).
  const OrderId t = send(limit(kBuy, 10300, 1).account(kCarol));
  EXPECT_EVENTS(accepted(t), trade(1, a1, t, 10300, 1, 0, 0),
                settled(1, inst_, kCarol, kBob, 1, 1'030'000, 0, 0), level(kSell, 10300, 0, 0),
                triggered(s, 10300), trade(2, a2, s, 10400, 2, 3, 0),
                settled(2, inst_, kAlice, kBob, 2, 2'080'000, 0, 0), level(kSell, 10400, 3, 1));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 920'000, 0));
  EXPECT_TRUE(holds(kAlice, inst_, 2, 0));
}

TEST_F(AccountsTest, StopMarketBuyThatCannotCoverItsBandIsCancelledAtTrigger) {
  fund(kAlice, 2'162'999);  // one unit short of the 2,163,000 the gap needs
  const OrderId s = send(stop(kBuy, 10100, 2));
  ASSERT_NE(s, 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 2'162'999, 2'121'000));

  give_shares(kBob, inst_, 6);
  const OrderId a1 = send(limit(kSell, 10300, 1).account(kBob));
  ASSERT_NE(send(limit(kSell, 10400, 5).account(kBob)), 0u);
  fund(kCarol, 2'000'000);
  const OrderId t = send(limit(kBuy, 10300, 1).account(kCarol));
  EXPECT_EVENTS(accepted(t), trade(1, a1, t, 10300, 1, 0, 0),
                settled(1, inst_, kCarol, kBob, 1, 1'030'000, 0, 0), level(kSell, 10300, 0, 0),
                triggered(s, 10300), cancelled(s, CancelReason::kInsufficientFunds, 2));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 2'162'999, 0));
  EXPECT_EQ(asks(), (Levels{{10400, 5, 1}}));
  EXPECT_FALSE(engine_.order(s).has_value());
}

TEST_F(AccountsTest, MarketBuyHoldsAtBandPrice) {
  const InstrumentId f = add(spec("FEE", 5, 10));  // B = 10
  give_shares(kBob, f, 5);
  const OrderId ask = send(limit(kSell, 10000, 5).account(kBob).on(f));
  // need(10500, 2) = 2,100,000 + 2,100 although the ask is at 10000.
  fund(kAlice, 2'102'099);
  EXPECT_TRUE(rejects(market(kBuy, 2).on(f), RejectReason::kInsufficientFunds));
  fund(kAlice, 1);
  const OrderId m = send(market(kBuy, 2).on(f));
  EXPECT_EVENTS(accepted(m), trade(1, ask, m, 10000, 2, 3, 0),
                settled(1, f, kAlice, kBob, 2, 2'000'000, 2'000, 1'000),
                level_on(f, kSell, 10000, 3, 1));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 100'100, 0));
  EXPECT_TRUE(holds(kBob, kCashAsset, 1'999'000, 0));
  EXPECT_EQ(total(kFeeAccount), 3'000);
}

TEST_F(AccountsTest, QuoteMarketBuyHoldsCashPlusFee) {
  const InstrumentId f = add(spec("FEE", -3, 7));  // B = 7
  give_shares(kBob, f, 20);
  const OrderId ask = send(limit(kSell, 10000, 20).account(kBob).on(f));
  // Q = 1000.50 = 100050 at price scale = 10,005,000 cash; fee trunc(7,003.5).
  fund(kAlice, 10'012'002);
  EXPECT_TRUE(rejects(quote_buy(100050).on(f), RejectReason::kInsufficientFunds));
  fund(kAlice, 1);
  const OrderId q = send(quote_buy(100050).on(f));
  // 10 shares affordable; 0.50 is left and cannot buy one more.
  EXPECT_EVENTS(accepted(q), trade(1, ask, q, 10000, 10, 10, 50),
                settled(1, f, kAlice, kBob, 10, 10'000'000, 7'000, -3'000),
                level_on(f, kSell, 10000, 10, 1));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 5'003, 0));
  EXPECT_TRUE(holds(kBob, kCashAsset, 10'003'000, 0));
  EXPECT_EQ(total(kFeeAccount), 4'000);
}

TEST_F(AccountsTest, PartialFillAtBetterPriceReleasesTheImprovement) {
  const InstrumentId f = add(spec("FEE", 10, 25));  // B = 25
  give_shares(kBob, f, 3);
  const OrderId ask = send(limit(kSell, 9990, 3).account(kBob).on(f));
  fund(kAlice, 10'000'000);
  // Hold: 5,000,000 + 12,500.
  const OrderId b = send(limit(kBuy, 10000, 5).on(f));
  // The fill: notional 2,997,000, taker fee trunc(7,492.5) = 7,492; maker fee 2,997.
  EXPECT_EVENTS(accepted(b), trade(1, ask, b, 9990, 3, 0, 2),
                settled(1, f, kAlice, kBob, 3, 2'997'000, 7'492, 2'997),
                level_on(f, kSell, 9990, 0, 0), level_on(f, kBuy, 10000, 2, 1));
  // What is left requires need(10000, 2) = 2,005,000: the improvement (3,000)
  // and the fee rounding (8) went back to available.
  EXPECT_TRUE(holds(kAlice, kCashAsset, 6'995'508, 2'005'000));
  EXPECT_TRUE(holds(kAlice, f, 3, 0));
  EXPECT_TRUE(holds(kBob, kCashAsset, 2'994'003, 0));
  EXPECT_TRUE(holds(kBob, f, 0, 0));
  EXPECT_EQ(total(kFeeAccount), 10'489);
}

TEST_F(AccountsTest, CancelExpiryIocRemainderAndSelfTradeReleaseExactlyWhatIsLeft) {
  fund(kAlice, 10'000'000);
  give_shares(kAlice, inst_, 10);

  const OrderId c = send(limit(kBuy, 9900, 3));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 2'970'000));
  cancel(kAlice, c);
  EXPECT_EVENTS(cancelled(c, CancelReason::kUser, 3), level(kBuy, 9900, 0, 0));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 0));

  // Expiry: the DAY order goes, the GTC order keeps its hold.
  const OrderId day = send(limit(kBuy, 9900, 2));
  const OrderId gtc = send(limit(kBuy, 9800, 1).tif(TimeInForce::kGtc));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 2'960'000));
  apply(EndOfDay{});
  EXPECT_EVENTS(cancelled(day, CancelReason::kExpired, 2), level(kBuy, 9900, 0, 0), day_ended(1));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 980'000));

  // IOC remainder.
  give_shares(kBob, inst_, 2);
  const OrderId ask = send(limit(kSell, 10000, 2).account(kBob));
  const OrderId ioc = send(limit(kBuy, 10000, 5).tif(TimeInForce::kIoc));
  EXPECT_EVENTS(accepted(ioc), trade(1, ask, ioc, 10000, 2, 0, 3),
                settled(1, inst_, kAlice, kBob, 2, 2'000'000, 0, 0), level(kSell, 10000, 0, 0),
                cancelled(ioc, CancelReason::kIocRemainder, 3));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 8'000'000, 980'000));

  // Self-trade, CANCEL_TAKER: the taker's whole hold goes back.
  const OrderId own = send(limit(kSell, 10100, 4));
  EXPECT_TRUE(holds(kAlice, inst_, 12, 4));
  const OrderId taker = send(limit(kBuy, 10100, 2));
  EXPECT_EVENTS(accepted(taker), cancelled(taker, CancelReason::kSelfTrade, 2));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 8'000'000, 980'000));

  // DECREMENT: the maker keeps (and holds) 1 share, the taker nothing.
  const OrderId dec = send(limit(kBuy, 10100, 3).stp(StpMode::kDecrement));
  EXPECT_EVENTS(accepted(dec), reduced(own, 3, 1), level(kSell, 10100, 1, 1),
                cancelled(dec, CancelReason::kSelfTrade, 3));
  EXPECT_TRUE(holds(kAlice, inst_, 12, 1));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 8'000'000, 980'000));

  // A DECREMENT taker that is reduced but stays open keeps holding its rest.
  const OrderId big = send(limit(kBuy, 10100, 4).stp(StpMode::kDecrement));
  EXPECT_EVENTS(accepted(big), cancelled(own, CancelReason::kSelfTrade, 1),
                level(kSell, 10100, 0, 0), reduced(big, 1, 3), level(kBuy, 10100, 3, 1));
  EXPECT_TRUE(holds(kAlice, inst_, 12, 0));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 8'000'000, 980'000 + 3'030'000));

  apply(MassCancel{kAlice, 0});
  EXPECT_EVENTS(cancelled(gtc, CancelReason::kMassCancel, 1), level(kBuy, 9800, 0, 0),
                cancelled(big, CancelReason::kMassCancel, 3), level(kBuy, 10100, 0, 0),
                mass_cancelled(kAlice, 0, 2));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 8'000'000, 0));
}

TEST_F(AccountsTest, ReplaceUpNeedingMoreThanAvailableIsRejectedAndOrderUnchanged) {
  fund(kAlice, 2'000'000);
  const OrderId b = send(limit(kBuy, 10000, 1));
  ASSERT_NE(b, 0u);

  replace(kAlice, b, 3);  // +2,000,000 with 1,000,000 available
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kInsufficientFunds, kAlice, b));
  replace(kAlice, b, 2, 10500);  // +1,100,000
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kInsufficientFunds, kAlice, b));
  const std::optional<OrderView> v = engine_.order(b);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(std::make_tuple(v->price, v->quantity, v->leaves),
            std::make_tuple(Price{10000}, Quantity{1}, Quantity{1}));
  EXPECT_EQ(bids(), (Levels{{10000, 1, 1}}));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 2'000'000, 1'000'000));

  replace(kAlice, b, 2);  // +1,000,000: exactly what is available
  EXPECT_EVENTS(replaced(b, 10000, 0, 2, 2, false), level(kBuy, 10000, 0, 0),
                level(kBuy, 10000, 2, 1));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 2'000'000, 2'000'000));

  give_shares(kBob, inst_, 5);
  const OrderId s = send(limit(kSell, 10100, 5).account(kBob));
  replace(kBob, s, 6);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kInsufficientShares, kBob, s));
  EXPECT_TRUE(holds(kBob, inst_, 5, 5));
  EXPECT_EQ(asks(), (Levels{{10100, 5, 1}}));
}

TEST_F(AccountsTest, ReplaceDownReleasesHold) {
  fund(kAlice, 10'000'000);
  const OrderId b = send(limit(kBuy, 10000, 5));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 5'000'000));
  replace(kAlice, b, 3);
  EXPECT_EVENTS(replaced(b, 10000, 0, 3, 3, true), level(kBuy, 10000, 3, 1));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 3'000'000));
  replace(kAlice, b, 0, 9900);
  EXPECT_EVENTS(replaced(b, 9900, 0, 3, 3, false), level(kBuy, 10000, 0, 0),
                level(kBuy, 9900, 3, 1));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 2'970'000));

  // After a partial fill the new total includes the filled part.
  give_shares(kBob, inst_, 10);
  ASSERT_NE(send(limit(kSell, 9900, 1).account(kBob)), 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 9'010'000, 1'980'000));
  replace(kAlice, b, 2);  // filled 1, leaves 1
  EXPECT_EVENTS(replaced(b, 9900, 0, 2, 1, true), level(kBuy, 9900, 1, 1));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 9'010'000, 990'000));

  const OrderId s = send(limit(kSell, 10100, 5).account(kBob));
  EXPECT_TRUE(holds(kBob, inst_, 9, 5));
  replace(kBob, s, 2);
  EXPECT_EVENTS(replaced(s, 10100, 0, 2, 2, true), level(kSell, 10100, 2, 1));
  EXPECT_TRUE(holds(kBob, inst_, 9, 2));
}

// =========================================================================
// Fees and the ledger
// =========================================================================

TEST_F(AccountsTest, FeesRoundTowardZero) {
  const InstrumentId f = add(spec("FEE", -3, 7));
  give_shares(kBob, f, 2);
  fund(kAlice, 3'000'000);

  // N = 1,000,500: taker 7 bps = 700.35 -> 700; maker -3 bps = -300.15 -> -300
  // (toward zero, not -301).
  const OrderId a1 = send(limit(kSell, 10005, 1).account(kBob).on(f));
  const OrderId b1 = send(limit(kBuy, 10005, 1).on(f));
  EXPECT_EVENTS(accepted(b1), trade(1, a1, b1, 10005, 1, 0, 0),
                settled(1, f, kAlice, kBob, 1, 1'000'500, 700, -300),
                level_on(f, kSell, 10005, 0, 0));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 1'998'800, 0));
  EXPECT_TRUE(holds(kBob, kCashAsset, 1'000'800, 0));
  EXPECT_EQ(total(kFeeAccount), 400);

  // The buyer as maker gets the rebate; its hold was 1,001,200.
  const OrderId b2 = send(limit(kBuy, 10005, 1).on(f));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 1'998'800, 1'001'200));
  const OrderId a2 = send(limit(kSell, 10005, 1).account(kBob).on(f));
  EXPECT_EVENTS(accepted(a2), trade(2, b2, a2, 10005, 1, 0, 0),
                settled(2, f, kAlice, kBob, 1, 1'000'500, -300, 700),
                level_on(f, kBuy, 10005, 0, 0));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 998'600, 0));
  EXPECT_TRUE(holds(kBob, kCashAsset, 2'000'600, 0));
  EXPECT_EQ(total(kFeeAccount), 800);
}

TEST_F(AccountsTest, NotionalFloorsAtQuantityScaleBeforeConvertingToCash) {
  // Price scale 2, quantity scale 3: 0.007 shares at 25.51 is 0.17857 ->
  // 0.17 at price scale -> 1,700 in cash. Taker 7 bps: 1.19 -> 1; maker -3
  // bps: -0.51 -> 0.
  const InstrumentId f = add(spec("FRAC", -3, 7, 2550, 2, 3, 1, 1));
  give_shares(kBob, f, 7);
  fund(kAlice, 1'701);
  const OrderId ask = send(limit(kSell, 2551, 7).account(kBob).on(f));
  const OrderId b = send(limit(kBuy, 2551, 7).on(f));
  EXPECT_EVENTS(accepted(b), trade(1, ask, b, 2551, 7, 0, 0),
                settled(1, f, kAlice, kBob, 7, 1'700, 1, 0), level_on(f, kSell, 2551, 0, 0));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 0, 0));
  EXPECT_TRUE(holds(kAlice, f, 7, 0));
  EXPECT_TRUE(holds(kBob, kCashAsset, 1'700, 0));
  EXPECT_EQ(total(kFeeAccount), 1);
}

TEST_F(AccountsTest, MakerRebateIsPaidFromFeeAccount) {
  const InstrumentId f = add(spec("HALF", -5, 10));
  give_shares(kBob, f, 1);
  fund(kAlice, 3'000'000);
  const OrderId ask = send(limit(kSell, 10005, 1).account(kBob).on(f));
  const OrderId b = send(limit(kBuy, 10005, 1).on(f));
  // Taker 1,000.5 -> 1,000 in; rebate -500.25 -> -500 out; 500 stays.
  EXPECT_EVENTS(accepted(b), trade(1, ask, b, 10005, 1, 0, 0),
                settled(1, f, kAlice, kBob, 1, 1'000'500, 1'000, -500),
                level_on(f, kSell, 10005, 0, 0));
  EXPECT_TRUE(holds(kBob, kCashAsset, 1'001'000, 0));
  EXPECT_EQ(total(kFeeAccount), 500);

  // A rebate as large as the taker fee: the fee account nets exactly zero,
  // never below (flooring the rebate would pay out 1,001 for 1,000).
  const InstrumentId g = add(spec("FULL", -10, 10));
  give_shares(kCarol, g, 1);
  const OrderId ask2 = send(limit(kSell, 10005, 1).account(kCarol).on(g));
  const OrderId b2 = send(limit(kBuy, 10005, 1).on(g));
  EXPECT_EVENTS(accepted(b2), trade(2, ask2, b2, 10005, 1, 0, 0),
                settled(2, g, kAlice, kCarol, 1, 1'000'500, 1'000, -1'000),
                level_on(g, kSell, 10005, 0, 0));
  EXPECT_TRUE(holds(kCarol, kCashAsset, 1'001'500, 0));
  EXPECT_EQ(total(kFeeAccount), 500);
}

TEST_F(AccountsTest, SettledPostingSumsToZeroPerAsset) {
  const InstrumentId f = add(spec("FEE", 3, 7));
  give_shares(kBob, f, 3);
  fund(kAlice, 5'000'000);
  const std::vector<AccountId> everyone = {kAlice, kBob, kCarol, kFeeAccount, kExternalAccount};
  const auto snapshot = [&](AssetId asset) {
    std::vector<Amount> v;
    v.reserve(everyone.size());
for (AccountId a : everyone) v.push_back(total(a, asset));
    return v;
  };
  const std::vector<Amount> cash0 = snapshot(kCashAsset);
  const std::vector<Amount> shares0 = snapshot(f);

  const OrderId ask = send(limit(kSell, 10015, 3).account(kBob).on(f));
  const OrderId b = send(limit(kBuy, 10015, 3).on(f));
  // N = 3,004,500; taker 2,103.15 -> 2,103; maker 901.35 -> 901.
  EXPECT_EVENTS(accepted(b), trade(1, ask, b, 10015, 3, 0, 0),
                settled(1, f, kAlice, kBob, 3, 3'004'500, 2'103, 901),
                level_on(f, kSell, 10015, 0, 0));

  const std::vector<Amount> cash1 = snapshot(kCashAsset);
  const std::vector<Amount> shares1 = snapshot(f);
  std::vector<Amount> dcash;
  std::vector<Amount> dshares;
  Amount sum_cash = 0;
  Amount sum_shares = 0;
  for (std::size_t i = 0; i < everyone.size(); ++i) {
    dcash.push_back(cash1[i] - cash0[i]);
    dshares.push_back(shares1[i] - shares0[i]);
    sum_cash += cash1[i];
    sum_shares += shares1[i];
  }
  EXPECT_EQ(dcash, (std::vector<Amount>{-3'006'603, 3'003'599, 0, 3'004, 0}));
  EXPECT_EQ(dshares, (std::vector<Amount>{3, -3, 0, 0, 0}));
  EXPECT_EQ(sum_cash, 0);
  EXPECT_EQ(sum_shares, 0);
}

// =========================================================================
// Positions
// =========================================================================

TEST_F(AccountsTest, PositionsTrackQuantityCostBasisAndRealizedPnl) {
  const InstrumentId f = add(spec("FEE", 0, 10));  // fees are not part of the cost basis
  give_shares(kBob, f, 15);
  fund(kAlice, 20'000'000);
  fund(kCarol, 20'000'000);

  ASSERT_NE(send(limit(kSell, 10000, 10).account(kBob).on(f)), 0u);
  ASSERT_NE(send(limit(kBuy, 10000, 10).on(f)), 0u);
  EXPECT_TRUE(position_is(kAlice, f, 10, 10'000'000, 0, 0, 10000));
  // Bob's deposited 15 entered at the reference price; 10 of them left at
  // floor(15,000,000 × 10 / 15) = 10,000,000.
  EXPECT_TRUE(position_is(kBob, f, 5, 5'000'000, 0, 0, 10000));

  ASSERT_NE(send(limit(kSell, 10200, 5).account(kBob).on(f)), 0u);
  ASSERT_NE(send(limit(kBuy, 10200, 5).on(f)), 0u);
  // 15 shares for 15,100,000: average 10066.67 -> 10066; last 10200.
  EXPECT_TRUE(position_is(kAlice, f, 15, 15'100'000, 0, 15'300'000 - 15'100'000, 10066));
  EXPECT_TRUE(position_is(kBob, f, 0, 0, 100'000, 0, 0));

  // Alice sells 4 of 15 at 103.00: the basis loses floor(15,100,000 × 4 / 15)
  // = 4,026,666 and 4,120,000 - 4,026,666 = 93,334 is realized.
  ASSERT_NE(send(limit(kSell, 10300, 4).on(f)), 0u);
  ASSERT_NE(send(limit(kBuy, 10300, 4).account(kCarol).on(f)), 0u);
  EXPECT_TRUE(position_is(kAlice, f, 11, 11'073'334, 93'334, 11'330'000 - 11'073'334, 10066));
  EXPECT_TRUE(position_is(kCarol, f, 4, 4'120'000, 0, 0, 10300));
  // Alice paid taker fees of 10,000 and 5,100 on top of the cost basis.
  EXPECT_TRUE(holds(kAlice, kCashAsset, 20'000'000 - 15'115'100 + 4'120'000, 0));

  // Selling the rest realizes against what is left of the basis.
  ASSERT_NE(send(limit(kBuy, 10250, 11).account(kCarol).on(f)), 0u);
  ASSERT_NE(send(limit(kSell, 10250, 11).on(f)), 0u);
  EXPECT_TRUE(position_is(kAlice, f, 0, 0, 93'334 + 11'275'000 - 11'073'334, 0, 0));
}

TEST_F(AccountsTest, DepositedSharesEnterAtReferencePriceAndWithdrawnLeaveAtAverageCost) {
  const InstrumentId r = add(spec("REF", 0, 0, 12345));
  give_shares(kBob, r, 3);
  EXPECT_TRUE(position_is(kBob, r, 3, 3'703'500, 0, 0, 12345));
  withdraw(kBob, r, 1);
  EXPECT_TRUE(position_is(kBob, r, 2, 2'469'000, 0, 0, 12345));

  // After a trade the unrealized P&L is against the last price.
  fund(kAlice, 2'000'000);
  ASSERT_NE(send(limit(kSell, 12400, 1).account(kBob).on(r)), 0u);
  ASSERT_NE(send(limit(kBuy, 12400, 1).on(r)), 0u);
  // Bob: 1 of 2 sold, basis 1,234,500 out, 1,240,000 - 1,234,500 realized.
  EXPECT_TRUE(position_is(kBob, r, 1, 1'234'500, 5'500, 1'240'000 - 1'234'500, 12345));
  EXPECT_TRUE(position_is(kAlice, r, 1, 1'240'000, 0, 0, 12400));
}

// =========================================================================
// Pre-trade risk
// =========================================================================

TEST_F(AccountsTest, RiskChecksComeAfterTheOrderRules) {
  kill(kAlice, true);
  EXPECT_TRUE(rejects(limit(kBuy, 10003, 1), RejectReason::kPriceOffTick));
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 0), RejectReason::kQuantityNotPositive));
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1), RejectReason::kAccountDisabled));
}

TEST_F(AccountsTest, RiskChecksRunInSpecifiedOrder) {
  fund(kAlice, 1'000'000);
  account_limits(kAlice, 1, 2, 5, 3'000'000);
  EXPECT_EVENTS(limits_set(CommandType::kSetAccountLimits, kAlice));
  // Every check fails for this order: 6 > 5 shares, 7,200,000 > 3,000,000,
  // 12000 is 20 % from 10000, and it needs far more than 1,000,000.
  const NewOrder bad = limit(kBuy, 12000, 6);

  at(kT0 + 10 * kSecond);
  ASSERT_NE(send(limit(kBuy, 9000, 1)), 0u);                        // 1st this second
  EXPECT_TRUE(rejects(bad, RejectReason::kTooManyOpenOrders));       // 2nd
  EXPECT_TRUE(rejects(bad, RejectReason::kRateLimited));             // 3rd > 2
  kill(kAlice, true);
  EXPECT_TRUE(rejects(bad, RejectReason::kAccountDisabled));
  kill(kAlice, false);
  EXPECT_TRUE(rejects(bad, RejectReason::kRateLimited));

  at(kT0 + 11 * kSecond);
  ASSERT_NE(send(limit(kBuy, 9000, 1)), 0u);  // the kill switch cancelled the first
  EXPECT_TRUE(rejects(bad, RejectReason::kTooManyOpenOrders));
  account_limits(kAlice, 5, 0, 5, 3'000'000);
  EXPECT_TRUE(rejects(bad, RejectReason::kOrderQuantityTooLarge));
  EXPECT_TRUE(rejects(limit(kBuy, 12000, 5), RejectReason::kOrderNotionalTooLarge));
  EXPECT_TRUE(rejects(limit(kBuy, 12000, 2), RejectReason::kPriceOutsideCollar));
  EXPECT_TRUE(rejects(limit(kBuy, 11000, 2), RejectReason::kInsufficientFunds));
  fund(kAlice, 2'100'000);  // available: 100,000 + 2,100,000 = need(11000, 2)
  ASSERT_NE(send(limit(kBuy, 11000, 2)), 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 3'100'000, 3'100'000));
}

TEST_F(AccountsTest, KillSwitchCancelsAllInAscendingIdAndRejectsNewOrders) {
  fund(kAlice, 10'000'000);
  give_shares(kAlice, inst_, 5);
  fund(kBob, 1'000'000);
  const OrderId a1 = send(limit(kBuy, 9900, 2));
  const OrderId a2 = send(limit(kSell, 10100, 3));
  const OrderId a3 = send(stop(kBuy, 10200, 1));
  const OrderId b4 = send(limit(kBuy, 9800, 1).account(kBob));
  const OrderId a5 = send(limit(kBuy, 9900, 1));
  ASSERT_NE(a5, 0u);

  kill(kAlice, true);
  EXPECT_EVENTS(cancelled(a1, CancelReason::kKillSwitch, 2), level(kBuy, 9900, 1, 1),
                cancelled(a2, CancelReason::kKillSwitch, 3), level(kSell, 10100, 0, 0),
                cancelled(a3, CancelReason::kKillSwitch, 1),
                cancelled(a5, CancelReason::kKillSwitch, 1), level(kBuy, 9900, 0, 0),
                kill_switch(kAlice, true, 4));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 0));
  EXPECT_TRUE(holds(kAlice, inst_, 5, 0));
  EXPECT_EQ(bids(), (Levels{{9800, 1, 1}}));  // only Bob's order is left

  EXPECT_TRUE(rejects(limit(kBuy, 9900, 1), RejectReason::kAccountDisabled));
  EXPECT_TRUE(rejects(market(kSell, 1), RejectReason::kAccountDisabled));
  // Orders it closed are gone: a replace is an unknown order, as is a cancel.
  replace(kAlice, a1, 3);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnknownOrder, kAlice, a1));
  cancel(kAlice, a1);
  EXPECT_EVENTS(rejected(CommandType::kCancel, RejectReason::kUnknownOrder, kAlice, a1));
  apply(MassCancel{kAlice, 0});
  EXPECT_EVENTS(mass_cancelled(kAlice, 0, 0));
  // Others trade on; cancels always work.
  cancel(kBob, b4);
  EXPECT_EVENTS(cancelled(b4, CancelReason::kUser, 1), level(kBuy, 9800, 0, 0));

  kill(kAlice, true);  // again: nothing left to cancel
  EXPECT_EVENTS(kill_switch(kAlice, true, 0));
  kill(kAlice, false);
  EXPECT_EVENTS(kill_switch(kAlice, false, 0));
  const OrderId again = send(limit(kBuy, 9900, 1));
  EXPECT_NE(again, 0u);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 10'000'000, 990'000));
}

TEST_F(AccountsTest, RateLimitCountsPerWholeSecondOfTimestamp) {
  fund(kAlice, 1'000'000);
  account_limits(kAlice, 0, 3, 0, 0);
  at(kT0 + 5 * kSecond);
  const OrderId b = send(limit(kBuy, 9900, 1));                               // 1
  ASSERT_NE(b, 0u);
  EXPECT_TRUE(rejects(limit(kBuy, 9903, 1), RejectReason::kPriceOffTick));   // not counted
  EXPECT_TRUE(rejects(limit(kBuy, 9900, 1), RejectReason::kInsufficientFunds));  // 2
  replace(kAlice, b, 0, 9800);                                                 // 3
  EXPECT_EVENTS(replaced(b, 9800, 0, 1, 1, false), level(kBuy, 9900, 0, 0),
                level(kBuy, 9800, 1, 1));
  // The 4th: rate limited before the collar would reject it.
  EXPECT_TRUE(rejects(limit(kBuy, 100, 1), RejectReason::kRateLimited));
  replace(kAlice, b, 0, 9700);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kRateLimited, kAlice, b));
  at(kT0 + 6 * kSecond - 1);  // still the same whole second
  EXPECT_TRUE(rejects(limit(kBuy, 100, 1), RejectReason::kRateLimited));
  cancel(kAlice, b);  // cancels are not limited
  EXPECT_EVENTS(cancelled(b, CancelReason::kUser, 1), level(kBuy, 9800, 0, 0));

  fund(kAlice, 2'000'000);  // transfers are not limited

  at(kT0 + 6 * kSecond);  // a new window
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_NE(send(limit(kBuy, 9000, 1)), 0u);
  }
  EXPECT_TRUE(rejects(limit(kBuy, 9000, 1), RejectReason::kRateLimited));
  // Another account has its own count.
  fund(kBob, 1'000'000);
  EXPECT_NE(send(limit(kBuy, 9000, 1).account(kBob)), 0u);
}

TEST_F(AccountsTest, MaxOpenOrdersCountsOnlyNewOrders) {
  fund(kAlice, 10'000'000);
  account_limits(kAlice, 2, 0, 0, 0);
  const OrderId b = send(limit(kBuy, 9900, 1));
  ASSERT_NE(b, 0u);
  ASSERT_NE(send(stop(kBuy, 10200, 1)), 0u);  // a stop is an open order too
  EXPECT_TRUE(rejects(limit(kBuy, 9800, 1), RejectReason::kTooManyOpenOrders));
  replace(kAlice, b, 2);
  EXPECT_EVENTS(replaced(b, 9900, 0, 2, 2, false), level(kBuy, 9900, 0, 0),
                level(kBuy, 9900, 2, 1));
  cancel(kAlice, b);
  EXPECT_NE(send(limit(kBuy, 9800, 1)), 0u);
}

TEST_F(AccountsTest, MaxQuantityChecksInstrumentThenAccount) {
  fund(kAlice, 100'000'000);
  fund(kBob, 100'000'000);
  instrument_limits(inst_, 0, 0, 10, 0, 0);
  EXPECT_EVENTS(limits_set(CommandType::kSetInstrumentLimits, inst_));
  EXPECT_TRUE(rejects(limit(kBuy, 9000, 11), RejectReason::kOrderQuantityTooLarge));
  EXPECT_NE(send(limit(kBuy, 9000, 10)), 0u);
  account_limits(kAlice, 0, 0, 5, 0);
  EXPECT_TRUE(rejects(limit(kBuy, 9000, 6), RejectReason::kOrderQuantityTooLarge));
  const OrderId five = send(limit(kBuy, 9000, 5));
  ASSERT_NE(five, 0u);
  EXPECT_TRUE(rejects(limit(kBuy, 9000, 11).account(kBob), RejectReason::kOrderQuantityTooLarge));
  EXPECT_NE(send(limit(kBuy, 9000, 10).account(kBob)), 0u);  // only the instrument's limit
  replace(kAlice, five, 6);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kOrderQuantityTooLarge, kAlice, five));
}

TEST_F(AccountsTest, MaxNotionalIsAtLimitBandStopOrQuoteAmount) {
  fund(kAlice, 100'000'000);
  account_limits(kAlice, 0, 0, 0, 2'030'000);
  EXPECT_NE(send(limit(kBuy, 10150, 2)), 0u);  // 2,030,000
  EXPECT_TRUE(rejects(limit(kBuy, 10155, 2), RejectReason::kOrderNotionalTooLarge));
  // A market buy at the band price 10500: 2,100,000.
  EXPECT_TRUE(rejects(market(kBuy, 2), RejectReason::kOrderNotionalTooLarge));
  const OrderId m = send(market(kBuy, 1));
  EXPECT_EVENTS(accepted(m), cancelled(m, CancelReason::kMarketNoLiquidity, 1));
  // A stop at its stop price: 2,020,000 (its band edge would be 2,121,000).
  EXPECT_NE(send(stop(kBuy, 10100, 2)), 0u);
  EXPECT_TRUE(rejects(stop(kBuy, 10200, 2), RejectReason::kOrderNotionalTooLarge));
  // A quote buy at its amount: 203.00 = 20300 at price scale = 2,030,000.
  const OrderId q = send(quote_buy(20300));
  EXPECT_EVENTS(accepted(q), cancelled(q, CancelReason::kMarketNoLiquidity, 20300));
  EXPECT_TRUE(rejects(quote_buy(20305), RejectReason::kOrderNotionalTooLarge));

  // The instrument's maximum applies to everyone.
  instrument_limits(inst_, 0, 0, 0, 1'000'000, 0);
  fund(kBob, 10'000'000);
  EXPECT_TRUE(rejects(limit(kBuy, 10005, 1).account(kBob), RejectReason::kOrderNotionalTooLarge));
  EXPECT_NE(send(limit(kBuy, 10000, 1).account(kBob)), 0u);
}

TEST_F(AccountsTest, CollarRejectsLimitsFarFromLastAndStopLimitsFarFromTheirStop) {
  fund(kAlice, 100'000'000);
  give_shares(kAlice, inst_, 100);
  // 10 % of the reference price 10000 is 1000.
  EXPECT_TRUE(rejects(limit(kBuy, 11005, 1), RejectReason::kPriceOutsideCollar));
  EXPECT_TRUE(rejects(limit(kSell, 8995, 1), RejectReason::kPriceOutsideCollar));
  EXPECT_TRUE(rejects(limit(kSell, 11005, 1), RejectReason::kPriceOutsideCollar));
  EXPECT_NE(send(limit(kBuy, 9000, 1)), 0u);
  EXPECT_NE(send(limit(kSell, 11000, 1)), 0u);

  // After a trade at 10300 the collar is 10300 ± 1030.
  give_shares(kBob, inst_, 1);
  fund(kCarol, 2'000'000);
  ASSERT_NE(send(limit(kSell, 10300, 1).account(kBob)), 0u);
  ASSERT_NE(send(limit(kBuy, 10300, 1).account(kCarol)), 0u);
  EXPECT_TRUE(rejects(limit(kSell, 11335, 1), RejectReason::kPriceOutsideCollar));
  EXPECT_NE(send(limit(kSell, 11330, 1)), 0u);
  EXPECT_TRUE(rejects(limit(kBuy, 9265, 1), RejectReason::kPriceOutsideCollar));
  EXPECT_NE(send(limit(kBuy, 9270, 1)), 0u);

  // A STOP_LIMIT's limit is collared against its stop price, not the last.
  EXPECT_NE(send(stop_limit(kBuy, 12000, 13200, 1)), 0u);
  EXPECT_TRUE(rejects(stop_limit(kBuy, 12000, 13205, 1), RejectReason::kPriceOutsideCollar));
  EXPECT_NE(send(stop_limit(kSell, 9000, 8100, 1)), 0u);
  EXPECT_TRUE(rejects(stop_limit(kSell, 9000, 8095, 1), RejectReason::kPriceOutsideCollar));
  // Market orders and stops have no collar.
  EXPECT_NE(send(stop(kBuy, 13000, 1)), 0u);

  // The instrument's collar can be narrowed: 2 % of 10300 is 206.
  instrument_limits(inst_, 200, 0, 0, 0, 0);
  EXPECT_TRUE(rejects(limit(kBuy, 10090, 1), RejectReason::kPriceOutsideCollar));
  EXPECT_NE(send(limit(kBuy, 10095, 1)), 0u);
}

TEST_F(AccountsTest, ReplaceIsRiskCheckedOnItsNewValues) {
  fund(kAlice, 5'000'000);
  instrument_limits(inst_, 0, 0, 5, 0, 0);
  account_limits(kAlice, 1, 0, 0, 5'200'000);
  const OrderId b = send(limit(kBuy, 10000, 2));
  ASSERT_NE(b, 0u);

  replace(kAlice, b, 6);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kOrderQuantityTooLarge, kAlice, b));
  replace(kAlice, b, 5, 10500);  // 5,250,000
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kOrderNotionalTooLarge, kAlice, b));
  replace(kAlice, b, 0, 11005);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kPriceOutsideCollar, kAlice, b));
  replace(kAlice, b, 5, 10100);  // +3,050,000 with 3,000,000 available
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kInsufficientFunds, kAlice, b));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 5'000'000, 2'000'000));

  // +3,000,000 fits; the open-orders limit (1, reached) does not apply.
  replace(kAlice, b, 5);
  EXPECT_EVENTS(replaced(b, 10000, 0, 5, 5, false), level(kBuy, 10000, 0, 0),
                level(kBuy, 10000, 5, 1));
  // Lowering needs no available cash.
  replace(kAlice, b, 0, 9900);
  EXPECT_EVENTS(replaced(b, 9900, 0, 5, 5, false), level(kBuy, 10000, 0, 0),
                level(kBuy, 9900, 5, 1));
  EXPECT_TRUE(holds(kAlice, kCashAsset, 5'000'000, 4'950'000));

  at(kT0 + 20 * kSecond);
  account_limits(kAlice, 1, 1, 0, 5'200'000);
  replace(kAlice, b, 0, 9905);
  EXPECT_EVENTS(replaced(b, 9905, 0, 5, 5, false), level(kBuy, 9900, 0, 0),
                level(kBuy, 9905, 5, 1));
  replace(kAlice, b, 0, 9910);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kRateLimited, kAlice, b));
}

TEST_F(AccountsTest, LimitsCommandsAreValidatedAndAcknowledged) {
  account_limits(kNobody, 1, 1, 1, 1);
  EXPECT_EVENTS(rejected(CommandType::kSetAccountLimits, RejectReason::kUnknownAccount, kNobody));
  account_limits(kAlice, 0, 0, -1, 0);
  EXPECT_EVENTS(rejected(CommandType::kSetAccountLimits, RejectReason::kInvalidLimits, kAlice));
  account_limits(kAlice, 0, 0, 0, -1);
  EXPECT_EVENTS(rejected(CommandType::kSetAccountLimits, RejectReason::kInvalidLimits, kAlice));
  account_limits(kAlice, 10, 20, 30, 40);
  EXPECT_EVENTS(limits_set(CommandType::kSetAccountLimits, kAlice));

  instrument_limits(77, 0, 0, 0, 0, 0);
  EXPECT_EVENTS(rejected(CommandType::kSetInstrumentLimits, RejectReason::kUnknownSymbol, 0));
  const std::vector<SetInstrumentLimits> bad = {
      {inst_, -1, 0, 0, 0, 0}, {inst_, 0, -1, 0, 0, 0}, {inst_, 0, 0, -1, 0, 0},
      {inst_, 0, 0, 0, -1, 0}, {inst_, 0, 0, 0, 0, -1},
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    apply(bad[i]);
    EXPECT_EVENTS(rejected(CommandType::kSetInstrumentLimits, RejectReason::kInvalidLimits, 0));
  }
  instrument_limits(inst_, 100, 200, 300, 400, 500);
  EXPECT_EVENTS(limits_set(CommandType::kSetInstrumentLimits, inst_));
  // Zero brings the defaults back.
  instrument_limits(inst_, 0, 0, 0, 0, 0);
  EXPECT_EVENTS(limits_set(CommandType::kSetInstrumentLimits, inst_));
  fund(kAlice, 100'000'000);
  account_limits(kAlice, 0, 0, 0, 0);
  EXPECT_NE(send(limit(kBuy, 9000, 50)), 0u);
}

// =========================================================================
// Circuit breaker, market-wide halt
// =========================================================================

TEST_F(AccountsTest, CircuitBreakerHaltsInsteadOfPrintingAndResumesByItself) {
  instrument_limits(inst_, 0, 200, 0, 0, kSecond);  // 9800..10200 around 10000
  give_shares(kBob, inst_, 10);
  fund(kBob, 1'000'000);
  const OrderId a1 = send(limit(kSell, 10100, 1).account(kBob));
  const OrderId a2 = send(limit(kSell, 10200, 1).account(kBob));
  ASSERT_NE(send(limit(kSell, 10300, 5).account(kBob)), 0u);
  const OrderId bid = send(limit(kBuy, 9000, 1).account(kBob));
  fund(kCarol, 2'000'000);
  const OrderId s = send(stop_limit(kBuy, 10100, 10150, 1).account(kCarol));
  ASSERT_NE(s, 0u);

  fund(kAlice, 5'000'000);
  const OrderId t = send(limit(kBuy, 10300, 4));
  const Timestamp halted_at = ts_;
  // 10200 is exactly 2 % away and prints; 10300 would not.
  EXPECT_EVENTS(accepted(t), trade(1, a1, t, 10100, 1, 0, 3),
                settled(1, inst_, kAlice, kBob, 1, 1'010'000, 0, 0), level(kSell, 10100, 0, 0),
                trade(2, a2, t, 10200, 1, 0, 2),
                settled(2, inst_, kAlice, kBob, 1, 1'020'000, 0, 0), level(kSell, 10200, 0, 0),
                cancelled(t, CancelReason::kCircuitBreaker, 2),
                status_changed(inst_, InstrumentStatus::kHalted));
  EXPECT_EQ(engine_.instrument(inst_)->status, InstrumentStatus::kHalted);
  EXPECT_TRUE(holds(kAlice, kCashAsset, 2'970'000, 0));
  // The stop was elected by those trades but waits for the resume.
  ASSERT_TRUE(engine_.order(s).has_value());
  EXPECT_FALSE(engine_.order(s)->triggered);

  // During the halt: cancels work, resting orders stay, new orders are
  // rejected up to the last nanosecond.
  cancel(kBob, bid);
  EXPECT_EVENTS(cancelled(bid, CancelReason::kUser, 1), level(kBuy, 9000, 0, 0));
  EXPECT_EQ(asks(), (Levels{{10300, 5, 1}}));
  at(halted_at + kSecond - 1);
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1), RejectReason::kInstrumentHalted));

  // The first command at halt + 1 s resumes, runs the postponed stop, then itself.
  at(halted_at + kSecond);
  const OrderId n = send(limit(kSell, 10250, 1).account(kBob));
  ASSERT_NE(n, 0u);
  EXPECT_EVENTS(status_changed(inst_, InstrumentStatus::kTrading), triggered(s, 10200),
                level(kBuy, 10150, 1, 1), accepted(n), level(kSell, 10250, 1, 1));
  EXPECT_EQ(engine_.instrument(inst_)->status, InstrumentStatus::kTrading);
  EXPECT_TRUE(holds(kCarol, kCashAsset, 2'000'000, 1'015'000));
}

TEST_F(AccountsTest, CircuitBreakerOnTheFirstTradeCancelsTheWholeTaker) {
  instrument_limits(inst_, 0, 200, 0, 0, kSecond);
  fund(kBob, 1'000'000);
  ASSERT_NE(send(limit(kBuy, 9795, 1).account(kBob)), 0u);
  give_shares(kAlice, inst_, 3);
  const OrderId m = send(market(kSell, 3));
  EXPECT_EVENTS(accepted(m), cancelled(m, CancelReason::kCircuitBreaker, 3),
                status_changed(inst_, InstrumentStatus::kHalted));
  EXPECT_TRUE(holds(kAlice, inst_, 3, 0));
  EXPECT_EQ(bids(), (Levels{{9795, 1, 1}}));
}

TEST_F(AccountsTest, MarketWideHaltAppliesToEveryInstrumentInIdOrder) {
  const InstrumentId beta = add(spec("BETA"));
  fund(kAlice, 10'000'000);
  apply(SetInstrumentStatus{0, InstrumentStatus::kHalted});
  EXPECT_EVENTS(status_changed(inst_, InstrumentStatus::kHalted),
                status_changed(beta, InstrumentStatus::kHalted));
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1), RejectReason::kInstrumentHalted));
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1).on(beta), RejectReason::kInstrumentHalted));
  apply(SetInstrumentStatus{0, InstrumentStatus::kTrading});
  EXPECT_EVENTS(status_changed(inst_, InstrumentStatus::kTrading),
                status_changed(beta, InstrumentStatus::kTrading));
  EXPECT_NE(send(limit(kBuy, 10000, 1).on(beta)), 0u);
}

}  // namespace
}  // namespace stox
