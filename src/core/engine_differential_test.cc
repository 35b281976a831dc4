// Differential tests: the fast Engine against the naive ReferenceMatcher on
// seeded random command streams, event for event; determinism of the Engine
// (byte-identical events, equal state hashes); and scripted scenarios that
// check the reference itself against answers worked out by hand.
//
// Longer or different runs: STOX_DIFF_SEED=<n> STOX_DIFF_COMMANDS=<n>
// (the seed of a failing run is printed in the failure message).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>
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

bool same_levels(const std::vector<LevelView>& a, const std::vector<LevelView>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].price != b[i].price || a[i].quantity != b[i].quantity || a[i].count != b[i].count) {
      return false;
    }
  }
  return true;
}

std::string describe(const std::vector<LevelView>& levels) {
  std::ostringstream s;
  for (const LevelView& l : levels) s << " " << l.price << "x" << l.quantity << "/" << l.count;
  return s.str();
}

// Counts what a run exercised, so a stream that silently stops covering a
// rule is noticed.
struct Coverage {
  std::map<int, std::uint64_t> events, cancel_reasons, reject_reasons;
  std::uint64_t kept_priority = 0, lost_priority = 0;

  void add(const std::vector<Event>& events_of_command) {
    for (const Event& e : events_of_command) {
      ++events[int(e.type)];
      if (e.type == EventType::kCancelled) ++cancel_reasons[int(e.cancelled.reason)];
      if (e.type == EventType::kRejected) ++reject_reasons[int(e.rejected.reason)];
      if (e.type == EventType::kReplaced) {
        ++(e.replaced.kept_priority ? kept_priority : lost_priority);
      }
    }
  }
  std::string text() const {
    std::ostringstream s;
    s << "events:";
    for (auto [k, n] : events) s << " " << k << "=" << n;
    s << "\ncancel reasons:";
    for (auto [k, n] : cancel_reasons) s << " " << to_string(CancelReason(k)) << "=" << n;
    s << "\nreject reasons:";
    for (auto [k, n] : reject_reasons) s << " " << to_string(RejectReason(k)) << "=" << n;
    s << "\nreplaces kept/lost priority: " << kept_priority << "/" << lost_priority << "\n";
    return s.str();
  }
};

void expect_depth_equal(const Engine& engine, const ReferenceMatcher& ref, std::uint64_t seed,
                        std::size_t index) {
  for (InstrumentId id = 1; id <= ref.instrument_count(); ++id) {
    for (Side side : {Side::kBuy, Side::kSell}) {
      const std::vector<LevelView> want = ref.depth(id, side);
      const std::vector<LevelView> got = engine.depth(id, side, 1'000'000);
      ASSERT_TRUE(same_levels(got, want))
          << "seed " << seed << ", after command index " << index << ": depth of instrument "
          << id << (side == Side::kBuy ? " BUY" : " SELL") << "\n  engine:   " << describe(got)
          << "\n  reference:" << describe(want);
    }
  }
  ASSERT_EQ(engine.open_orders(), ref.open_orders()) << "seed " << seed << ", index " << index;
}

std::string describe(const OrderView& o) {
  std::ostringstream s;
  s << "order " << o.id << " acct=" << o.account << " instr=" << o.instrument
    << " side=" << int(o.side) << " type=" << int(o.type) << " tif=" << int(o.time_in_force)
    << " px=" << o.price << " stop=" << o.stop_price << " qty=" << o.quantity
    << " leaves=" << o.leaves << " display=" << o.display << " visible=" << o.visible
    << " triggered=" << o.triggered << " postonly=" << o.post_only
    << " clid=" << o.client_order_id.view();
  return s.str();
}

// Every open order as the engine and the reference see it. `visible` only
// means something for orders in the book, not for untriggered stops.
void expect_orders_equal(const Engine& engine, const ReferenceMatcher& ref, std::uint64_t seed,
                         std::size_t index) {
  for (OrderId id : ref.open_order_ids()) {
    const OrderView want = *ref.order(id);
    const std::optional<OrderView> got = engine.order(id);
    ASSERT_TRUE(got.has_value()) << "seed " << seed << ", index " << index << ": engine lost "
                                 << describe(want);
    const bool in_book = !(want.type == OrderType::kStop || want.type == OrderType::kStopLimit) ||
                         want.triggered;
    const bool same =
        std::tie(got->account, got->instrument, got->client_order_id, got->side, got->type,
                 got->time_in_force, got->price, got->stop_price, got->quantity, got->leaves,
                 got->display, got->triggered, got->post_only) ==
            std::tie(want.account, want.instrument, want.client_order_id, want.side, want.type,
                     want.time_in_force, want.price, want.stop_price, want.quantity, want.leaves,
                     want.display, want.triggered, want.post_only) &&
        (!in_book || got->visible == want.visible);
    ASSERT_TRUE(same) << "seed " << seed << ", index " << index << "\n  engine:    "
                      << describe(*got) << "\n  reference: " << describe(want);
  }
}

