// Unit tests of core::Engine: one test per rule of docs/design.md ("Rules"
// and "Event order"), written from the spec alone and named after the
// behaviour they pin down.
//
// Each test is a short scenario script: commands go in through the fixture's
// verbs (send, cancel, replace, ...), then the test states the exact events
// of the last command (types, ids, prices, quantities, reasons and their
// order), and the book and order views afterwards. TearDown checks the
// engine's structural invariants after every test.
//
// Unless a test adds its own instrument, it trades instrument 1, "ACME":
// price scale 2, quantity scale 0, tick 5 (0.05), lot 1, reference price
// 10000 (100.00) and the default 5 % band, so before the first trade a
// market BUY accepts asks up to 10500 and a market SELL bids down to 9500.
#include "core/engine.h"
#include "core/testing/builders.h"
#include "core/testing/scenario.h"

#include <gtest/gtest.h>

#include <cstdint>
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
constexpr AccountId kDave = 4;
constexpr AccountId kErin = 5;

constexpr Side kBuy = Side::kBuy;
constexpr Side kSell = Side::kSell;

AddInstrument spec(std::string_view symbol, Price tick, Quantity lot, Price reference,
                   std::int32_t band_bps = 0, std::uint8_t price_scale = 2,
                   std::uint8_t quantity_scale = 0) {
  return testing::instrument_spec(symbol, tick, lot, reference, band_bps, price_scale,
                                  quantity_scale);
}

AddInstrument acme_spec() { return spec("ACME", 5, 1, 10000); }

auto spec_key(const AddInstrument& a) {
  return std::make_tuple(std::string(a.symbol.view()), a.tick_size, a.lot_size,
                         a.reference_price, a.market_band_bps, int(a.price_scale),
                         int(a.quantity_scale));
}

using testing::describe;
using testing::Levels;
using testing::OrderBuilder;

// The scenario fixture (core/testing/scenario.h) on the pure matcher, with
// ACME (instrument 1) listed.
class EngineTest : public testing::Scenario {
 protected:
  EngineTest() : Scenario(EngineConfig{}) {}

  void SetUp() override {
    inst_ = add(acme_spec());
    ASSERT_EQ(inst_, 1u);
  }
};

// =========================================================================
// Instruments
// =========================================================================

TEST_F(EngineTest, AddInstrumentAssignsIdsFromOneAndResolvesDefaultBand) {
  const InstrumentId beta = add(spec("BETA", 1, 10, 2500, 0, 4, 2));
  AddInstrument resolved = spec("BETA", 1, 10, 2500, 500, 4, 2);
  EXPECT_EVENTS(instrument_added(2, resolved));
  EXPECT_EQ(beta, 2u);

  const InstrumentId gamma = add(spec("GAMMA", 5, 1, 100, 250));
  EXPECT_EVENTS(instrument_added(3, spec("GAMMA", 5, 1, 100, 250)));
  EXPECT_EQ(gamma, 3u);

  const auto view = engine_.instrument(beta);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->id, beta);
  EXPECT_EQ(spec_key(view->spec), spec_key(resolved));
  EXPECT_EQ(view->status, InstrumentStatus::kTrading);
  EXPECT_EQ(view->last_price, 0);
  EXPECT_EQ(engine_.find_symbol("BETA"), std::optional<InstrumentId>(beta));
  EXPECT_EQ(engine_.find_symbol("ACME"), std::optional<InstrumentId>(1));
  EXPECT_FALSE(engine_.find_symbol("NOPE").has_value());
  EXPECT_FALSE(engine_.instrument(4).has_value());
}

TEST_F(EngineTest, AddInstrumentRejectsEachBadField) {
  const auto bad = [](auto change) {
    AddInstrument a = spec("NEW", 5, 1, 10000);
    change(a);
    return a;
  };
  const std::vector<AddInstrument> cases = {
      bad([](AddInstrument& a) { a.symbol = Symbol{}; }),
      bad([](AddInstrument& a) { a.price_scale = 10; }),
      bad([](AddInstrument& a) { a.quantity_scale = 10; }),
      bad([](AddInstrument& a) { a.tick_size = 0; }),
      bad([](AddInstrument& a) { a.tick_size = -5; }),
      bad([](AddInstrument& a) { a.lot_size = 0; }),
      bad([](AddInstrument& a) { a.lot_size = -1; }),
      bad([](AddInstrument& a) { a.reference_price = 0; }),
      bad([](AddInstrument& a) { a.reference_price = -10; }),
      bad([](AddInstrument& a) { a.reference_price = 10003; }),  // off the tick of 5
      bad([](AddInstrument& a) { a.market_band_bps = -1; }),
      bad([](AddInstrument& a) { a.market_band_bps = 10001; }),
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    EXPECT_EQ(add(cases[i]), 0u);
    EXPECT_EVENTS(rejected(CommandType::kAddInstrument, RejectReason::kInvalidInstrument, 0));
  }
  // Rejected instruments take no id; the edges of every range are valid.
  const AddInstrument edge = spec("NEW_SIXTEEN_BYTE", 1, 1, 1, 10000, 9, 9);
  EXPECT_EQ(add(edge), 2u);
  EXPECT_EVENTS(instrument_added(2, edge));
  const AddInstrument narrow = spec("NARROW", 1, 1, 1, 1, 0, 0);
  EXPECT_EQ(add(narrow), 3u);
  EXPECT_EVENTS(instrument_added(3, narrow));
}

TEST_F(EngineTest, DuplicateSymbolIsRejectedOnlyAfterFieldChecks) {
  EXPECT_EQ(add(spec("ACME", 1, 1, 500)), 0u);
  EXPECT_EVENTS(rejected(CommandType::kAddInstrument, RejectReason::kDuplicateSymbol, 0));

  // Both wrong: the bad field wins.
  EXPECT_EQ(add(spec("ACME", 0, 1, 500)), 0u);
  EXPECT_EVENTS(rejected(CommandType::kAddInstrument, RejectReason::kInvalidInstrument, 0));

  // The original is untouched.
  EXPECT_EQ(spec_key(engine_.instrument(inst_)->spec), spec_key(spec("ACME", 5, 1, 10000, 500)));
}

TEST_F(EngineTest, SetInstrumentStatusRejectsUnknownInstrumentAndBadStatus) {
  set_status(99, InstrumentStatus::kHalted);
  EXPECT_EVENTS(rejected(CommandType::kSetInstrumentStatus, RejectReason::kUnknownSymbol, 0));
  set_status(inst_, static_cast<InstrumentStatus>(0));
  EXPECT_EVENTS(rejected(CommandType::kSetInstrumentStatus, RejectReason::kInvalidStatus, 0));
  set_status(inst_, static_cast<InstrumentStatus>(4));
  EXPECT_EVENTS(rejected(CommandType::kSetInstrumentStatus, RejectReason::kInvalidStatus, 0));
  EXPECT_EQ(engine_.instrument(inst_)->status, InstrumentStatus::kTrading);

  set_status(inst_, InstrumentStatus::kHalted);
  EXPECT_EVENTS(status_changed(inst_, InstrumentStatus::kHalted));
  EXPECT_EQ(engine_.instrument(inst_)->status, InstrumentStatus::kHalted);
}

TEST_F(EngineTest, HaltedInstrumentRejectsOrdersAndReplacesButKeepsAndCancelsResting) {
  const OrderId a = send(limit(kBuy, 9990, 10));
  const OrderId b = send(limit(kBuy, 9985, 5));
  const OrderId c = send(limit(kSell, 10010, 5).account(kBob));
  set_status(inst_, InstrumentStatus::kHalted);

  EXPECT_TRUE(rejects(limit(kSell, 9990, 10).account(kBob).clid("h1"),
                      RejectReason::kInstrumentHalted));
  replace(kAlice, a, 8);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kInstrumentHalted, kAlice, a));
  EXPECT_EQ(engine_.order(a)->quantity, 10);

  cancel(kAlice, a);
  EXPECT_EVENTS(cancelled(a, CancelReason::kUser, 10), level(kBuy, 9990, 0, 0));
  mass_cancel(kBob, inst_);
  EXPECT_EVENTS(cancelled(c, CancelReason::kMassCancel, 5), level(kSell, 10010, 0, 0),
                mass_cancelled(kBob, inst_, 1));
  EXPECT_EQ(bids(), (Levels{{9985, 5, 1}}));

  // Resuming runs no auction; the kept order trades normally afterwards.
  set_status(inst_, InstrumentStatus::kTrading);
  EXPECT_EVENTS(status_changed(inst_, InstrumentStatus::kTrading));
  const OrderId s = send(limit(kSell, 9985, 5).account(kBob));
  EXPECT_EVENTS(accepted(s), trade(1, b, s, 9985, 5, 0, 0), level(kBuy, 9985, 0, 0));
}

TEST_F(EngineTest, ClosedInstrumentRejectsOrdersAndReplacesWithClosedReason) {
  const OrderId a = send(limit(kBuy, 9990, 10));
  set_status(inst_, InstrumentStatus::kClosed);
  EXPECT_EVENTS(status_changed(inst_, InstrumentStatus::kClosed));

  EXPECT_TRUE(rejects(market(kSell, 1).account(kBob), RejectReason::kInstrumentClosed));
  replace(kAlice, a, 0, 9995);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kInstrumentClosed, kAlice, a));
  // The order check comes before the status check.
  replace(kAlice, 77, 5);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnknownOrder, kAlice, 77));
  EXPECT_EQ(bids(), (Levels{{9990, 10, 1}}));
  cancel(kAlice, a);
  EXPECT_EVENTS(cancelled(a, CancelReason::kUser, 10), level(kBuy, 9990, 0, 0));
}

// =========================================================================
// Order validation, in the specified order
// =========================================================================

TEST_F(EngineTest, OrderAndTradeIdsCountFromOneAndRejectedOrdersGetNone) {
  EXPECT_TRUE(rejects(limit(kSell, 0, 10), RejectReason::kMissingPrice));
  const OrderId a = send(limit(kSell, 10000, 10).account(kBob));
  EXPECT_EQ(a, 1u);
  EXPECT_EVENTS(accepted(a), level(kSell, 10000, 10, 1));
  EXPECT_TRUE(rejects(limit(kBuy, 10001, 4), RejectReason::kPriceOffTick));
  const OrderId b = send(limit(kBuy, 10000, 4));
  EXPECT_EQ(b, 2u);
  EXPECT_EVENTS(accepted(b), trade(1, a, b, 10000, 4, 6, 0), level(kSell, 10000, 6, 1));
  const OrderId c = send(limit(kBuy, 10000, 4));
  EXPECT_EQ(c, 3u);
  EXPECT_EVENTS(accepted(c), trade(2, a, c, 10000, 4, 2, 0), level(kSell, 10000, 2, 1));
}

TEST_F(EngineTest, UnknownInstrumentAndAccountAreCheckedFirst) {
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1).on(99).clid("c1"), RejectReason::kUnknownSymbol));
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1).on(0), RejectReason::kUnknownSymbol));
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1).account(0).clid("c2"), RejectReason::kUnknownAccount));
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1).account((1u << 20) + 1),
                      RejectReason::kUnknownAccount));
  EXPECT_NE(send(limit(kBuy, 9000, 1).account(1u << 20)), 0u);  // max_accounts is valid

  // First failure wins.
  EXPECT_TRUE(rejects(limit(kBuy, 0, 0).on(99).account(0), RejectReason::kUnknownSymbol));
  EXPECT_TRUE(rejects(limit(kBuy, 0, 0).account(0).side(static_cast<Side>(9)),
                      RejectReason::kUnknownAccount));
}

TEST_F(EngineTest, InstrumentStatusIsCheckedBeforeOrderFields) {
  set_status(inst_, InstrumentStatus::kHalted);
  EXPECT_TRUE(rejects(limit(kBuy, 0, 0).side(static_cast<Side>(9)),
                      RejectReason::kInstrumentHalted));
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 1).account(0), RejectReason::kUnknownAccount));
}

