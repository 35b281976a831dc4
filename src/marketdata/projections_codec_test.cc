// The projections codec and copies of Projections: a restored (or copied)
// Projections must be indistinguishable from the original by every output
// and query, for every later event; the encoding is canonical; and no input
// bytes, however damaged, crash the decoder or change its target on error.
//
// The state comes from an accounts-mode engine fed a seeded random stream
// (trades, partial fills, cancels, replaces, stops, icebergs, rejects,
// several instruments), with small retention bounds so that closed orders
// are evicted, fill rings wrap and candles roll over during the run.
#include "marketdata/projections_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/testing/random_stream.h"
#include "marketdata/test_exchange.h"

namespace stox::marketdata {
namespace {

using testing::instrument_spec;
using testing::limit;
using testing::TestExchange;

constexpr AccountId kAccounts = 12;

ProjectionsConfig small_bounds() {
  ProjectionsConfig c;
  c.orders.max_closed_orders = 150;
  c.orders.closed_retention_ns = 30LL * 1'000'000'000;
  c.orders.max_fills_per_order = 2;
  c.orders.max_fills_per_account = 15;
  c.tape.max_trades = 20;
  c.tape.max_candles = 3;
  return c;
}

std::string encode(const Projections& p) {
  std::string bytes;
  encode_projections(p, &bytes);
  return bytes;
}

// --- what a client can observe -------------------------------------------------

std::string state_text(const OrderState& s) {
  std::string t = std::to_string(s.id);
  for (const std::int64_t v :
       {std::int64_t{s.account}, std::int64_t{s.instrument}, std::int64_t{s.post_only},
        std::int64_t{s.triggered}, static_cast<std::int64_t>(s.status),
        static_cast<std::int64_t>(s.cancel_reason), static_cast<std::int64_t>(s.reject_reason),
        std::int64_t{s.fill_count}, static_cast<std::int64_t>(s.filled_value), s.price,
        s.stop_price, s.quantity, s.quote_quantity, s.display_quantity, s.leaves, s.filled,
        s.fees, s.created_at, s.updated_at}) {
    t.append(",").append(std::to_string(v));
  }
  return t;
}

// Every output of the last batch.
std::string batch_outputs(const Projections& p) {
  const JsonContext ctx = p.json();
  std::string out;
  for (const OrderUpdate& u : p.orders.updates()) {
    out.append(to_json(u, ctx)).append(state_text(u.state)).append("\n");
  }
  for (const CommandReject& r : p.orders.rejects()) {
    out.append("reject ").append(std::to_string(static_cast<int>(r.command)));
    out.append(" ").append(to_string(r.reason)).append(" ").append(std::to_string(r.account));
    out.append(" ").append(std::to_string(r.order_id)).append(" ");
    out.append(r.client_order_id.view()).append(" ").append(std::to_string(r.time)).append("\n");
  }
  for (const DepthUpdate& u : p.book.updates()) out.append(to_json(u, ctx)).append("\n");
  for (const Quote& q : p.book.quote_changes()) out.append(to_json(q, ctx)).append("\n");
  for (const PublicTrade& t : p.tape.batch_trades()) out.append(to_json(t, ctx)).append("\n");
  return out;
}

// Every query the API can make, over orders 1..max_order and the accounts.
std::string queries(const Projections& p, OrderId max_order) {
  const JsonContext ctx = p.json();
  std::string out = std::to_string(p.orders.open_count()) + " open, closed ";
  out.append(std::to_string(p.orders.closed_count())).append("\n");
  for (OrderId id = 1; id <= max_order; ++id) {
    const TrackedOrder* o = p.orders.find(id);
    if (o == nullptr) continue;
    out.append(to_json(*o, ctx)).append(state_text(o->state)).append("\n");
  }
  for (AccountId a = 0; a <= kAccounts + 1; ++a) {
    out.append("account ").append(std::to_string(a)).append(":");
    for (const TrackedOrder* o : p.orders.open_orders(a)) {
      out.append(" ").append(std::to_string(o->state.id));
    }
    for (const Fill& f : p.orders.fills(a)) out.append(to_json(f, ctx));
    out.append("\n");
  }
  for (const InstrumentInfo& info : p.instruments.all()) {
    const InstrumentId id = info.id;
    const InstrumentInfo* by_symbol = p.instruments.find(info.symbol());
    out.append(info.symbol()).append(" -> ");
    out.append(std::to_string(by_symbol == nullptr ? 0 : by_symbol->id));
    out.append(" status ").append(std::to_string(static_cast<int>(info.status))).append("\n");
    out.append(to_json(*p.book.snapshot(id, 100'000), ctx)).append("\n");
    out.append(to_json(p.book.top(id), ctx)).append("\n");
    out.append(to_json(p.tape.ticker(id, p.book), ctx)).append("\n");
    for (const PublicTrade& t : p.tape.recent_trades(id, 100'000)) out.append(to_json(t, ctx));
    for (std::size_t i = 0; i < kCandleIntervals; ++i) {
      const auto interval = static_cast<CandleInterval>(i);
      out.append(to_json(CandleSeries{id, interval, p.tape.candles(id, interval, 100'000)}, ctx));
    }
    out.append("\n");
  }
  return out;
}

// --- a random run -------------------------------------------------------------------

// An accounts-mode engine (the server's mode) on a seeded random stream, its
// events fed to `p` one command at a time. Time runs 50× faster than the
// stream's (~50 ms a command) so that candles roll over and closed orders age.
class RandomRun {
 public:
  explicit RandomRun(std::uint64_t seed, const ProjectionsConfig& config = small_bounds())
      : engine_(engine_config()), stream_(seed, stream_options()), p(config) {}

  // The next command's events (also fed to p).
  const std::vector<Event>& step() {
    Command c = stream_.next();
    if (t0_ == 0) t0_ = c.timestamp;
    c.timestamp = t0_ + (c.timestamp - t0_) * 50;
    events_.clear();
    engine_.apply(c, events_);
    stream_.observe(events_);
    p.apply_batch(events_);
    for (const Event& e : events_) {
      if (e.type == EventType::kAccepted) max_order_ = e.accepted.order_id;
      if (e.type == EventType::kTrade) ++trades_;
    }
    return events_;
  }

  OrderId max_order() const { return max_order_; }
  std::uint64_t trades() const { return trades_; }

 private:
  static EngineConfig engine_config() {
    EngineConfig c;
    c.accounts = true;
    c.expected_orders = 1 << 10;
    return c;
  }
  static stox::testing::RandomStreamOptions stream_options() {
    stox::testing::RandomStreamOptions o;
    o.accounts_mode = true;
    o.accounts = kAccounts;
    o.active_accounts = 8;
    o.target_open_orders = 400;
    return o;
  }

  Engine engine_;
  stox::testing::RandomStream stream_;
  std::vector<Event> events_;
  Timestamp t0_ = 0;
  OrderId max_order_ = 0;
  std::uint64_t trades_ = 0;

 public:
  Projections p;
};

// Feeds `steps` more commands to run.p and to `twin`, checking after each
// that they produce the same outputs, and at the end the same queries and
// encoding.
void expect_same_future(RandomRun& run, Projections& twin, int steps, const std::string& where) {
  for (int i = 0; i < steps; ++i) {
    twin.apply_batch(run.step());
    ASSERT_EQ(batch_outputs(twin), batch_outputs(run.p)) << where << ", step " << i;
  }
  ASSERT_EQ(queries(twin, run.max_order()), queries(run.p, run.max_order())) << where;
  ASSERT_EQ(encode(twin), encode(run.p)) << where;
}

TEST(ProjectionsCodecTest, DecodedProjectionsBehaveAsTheOriginalAtEveryCheckpoint) {
  RandomRun run(21);
  const ProjectionsConfig bounds = small_bounds();
  std::size_t evicted_checkpoints = 0;
  bool closed_full = false;
  bool ring_wrapped = false;
  for (int checkpoint = 0; checkpoint < 8; ++checkpoint) {
    for (int i = 0; i < 1500; ++i) run.step();
    const std::string bytes = encode(run.p);
    Projections decoded;
    const Status s = decode_projections(bytes, small_bounds(), &decoded);
    ASSERT_TRUE(s.ok()) << s.to_string();
    ASSERT_EQ(encode(decoded), bytes) << "checkpoint " << checkpoint;
    ASSERT_EQ(queries(decoded, run.max_order()), queries(run.p, run.max_order()));
    if (run.p.orders.find(1) == nullptr) ++evicted_checkpoints;
    closed_full = closed_full || run.p.orders.closed_count() == bounds.orders.max_closed_orders;
    for (OrderId id = 1; id <= run.max_order(); ++id) {
      const TrackedOrder* o = run.p.orders.find(id);
      ring_wrapped = ring_wrapped || (o != nullptr && o->state.fill_count > o->fills.size());
    }
    expect_same_future(run, decoded, 600, "checkpoint " + std::to_string(checkpoint));
  }
  // The run covered what the codec must carry.
  EXPECT_GT(run.trades(), 1000u);
  EXPECT_GT(evicted_checkpoints, 0u);
  EXPECT_TRUE(closed_full);
  EXPECT_TRUE(ring_wrapped);
  EXPECT_LT(run.p.orders.closed_count(), bounds.orders.max_closed_orders);  // time eviction too
  ASSERT_GE(run.p.instruments.all().size(), 2u);
  EXPECT_EQ(run.p.tape.candles(1, CandleInterval::k1m, 100).size(), bounds.tape.max_candles);
}

TEST(ProjectionsCodecTest, CopiedProjectionsBehaveAsTheOriginalAtEveryCheckpoint) {
  RandomRun run(22);
  for (int checkpoint = 0; checkpoint < 6; ++checkpoint) {
    for (int i = 0; i < 1500; ++i) run.step();
    Projections copy(run.p);
    ASSERT_EQ(encode(copy), encode(run.p));
    expect_same_future(run, copy, 600, "checkpoint " + std::to_string(checkpoint));
    Projections assigned;
    assigned = run.p;
    expect_same_future(run, assigned, 100, "assigned " + std::to_string(checkpoint));
  }
}

TEST(ProjectionsCodecTest, CopyIsIndependentOfTheOriginal) {
  RandomRun run(23);
  for (int i = 0; i < 3000; ++i) run.step();
  // An original of its own (a copy of run.p would share run.p's storage
  // if copies were shallow), restored from bytes.
  auto original = std::make_unique<Projections>();
  ASSERT_TRUE(decode_projections(encode(run.p), small_bounds(), original.get()).ok());
  const Projections copy(*original);
  const std::string at_copy = encode(copy);
  const std::string queries_at_copy = queries(copy, run.max_order());
  for (int i = 0; i < 500; ++i) original->apply_batch(run.step());
  original.reset();  // nothing of the copy may point into it (symbols included)
  EXPECT_EQ(encode(copy), at_copy);
  EXPECT_EQ(queries(copy, run.max_order()), queries_at_copy);
  ASSERT_FALSE(copy.instruments.all().empty());
  const InstrumentInfo& first = copy.instruments.all().front();
  ASSERT_NE(copy.instruments.find(first.symbol()), nullptr);
  EXPECT_EQ(copy.instruments.find(first.symbol())->id, first.id);
}

TEST(ProjectionsCodecTest, EncodingIsCanonicalForEqualStates) {
  RandomRun a(24);
  RandomRun b(24);
  for (int i = 0; i < 2000; ++i) {
    a.step();
    b.step();
  }
  EXPECT_EQ(encode(a.p), encode(b.p));
  Projections copy(a.p);
  EXPECT_EQ(encode(copy), encode(a.p));
}

// Decoding with tighter bounds keeps the most recent fills, trades and
// candles: the same as a run with those bounds from the start.
TEST(ProjectionsCodecTest, DecodingWithTighterBoundsKeepsTheMostRecent) {
  ProjectionsConfig tighter = small_bounds();
  tighter.orders.max_fills_per_order = 1;
  tighter.orders.max_fills_per_account = 4;
  tighter.tape.max_trades = 3;
  tighter.tape.max_candles = 1;
  RandomRun wide(26);
  RandomRun tight(26, tighter);
  for (int i = 0; i < 4000; ++i) {
    wide.step();
    tight.step();
  }
  Projections p;
  ASSERT_TRUE(decode_projections(encode(wide.p), tighter, &p).ok());
  EXPECT_EQ(queries(p, tight.max_order()), queries(tight.p, tight.max_order()));
  EXPECT_EQ(encode(p), encode(tight.p));
  EXPECT_NE(encode(wide.p), encode(tight.p));  // the bounds did bite
}

// --- closed-order retention across a restore ----------------------------------------

class RetentionTest : public ::testing::Test {
 protected:
  static constexpr AccountId kAlice = 1;
  static constexpr AccountId kBob = 2;

  RetentionTest() : x_({}, tracker_config()) {}
  static OrderTrackerConfig tracker_config() {
    OrderTrackerConfig c;
    c.max_closed_orders = 3;
    c.closed_retention_ns = 1'000'000'000;
    return c;
  }
  void SetUp() override { ASSERT_EQ(x_.apply(instrument_spec("ACME")).size(), 1u); }

  // Closes one order (a cancelled resting limit); returns its id.
  OrderId close_one() {
    x_.apply(limit(kAlice, Side::kBuy, 9000, 1));
    const OrderId id = x_.last_order_id();
    x_.apply(Cancel{kAlice, id});
    return id;
  }
  Projections restored() const {
    Projections p;
    const Status s = decode_projections(encode(x_.p), ProjectionsConfig{tracker_config(), {}, 4},
                                        &p);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return p;
  }
  static std::vector<bool> present(const Projections& p, const std::vector<OrderId>& ids) {
    std::vector<bool> v;
    v.reserve(ids.size());
    for (OrderId id : ids) v.push_back(p.orders.find(id) != nullptr);
    return v;
  }

  TestExchange x_;
};

TEST_F(RetentionTest, CountEvictionAfterRestoreDropsTheOldestClosedAsBefore) {
  std::vector<OrderId> ids;
  ids.reserve(4);
  for (int i = 0; i < 3; ++i) ids.push_back(close_one());
  Projections p = restored();
  // One more closed order: each side evicts the oldest-closed, ids[0].
  x_.apply(limit(kBob, Side::kSell, 11000, 1));
  const std::vector<Event> place = x_.events;
  p.apply_batch(place);
  x_.apply(Cancel{kBob, x_.last_order_id()});
  p.apply_batch(x_.events);
  ids.push_back(place[0].accepted.order_id);
  EXPECT_EQ(present(x_.p, ids), (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(present(p, ids), present(x_.p, ids));
  EXPECT_EQ(encode(p), encode(x_.p));
}

TEST_F(RetentionTest, TimeEvictionAfterRestoreDropsWhatExpiredAsBefore) {
  const OrderId old = close_one();
  x_.now += 600'000'000;  // 0.6 s later
  const OrderId young = close_one();
  Projections p = restored();
  x_.now += 500'000'000;  // old is now past the 1 s retention, young is not
  x_.apply(limit(kBob, Side::kSell, 11000, 1));
  p.apply_batch(x_.events);
  EXPECT_EQ(present(x_.p, {old, young}), (std::vector<bool>{false, true}));
  EXPECT_EQ(present(p, {old, young}), present(x_.p, {old, young}));
  EXPECT_EQ(encode(p), encode(x_.p));
}

TEST_F(RetentionTest, SmallerConfigKeepsTheMostRecentAndEvictsAtTheNextBatch) {
  std::vector<OrderId> ids;
  ids.reserve(4);
  for (int i = 0; i < 3; ++i) ids.push_back(close_one());
  ProjectionsConfig smaller{tracker_config(), {}, 4};
  smaller.orders.max_closed_orders = 1;
  Projections p;
  ASSERT_TRUE(decode_projections(encode(x_.p), smaller, &p).ok());
  EXPECT_EQ(p.orders.closed_count(), 3u);  // until the next batch ends
  x_.apply(limit(kBob, Side::kSell, 11000, 1));
  p.apply_batch(x_.events);
  EXPECT_EQ(present(p, ids), (std::vector<bool>{false, false, true}));
}

// --- damaged bytes ------------------------------------------------------------------

// A small but complete state: two instruments, resting and closed orders
// with fills, account fills, depth, trades and candles.
std::string small_encoding() {
  TestExchange x({}, OrderTrackerConfig{}, TapeConfig{});
  x.apply(instrument_spec("ACME"));
  x.apply(instrument_spec("BOLT"));
  x.apply(limit(1, Side::kSell, 10000, 5));
  x.apply(limit(2, Side::kBuy, 10000, 2));
  NewOrder o = limit(2, Side::kBuy, 9900, 3, TimeInForce::kGtc);
  o.client_order_id = ClientOrderId::from("abc");
  x.apply(o);
  o = limit(3, Side::kSell, 10100, 4);
  o.instrument = 2;
  x.apply(o);
  x.apply(testing::market(3, Side::kBuy, 1));
  x.apply(testing::stop(1, Side::kBuy, 10500, 1));
  return encode(x.p);
}

TEST(ProjectionsCodecDamageTest, EveryTruncationIsCorruptionAndLeavesTheTargetAlone) {
  const std::string bytes = small_encoding();
  ASSERT_LT(bytes.size(), 2000u);
  RandomRun run(25);
  for (int i = 0; i < 300; ++i) run.step();
  const std::string target_bytes = encode(run.p);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const Status s = decode_projections(std::string_view(bytes).substr(0, n), {}, &run.p);
    ASSERT_TRUE(s.is_corruption()) << "length " << n;
  }
  EXPECT_EQ(encode(run.p), target_bytes);
  Projections p;
  ASSERT_TRUE(decode_projections(bytes, {}, &p).ok());
  EXPECT_EQ(encode(p), bytes);
}

TEST(ProjectionsCodecDamageTest, EveryBitFlipIsCorruptionOrACanonicalState) {
  const std::string bytes = small_encoding();
  std::size_t rejected = 0;
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      Projections p;
      const Status s = decode_projections(damaged, {}, &p);
      if (!s.ok()) {
        ASSERT_TRUE(s.is_corruption()) << s.to_string();
        EXPECT_EQ(encode(p), encode(Projections{}));  // untouched
        ++rejected;
        continue;
      }
      ++accepted;
      ASSERT_EQ(encode(p), damaged) << "byte " << i << " bit " << bit;  // canonical
    }
  }
  EXPECT_GT(rejected, 0u);
  EXPECT_GT(accepted, 0u);  // values that are merely different, e.g. a price
}

TEST(ProjectionsCodecDamageTest, WrongMagicOrVersionIsNamed) {
  std::string bytes = small_encoding();
  Projections p;
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  Status s = decode_projections(bad_magic, {}, &p);
  EXPECT_TRUE(s.is_corruption());
  EXPECT_NE(s.message().find("magic"), std::string::npos) << s.to_string();

  std::string bad_version = bytes;
  bad_version[8] = 2;
  s = decode_projections(bad_version, {}, &p);
  EXPECT_TRUE(s.is_corruption());
  EXPECT_NE(s.message().find("unsupported version 2"), std::string::npos) << s.to_string();

  s = decode_projections(bytes + "x", {}, &p);
  EXPECT_TRUE(s.is_corruption());
  EXPECT_NE(s.message().find("section lengths"), std::string::npos) << s.to_string();
}

TEST(ProjectionsCodecDamageTest, HugeCountsAreRejectedBeforeAllocating) {
  // An instruments section claiming 2^63 instruments in 10 bytes.
  std::string bytes = encode(Projections{});
  const std::size_t header = kProjectionsHeaderSize;
  std::string huge = "\xff\xff\xff\xff\xff\xff\xff\xff\x7f";
  std::string damaged = bytes.substr(0, header) + huge + bytes.substr(header + 1);
  damaged[16] = static_cast<char>(huge.size());
  Projections p;
  const Status s = decode_projections(damaged, {}, &p);
  EXPECT_TRUE(s.is_corruption());
  EXPECT_NE(s.message().find("instrument count exceeds"), std::string::npos) << s.to_string();
}

}  // namespace
}  // namespace stox::marketdata