void run_differential(std::uint64_t seed, std::size_t commands, const RandomStreamOptions& options,
                      Coverage& coverage) {
  EngineConfig config;
  config.max_accounts = options.max_accounts;
  // Small on purpose: the engine's pools must grow during the run.
  config.expected_orders = 256;
  Engine engine(config);
  ReferenceMatcher reference(config);
  RandomStream stream(seed, options);
  std::vector<Event> got;
  std::vector<Event> want;
  for (std::size_t i = 0; i < commands; ++i) {
    const Command command = stream.next();
    got.clear();
    want.clear();
    engine.apply(command, got);
    reference.apply(command, want);
    ASSERT_TRUE(same_events(got, want))
        << "seed " << seed << ", command index " << i << "\n  "
        << describe(command) << "\n  engine events:\n"
        << describe(got) << "  reference events:\n"
        << describe(want);
    const std::string broken = engine.check_invariants();
    ASSERT_TRUE(broken.empty()) << "seed " << seed << ", command index " << i << "\n  "
                                << describe(command) << "\n  invariant: " << broken;
    coverage.add(want);
    stream.observe(want);
    if (i % 1000 == 999) {
      expect_depth_equal(engine, reference, seed, i);
      expect_orders_equal(engine, reference, seed, i);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  expect_depth_equal(engine, reference, seed, commands);
}

// The main shape over a few seeds, then shorter runs of other shapes: one
// crowded instrument with two accounts, and many accounts with more invalid
// input and end of day. STOX_DIFF_SEED replaces the seed list by one seed.
TEST(EngineDifferentialTest, EngineMatchesReferenceOnRandomStream) {
  const bool seed_given = std::getenv("STOX_DIFF_SEED") != nullptr;
  const std::uint64_t base = env_or("STOX_DIFF_SEED", 20261122);
  const std::size_t commands = env_or("STOX_DIFF_COMMANDS", 1'000'000);
  const std::vector<std::uint64_t> seeds =
      seed_given ? std::vector<std::uint64_t>{base} : std::vector<std::uint64_t>{base, 1, 2};

  RandomStreamOptions one_book;
  one_book.instruments = 1;
  one_book.accounts = 2;
  one_book.target_open_orders = 80;

  RandomStreamOptions many_accounts;
  many_accounts.accounts = 40;
  many_accounts.max_accounts = 100;
  many_accounts.invalid_per_mille = 100;
  many_accounts.end_of_day_per_mille = 5;
  many_accounts.account_commands_per_mille = 5;  // all kInvalidCommand in matching-only mode

  struct Run {
    const char* shape;
    std::uint64_t seed;
    std::size_t commands;
    RandomStreamOptions options;
  };
  std::vector<Run> runs;
  runs.reserve(seeds.size());
for (std::uint64_t seed : seeds) runs.push_back({"default", seed, commands, {}});
  runs.push_back({"one_book", base + 1, commands / 4, one_book});
  runs.push_back({"many_accounts", base + 2, commands / 4, many_accounts});

  Coverage coverage;
  for (const Run& run : runs) {
    SCOPED_TRACE(std::string("stream shape ") + run.shape + ", seed " + std::to_string(run.seed) +
                 " (shape runs use STOX_DIFF_SEED + 1 / + 2)");
    run_differential(run.seed, run.commands, run.options, coverage);
    if (HasFatalFailure()) return;
  }

  std::cout << coverage.text();
  if (commands < 200'000) return;  // a short run by flag need not cover everything
  for (EventType t : {EventType::kTrade, EventType::kReduced, EventType::kReplaced,
                      EventType::kStopTriggered, EventType::kMassCancelled, EventType::kDayEnded,
                      EventType::kInstrumentStatus}) {
    EXPECT_GT(coverage.events[int(t)], 0u) << "event type " << int(t) << " never happened";
  }
  for (int r = int(CancelReason::kUser); r <= int(CancelReason::kMassCancel); ++r) {
    EXPECT_GT(coverage.cancel_reasons[r], 0u) << to_string(CancelReason(r)) << " never happened";
  }
  for (int r = int(RejectReason::kUnknownSymbol); r <= int(RejectReason::kInvalidCommand); ++r) {
    EXPECT_GT(coverage.reject_reasons[r], 0u) << to_string(RejectReason(r)) << " never happened";
  }
  EXPECT_GT(coverage.kept_priority, 0u);
  EXPECT_GT(coverage.lost_priority, 0u);
}

TEST(EngineDifferentialTest, SameStreamGivesByteIdenticalEventsAndEqualHash) {
  const std::uint64_t seed = env_or("STOX_DIFF_SEED", 20261122) ^ 0x5eed;
  Engine a;
  Engine b;
  EXPECT_EQ(a.state_hash(), b.state_hash());
  RandomStream stream(seed);
  std::vector<Event> ea;
  std::vector<Event> eb;
  int hash_changes_checked = 0;
  for (std::size_t i = 0; i < 100'000; ++i) {
    const Command command = stream.next();
    const std::uint64_t before = a.state_hash();
    ea.clear();
    eb.clear();
    a.apply(command, ea);
    b.apply(command, eb);
    ASSERT_EQ(ea.size(), eb.size()) << "seed " << seed << ", index " << i;
    for (std::size_t k = 0; k < ea.size(); ++k) {
      // Every Event byte, padding included, is zeroed on construction (event.h),
      // so comparing object representations is exactly what "byte-identical" means.
      // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison)
      ASSERT_EQ(std::memcmp(&ea[k], &eb[k], sizeof(Event)), 0)
          << "seed " << seed << ", index " << i << ", event " << k << ": " << to_string(ea[k]);
    }
    // An accepted order always changes the state (at least the order id counter).
    const bool accepted = !ea.empty() && ea.front().type == EventType::kAccepted;
    if (accepted && i % 97 == 0) {
      ASSERT_NE(before, a.state_hash()) << "seed " << seed << ", index " << i;
      ++hash_changes_checked;
    }
    if (i % 5000 == 4999) {
      ASSERT_EQ(a.state_hash(), b.state_hash()) << "seed " << seed << ", index " << i;
    }
    stream.observe(ea);
  }
  EXPECT_EQ(a.state_hash(), b.state_hash());
  EXPECT_GT(hash_changes_checked, 100);
}

// ---------------------------------------------------------------------------
// The reference checked on its own: scripted scenarios with known answers.

class ReferenceScript {
 public:
  ReferenceMatcher ref;

  // Applies the command and returns its events, one to_string line each
  // without the "#seq " prefix.
  std::vector<std::string> run(Command c) {
    c.seq = ++seq_;
    c.timestamp = static_cast<Timestamp>(seq_) * 1000;
    std::vector<Event> events;
    ref.apply(c, events);
    std::vector<std::string> lines;
    for (const Event& e : events) {
      EXPECT_EQ(e.seq, c.seq);
      std::string line = to_string(e);
      lines.push_back(line.substr(line.find(' ') + 1));
    }
    return lines;
  }
  std::vector<std::string> add(std::string_view symbol, Price tick, Quantity lot, Price reference,
                               std::int32_t band = 0) {
    AddInstrument a{};
    a.symbol = Symbol::from(symbol);
    a.tick_size = tick;
    a.lot_size = lot;
    a.reference_price = reference;
    a.market_band_bps = band;
    a.price_scale = 2;
    a.quantity_scale = 0;
    return run(Command::make(0, 0, a));
  }
  std::vector<std::string> order(NewOrder o) {
    if (o.instrument == 0) o.instrument = 1;
    if (o.time_in_force == TimeInForce{}) o.time_in_force = TimeInForce::kGtc;
    if (o.type == OrderType{}) o.type = OrderType::kLimit;
    return run(Command::make(0, 0, o));
  }
  std::vector<std::string> limit(AccountId account, Side side, Price price, Quantity qty,
                                 StpMode stp = StpMode::kCancelTaker) {
    NewOrder o{};
    o.account = account;
    o.side = side;
    o.price = price;
    o.quantity = qty;
    o.stp = stp;
    return order(o);
  }
  std::vector<std::string> stop(AccountId account, Side side, Price stop_price, Quantity qty) {
    NewOrder o{};
    o.account = account;
    o.side = side;
    o.type = OrderType::kStop;
    o.stop_price = stop_price;
    o.quantity = qty;
    return order(o);
  }

 private:
  SeqNo seq_ = 0;
};

constexpr Side kBuy = Side::kBuy;
constexpr Side kSell = Side::kSell;

using Lines = std::vector<std::string>;

TEST(ReferenceMatcherTest, RestingSellGivesPriceImprovementToBuyer) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 100);
  s.limit(1, kSell, 100, 10);
  const Lines events = s.limit(2, kBuy, 101, 4);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1],
            "Trade id=1 instr=1 px=100 qty=4 maker=1/1 taker=2/2 aggressor=BUY maker_leaves=6 "
            "taker_leaves=0");
  EXPECT_EQ(events[2], "BookLevel instr=1 SELL px=100 qty=6 count=1");
  EXPECT_EQ(s.ref.open_orders(), 1u);
}