TEST_F(EngineTest, UnknownEnumValuesAreRejectedInFieldOrder) {
  const NewOrder good = limit(kBuy, 9990, 1);
  const auto with = [&](auto change) {
    NewOrder o = good;
    change(o);
    return o;
  };
  EXPECT_TRUE(rejects(with([](NewOrder& o) { o.side = Side(0); }), RejectReason::kInvalidSide));
  EXPECT_TRUE(rejects(with([](NewOrder& o) { o.side = Side(3); }), RejectReason::kInvalidSide));
  EXPECT_TRUE(
      rejects(with([](NewOrder& o) { o.type = OrderType(0); }), RejectReason::kInvalidOrderType));
  EXPECT_TRUE(
      rejects(with([](NewOrder& o) { o.type = OrderType(5); }), RejectReason::kInvalidOrderType));
  EXPECT_TRUE(rejects(with([](NewOrder& o) { o.time_in_force = TimeInForce(0); }),
                      RejectReason::kInvalidTimeInForce));
  EXPECT_TRUE(rejects(with([](NewOrder& o) { o.time_in_force = TimeInForce(5); }),
                      RejectReason::kInvalidTimeInForce));
  EXPECT_TRUE(
      rejects(with([](NewOrder& o) { o.stp = StpMode(4); }), RejectReason::kInvalidStpMode));

  // Two wrong at once: the earlier check wins.
  EXPECT_TRUE(rejects(with([](NewOrder& o) {
                        o.side = Side(3);
                        o.type = OrderType(9);
                      }),
                      RejectReason::kInvalidSide));
  EXPECT_TRUE(rejects(with([](NewOrder& o) {
                        o.type = OrderType(9);
                        o.time_in_force = TimeInForce(9);
                      }),
                      RejectReason::kInvalidOrderType));
  EXPECT_TRUE(rejects(with([](NewOrder& o) {
                        o.time_in_force = TimeInForce(9);
                        o.stp = StpMode(9);
                      }),
                      RejectReason::kInvalidTimeInForce));
  EXPECT_TRUE(rejects(with([](NewOrder& o) {
                        o.stp = StpMode(9);
                        o.price = 0;
                      }),
                      RejectReason::kInvalidStpMode));
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, TimeInForceMustSuitTheOrderType) {
  EXPECT_TRUE(rejects(market(kBuy, 1).tif(TimeInForce::kDay), RejectReason::kInvalidTimeInForce));
  EXPECT_TRUE(rejects(market(kBuy, 1).tif(TimeInForce::kGtc), RejectReason::kInvalidTimeInForce));
  EXPECT_TRUE(
      rejects(stop(kBuy, 10100, 1).tif(TimeInForce::kIoc), RejectReason::kInvalidTimeInForce));
  EXPECT_TRUE(
      rejects(stop(kBuy, 10100, 1).tif(TimeInForce::kFok), RejectReason::kInvalidTimeInForce));
  EXPECT_TRUE(rejects(stop_limit(kBuy, 10100, 10100, 1).tif(TimeInForce::kIoc),
                      RejectReason::kInvalidTimeInForce));
  EXPECT_TRUE(rejects(stop_limit(kBuy, 10100, 10100, 1).tif(TimeInForce::kFok),
                      RejectReason::kInvalidTimeInForce));
  // The combination is checked before post-only.
  EXPECT_TRUE(rejects(market(kBuy, 1).tif(TimeInForce::kDay).post_only(),
                      RejectReason::kInvalidTimeInForce));

  for (TimeInForce t : {TimeInForce::kDay, TimeInForce::kGtc, TimeInForce::kIoc,
                        TimeInForce::kFok}) {
    EXPECT_NE(send(limit(kBuy, 9990, 1).tif(t)), 0u) << int(t);
  }
  EXPECT_NE(send(market(kBuy, 1).tif(TimeInForce::kFok)), 0u);
  EXPECT_NE(send(stop(kBuy, 10100, 1).tif(TimeInForce::kGtc)), 0u);
  EXPECT_NE(send(stop_limit(kSell, 9900, 9900, 1).tif(TimeInForce::kGtc)), 0u);
}

TEST_F(EngineTest, PostOnlyIsOnlyAllowedOnDayOrGtcLimits) {
  EXPECT_TRUE(rejects(limit(kBuy, 9990, 1).tif(TimeInForce::kIoc).post_only(),
                      RejectReason::kPostOnlyNotAllowed));
  EXPECT_TRUE(rejects(limit(kBuy, 9990, 1).tif(TimeInForce::kFok).post_only(),
                      RejectReason::kPostOnlyNotAllowed));
  EXPECT_TRUE(rejects(market(kBuy, 1).post_only(), RejectReason::kPostOnlyNotAllowed));
  EXPECT_TRUE(rejects(stop(kBuy, 10100, 1).post_only(), RejectReason::kPostOnlyNotAllowed));
  EXPECT_TRUE(rejects(stop_limit(kBuy, 10100, 10100, 1).tif(TimeInForce::kGtc).post_only(),
                      RejectReason::kPostOnlyNotAllowed));
  // Post-only is checked before the price.
  EXPECT_TRUE(rejects(limit(kBuy, 0, 1).tif(TimeInForce::kIoc).post_only(),
                      RejectReason::kPostOnlyNotAllowed));

  const OrderId a = send(limit(kBuy, 9990, 1).tif(TimeInForce::kGtc).post_only());
  EXPECT_EVENTS(accepted(a), level(kBuy, 9990, 1, 1));
}

TEST_F(EngineTest, PriceIsRequiredOnLimitsAndForbiddenOnMarketsAndStops) {
  EXPECT_TRUE(rejects(limit(kBuy, 0, 1), RejectReason::kMissingPrice));
  EXPECT_TRUE(rejects(limit(kBuy, -5, 1), RejectReason::kPriceNotPositive));
  EXPECT_TRUE(rejects(stop_limit(kBuy, 10100, 0, 1), RejectReason::kMissingPrice));
  EXPECT_TRUE(rejects(stop_limit(kBuy, 10100, -5, 1), RejectReason::kPriceNotPositive));
  EXPECT_TRUE(rejects(market(kBuy, 1).price(10000), RejectReason::kUnexpectedPrice));
  EXPECT_TRUE(rejects(market(kBuy, 1).price(-5), RejectReason::kUnexpectedPrice));
  EXPECT_TRUE(rejects(stop(kBuy, 10100, 1).price(10100), RejectReason::kUnexpectedPrice));
  // The price is checked before the stop price.
  EXPECT_TRUE(rejects(limit(kBuy, 0, 1).stop_price(10100), RejectReason::kMissingPrice));
}

TEST_F(EngineTest, StopPriceIsRequiredOnStopsAndForbiddenOtherwise) {
  EXPECT_TRUE(rejects(stop(kBuy, 0, 1), RejectReason::kMissingStopPrice));
  EXPECT_TRUE(rejects(stop(kBuy, -5, 1), RejectReason::kPriceNotPositive));
  EXPECT_TRUE(rejects(stop_limit(kBuy, 0, 10100, 1), RejectReason::kMissingStopPrice));
  EXPECT_TRUE(rejects(stop_limit(kBuy, -5, 10100, 1), RejectReason::kPriceNotPositive));
  EXPECT_TRUE(rejects(limit(kBuy, 9990, 1).stop_price(10100), RejectReason::kUnexpectedStopPrice));
  EXPECT_TRUE(rejects(market(kBuy, 1).stop_price(10100), RejectReason::kUnexpectedStopPrice));
  // The stop price is checked before the tick.
  EXPECT_TRUE(rejects(stop_limit(kBuy, 0, 10102, 1), RejectReason::kMissingStopPrice));
}

TEST_F(EngineTest, PriceAndStopPriceMustBeOnTick) {
  EXPECT_TRUE(rejects(limit(kBuy, 10003, 1), RejectReason::kPriceOffTick));
  EXPECT_TRUE(rejects(stop(kBuy, 10103, 1), RejectReason::kPriceOffTick));
  EXPECT_TRUE(rejects(stop_limit(kBuy, 10100, 10102, 1), RejectReason::kPriceOffTick));
  EXPECT_TRUE(rejects(stop_limit(kBuy, 10101, 10100, 1), RejectReason::kPriceOffTick));
  // The tick is checked before the quantity.
  EXPECT_TRUE(rejects(limit(kBuy, 10003, 0), RejectReason::kPriceOffTick));
}

TEST_F(EngineTest, QuantityMustBePositiveAndAWholeNumberOfLots) {
  const InstrumentId lots = add(spec("LOTS", 1, 10, 1000));
  EXPECT_TRUE(rejects(limit(kBuy, 990, 0).on(lots), RejectReason::kQuantityNotPositive));
  EXPECT_TRUE(rejects(limit(kBuy, 990, -10).on(lots), RejectReason::kQuantityNotPositive));
  EXPECT_TRUE(rejects(limit(kBuy, 990, 15).on(lots), RejectReason::kQuantityOffLot));
  EXPECT_TRUE(rejects(market(kBuy, 5).on(lots), RejectReason::kQuantityOffLot));
  // The lot is checked before the display quantity.
  EXPECT_TRUE(rejects(limit(kBuy, 990, 15).on(lots).display(3), RejectReason::kQuantityOffLot));

  const OrderId a = send(limit(kBuy, 990, 20).on(lots));
  EXPECT_EVENTS(accepted(a), level_on(lots, kBuy, 990, 20, 1));
}

TEST_F(EngineTest, QuoteQuantityIsOnlyForMarketBuyIocWithoutQuantity) {
  EXPECT_TRUE(rejects(limit(kBuy, 10000, 0).quote(1000), RejectReason::kQuoteQuantityNotAllowed));
  EXPECT_TRUE(rejects(quote_buy(1000).side(kSell), RejectReason::kQuoteQuantityNotAllowed));
  EXPECT_TRUE(rejects(quote_buy(1000).tif(TimeInForce::kFok),
                      RejectReason::kQuoteQuantityNotAllowed));
  EXPECT_TRUE(rejects(quote_buy(1000).stp(StpMode::kDecrement),
                      RejectReason::kQuoteQuantityNotAllowed));
  EXPECT_TRUE(rejects(quote_buy(1000).quantity(5), RejectReason::kQuoteQuantityNotAllowed));
  EXPECT_TRUE(rejects(quote_buy(-100), RejectReason::kQuantityNotPositive));

  // Other STP modes are allowed; an empty book means no liquidity.
  const OrderId q = send(quote_buy(1000).stp(StpMode::kCancelMaker));
  EXPECT_EVENTS(accepted(q), cancelled(q, CancelReason::kMarketNoLiquidity, 1000));
}

TEST_F(EngineTest, DisplayQuantityOnlyOnRestingLimitsBelowQuantityAndOnLot) {
  const InstrumentId lots = add(spec("LOTS", 1, 10, 1000));
  const auto ice = [&](Quantity qty, Quantity display) {
    return limit(kSell, 1010, qty).on(lots).display(display);
  };
  EXPECT_TRUE(rejects(ice(30, 10).tif(TimeInForce::kIoc), RejectReason::kInvalidDisplayQuantity));
  EXPECT_TRUE(rejects(ice(30, 10).tif(TimeInForce::kFok), RejectReason::kInvalidDisplayQuantity));
  EXPECT_TRUE(
      rejects(market(kSell, 30).on(lots).display(10), RejectReason::kInvalidDisplayQuantity));
  EXPECT_TRUE(rejects(stop_limit(kSell, 900, 900, 30).on(lots).display(10),
                      RejectReason::kInvalidDisplayQuantity));
  EXPECT_TRUE(rejects(ice(30, 30), RejectReason::kInvalidDisplayQuantity));
  EXPECT_TRUE(rejects(ice(30, 40), RejectReason::kInvalidDisplayQuantity));
  EXPECT_TRUE(rejects(ice(30, -10), RejectReason::kInvalidDisplayQuantity));
  EXPECT_TRUE(rejects(ice(30, 15), RejectReason::kInvalidDisplayQuantity));

  const OrderId a = send(ice(30, 10).clid("dup"));
  EXPECT_EVENTS(accepted(a), level_on(lots, kSell, 1010, 10, 1));
  // The display quantity is checked before the client order id.
  EXPECT_TRUE(rejects(ice(30, 30).clid("dup"), RejectReason::kInvalidDisplayQuantity));
}

