#include "app/demo.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace stox {
namespace {

std::string run_to_string(int* status) {
  std::ostringstream out;
  *status = run_demo(out);
  return out.str();
}

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override { output_ = run_to_string(&status_); }

  bool shows(std::string_view text) const { return output_.find(text) != std::string::npos; }

  int status_ = -1;
  std::string output_;
};

TEST_F(DemoTest, RunsWithoutScriptErrorsOrBrokenInvariants) {
  EXPECT_EQ(status_, 0) << output_;
  EXPECT_FALSE(shows("ERROR")) << output_;
}

TEST_F(DemoTest, TwoRunsPrintIdenticalOutput) {
  int second_status = -1;
  EXPECT_EQ(run_to_string(&second_status), output_);
  EXPECT_EQ(second_status, status_);
}

TEST_F(DemoTest, ListsTheThreeInstruments) {
  EXPECT_TRUE(shows("listed     AAPL as instrument 1: tick 0.01, lot 1, reference 227.50"));
  EXPECT_TRUE(shows("listed     MSFT as instrument 2"));
  EXPECT_TRUE(shows("listed     GOOGL as instrument 3"));
}

TEST_F(DemoTest, CrossingLimitTradesAtTheMakersPrice) {
  EXPECT_TRUE(shows("TRADE      T1 AAPL 100 @ 227.60: Carol #18 buys from Alice #4")) << output_;
}

TEST_F(DemoTest, IcebergRefreshesAfterItsVisiblePartTrades) {
  EXPECT_TRUE(
      shows("TRADE      T2 AAPL 100 @ 227.65: Carol #18 buys from Bob #17 "
            "(maker leaves 400, taker leaves 50)"))
      << output_;
  EXPECT_TRUE(shows("book       AAPL ask 227.65: 100 in 1 order")) << output_;
}

TEST_F(DemoTest, ShowsEveryOutcomeTheScriptAimsFor) {
  EXPECT_TRUE(shows(": IOC_REMAINDER, 250 unfilled")) << output_;
  EXPECT_TRUE(shows("triggered  #20 Carol AAPL stop elected (last trade 227.20)")) << output_;
  EXPECT_TRUE(shows(": FOK_NOT_FILLABLE, 1000 unfilled")) << output_;
  EXPECT_TRUE(shows(": POST_ONLY_WOULD_TAKE")) << output_;
  EXPECT_TRUE(shows("REJECTED   new order of Dave: PRICE_OFF_TICK")) << output_;
  EXPECT_TRUE(shows("REJECTED   cancel of Dave for #5: UNKNOWN_ORDER")) << output_;
  EXPECT_TRUE(shows("cancelled  #6 Alice AAPL: USER")) << output_;
  EXPECT_TRUE(shows("kept time priority")) << output_;
  EXPECT_TRUE(shows("lost time priority")) << output_;
  EXPECT_TRUE(shows(": SELF_TRADE")) << output_;
  EXPECT_TRUE(shows("REJECTED   new order of Dave: INSTRUMENT_HALTED")) << output_;
  EXPECT_TRUE(shows("triggered  #30 Carol GOOGL stop elected (last trade 165.55)")) << output_;
}

TEST_F(DemoTest, QuoteQuantityOrderReportsCashLeaves) {
  EXPECT_TRUE(shows("Carol #27 buys from Alice #11 (maker leaves 58, taker leaves 110.60 cash)"))
      << output_;
}

TEST_F(DemoTest, PrintsBooksAndTrades) {
  EXPECT_TRUE(shows("=== Books (top 5 levels) ===")) << output_;
  EXPECT_TRUE(shows("=== Trades ===")) << output_;
  EXPECT_TRUE(shows("state hash 0x")) << output_;
}

}  // namespace
}  // namespace stox