TEST(ReferenceMatcherTest, RemainderRestsAndIocRemainderIsCancelled) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 100);
  s.limit(1, kSell, 100, 3);
  EXPECT_EQ(s.limit(2, kBuy, 100, 5).back(), "BookLevel instr=1 BUY px=100 qty=2 count=1");
  NewOrder ioc{};
  ioc.account = 3;
  ioc.side = kSell;
  ioc.price = 99;
  ioc.quantity = 5;
  ioc.time_in_force = TimeInForce::kIoc;
  EXPECT_EQ(s.order(ioc).back(), "Cancelled order=3 acct=3 reason=IOC_REMAINDER leaves=3");
}

TEST(ReferenceMatcherTest, IcebergRefreshGoesToBackOfItsLevel) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 100);
  NewOrder iceberg{};
  iceberg.account = 1;
  iceberg.side = kSell;
  iceberg.price = 100;
  iceberg.quantity = 10;
  iceberg.display_quantity = 3;
  s.order(iceberg);                   // order 1, shows 3
  s.limit(2, kSell, 100, 5);          // order 2
  const Lines first = s.limit(3, kBuy, 100, 3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[1],
            "Trade id=1 instr=1 px=100 qty=3 maker=1/1 taker=3/3 aggressor=BUY maker_leaves=7 "
            "taker_leaves=0");
  EXPECT_EQ(first[2], "BookLevel instr=1 SELL px=100 qty=8 count=2");  // 5 + refreshed 3
  const Lines second = s.limit(3, kBuy, 100, 5);
  EXPECT_EQ(second[1],
            "Trade id=2 instr=1 px=100 qty=5 maker=2/2 taker=4/3 aggressor=BUY maker_leaves=0 "
            "taker_leaves=0");
  EXPECT_EQ(second[2], "BookLevel instr=1 SELL px=100 qty=3 count=1");
}