TEST_F(EngineTest, PriceTimesQuantityMustFitInInt64) {
  const InstrumentId big = add(spec("BIG", 1, 1, 1, 0, 0, 0));
  const Quantity q = 3'000'000'000;
  EXPECT_TRUE(rejects(limit(kBuy, 4'000'000'000, q).on(big), RejectReason::kValueOverflow));
  EXPECT_TRUE(rejects(stop(kBuy, 4'000'000'000, q).on(big), RejectReason::kValueOverflow));
  EXPECT_TRUE(
      rejects(stop_limit(kBuy, 4'000'000'000, 2, q).on(big), RejectReason::kValueOverflow));
  // Overflow is checked before the stop election (this SELL stop is >= last).
  EXPECT_TRUE(rejects(stop(kSell, 4'000'000'000, q).on(big), RejectReason::kValueOverflow));

  // 3e9 * 3e9 = 9e18 still fits.
  const OrderId a = send(limit(kBuy, 3'000'000'000, q).on(big).clid("x"));
  EXPECT_EVENTS(accepted(a), level_on(big, kBuy, 3'000'000'000, q, 1));
  // ... and overflow is checked before the duplicate client order id.
  EXPECT_TRUE(rejects(limit(kBuy, 4'000'000'000, q).on(big).clid("x"),
                      RejectReason::kValueOverflow));
}

TEST_F(EngineTest, ClientOrderIdIsUniqueOnlyAmongOpenOrdersOfTheAccount) {
  const OrderId a = send(limit(kBuy, 9990, 10).clid("X"));
  EXPECT_TRUE(rejects(limit(kBuy, 9985, 5).clid("X"), RejectReason::kDuplicateClientOrderId));
  EXPECT_NE(send(limit(kBuy, 9985, 5).account(kBob).clid("X")), 0u);  // other account

  cancel(kAlice, a);  // closed: the id is free again
  const OrderId b = send(limit(kBuy, 9990, 10).clid("X"));
  EXPECT_EVENTS(accepted(b), level(kBuy, 9990, 10, 1));

  const OrderId s = send(limit(kSell, 9990, 10).account(kCarol));  // fills b
  EXPECT_EVENTS(accepted(s), trade(1, b, s, 9990, 10, 0, 0), level(kBuy, 9990, 0, 0));
  const OrderId c = send(limit(kBuy, 9980, 1).tif(TimeInForce::kIoc).clid("X"));
  EXPECT_EVENTS(accepted(c), cancelled(c, CancelReason::kIocRemainder, 1));
  const OrderId d = send(limit(kBuy, 9980, 1).clid("X"));
  EXPECT_EVENTS(accepted(d), level(kBuy, 9980, 1, 1));
  EXPECT_EQ(engine_.order(d)->client_order_id.view(), "X");
}

TEST_F(EngineTest, DuplicateClientOrderIdIsCheckedBeforeStopElection) {
  EXPECT_NE(send(limit(kBuy, 9990, 10).clid("S")), 0u);
  EXPECT_TRUE(rejects(stop(kBuy, 9995, 1).clid("S"), RejectReason::kDuplicateClientOrderId));
  EXPECT_TRUE(rejects(stop(kBuy, 9995, 1).clid("T"), RejectReason::kStopWouldTriggerImmediately));
}

TEST_F(EngineTest, StopAlreadyElectedOnEntryIsRejectedUsingReferencePriceBeforeFirstTrade) {
  // No trade yet: `last` is the reference price 10000.
  EXPECT_TRUE(rejects(stop(kBuy, 10000, 1), RejectReason::kStopWouldTriggerImmediately));
  EXPECT_TRUE(rejects(stop(kBuy, 9995, 1), RejectReason::kStopWouldTriggerImmediately));
  EXPECT_TRUE(rejects(stop(kSell, 10000, 1), RejectReason::kStopWouldTriggerImmediately));
  EXPECT_TRUE(rejects(stop(kSell, 10005, 1), RejectReason::kStopWouldTriggerImmediately));
  EXPECT_TRUE(rejects(stop_limit(kBuy, 10000, 10100, 1),
                      RejectReason::kStopWouldTriggerImmediately));
  const OrderId b = send(stop(kBuy, 10005, 1));
  EXPECT_EVENTS(accepted(b));
  const OrderId s = send(stop(kSell, 9995, 1));
  EXPECT_EVENTS(accepted(s));
  cancel(kAlice, b);
  cancel(kAlice, s);

  // After a trade at 10100, `last` is 10100.
  send(limit(kSell, 10100, 1).account(kBob));
  send(limit(kBuy, 10100, 1).account(kCarol));
  EXPECT_EQ(engine_.instrument(inst_)->last_price, 10100);
  EXPECT_TRUE(rejects(stop(kBuy, 10050, 1), RejectReason::kStopWouldTriggerImmediately));
  EXPECT_TRUE(rejects(stop(kBuy, 10100, 1), RejectReason::kStopWouldTriggerImmediately));
  EXPECT_TRUE(rejects(stop(kSell, 10100, 1), RejectReason::kStopWouldTriggerImmediately));
  const OrderId s2 = send(stop(kSell, 10050, 1));  // would be elected against the reference
  EXPECT_EVENTS(accepted(s2));
  const OrderId b2 = send(stop(kBuy, 10105, 1));
  EXPECT_EVENTS(accepted(b2));
}

// =========================================================================
// Matching
// =========================================================================

TEST_F(EngineTest, RestingSellGivesPriceImprovementToBuyer) {
  const OrderId sell = send(limit(kSell, 10000, 10).account(kBob));
  EXPECT_EVENTS(accepted(sell), level(kSell, 10000, 10, 1));
  const OrderId buy = send(limit(kBuy, 10050, 10));
  EXPECT_EVENTS(accepted(buy), trade(1, sell, buy, 10000, 10, 0, 0), level(kSell, 10000, 0, 0));
  EXPECT_TRUE(bids().empty());
  EXPECT_TRUE(asks().empty());
  EXPECT_FALSE(engine_.order(sell).has_value());
  EXPECT_FALSE(engine_.order(buy).has_value());
  EXPECT_EQ(engine_.open_orders(), 0u);
  EXPECT_EQ(engine_.instrument(inst_)->last_price, 10000);
}

TEST_F(EngineTest, RestingBuyGivesPriceImprovementToSeller) {
  const OrderId buy = send(limit(kBuy, 10000, 10));
  const OrderId sell = send(limit(kSell, 9950, 4).account(kBob));
  EXPECT_EVENTS(accepted(sell), trade(1, buy, sell, 10000, 4, 6, 0), level(kBuy, 10000, 6, 1));
  EXPECT_EQ(bids(), (Levels{{10000, 6, 1}}));
  EXPECT_EQ(engine_.order(buy)->leaves, 6);
  EXPECT_EQ(engine_.order(buy)->quantity, 10);
}

TEST_F(EngineTest, BestPriceTradesFirstThenOldestWithinLevel) {
  const OrderId a = send(limit(kSell, 10010, 5).account(kBob));
  const OrderId b = send(limit(kSell, 10000, 5).account(kCarol));
  const OrderId c = send(limit(kSell, 10000, 5).account(kDave));
  EXPECT_EQ(asks(), (Levels{{10000, 10, 2}, {10010, 5, 1}}));
  const OrderId t = send(limit(kBuy, 10010, 12));
  EXPECT_EVENTS(accepted(t),                                                      //
                trade(1, b, t, 10000, 5, 0, 7), level(kSell, 10000, 5, 1),       //
                trade(2, c, t, 10000, 5, 0, 2), level(kSell, 10000, 0, 0),       //
                trade(3, a, t, 10010, 2, 3, 0), level(kSell, 10010, 3, 1));
  EXPECT_EQ(asks(), (Levels{{10010, 3, 1}}));
}

TEST_F(EngineTest, LimitStopsAtItsPriceAndRemainderRestsBehindEarlierArrivals) {
  const OrderId a = send(limit(kSell, 10000, 4).account(kBob));
  send(limit(kSell, 10005, 5).account(kBob));
  const OrderId t = send(limit(kBuy, 10000, 10));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10000, 4, 0, 6), level(kSell, 10000, 0, 0),
                level(kBuy, 10000, 6, 1));
  const OrderId u = send(limit(kBuy, 10000, 3).account(kCarol));
  EXPECT_EVENTS(accepted(u), level(kBuy, 10000, 9, 2));

  const OrderId s = send(limit(kSell, 10000, 7).account(kDave));
  EXPECT_EVENTS(accepted(s),                                                  //
                trade(2, t, s, 10000, 6, 0, 1), level(kBuy, 10000, 3, 1),    //
                trade(3, u, s, 10000, 1, 2, 0), level(kBuy, 10000, 2, 1));
  EXPECT_EQ(bids(), (Levels{{10000, 2, 1}}));
  EXPECT_EQ(asks(), (Levels{{10005, 5, 1}}));
  const auto view = engine_.order(u);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->quantity, 3);
  EXPECT_EQ(view->leaves, 2);
}

// =========================================================================
// Time in force
// =========================================================================

TEST_F(EngineTest, DayAndGtcLimitsRestOnTheBook) {
  const OrderId a = send(limit(kBuy, 9990, 10));
  EXPECT_EVENTS(accepted(a), level(kBuy, 9990, 10, 1));
  const OrderId b = send(limit(kBuy, 9990, 5).tif(TimeInForce::kGtc));
  EXPECT_EVENTS(accepted(b), level(kBuy, 9990, 15, 2));
  const auto view = engine_.order(b);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->id, b);
  EXPECT_EQ(view->account, kAlice);
  EXPECT_EQ(view->instrument, inst_);
  EXPECT_EQ(view->side, kBuy);
  EXPECT_EQ(view->type, OrderType::kLimit);
  EXPECT_EQ(view->time_in_force, TimeInForce::kGtc);
  EXPECT_EQ(view->price, 9990);
  EXPECT_EQ(view->quantity, 5);
  EXPECT_EQ(view->leaves, 5);
  EXPECT_EQ(view->display, 0);
  EXPECT_EQ(view->visible, 5);
  EXPECT_FALSE(view->triggered);
  EXPECT_EQ(engine_.open_orders(), 2u);
}

TEST_F(EngineTest, IocTradesWhatItCanAndCancelsTheRemainder) {
  const OrderId a = send(limit(kSell, 10000, 3).account(kBob));
  const OrderId t = send(limit(kBuy, 10005, 5).tif(TimeInForce::kIoc));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10000, 3, 0, 2), level(kSell, 10000, 0, 0),
                cancelled(t, CancelReason::kIocRemainder, 2));
  const OrderId u = send(limit(kBuy, 10000, 5).tif(TimeInForce::kIoc));
  EXPECT_EVENTS(accepted(u), cancelled(u, CancelReason::kIocRemainder, 5));
  EXPECT_TRUE(bids().empty());
  EXPECT_EQ(engine_.open_orders(), 0u);
}

TEST_F(EngineTest, FokThatCannotFillIsCancelledWithoutTrading) {
  send(limit(kSell, 10000, 3).account(kBob));
  send(limit(kSell, 10005, 3).account(kCarol));
  send(limit(kSell, 10010, 5).account(kDave));
  const OrderId t = send(limit(kBuy, 10005, 7).tif(TimeInForce::kFok));
  EXPECT_EVENTS(accepted(t), cancelled(t, CancelReason::kFokNotFillable, 7));
  EXPECT_EQ(asks(), (Levels{{10000, 3, 1}, {10005, 3, 1}, {10010, 5, 1}}));
  EXPECT_EQ(engine_.instrument(inst_)->last_price, 0);
}

TEST_F(EngineTest, FokThatCanFillTradesItsWholeQuantity) {
  const OrderId a = send(limit(kSell, 10000, 3).account(kBob));
  const OrderId b = send(limit(kSell, 10005, 3).account(kCarol));
  send(limit(kSell, 10010, 5).account(kDave));
  const OrderId t = send(limit(kBuy, 10005, 6).tif(TimeInForce::kFok));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10000, 3, 0, 3), level(kSell, 10000, 0, 0),
                trade(2, b, t, 10005, 3, 0, 0), level(kSell, 10005, 0, 0));
  EXPECT_EQ(asks(), (Levels{{10010, 5, 1}}));
}

TEST_F(EngineTest, FokBlockedByOwnOrderUnderCancelTakerIsNotFillable) {
  const OrderId own = send(limit(kSell, 10000, 3));
  send(limit(kSell, 10005, 5).account(kBob));
  const OrderId t = send(limit(kBuy, 10005, 5).tif(TimeInForce::kFok));
  EXPECT_EVENTS(accepted(t), cancelled(t, CancelReason::kFokNotFillable, 5));
  EXPECT_EQ(asks(), (Levels{{10000, 3, 1}, {10005, 5, 1}}));
  EXPECT_TRUE(engine_.order(own).has_value());
}

TEST_F(EngineTest, FokUnderCancelMakerCountsLiquidityBehindOwnOrders) {
  const OrderId own = send(limit(kSell, 10000, 3));
  const OrderId other = send(limit(kSell, 10005, 5).account(kBob));
  const OrderId t =
      send(limit(kBuy, 10005, 5).tif(TimeInForce::kFok).stp(StpMode::kCancelMaker));
  EXPECT_EVENTS(accepted(t), cancelled(own, CancelReason::kSelfTrade, 3),
                level(kSell, 10000, 0, 0), trade(1, other, t, 10005, 5, 0, 0),
                level(kSell, 10005, 0, 0));
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, FokThatCannotFillLeavesOwnOrdersUntouchedUnderCancelMaker) {
  const OrderId own = send(limit(kSell, 10000, 3));
  send(limit(kSell, 10005, 1).account(kBob));
  const OrderId t =
      send(limit(kBuy, 10005, 5).tif(TimeInForce::kFok).stp(StpMode::kCancelMaker));
  EXPECT_EVENTS(accepted(t), cancelled(t, CancelReason::kFokNotFillable, 5));
  EXPECT_TRUE(engine_.order(own).has_value());
  EXPECT_EQ(asks(), (Levels{{10000, 3, 1}, {10005, 1, 1}}));
}

TEST_F(EngineTest, FokCountsHiddenQuantityOfIcebergs) {
  const OrderId ice = send(limit(kSell, 10000, 10).account(kBob).display(2));
  const OrderId t1 = send(limit(kBuy, 10000, 11).tif(TimeInForce::kFok));
  EXPECT_EVENTS(accepted(t1), cancelled(t1, CancelReason::kFokNotFillable, 11));

  const OrderId t2 = send(limit(kBuy, 10000, 7).tif(TimeInForce::kFok));
  EXPECT_EVENTS(accepted(t2),                                                         //
                trade(1, ice, t2, 10000, 2, 8, 5), level(kSell, 10000, 2, 1),        //
                trade(2, ice, t2, 10000, 2, 6, 3), level(kSell, 10000, 2, 1),        //
                trade(3, ice, t2, 10000, 2, 4, 1), level(kSell, 10000, 2, 1),        //
                trade(4, ice, t2, 10000, 1, 3, 0), level(kSell, 10000, 1, 1));
  const auto view = engine_.order(ice);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->leaves, 3);
  EXPECT_EQ(view->visible, 1);
  EXPECT_EQ(view->display, 2);
}

TEST_F(EngineTest, MarketFokRespectsTheProtectionBand) {
  const OrderId a = send(limit(kSell, 10500, 3).account(kBob));  // on the band edge
  send(limit(kSell, 10505, 5).account(kBob));                    // outside
  const OrderId t1 = send(market(kBuy, 4).tif(TimeInForce::kFok));
  EXPECT_EVENTS(accepted(t1), cancelled(t1, CancelReason::kFokNotFillable, 4));
  const OrderId t2 = send(market(kBuy, 3).tif(TimeInForce::kFok));
  EXPECT_EVENTS(accepted(t2), trade(1, a, t2, 10500, 3, 0, 0), level(kSell, 10500, 0, 0));
}

// =========================================================================
// Market orders and the protection band
// =========================================================================

// BAND: reference 10005, tick 5, band 333 bps.
//   offset = floor(10005 * 333 / 10000) = floor(333.1665) = 333
//   BUY  accepts <= floor_to_tick(10005 + 333 = 10338) = 10335
//   SELL accepts >= max(ceil_to_tick(10005 - 333 = 9672), 5) = 9675
TEST_F(EngineTest, MarketBuyStopsAtUpperBandWithExactArithmetic) {
  const InstrumentId band = add(spec("BAND", 5, 1, 10005, 333));
  inst_ = band;
  const OrderId a = send(limit(kSell, 10335, 2).account(kBob));
  send(limit(kSell, 10340, 2).account(kBob));
  const OrderId t = send(market(kBuy, 5));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10335, 2, 0, 3), level(kSell, 10335, 0, 0),
                cancelled(t, CancelReason::kMarketRemainder, 3));
  EXPECT_EQ(asks(), (Levels{{10340, 2, 1}}));
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, MarketSellStopsAtLowerBandWithExactArithmetic) {
  const InstrumentId band = add(spec("BAND", 5, 1, 10005, 333));
  inst_ = band;
  const OrderId a = send(limit(kBuy, 9675, 2).account(kBob));
  send(limit(kBuy, 9670, 2).account(kBob));
  const OrderId t = send(market(kSell, 5));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 9675, 2, 0, 3), level(kBuy, 9675, 0, 0),
                cancelled(t, CancelReason::kMarketRemainder, 3));
  EXPECT_EQ(bids(), (Levels{{9670, 2, 1}}));
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, MarketOrderWithNothingInsideTheBandIsCancelledForNoLiquidity) {
  const OrderId t1 = send(market(kSell, 3));  // empty book
  EXPECT_EVENTS(accepted(t1), cancelled(t1, CancelReason::kMarketNoLiquidity, 3));
  send(limit(kSell, 10505, 2).account(kBob));  // just outside 10500
  const OrderId t2 = send(market(kBuy, 1));
  EXPECT_EVENTS(accepted(t2), cancelled(t2, CancelReason::kMarketNoLiquidity, 1));
  EXPECT_EQ(asks(), (Levels{{10505, 2, 1}}));
}

TEST_F(EngineTest, MarketOrderNeverRests) {
  const OrderId a = send(limit(kSell, 10000, 4).account(kBob));
  const OrderId t = send(market(kBuy, 10));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10000, 4, 0, 6), level(kSell, 10000, 0, 0),
                cancelled(t, CancelReason::kMarketRemainder, 6));
  EXPECT_TRUE(bids().empty());
  EXPECT_FALSE(engine_.order(t).has_value());
}

TEST_F(EngineTest, MarketBandIsComputedFromLastTradePrice) {
  send(limit(kSell, 10400, 1).account(kBob));
  send(limit(kBuy, 10400, 1).account(kCarol));
  // offset = floor(10400 * 500 / 10000) = 520: BUY accepts <= 10920.
  const OrderId a = send(limit(kSell, 10920, 2).account(kBob));
  send(limit(kSell, 10925, 2).account(kBob));
  const OrderId t = send(market(kBuy, 5));
  EXPECT_EVENTS(accepted(t), trade(2, a, t, 10920, 2, 0, 3), level(kSell, 10920, 0, 0),
                cancelled(t, CancelReason::kMarketRemainder, 3));
  EXPECT_EQ(engine_.instrument(inst_)->last_price, 10920);
}

TEST_F(EngineTest, MarketBandIsFixedWhenMatchingStarts) {
  const OrderId a = send(limit(kSell, 10000, 1).account(kBob));
  const OrderId b = send(limit(kSell, 10500, 1).account(kBob));
  send(limit(kSell, 10505, 1).account(kBob));  // inside a band recomputed from 10500
  const OrderId t = send(market(kBuy, 3));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10000, 1, 0, 2), level(kSell, 10000, 0, 0),
                trade(2, b, t, 10500, 1, 0, 1), level(kSell, 10500, 0, 0),
                cancelled(t, CancelReason::kMarketRemainder, 1));
}

// =========================================================================
// Quote-quantity market buy
// =========================================================================

// CASH: price scale 2, quantity scale 2, tick 1, lot 10 (0.10), reference
// 335, band 5 %: offset floor(335 * 500 / 10000) = 16, BUY accepts <= 351.
class QuoteQuantityTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    inst_ = add(spec("CASH", 1, 10, 335, 0, 2, 2));
    ASSERT_EQ(inst_, 2u);
  }
};

TEST_F(QuoteQuantityTest, BuySpendsFloorNotionalInWholeLotsAndCompletesSilently) {
  const OrderId a = send(limit(kSell, 333, 150).account(kBob));
  const OrderId b = send(limit(kSell, 340, 500).account(kBob));
  const OrderId t = send(quote_buy(1000));
  // 333: affordable floor(1000*100/333) = 300, takes 150, spends floor(499.5) = 499 -> 501.
  // 340: affordable floor(501*100/340) = 147 -> 140, spends 476 -> 25.
  // 340: affordable floor(25*100/340) = 7 -> 0 lots: complete, no event.
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 333, 150, 0, 501), level(kSell, 333, 0, 0),
                trade(2, b, t, 340, 140, 360, 25), level(kSell, 340, 360, 1));
  EXPECT_EQ(asks(), (Levels{{340, 360, 1}}));
  EXPECT_FALSE(engine_.order(t).has_value());
}

TEST_F(QuoteQuantityTest, BuyThatCannotAffordOneLotIsCancelledQuoteTooSmall) {
  const OrderId a = send(limit(kSell, 333, 100).account(kBob));
  const OrderId t1 = send(quote_buy(33));  // floor(3300/333) = 9 < one lot of 10
  EXPECT_EVENTS(accepted(t1), cancelled(t1, CancelReason::kQuoteTooSmall, 33));
  EXPECT_EQ(asks(), (Levels{{333, 100, 1}}));

  const OrderId t2 = send(quote_buy(34));  // floor(3400/333) = 10: one lot for floor(33.3) = 33
  EXPECT_EVENTS(accepted(t2), trade(1, a, t2, 333, 10, 90, 1), level(kSell, 333, 90, 1));
}

TEST_F(QuoteQuantityTest, BuyThatRunsOutOfBookOrBandEndsAsAMarketOrder) {
  const OrderId a = send(limit(kSell, 333, 100).account(kBob));
  const OrderId t1 = send(quote_buy(100000));
  EXPECT_EVENTS(accepted(t1), trade(1, a, t1, 333, 100, 0, 99667), level(kSell, 333, 0, 0),
                cancelled(t1, CancelReason::kMarketRemainder, 99667));

  const OrderId t2 = send(quote_buy(5000));
  EXPECT_EVENTS(accepted(t2), cancelled(t2, CancelReason::kMarketNoLiquidity, 5000));

  // last 333: offset 16, BUY accepts <= 349; 350 is outside.
  send(limit(kSell, 350, 100).account(kBob));
  const OrderId t3 = send(quote_buy(5000));
  EXPECT_EVENTS(accepted(t3), cancelled(t3, CancelReason::kMarketNoLiquidity, 5000));
}