TEST(ReferenceMatcherTest, DecrementReducesMakerThenCancelsTakerWithoutTrade) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 100);
  s.limit(1, kSell, 100, 10);
  const Lines events = s.limit(1, kBuy, 100, 4, StpMode::kDecrement);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1], "Reduced order=1 by=4 leaves=6");
  EXPECT_EQ(events[2], "BookLevel instr=1 SELL px=100 qty=6 count=1");
  EXPECT_EQ(events[3], "Cancelled order=2 acct=1 reason=SELF_TRADE leaves=4");
  // The reduced maker's total went down, so a replace back to 10 is an increase.
  Replace r{};
  r.account = 1;
  r.order_id = 1;
  r.quantity = 10;
  EXPECT_EQ(s.run(Command::make(0, 0, r)).front(),
            "Replaced order=1 px=100 stop=0 qty=10 leaves=10 kept=0");
}

TEST(ReferenceMatcherTest, CancelTakerStopsMatchingWithoutRemainderEvent) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 100);
  s.limit(2, kSell, 100, 1);
  s.limit(1, kSell, 100, 1);
  s.limit(2, kSell, 100, 1);
  const Lines events = s.limit(1, kBuy, 100, 3);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2], "BookLevel instr=1 SELL px=100 qty=2 count=2");
  EXPECT_EQ(events[3], "Cancelled order=4 acct=1 reason=SELF_TRADE leaves=2");
}

TEST(ReferenceMatcherTest, FokThatCannotFillLeavesBookUntouched) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 100);
  s.limit(1, kSell, 100, 5);
  s.limit(2, kSell, 101, 5);
  NewOrder fok{};
  fok.account = 2;
  fok.side = kBuy;
  fok.price = 101;
  fok.quantity = 10;
  fok.time_in_force = TimeInForce::kFok;
  fok.stp = StpMode::kCancelMaker;  // as IOC it would cancel its own maker and fill only 5
  const Lines events = s.order(fok);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], "Cancelled order=3 acct=2 reason=FOK_NOT_FILLABLE leaves=10");
  EXPECT_EQ(s.ref.depth(1, kSell).size(), 2u);

  fok.account = 3;
  const Lines filled = s.order(fok);
  ASSERT_EQ(filled.size(), 5u);
  EXPECT_EQ(filled[4], "BookLevel instr=1 SELL px=101 qty=0 count=0");
}

TEST(ReferenceMatcherTest, MarketOrderStopsAtProtectionBand) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 100);  // band 5%: BUY accepts up to 105
  s.limit(1, kSell, 104, 1);
  s.limit(1, kSell, 106, 1);
  NewOrder m{};
  m.account = 2;
  m.side = kBuy;
  m.type = OrderType::kMarket;
  m.time_in_force = TimeInForce::kIoc;
  m.quantity = 2;
  const Lines events = s.order(m);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3], "Cancelled order=3 acct=2 reason=MARKET_REMAINDER leaves=1");
  m.side = kSell;
  EXPECT_EQ(s.order(m).back(), "Cancelled order=4 acct=2 reason=MARKET_NO_LIQUIDITY leaves=2");
}

TEST(ReferenceMatcherTest, QuoteQuantityBuySpendsCashUntilOneLotIsUnaffordable) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 1000, 2000);  // band 20%: up to 1200
  s.limit(1, kSell, 1000, 3);
  s.limit(1, kSell, 1100, 5);
  NewOrder q{};
  q.account = 2;
  q.side = kBuy;
  q.type = OrderType::kMarket;
  q.time_in_force = TimeInForce::kIoc;
  q.quote_quantity = 4500;
  const Lines events = s.order(q);
  ASSERT_EQ(events.size(), 5u);  // complete after trading: no Cancelled
  EXPECT_EQ(events[1],
            "Trade id=1 instr=1 px=1000 qty=3 maker=1/1 taker=3/2 aggressor=BUY maker_leaves=0 "
            "taker_leaves=1500");
  EXPECT_EQ(events[3],
            "Trade id=2 instr=1 px=1100 qty=1 maker=2/1 taker=3/2 aggressor=BUY maker_leaves=4 "
            "taker_leaves=400");
  q.quote_quantity = 500;
  EXPECT_EQ(s.order(q).back(), "Cancelled order=4 acct=2 reason=QUOTE_TOO_SMALL leaves=500");
}

TEST(ReferenceMatcherTest, StopsTriggerFarthestFirstAndCascade) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 100);
  s.limit(9, kSell, 101, 1);  // 1
  s.limit(9, kSell, 102, 1);  // 2
  s.limit(9, kSell, 104, 1);  // 3
  s.stop(3, kBuy, 102, 1);    // 4: distance 0 from 102
  s.stop(4, kBuy, 101, 1);    // 5: distance 1 from 102
  s.stop(5, kBuy, 104, 1);    // 6: elected only by the cascade
  const Lines events = s.limit(6, kBuy, 102, 2);
  std::vector<std::string> triggered;
  for (const std::string& line : events) {
    if (line.rfind("StopTriggered", 0) == 0) triggered.push_back(line);
  }
  ASSERT_EQ(triggered.size(), 3u);
  EXPECT_EQ(triggered[0], "StopTriggered order=5 last=102");
  EXPECT_EQ(triggered[1], "StopTriggered order=4 last=102");
  EXPECT_EQ(triggered[2], "StopTriggered order=6 last=104");  // cascade after 5 bought at 104
  EXPECT_EQ(events.back(), "Cancelled order=6 acct=5 reason=MARKET_NO_LIQUIDITY leaves=1");
}