// =========================================================================
// Post-only
// =========================================================================

TEST_F(EngineTest, PostOnlyThatWouldCrossIsCancelledEvenAgainstOwnOrder) {
  send(limit(kSell, 10000, 5).account(kBob));
  const OrderId t = send(limit(kBuy, 10000, 5).post_only());
  EXPECT_EVENTS(accepted(t), cancelled(t, CancelReason::kPostOnlyWouldTake, 5));

  const OrderId own = send(limit(kSell, 9995, 5));
  const OrderId u = send(limit(kBuy, 10005, 3).post_only().stp(StpMode::kCancelMaker));
  EXPECT_EVENTS(accepted(u), cancelled(u, CancelReason::kPostOnlyWouldTake, 3));
  EXPECT_TRUE(engine_.order(own).has_value());
  EXPECT_EQ(asks(), (Levels{{9995, 5, 1}, {10000, 5, 1}}));
  EXPECT_TRUE(bids().empty());
}

TEST_F(EngineTest, PostOnlyThatDoesNotCrossRests) {
  send(limit(kSell, 10000, 5).account(kBob));
  const OrderId t = send(limit(kBuy, 9995, 5).post_only());
  EXPECT_EVENTS(accepted(t), level(kBuy, 9995, 5, 1));
  const OrderId u = send(limit(kSell, 10000, 2).post_only().tif(TimeInForce::kGtc));
  EXPECT_EVENTS(accepted(u), level(kSell, 10000, 7, 2));
  EXPECT_TRUE(engine_.order(t)->post_only);
}

// =========================================================================
// Icebergs
// =========================================================================

TEST_F(EngineTest, IcebergLevelShowsOnlyTheVisibleQuantity) {
  const OrderId ice = send(limit(kSell, 10000, 100).account(kBob).display(10));
  EXPECT_EVENTS(accepted(ice), level(kSell, 10000, 10, 1));
  const OrderId other = send(limit(kSell, 10000, 7).account(kCarol));
  EXPECT_EVENTS(accepted(other), level(kSell, 10000, 17, 2));
  EXPECT_EQ(asks(), (Levels{{10000, 17, 2}}));
  const auto view = engine_.order(ice);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->quantity, 100);
  EXPECT_EQ(view->leaves, 100);
  EXPECT_EQ(view->display, 10);
  EXPECT_EQ(view->visible, 10);
}

TEST_F(EngineTest, IcebergRefreshGoesToBackOfLevel) {
  const OrderId ice = send(limit(kSell, 10000, 20).account(kBob).display(5));
  const OrderId b = send(limit(kSell, 10000, 5).account(kCarol));
  const OrderId t = send(limit(kBuy, 10000, 5));
  // Refreshed even though the taker has nothing left.
  EXPECT_EVENTS(accepted(t), trade(1, ice, t, 10000, 5, 15, 0), level(kSell, 10000, 10, 2));
  const OrderId u = send(limit(kBuy, 10000, 5));
  EXPECT_EVENTS(accepted(u), trade(2, b, u, 10000, 5, 0, 0), level(kSell, 10000, 5, 1));
  EXPECT_EQ(engine_.order(ice)->leaves, 15);
}

TEST_F(EngineTest, TakerConsumesIcebergHiddenQuantityAfterOtherOrders) {
  const OrderId a = send(limit(kSell, 10000, 20).account(kBob).display(5));
  const OrderId b = send(limit(kSell, 10000, 5).account(kCarol));
  const OrderId c = send(limit(kSell, 10000, 5).account(kDave));
  const OrderId t = send(limit(kBuy, 10000, 30));
  EXPECT_EVENTS(accepted(t),                                                   //
                trade(1, a, t, 10000, 5, 15, 25), level(kSell, 10000, 15, 3),  //
                trade(2, b, t, 10000, 5, 0, 20), level(kSell, 10000, 10, 2),   //
                trade(3, c, t, 10000, 5, 0, 15), level(kSell, 10000, 5, 1),    //
                trade(4, a, t, 10000, 5, 10, 10), level(kSell, 10000, 5, 1),   //
                trade(5, a, t, 10000, 5, 5, 5), level(kSell, 10000, 5, 1),     //
                trade(6, a, t, 10000, 5, 0, 0), level(kSell, 10000, 0, 0));
  EXPECT_TRUE(asks().empty());
}

TEST_F(EngineTest, IncomingIcebergTakesLiquidityWithItsWholeQuantity) {
  const OrderId a = send(limit(kSell, 10000, 8).account(kBob));
  const OrderId t = send(limit(kBuy, 10000, 20).display(3));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10000, 8, 0, 12), level(kSell, 10000, 0, 0),
                level(kBuy, 10000, 3, 1));
  const auto view = engine_.order(t);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->leaves, 12);
  EXPECT_EQ(view->visible, 3);
}

// =========================================================================
// Self-trade prevention
// =========================================================================

// Asks at 10000, oldest first: Bob 3, Alice 5, Bob 5. Alice buys 10.
class SelfTradeTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    m1_ = send(limit(kSell, 10000, 3).account(kBob));
    own_ = send(limit(kSell, 10000, 5));
    m3_ = send(limit(kSell, 10000, 5).account(kBob));
  }
  OrderId m1_ = 0, own_ = 0, m3_ = 0;
};

TEST_F(SelfTradeTest, CancelTakerCancelsIncomingAndStopsMatching) {
  const OrderId t = send(limit(kBuy, 10000, 10));  // default mode
  EXPECT_EVENTS(accepted(t), trade(1, m1_, t, 10000, 3, 0, 7), level(kSell, 10000, 10, 2),
                cancelled(t, CancelReason::kSelfTrade, 7));
  EXPECT_EQ(asks(), (Levels{{10000, 10, 2}}));
  EXPECT_TRUE(bids().empty());
}

TEST_F(SelfTradeTest, CancelMakerCancelsRestingOrderAndMatchingGoesOn) {
  const OrderId t = send(limit(kBuy, 10000, 10).stp(StpMode::kCancelMaker));
  EXPECT_EVENTS(accepted(t),                                                      //
                trade(1, m1_, t, 10000, 3, 0, 7), level(kSell, 10000, 10, 2),     //
                cancelled(own_, CancelReason::kSelfTrade, 5), level(kSell, 10000, 5, 1),  //
                trade(2, m3_, t, 10000, 5, 0, 2), level(kSell, 10000, 0, 0),      //
                level(kBuy, 10000, 2, 1));
}

TEST_F(SelfTradeTest, CancelBothCancelsMakerThenTaker) {
  const OrderId t = send(limit(kBuy, 10000, 10).stp(StpMode::kCancelBoth));
  EXPECT_EVENTS(accepted(t),                                                      //
                trade(1, m1_, t, 10000, 3, 0, 7), level(kSell, 10000, 10, 2),     //
                cancelled(own_, CancelReason::kSelfTrade, 5), level(kSell, 10000, 5, 1),  //
                cancelled(t, CancelReason::kSelfTrade, 7));
  EXPECT_EQ(asks(), (Levels{{10000, 5, 1}}));
  EXPECT_TRUE(bids().empty());
}

TEST_F(SelfTradeTest, SelfTradeDecrementReducesBothWithoutTrade) {
  const OrderId t = send(limit(kBuy, 10000, 10).stp(StpMode::kDecrement));
  // d = min(7, 5) = 5: the maker has nothing left (its Cancelled carries the
  // 5 it closes, like every Cancelled), the taker keeps 2.
  EXPECT_EVENTS(accepted(t),                                                      //
                trade(1, m1_, t, 10000, 3, 0, 7), level(kSell, 10000, 10, 2),     //
                cancelled(own_, CancelReason::kSelfTrade, 5), level(kSell, 10000, 5, 1),  //
                reduced(t, 5, 2),                                                 //
                trade(2, m3_, t, 10000, 2, 3, 0), level(kSell, 10000, 3, 1));
  EXPECT_EQ(asks(), (Levels{{10000, 3, 1}}));
}

TEST_F(EngineTest, SelfTradeDecrementOnLargerIcebergMakerKeepsItsPlace) {
  const OrderId own = send(limit(kSell, 10000, 20).display(5));
  const OrderId b = send(limit(kSell, 10000, 5).account(kBob));
  const OrderId t = send(limit(kBuy, 10000, 18).stp(StpMode::kDecrement));
  // d = min(18, 20) = 18: maker leaves 2, visible min(5, 2) = 2; the taker
  // is closed, its Cancelled carrying the 18 it closes.
  EXPECT_EVENTS(accepted(t), reduced(own, 18, 2), level(kSell, 10000, 7, 2),
                cancelled(t, CancelReason::kSelfTrade, 18));
  EXPECT_TRUE(bids().empty());
  EXPECT_EQ(engine_.order(own)->visible, 2);

  const OrderId u = send(limit(kBuy, 10000, 2).account(kCarol));
  EXPECT_EVENTS(accepted(u), trade(1, own, u, 10000, 2, 0, 0), level(kSell, 10000, 5, 1));
  EXPECT_TRUE(engine_.order(b).has_value());
}

TEST_F(EngineTest, MarketOrderClosedBySelfTradeHasNoRemainderEvent) {
  const OrderId own = send(limit(kSell, 10000, 5));
  send(limit(kSell, 10005, 5).account(kBob));
  const OrderId t = send(market(kBuy, 3));
  EXPECT_EVENTS(accepted(t), cancelled(t, CancelReason::kSelfTrade, 3));
  EXPECT_TRUE(engine_.order(own).has_value());
  EXPECT_EQ(asks(), (Levels{{10000, 5, 1}, {10005, 5, 1}}));
}

TEST_F(EngineTest, NoTradeEverHasTheSameAccountOnBothSides) {
  // A deterministic mixed stream of two accounts in every STP mode.
  std::uint64_t x = 12345;
  const auto next = [&x](std::uint64_t n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % n;
  };
  int trades = 0;
  int self_trade_events = 0;
  for (int i = 0; i < 400; ++i) {
    const auto acct = AccountId(1 + next(2));
    const Side side = next(2) == 0 ? kBuy : kSell;
    const Price px = 9980 + 5 * Price(next(9));
    const auto qty = Quantity(1 + next(8));
    const auto mode = StpMode(next(4));
    OrderBuilder o = next(5) == 0 ? market(side, qty) : limit(side, px, qty);
    o.account(acct).stp(mode);
    if (o.o.type == OrderType::kLimit && qty > 1 && next(4) == 0) o.display(1);
    send(o);
    for (const Event& e : events_) {
      if (e.type == EventType::kTrade) {
        ++trades;
        EXPECT_NE(e.trade.maker_account, e.trade.taker_account) << describe(e);
      }
      if ((e.type == EventType::kCancelled && e.cancelled.reason == CancelReason::kSelfTrade) ||
          e.type == EventType::kReduced) {
        ++self_trade_events;
      }
    }
    ASSERT_EQ(engine_.check_invariants(), "") << "after command " << seq_;
  }
  EXPECT_GT(trades, 50);
  EXPECT_GT(self_trade_events, 20);
}

// =========================================================================
// Stops
// =========================================================================

TEST_F(EngineTest, BuyStopIsElectedByTradeAtOrAboveItsStopAndRunsAsMarket) {
  const OrderId s = send(stop(kBuy, 10050, 10).account(kCarol));
  EXPECT_EVENTS(accepted(s));
  EXPECT_TRUE(bids().empty());  // unseen by the public book
  EXPECT_FALSE(engine_.order(s)->triggered);

  const OrderId a = send(limit(kSell, 10045, 5).account(kBob));
  const OrderId t1 = send(limit(kBuy, 10045, 5).account(kDave));
  EXPECT_EVENTS(accepted(t1), trade(1, a, t1, 10045, 5, 0, 0), level(kSell, 10045, 0, 0));

  const OrderId b = send(limit(kSell, 10050, 5).account(kBob));
  const OrderId c = send(limit(kSell, 10550, 5).account(kBob));
  send(limit(kSell, 10555, 5).account(kBob));
  const OrderId t2 = send(limit(kBuy, 10050, 5).account(kDave));
  // Band from last 10050: offset floor(502.5) = 502, BUY accepts <= 10550.
  EXPECT_EVENTS(accepted(t2), trade(2, b, t2, 10050, 5, 0, 0), level(kSell, 10050, 0, 0),
                triggered(s, 10050),                                             //
                trade(3, c, s, 10550, 5, 0, 5), level(kSell, 10550, 0, 0),      //
                cancelled(s, CancelReason::kMarketRemainder, 5));
  EXPECT_EQ(asks(), (Levels{{10555, 5, 1}}));
  EXPECT_FALSE(engine_.order(s).has_value());
}

TEST_F(EngineTest, SellStopIsElectedByTradeAtOrBelowItsStop) {
  const OrderId s = send(stop(kSell, 9950, 4).account(kCarol));
  const OrderId a = send(limit(kBuy, 9955, 5).account(kBob));
  const OrderId b = send(limit(kBuy, 9950, 5).account(kBob));
  const OrderId c = send(limit(kBuy, 9900, 10).account(kBob));

  const OrderId t1 = send(limit(kSell, 9955, 5).account(kDave));
  EXPECT_EVENTS(accepted(t1), trade(1, a, t1, 9955, 5, 0, 0), level(kBuy, 9955, 0, 0));
  const OrderId t2 = send(limit(kSell, 9950, 5).account(kDave));
  EXPECT_EVENTS(accepted(t2), trade(2, b, t2, 9950, 5, 0, 0), level(kBuy, 9950, 0, 0),
                triggered(s, 9950), trade(3, c, s, 9900, 4, 6, 0), level(kBuy, 9900, 6, 1));
}

TEST_F(EngineTest, TriggeredStopLimitRestsAtBackOfItsLevel) {
  const OrderId x = send(limit(kBuy, 10055, 10).account(kBob));
  const OrderId s =
      send(stop_limit(kBuy, 10050, 10055, 5).account(kCarol).tif(TimeInForce::kGtc));
  EXPECT_EVENTS(accepted(s));
  const OrderId t = send(limit(kSell, 10050, 4).account(kDave));
  EXPECT_EVENTS(accepted(t), trade(1, x, t, 10055, 4, 6, 0), level(kBuy, 10055, 6, 1),
                triggered(s, 10055), level(kBuy, 10055, 11, 2));
  const auto view = engine_.order(s);
  ASSERT_TRUE(view.has_value());
  EXPECT_TRUE(view->triggered);
  EXPECT_EQ(view->leaves, 5);
  EXPECT_EQ(view->price, 10055);
  EXPECT_EQ(view->time_in_force, TimeInForce::kGtc);

  const OrderId u = send(limit(kSell, 10055, 8).account(kDave));
  EXPECT_EVENTS(accepted(u), trade(2, x, u, 10055, 6, 0, 2), level(kBuy, 10055, 5, 1),
                trade(3, s, u, 10055, 2, 3, 0), level(kBuy, 10055, 3, 1));
}

TEST_F(EngineTest, TriggeredStopLimitTradesAtItsLimitThenRests) {
  const OrderId s = send(stop_limit(kBuy, 10020, 10025, 5).account(kCarol));
  const OrderId a = send(limit(kSell, 10020, 1).account(kBob));
  const OrderId b = send(limit(kSell, 10025, 2).account(kBob));
  send(limit(kSell, 10030, 9).account(kBob));
  const OrderId t = send(limit(kBuy, 10020, 1).account(kDave));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10020, 1, 0, 0), level(kSell, 10020, 0, 0),
                triggered(s, 10020), trade(2, b, s, 10025, 2, 0, 3), level(kSell, 10025, 0, 0),
                level(kBuy, 10025, 3, 1));
}

TEST_F(EngineTest, StopsElectedTogetherRunFarthestFirstThenOldest) {
  const OrderId s1 = send(stop(kBuy, 10020, 1).account(kCarol));
  const OrderId s2 = send(stop(kBuy, 10010, 1).account(kDave));
  const OrderId s3 = send(stop(kBuy, 10020, 1).account(kErin));
  const OrderId a = send(limit(kSell, 10030, 1).account(kBob));
  const OrderId b = send(limit(kSell, 10035, 3).account(kBob));
  const OrderId t = send(limit(kBuy, 10030, 1));
  // Distances from 10030: s2 20, s1 10, s3 10 (s1 older).
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10030, 1, 0, 0), level(kSell, 10030, 0, 0),
                triggered(s2, 10030), trade(2, b, s2, 10035, 1, 2, 0), level(kSell, 10035, 2, 1),
                triggered(s1, 10030), trade(3, b, s1, 10035, 1, 1, 0), level(kSell, 10035, 1, 1),
                triggered(s3, 10030), trade(4, b, s3, 10035, 1, 0, 0), level(kSell, 10035, 0, 0));
}

TEST_F(EngineTest, StopElectionCascadesUntilNoneIsElected) {
  const OrderId sa = send(stop(kSell, 9990, 5).account(kCarol));
  const OrderId sb = send(stop(kSell, 9980, 5).account(kDave));
  const OrderId p = send(limit(kBuy, 9990, 1).account(kBob));
  const OrderId q = send(limit(kBuy, 9980, 5).account(kBob));
  const OrderId r = send(limit(kBuy, 9975, 10).account(kBob));
  const OrderId t = send(limit(kSell, 9990, 1).account(kErin));
  EXPECT_EVENTS(accepted(t), trade(1, p, t, 9990, 1, 0, 0), level(kBuy, 9990, 0, 0),
                triggered(sa, 9990), trade(2, q, sa, 9980, 5, 0, 0), level(kBuy, 9980, 0, 0),
                triggered(sb, 9980), trade(3, r, sb, 9975, 5, 5, 0), level(kBuy, 9975, 5, 1));
}

TEST_F(EngineTest, SellSweepElectsBuyStopAtHighestPrintedPrice) {
  const OrderId s = send(stop(kBuy, 10025, 2).account(kCarol));
  const OrderId a = send(limit(kBuy, 10030, 1).account(kBob));
  const OrderId b = send(limit(kBuy, 10010, 1).account(kBob));
  const OrderId c = send(limit(kSell, 10040, 5).account(kBob));
  const OrderId t = send(limit(kSell, 10010, 2).account(kDave));
  // Last is 10010 but 10030 printed since the previous check.
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10030, 1, 0, 1), level(kBuy, 10030, 0, 0),
                trade(2, b, t, 10010, 1, 0, 0), level(kBuy, 10010, 0, 0),  //
                triggered(s, 10010), trade(3, c, s, 10040, 2, 3, 0), level(kSell, 10040, 3, 1));
}

TEST_F(EngineTest, StopsOfBothSidesElectedTogetherRunFarthestFirstWithBandAtThatMoment) {
  send(limit(kSell, 10050, 1).account(kBob));
  send(limit(kBuy, 10050, 1).account(kCarol));  // trade 1: last 10050
  const OrderId sb = send(stop(kBuy, 10060, 1).account(kCarol));
  const OrderId ss = send(stop(kSell, 10020, 1).account(kDave));
  const OrderId a = send(limit(kBuy, 10070, 1).account(kBob));
  const OrderId b = send(limit(kBuy, 10015, 1).account(kBob));
  send(limit(kBuy, 9550, 5).account(kBob));
  const OrderId d = send(limit(kSell, 10080, 5).account(kBob));
  const OrderId t = send(limit(kSell, 10015, 2).account(kErin));
  // Printed 10070 and 10015: both stops are elected. From last 10015, sb is
  // 45 away and ss 5, so sb runs first and prints 10080. ss then runs with
  // the band of that moment: offset floor(10080 * 5 %) = 504, SELL >= 9580,
  // so the bid at 9550 (inside a band from 10015) is out of reach.
  EXPECT_EVENTS(accepted(t), trade(2, a, t, 10070, 1, 0, 1), level(kBuy, 10070, 0, 0),
                trade(3, b, t, 10015, 1, 0, 0), level(kBuy, 10015, 0, 0),  //
                triggered(sb, 10015), trade(4, d, sb, 10080, 1, 4, 0), level(kSell, 10080, 4, 1),
                triggered(ss, 10015), cancelled(ss, CancelReason::kMarketNoLiquidity, 1));
  EXPECT_EQ(bids(), (Levels{{9550, 5, 1}}));
}

TEST_F(EngineTest, TriggeredDayStopLimitExpiresAtEndOfDay) {
  send(limit(kBuy, 10055, 10).account(kBob).tif(TimeInForce::kGtc));
  const OrderId s = send(stop_limit(kBuy, 10050, 10055, 5).account(kCarol));
  send(limit(kSell, 10050, 4).account(kDave));
  ASSERT_TRUE(engine_.order(s)->triggered);
  end_of_day();
  EXPECT_EVENTS(cancelled(s, CancelReason::kExpired, 5), level(kBuy, 10055, 6, 1), day_ended(1));
  EXPECT_EQ(engine_.instrument(inst_)->spec.reference_price, 10055);
}

TEST_F(EngineTest, CancelOfUntriggeredStopEmitsNoLevelEvent) {
  const OrderId s = send(stop(kBuy, 10100, 7));
  cancel(kAlice, s);
  EXPECT_EVENTS(cancelled(s, CancelReason::kUser, 7));
  EXPECT_EQ(engine_.open_orders(), 0u);
}

TEST_F(EngineTest, ReplaceIncreasingStopQuantityLosesStopPriority) {
  const OrderId s1 = send(stop(kBuy, 10020, 1).account(kCarol));
  const OrderId s2 = send(stop(kBuy, 10020, 1).account(kDave));
  replace(kCarol, s1, 2);
  EXPECT_EVENTS(replaced(s1, 0, 10020, 2, 2, false));
  const OrderId a = send(limit(kSell, 10020, 5).account(kBob));
  const OrderId t = send(limit(kBuy, 10020, 1));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10020, 1, 4, 0), level(kSell, 10020, 4, 1),
                triggered(s2, 10020), trade(2, a, s2, 10020, 1, 3, 0), level(kSell, 10020, 3, 1),
                triggered(s1, 10020), trade(3, a, s1, 10020, 2, 1, 0), level(kSell, 10020, 1, 1));
}

TEST_F(EngineTest, ReplaceDecreasingStopQuantityKeepsStopPriority) {
  const OrderId s1 = send(stop(kBuy, 10020, 2).account(kCarol));
  const OrderId s2 = send(stop(kBuy, 10020, 1).account(kDave));
  replace(kCarol, s1, 1);
  EXPECT_EVENTS(replaced(s1, 0, 10020, 1, 1, true));
  const OrderId a = send(limit(kSell, 10020, 5).account(kBob));
  const OrderId t = send(limit(kBuy, 10020, 1));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10020, 1, 4, 0), level(kSell, 10020, 4, 1),
                triggered(s1, 10020), trade(2, a, s1, 10020, 1, 3, 0), level(kSell, 10020, 3, 1),
                triggered(s2, 10020), trade(3, a, s2, 10020, 1, 2, 0), level(kSell, 10020, 2, 1));
}