TEST(ReferenceMatcherTest, ValidationFollowsTheSpecifiedOrder) {
  ReferenceScript s;
  s.add("ABC", 5, 10, 100);
  NewOrder o{};
  o.account = 0;  // unknown account ...
  o.instrument = 1;
  o.side = Side(9);  // ... wins over the bad side
  o.price = 101;
  o.quantity = 15;
  EXPECT_EQ(s.order(o).front(), "Rejected cmd=1 reason=UNKNOWN_ACCOUNT acct=0 order=0");
  o.account = 1;
  EXPECT_EQ(s.order(o).front(), "Rejected cmd=1 reason=INVALID_SIDE acct=1 order=0");
  o.side = kBuy;
  EXPECT_EQ(s.order(o).front(), "Rejected cmd=1 reason=PRICE_OFF_TICK acct=1 order=0");
  o.price = 100;
  EXPECT_EQ(s.order(o).front(), "Rejected cmd=1 reason=QUANTITY_OFF_LOT acct=1 order=0");
  o.quantity = 20;
  o.stop_price = 100;
  EXPECT_EQ(s.order(o).front(), "Rejected cmd=1 reason=UNEXPECTED_STOP_PRICE acct=1 order=0");
  o.type = OrderType::kStop;
  o.price = 0;
  EXPECT_EQ(s.order(o).front(),
            "Rejected cmd=1 reason=STOP_WOULD_TRIGGER_IMMEDIATELY acct=1 order=0");
  EXPECT_EQ(s.ref.open_orders(), 0u);
}

TEST(ReferenceMatcherTest, ReplaceDownKeepsPriorityAndReplaceUpLosesIt) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 100);
  s.limit(1, kBuy, 99, 10);  // 1
  s.limit(2, kBuy, 99, 10);  // 2
  Replace r{};
  r.account = 1;
  r.order_id = 1;
  r.quantity = 6;
  Lines events = s.run(Command::make(0, 0, r));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], "Replaced order=1 px=99 stop=0 qty=6 leaves=6 kept=1");
  EXPECT_EQ(events[1], "BookLevel instr=1 BUY px=99 qty=16 count=2");
  r.quantity = 12;
  events = s.run(Command::make(0, 0, r));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1], "BookLevel instr=1 BUY px=99 qty=10 count=1");
  EXPECT_EQ(events[2], "BookLevel instr=1 BUY px=99 qty=22 count=2");
  // Order 2 is now first in time at 99.
  EXPECT_EQ(s.limit(3, kSell, 99, 1)[1].find("maker=2/2") != std::string::npos, true);
}

TEST(ReferenceMatcherTest, EndOfDayExpiresDayOrdersAndRollsReferencePrice) {
  ReferenceScript s;
  s.add("ABC", 1, 1, 100);
  NewOrder day{};
  day.account = 1;
  day.side = kSell;
  day.price = 103;
  day.quantity = 5;
  day.time_in_force = TimeInForce::kDay;
  s.order(day);               // 1 (DAY)
  s.limit(1, kSell, 104, 5);  // 2 (GTC)
  s.limit(2, kBuy, 103, 1);   // trades at 103
  const Lines events = s.run(Command::make(0, 0, EndOfDay{}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], "Cancelled order=1 acct=1 reason=EXPIRED leaves=4");
  EXPECT_EQ(events[1], "BookLevel instr=1 SELL px=103 qty=0 count=0");
  EXPECT_EQ(events[2], "DayEnded expired=1");
  EXPECT_EQ(s.ref.instrument(1)->spec.reference_price, 103);
  EXPECT_EQ(s.ref.instrument(1)->last_price, 0);
}

// The oracle on its own over a random stream: its books never cross and
// every level it reports is consistent.
TEST(ReferenceMatcherTest, ReferenceBookNeverCrossesOnRandomStream) {
  ReferenceMatcher ref;
  RandomStream stream(7);
  std::vector<Event> events;
  for (std::size_t i = 0; i < 50'000; ++i) {
    events.clear();
    ref.apply(stream.next(), events);
    stream.observe(events);
    for (InstrumentId id = 1; id <= ref.instrument_count(); ++id) {
      const auto bids = ref.depth(id, kBuy);
      const auto asks = ref.depth(id, kSell);
      if (!bids.empty() && !asks.empty()) {
        ASSERT_LT(bids.front().price, asks.front().price) << "index " << i;
      }
      for (const auto& side : {bids, asks}) {
        for (const LevelView& l : side) ASSERT_TRUE(l.quantity > 0 && l.count > 0) << i;
      }
    }
  }
  EXPECT_LT(ref.open_orders(), 1000u);
}

}  // namespace
}  // namespace stox