TEST_F(EngineTest, ReplaceOfStopPriceMovesToBackOfNewStopPrice) {
  const OrderId s1 = send(stop(kBuy, 10030, 1).account(kCarol));
  const OrderId s2 = send(stop(kBuy, 10020, 1).account(kDave));
  replace(kCarol, s1, 0, 0, 10020);
  EXPECT_EVENTS(replaced(s1, 0, 10020, 1, 1, false));
  EXPECT_EQ(engine_.order(s1)->stop_price, 10020);
  const OrderId a = send(limit(kSell, 10020, 5).account(kBob));
  const OrderId t = send(limit(kBuy, 10020, 1));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10020, 1, 4, 0), level(kSell, 10020, 4, 1),
                triggered(s2, 10020), trade(2, a, s2, 10020, 1, 3, 0), level(kSell, 10020, 3, 1),
                triggered(s1, 10020), trade(3, a, s1, 10020, 1, 2, 0), level(kSell, 10020, 2, 1));
}

TEST_F(EngineTest, ReplaceOfStopChecksPricesAndElection) {
  const OrderId s = send(stop(kBuy, 10100, 5));
  const OrderId l = send(limit(kBuy, 9990, 5));
  replace(kAlice, s, 0, 10100);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnexpectedPrice, kAlice, s));
  replace(kAlice, l, 0, 0, 10100);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnexpectedStopPrice, kAlice, l));
  replace(kAlice, s, 0, 0, -5);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kPriceNotPositive, kAlice, s));
  replace(kAlice, s, 0, 0, 10102);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kPriceOffTick, kAlice, s));
  replace(kAlice, s, 0, 0, 10000);  // <= reference 10000: already elected
  EXPECT_EVENTS(
      rejected(CommandType::kReplace, RejectReason::kStopWouldTriggerImmediately, kAlice, s));
  // First failure wins: price before stop price.
  replace(kAlice, s, 0, 10100, -5);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnexpectedPrice, kAlice, s));
  EXPECT_EQ(engine_.order(s)->stop_price, 10100);
  EXPECT_EQ(engine_.order(s)->quantity, 5);
}

TEST_F(EngineTest, TriggeredStopLimitTakesNoNewStopPrice) {
  send(limit(kBuy, 10055, 10).account(kBob));
  const OrderId s = send(stop_limit(kBuy, 10050, 10055, 5).account(kCarol));
  send(limit(kSell, 10050, 4).account(kDave));
  ASSERT_TRUE(engine_.order(s)->triggered);
  replace(kCarol, s, 0, 0, 10200);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnexpectedStopPrice, kCarol, s));
  replace(kCarol, s, 0, 10060);  // a new price is fine for a STOP_LIMIT
  EXPECT_EVENTS(replaced(s, 10060, 10050, 5, 5, false), level(kBuy, 10055, 6, 1),
                level(kBuy, 10060, 5, 1));
}

// =========================================================================
// Replace
// =========================================================================

TEST_F(EngineTest, ReplaceDecreasingQuantityKeepsPriority) {
  const OrderId a = send(limit(kBuy, 10000, 10));
  const OrderId b = send(limit(kBuy, 10000, 10).account(kBob));
  replace(kAlice, a, 6);
  EXPECT_EVENTS(replaced(a, 10000, 0, 6, 6, true), level(kBuy, 10000, 16, 2));
  const OrderId t = send(limit(kSell, 10000, 6).account(kCarol));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10000, 6, 0, 0), level(kBuy, 10000, 10, 1));
  EXPECT_TRUE(engine_.order(b).has_value());
}

TEST_F(EngineTest, ReplaceWithSamePriceAndQuantityKeepsPriority) {
  const OrderId a = send(limit(kBuy, 10000, 10));
  send(limit(kBuy, 10000, 10).account(kBob));
  replace(kAlice, a, 10, 10000);
  EXPECT_EVENTS(replaced(a, 10000, 0, 10, 10, true), level(kBuy, 10000, 20, 2));
  const OrderId t = send(limit(kSell, 10000, 1).account(kCarol));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10000, 1, 9, 0), level(kBuy, 10000, 19, 2));
}

TEST_F(EngineTest, ReplaceQuantityIsTheNewTotalIncludingFilled) {
  const OrderId a = send(limit(kBuy, 10000, 10));
  send(limit(kSell, 10000, 4).account(kBob));  // a: filled 4, leaves 6
  replace(kAlice, a, 8);
  EXPECT_EVENTS(replaced(a, 10000, 0, 8, 4, true), level(kBuy, 10000, 4, 1));
  replace(kAlice, a, 4);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kQuantityNotAboveFilled, kAlice, a));
  replace(kAlice, a, 3);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kQuantityNotAboveFilled, kAlice, a));
  replace(kAlice, a, 5);
  EXPECT_EVENTS(replaced(a, 10000, 0, 5, 1, true), level(kBuy, 10000, 1, 1));
  const auto view = engine_.order(a);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->quantity, 5);
  EXPECT_EQ(view->leaves, 1);
}

TEST_F(EngineTest, ReplaceIncreasingQuantityLosesPriority) {
  const OrderId a = send(limit(kBuy, 10000, 10));
  const OrderId b = send(limit(kBuy, 10000, 10).account(kBob));
  replace(kAlice, a, 12);
  EXPECT_EVENTS(replaced(a, 10000, 0, 12, 12, false), level(kBuy, 10000, 10, 1),
                level(kBuy, 10000, 22, 2));
  const OrderId t = send(limit(kSell, 10000, 10).account(kCarol));
  EXPECT_EVENTS(accepted(t), trade(1, b, t, 10000, 10, 0, 0), level(kBuy, 10000, 12, 1));
}

TEST_F(EngineTest, ReplacePriceChangeLosesPriorityAndMayTradeAtOnce) {
  const OrderId a = send(limit(kBuy, 9990, 10));
  const OrderId b = send(limit(kSell, 10000, 5).account(kBob));
  replace(kAlice, a, 0, 10000);
  EXPECT_EVENTS(replaced(a, 10000, 0, 10, 10, false), level(kBuy, 9990, 0, 0),
                trade(1, b, a, 10000, 5, 0, 5), level(kSell, 10000, 0, 0),
                level(kBuy, 10000, 5, 1));
  EXPECT_EQ(bids(), (Levels{{10000, 5, 1}}));
}

TEST_F(EngineTest, ReplaceThatTradesElectsStops) {
  const OrderId a = send(limit(kBuy, 9990, 10));
  const OrderId b = send(limit(kSell, 10005, 5).account(kBob));
  const OrderId s = send(stop(kBuy, 10005, 2).account(kCarol));
  const OrderId c = send(limit(kSell, 10010, 5).account(kBob));
  replace(kAlice, a, 0, 10005);
  EXPECT_EVENTS(replaced(a, 10005, 0, 10, 10, false), level(kBuy, 9990, 0, 0),
                trade(1, b, a, 10005, 5, 0, 5), level(kSell, 10005, 0, 0),
                level(kBuy, 10005, 5, 1),  //
                triggered(s, 10005), trade(2, c, s, 10010, 2, 3, 0), level(kSell, 10010, 3, 1));
}

TEST_F(EngineTest, ReplaceOfIcebergShrinksItsVisibleQuantity) {
  const OrderId ice = send(limit(kBuy, 10000, 20).display(5));
  replace(kAlice, ice, 3);
  EXPECT_EVENTS(replaced(ice, 10000, 0, 3, 3, true), level(kBuy, 10000, 3, 1));
  EXPECT_EQ(engine_.order(ice)->visible, 3);
  replace(kAlice, ice, 30);  // loses priority: visible = min(display, leaves)
  EXPECT_EVENTS(replaced(ice, 10000, 0, 30, 30, false), level(kBuy, 10000, 0, 0),
                level(kBuy, 10000, 5, 1));
  EXPECT_EQ(engine_.order(ice)->visible, 5);
}

TEST_F(EngineTest, ReplaceOfFilledCancelledUnknownOrForeignOrderIsRejected) {
  const OrderId a = send(limit(kBuy, 9990, 10));
  replace(kBob, a, 5);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnknownOrder, kBob, a));
  replace(kAlice, 99, 5);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnknownOrder, kAlice, 99));
  cancel(kAlice, a);
  replace(kAlice, a, 5);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnknownOrder, kAlice, a));

  const OrderId b = send(limit(kBuy, 10000, 5));
  send(limit(kSell, 10000, 5).account(kBob));  // fills b
  replace(kAlice, b, 8);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnknownOrder, kAlice, b));
}

TEST_F(EngineTest, ReplaceChecksFieldsInOrder) {
  const OrderId a = send(limit(kBuy, 9990, 10));
  replace(kAlice, a, 0, -5);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kPriceNotPositive, kAlice, a));
  replace(kAlice, a, 0, 9993);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kPriceOffTick, kAlice, a));
  replace(kAlice, a, -5);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kQuantityNotPositive, kAlice, a));
  // Price before stop price before quantity.
  replace(kAlice, a, -5, 9993);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kPriceOffTick, kAlice, a));
  replace(kAlice, a, -5, 0, 10100);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kUnexpectedStopPrice, kAlice, a));

  const InstrumentId lots = add(spec("LOTS", 1, 10, 1000));
  const OrderId l = send(limit(kBuy, 990, 20).on(lots));
  replace(kAlice, l, 25);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kQuantityOffLot, kAlice, l));

  const auto view = engine_.order(a);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->price, 9990);
  EXPECT_EQ(view->quantity, 10);
  EXPECT_EQ(view->leaves, 10);
}

TEST_F(EngineTest, ReplaceThatWouldOverflowIsRejected) {
  const InstrumentId big = add(spec("BIG", 1, 1, 1, 0, 0, 0));
  const OrderId a = send(limit(kBuy, 3'000'000'000, 1).on(big));
  replace(kAlice, a, 4'000'000'000);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kValueOverflow, kAlice, a));
  EXPECT_EQ(engine_.order(a)->quantity, 1);
}

TEST_F(EngineTest, PostOnlyReplaceThatWouldCrossIsRejectedAndLeavesOrderUnchanged) {
  const OrderId p = send(limit(kBuy, 9990, 5).post_only());
  send(limit(kSell, 10000, 5).account(kBob));
  replace(kAlice, p, 0, 10000);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kPostOnlyWouldTake, kAlice, p));
  EXPECT_EQ(engine_.order(p)->price, 9990);
  EXPECT_EQ(bids(), (Levels{{9990, 5, 1}}));
  replace(kAlice, p, 0, 9995);
  EXPECT_EVENTS(replaced(p, 9995, 0, 5, 5, false), level(kBuy, 9990, 0, 0),
                level(kBuy, 9995, 5, 1));
}

TEST_F(EngineTest, RejectedReplaceLeavesOrderExactlyAsItWas) {
  const OrderId a = send(limit(kBuy, 10000, 10).display(4));
  send(limit(kBuy, 10000, 10).account(kBob));
  const auto before = engine_.order(a);
  const std::uint64_t hash = engine_.state_hash();
  replace(kAlice, a, 12, 10003);
  EXPECT_EVENTS(rejected(CommandType::kReplace, RejectReason::kPriceOffTick, kAlice, a));
  const auto after = engine_.order(a);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(std::tie(after->price, after->quantity, after->leaves, after->visible, after->display),
            std::tie(before->price, before->quantity, before->leaves, before->visible,
                     before->display));
  EXPECT_EQ(engine_.state_hash(), hash);
  const OrderId t = send(limit(kSell, 10000, 1).account(kCarol));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 10000, 1, 9, 0), level(kBuy, 10000, 13, 2));
}

// =========================================================================
// Cancel
// =========================================================================

TEST_F(EngineTest, CancelEmitsCancelledThenLevelUpdate) {
  const OrderId a = send(limit(kBuy, 9990, 10));
  send(limit(kBuy, 9990, 5).account(kBob));
  send(limit(kSell, 9990, 3).account(kCarol));  // a: leaves 7
  cancel(kAlice, a);
  EXPECT_EVENTS(cancelled(a, CancelReason::kUser, 7), level(kBuy, 9990, 5, 1));
  const OrderId ice = send(limit(kSell, 10010, 50).display(5));
  cancel(kAlice, ice);
  EXPECT_EVENTS(cancelled(ice, CancelReason::kUser, 50), level(kSell, 10010, 0, 0));
  EXPECT_FALSE(engine_.order(a).has_value());
}

TEST_F(EngineTest, UnknownAndForeignOrderGiveSameReject) {
  const OrderId a = send(limit(kBuy, 9990, 10));
  cancel(kBob, a);
  EXPECT_EVENTS(rejected(CommandType::kCancel, RejectReason::kUnknownOrder, kBob, a));
  EXPECT_EQ(bids(), (Levels{{9990, 10, 1}}));
  cancel(kAlice, 999);
  EXPECT_EVENTS(rejected(CommandType::kCancel, RejectReason::kUnknownOrder, kAlice, 999));
  cancel(kAlice, a);
  EXPECT_EVENTS(cancelled(a, CancelReason::kUser, 10), level(kBuy, 9990, 0, 0));
  cancel(kAlice, a);
  EXPECT_EVENTS(rejected(CommandType::kCancel, RejectReason::kUnknownOrder, kAlice, a));
}

// =========================================================================
// Mass cancel
// =========================================================================

class MassCancelTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    beta_ = add(spec("BETA", 5, 1, 10000));
    a1_ = send(limit(kBuy, 9990, 10));
    b1_ = send(limit(kBuy, 9990, 5).account(kBob));
    a2_ = send(limit(kSell, 10010, 5).on(beta_));
    a3_ = send(stop(kBuy, 10100, 5));
    a4_ = send(limit(kBuy, 9990, 3));
  }
  InstrumentId beta_ = 0;
  OrderId a1_ = 0, b1_ = 0, a2_ = 0, a3_ = 0, a4_ = 0;
};

TEST_F(MassCancelTest, CancelsEveryOpenOrderOfTheAccountInAscendingId) {
  mass_cancel(kAlice, 0);
  EXPECT_EVENTS(cancelled(a1_, CancelReason::kMassCancel, 10), level(kBuy, 9990, 8, 2),
                cancelled(a2_, CancelReason::kMassCancel, 5),
                level_on(beta_, kSell, 10010, 0, 0),  //
                cancelled(a3_, CancelReason::kMassCancel, 5),
                cancelled(a4_, CancelReason::kMassCancel, 3), level(kBuy, 9990, 5, 1),
                mass_cancelled(kAlice, 0, 4));
  EXPECT_EQ(bids(), (Levels{{9990, 5, 1}}));
  EXPECT_EQ(engine_.open_orders(), 1u);
  EXPECT_TRUE(engine_.order(b1_).has_value());
}

TEST_F(MassCancelTest, CancelsOnlyTheGivenInstrument) {
  mass_cancel(kAlice, beta_);
  EXPECT_EVENTS(cancelled(a2_, CancelReason::kMassCancel, 5),
                level_on(beta_, kSell, 10010, 0, 0), mass_cancelled(kAlice, beta_, 1));
  EXPECT_TRUE(engine_.order(a1_).has_value());
  EXPECT_TRUE(engine_.order(a3_).has_value());
  EXPECT_EQ(engine_.open_orders(), 4u);
}

TEST_F(MassCancelTest, ValidatesInstrumentAndAccountLikeAnOrder) {
  mass_cancel(kAlice, 99);
  EXPECT_EVENTS(rejected(CommandType::kMassCancel, RejectReason::kUnknownSymbol, kAlice));
  mass_cancel(0, 0);
  EXPECT_EVENTS(rejected(CommandType::kMassCancel, RejectReason::kUnknownAccount, 0));
  mass_cancel((1u << 20) + 1, 0);
  EXPECT_EVENTS(rejected(CommandType::kMassCancel, RejectReason::kUnknownAccount, (1u << 20) + 1));
  mass_cancel(0, 99);
  EXPECT_EVENTS(rejected(CommandType::kMassCancel, RejectReason::kUnknownSymbol, 0));
  mass_cancel(kCarol, 0);
  EXPECT_EVENTS(mass_cancelled(kCarol, 0, 0));
  EXPECT_EQ(engine_.open_orders(), 5u);
}

// =========================================================================
// End of day
// =========================================================================

TEST_F(EngineTest, EndOfDayExpiresDayOrdersKeepsGtcAndRollsReferencePrice) {
  const InstrumentId beta = add(spec("BETA", 5, 1, 10000));
  const OrderId d1 = send(limit(kBuy, 9990, 10));
  const OrderId g1 = send(limit(kBuy, 9985, 5).tif(TimeInForce::kGtc));
  const OrderId ds = send(stop(kBuy, 10200, 1));
  const OrderId gs = send(stop(kBuy, 10205, 1).account(kBob).tif(TimeInForce::kGtc));
  const OrderId d2 = send(limit(kSell, 10100, 5).account(kBob));
  send(limit(kBuy, 10100, 2).account(kCarol));  // trades: d2 leaves 3, last 10100
  const OrderId d3 = send(limit(kSell, 10020, 4).account(kBob).on(beta));

  end_of_day();
  EXPECT_EVENTS(cancelled(d1, CancelReason::kExpired, 10), level(kBuy, 9990, 0, 0),
                cancelled(ds, CancelReason::kExpired, 1),
                cancelled(d2, CancelReason::kExpired, 3), level(kSell, 10100, 0, 0),
                cancelled(d3, CancelReason::kExpired, 4), level_on(beta, kSell, 10020, 0, 0),
                day_ended(4));
  EXPECT_TRUE(engine_.order(g1).has_value());
  EXPECT_TRUE(engine_.order(gs).has_value());
  EXPECT_EQ(engine_.open_orders(), 2u);
  EXPECT_EQ(bids(), (Levels{{9985, 5, 1}}));

  EXPECT_EQ(engine_.instrument(inst_)->spec.reference_price, 10100);
  EXPECT_EQ(engine_.instrument(inst_)->last_price, 0);
  EXPECT_EQ(engine_.instrument(beta)->spec.reference_price, 10000);  // did not trade

  // The new reference decides stop election before the next trade.
  EXPECT_TRUE(rejects(stop(kBuy, 10100, 1), RejectReason::kStopWouldTriggerImmediately));
  EXPECT_TRUE(rejects(stop(kSell, 10100, 1), RejectReason::kStopWouldTriggerImmediately));
  EXPECT_NE(send(stop(kSell, 10095, 1)), 0u);
  EXPECT_TRUE(rejects(stop(kSell, 10050, 1).on(beta),  // beta's reference is still 10000
                      RejectReason::kStopWouldTriggerImmediately));
}

TEST_F(EngineTest, EndOfDayWithNothingOpenReportsZero) {
  end_of_day();
  EXPECT_EVENTS(day_ended(0));
  EXPECT_EQ(engine_.instrument(inst_)->spec.reference_price, 10000);
}

// =========================================================================
// Fixed point
// =========================================================================

TEST_F(EngineTest, FixedPointScalesPriceFourQuantityTwo) {
  // 150.25 at price scale 4, tick 0.01; lots of 0.01 at quantity scale 2.
  inst_ = add(spec("FX", 100, 1, 1502500, 0, 4, 2));
  ASSERT_NE(inst_, 0u);
  EXPECT_TRUE(rejects(limit(kBuy, 1502550, 1), RejectReason::kPriceOffTick));

  const OrderId a = send(limit(kSell, 1502500, 5).account(kBob));  // 0.05 @ 150.25
  const OrderId t = send(limit(kBuy, 1502600, 3));
  EXPECT_EVENTS(accepted(t), trade(1, a, t, 1502500, 3, 2, 0), level(kSell, 1502500, 2, 1));

  // 1.0000 buys floor(10000 * 100 / 1502500) = 0 lots.
  const OrderId q1 = send(quote_buy(10000));
  EXPECT_EVENTS(accepted(q1), cancelled(q1, CancelReason::kQuoteTooSmall, 10000));

  // 5.0000: takes a's 2 (30050), then 1 of b (15025), 4925 left: complete.
  const OrderId b = send(limit(kSell, 1502500, 10).account(kBob));
  const OrderId q2 = send(quote_buy(50000));
  EXPECT_EVENTS(accepted(q2), trade(2, a, q2, 1502500, 2, 0, 19950), level(kSell, 1502500, 10, 1),
                trade(3, b, q2, 1502500, 1, 9, 4925), level(kSell, 1502500, 9, 1));
}

// =========================================================================
// Determinism
// =========================================================================

std::vector<Command> script() {
  std::vector<Command> cmds;
  SeqNo seq = 0;
  const auto push = [&](const auto& body) {
    ++seq;
    cmds.push_back(Command::make(seq, Timestamp(seq) * 100, body));
  };
  push(acme_spec());
  const auto order = [](AccountId acct, Side side, OrderType type, Price px, Price stop_px,
                        Quantity qty, Quantity display) {
    NewOrder o{};
    o.account = acct;
    o.instrument = 1;
    o.side = side;
    o.type = type;
    o.time_in_force = type == OrderType::kMarket ? TimeInForce::kIoc : TimeInForce::kGtc;
    o.price = px;
    o.stop_price = stop_px;
    o.quantity = qty;
    o.display_quantity = display;
    return o;
  };
  push(order(kBob, kSell, OrderType::kLimit, 10010, 0, 10, 0));
  push(order(kCarol, kSell, OrderType::kLimit, 10020, 0, 30, 5));
  push(order(kDave, kBuy, OrderType::kLimit, 9990, 0, 8, 0));
  push(order(kErin, kBuy, OrderType::kStop, 0, 10015, 4, 0));
  push(order(kAlice, kBuy, OrderType::kLimit, 10015, 0, 12, 0));
  push(Replace{kDave, 3, 6, 9995, 0});
  push(order(kAlice, kSell, OrderType::kMarket, 0, 0, 3, 0));
  push(Cancel{kBob, 1});
  return cmds;
}

TEST(EngineDeterminism, EqualCommandStreamsGiveEqualStateHashAndEvents) {
  Engine x;
  Engine y;
  std::vector<Event> ex;
  std::vector<Event> ey;
  for (const Command& c : script()) {
    x.apply(c, ex);
    y.apply(c, ey);
  }
  ASSERT_EQ(ex.size(), ey.size());
  for (std::size_t i = 0; i < ex.size(); ++i) EXPECT_TRUE(ex[i] == ey[i]) << i;
  EXPECT_GT(ex.size(), 15u);
  EXPECT_EQ(x.state_hash(), y.state_hash());

  // One more resting order on one side only: the states differ...
  NewOrder o{};
  o.account = kBob;
  o.instrument = 1;
  o.side = Side::kBuy;
  o.type = OrderType::kLimit;
  o.time_in_force = TimeInForce::kGtc;
  o.price = 9900;
  o.quantity = 1;
  x.apply(Command::make(100, 10000, o), ex);
  EXPECT_NE(x.state_hash(), y.state_hash());
  // ... and are equal again once the other engine has seen it too.
  y.apply(Command::make(100, 10000, o), ey);
  EXPECT_EQ(x.state_hash(), y.state_hash());
  // A change of quantity alone changes the hash.
  OrderId id = 0;
  for (const Event& e : ex) {
    if (e.type == EventType::kAccepted) id = e.accepted.order_id;
  }
  x.apply(Command::make(101, 10100, Replace{kBob, id, 2, 0, 0}), ex);
  EXPECT_NE(x.state_hash(), y.state_hash());
  EXPECT_EQ(x.check_invariants(), "");
  EXPECT_EQ(y.check_invariants(), "");
}

}  // namespace
}  // namespace stox
