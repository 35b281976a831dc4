// Engine snapshots: the whole engine state as bytes, and back.
// The byte layout is documented in docs/snapshot-format.md.
#include <bit>
#include <cstring>
#include <string>
#include <string_view>

#include "core/engine_impl.h"

namespace stox {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the snapshot encoder writes host integers as little-endian");

constexpr char kMagic[8] = {'S', 'T', 'O', 'X', 'S', 'N', 'P', '1'};
constexpr std::uint32_t kVersion = 1;

class Writer {
 public:
  template <class T>
  void put(T v) {
    static_assert(std::is_integral_v<T> || std::is_enum_v<T>);
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_.append(b, sizeof(T));
  }
  void put_bytes(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Bounds-checked reads; the first failure sticks and every later read
// returns zero.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  template <class T>
  T get() {
    T v{};
    if (!take(&v, sizeof(T))) return T{};
    return v;
  }
  bool take(void* p, std::size_t n) {
    if (failed_ || in_.size() - pos_ < n) {
      failed_ = true;
      return false;
    }
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  // A count that cannot be larger than the bytes left allow (each element
  // takes at least `min_size` bytes): stops a corrupt count from allocating.
  std::uint32_t count(std::size_t min_size) {
    const auto n = get<std::uint32_t>();
    if (static_cast<std::size_t>(n) * min_size > in_.size() - pos_) failed_ = true;
    return failed_ ? 0 : n;
  }
  bool failed() const { return failed_; }
  bool at_end() const { return pos_ == in_.size(); }
  // The T `ahead` bytes past the read position, or T{} past the end:
  // a look-ahead for prefetch hints, which never fails the reader.
  template <class T>
  T peek(std::size_t ahead) const {
    T v{};
    if (!failed_ && in_.size() - pos_ >= ahead + sizeof(T)) {
      std::memcpy(&v, in_.data() + pos_ + ahead, sizeof(T));
    }
    return v;
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

void put_config(Writer& w, const EngineConfig& c) {
  w.put<std::uint8_t>(c.accounts);
  w.put(c.cash_scale);
  w.put(c.max_accounts);
  w.put(c.default_market_band_bps);
  w.put(c.default_collar_bps);
  w.put(c.default_breaker_bps);
  w.put(c.default_breaker_halt_ns);
  w.put(c.default_max_open_orders);
  w.put(c.default_max_orders_per_second);
}

bool same_config(Reader& r, const EngineConfig& c) {
  bool same = r.get<std::uint8_t>() == std::uint8_t{c.accounts};
  same &= r.get<std::uint8_t>() == c.cash_scale;
  same &= r.get<AccountId>() == c.max_accounts;
  same &= r.get<std::int32_t>() == c.default_market_band_bps;
  same &= r.get<std::int32_t>() == c.default_collar_bps;
  same &= r.get<std::int32_t>() == c.default_breaker_bps;
  same &= r.get<Timestamp>() == c.default_breaker_halt_ns;
  same &= r.get<std::uint32_t>() == c.default_max_open_orders;
  same &= r.get<std::uint32_t>() == c.default_max_orders_per_second;
  return same;
}

void put_instrument(Writer& w, const Instrument& ins) {
  const AddInstrument& a = ins.spec;
  w.put_bytes(a.symbol.bytes.data(), 16);
  for (std::int64_t v : {a.tick_size, a.lot_size, a.reference_price}) w.put(v);
  for (std::int32_t v : {a.market_band_bps, a.maker_fee_bps, a.taker_fee_bps}) w.put(v);
  w.put(a.price_scale);
  w.put(a.quantity_scale);
  w.put(ins.status);
  for (std::int64_t v : {ins.last, ins.high, ins.low, ins.resume_at}) w.put(v);
  w.put(ins.limits.collar_bps);
  w.put(ins.limits.breaker_bps);
  for (std::int64_t v : {ins.limits.max_order_quantity, ins.limits.max_order_notional,
                         ins.limits.breaker_halt_ns})
    w.put(v);
}

void get_instrument(Reader& r, Instrument& ins) {
  AddInstrument& a = ins.spec;
  r.take(a.symbol.bytes.data(), 16);
  a.tick_size = r.get<Price>();
  a.lot_size = r.get<Quantity>();
  a.reference_price = r.get<Price>();
  a.market_band_bps = r.get<std::int32_t>();
  a.maker_fee_bps = r.get<std::int32_t>();
  a.taker_fee_bps = r.get<std::int32_t>();
  a.price_scale = r.get<std::uint8_t>();
  a.quantity_scale = r.get<std::uint8_t>();
  ins.status = r.get<InstrumentStatus>();
  ins.last = r.get<Price>();
  ins.high = r.get<Price>();
  ins.low = r.get<Price>();
  ins.resume_at = r.get<Timestamp>();
  ins.limits.collar_bps = r.get<std::int32_t>();
  ins.limits.breaker_bps = r.get<std::int32_t>();
  ins.limits.max_order_quantity = r.get<Quantity>();
  ins.limits.max_order_notional = r.get<Amount>();
  ins.limits.breaker_halt_ns = r.get<Timestamp>();
}

constexpr std::size_t kOrderBytes = 8 + 16 + 4 + 4 + 8 * 7 + 8;

void put_order(Writer& w, const Order& o) {
  w.put(o.id);
  w.put_bytes(o.client_order_id.bytes.data(), 16);
  w.put(o.account);
  w.put(o.instrument);
  for (std::int64_t v : {o.price, o.stop_price}) w.put(v);
  w.put(o.stop_priority);
  for (std::int64_t v : {o.quantity, o.leaves, o.display, o.visible}) w.put(v);
  for (std::uint8_t v :
       {static_cast<std::uint8_t>(o.side), static_cast<std::uint8_t>(o.type),
        static_cast<std::uint8_t>(o.time_in_force), static_cast<std::uint8_t>(o.stp),
        static_cast<std::uint8_t>(o.place), std::uint8_t{o.post_only}, std::uint8_t{o.triggered},
        std::uint8_t{o.quote}})
    w.put(v);
}

// Returns false on an out-of-range enum.
bool get_order(Reader& r, Order& o) {
  o = Order{};
  o.id = r.get<OrderId>();
  r.take(o.client_order_id.bytes.data(), 16);
  o.account = r.get<AccountId>();
  o.instrument = r.get<InstrumentId>();
  o.price = r.get<Price>();
  o.stop_price = r.get<Price>();
  o.stop_priority = r.get<SeqNo>();
  o.quantity = r.get<Quantity>();
  o.leaves = r.get<Quantity>();
  o.display = r.get<Quantity>();
  o.visible = r.get<Quantity>();
  std::uint8_t f[8];
  for (std::uint8_t& v : f) v = r.get<std::uint8_t>();
  if (f[0] < 1 || f[0] > 2 || f[1] < 1 || f[1] > 4 || f[2] < 1 || f[2] > 4 || f[3] > 3 ||
      f[4] < 1 || f[4] > 2 || f[5] > 1 || f[6] > 1 || f[7] > 1)
    return false;
  o.side = static_cast<Side>(f[0]);
  o.type = static_cast<OrderType>(f[1]);
  o.time_in_force = static_cast<TimeInForce>(f[2]);
  o.stp = static_cast<StpMode>(f[3]);
  o.place = static_cast<OrderPlace>(f[4]);
  o.post_only = f[5] != 0;
  o.triggered = f[6] != 0;
  o.quote = f[7] != 0;
  return true;
}

}  // namespace

std::string Engine::Impl::encode_snapshot() const {
  Writer w;
  w.put_bytes(kMagic, sizeof kMagic);
  w.put(kVersion);
  put_config(w, config);
  w.put(last_order_id);
  w.put(last_trade_id);
  w.put(static_cast<std::uint32_t>(instruments.size()));
  for (const Instrument& ins : instruments) put_instrument(w, ins);
  w.put(static_cast<std::uint32_t>(registered));
  for (const AccountOrders& a : account_orders)
    for (std::uint32_t s = a.head; s != kNoSlot; s = orders[s].account_next) put_order(w, orders[s]);
  auto put_ladder = [&](const Ladder& ladder) {
    w.put(static_cast<std::uint32_t>(ladder.size()));
    ladder.for_each_from_best([&](std::uint32_t lv) {
      const Level& l = levels[lv];
      w.put(l.price);
      w.put(l.count);
      for (std::uint32_t s = l.head; s != kNoSlot; s = orders[s].next) w.put(orders[s].id);
      return true;
    });
  };
  for (const Instrument& ins : instruments)
    for (const Ladder* ladder : {&ins.bids, &ins.asks, &ins.buy_stops, &ins.sell_stops})
      put_ladder(*ladder);
  w.put(static_cast<std::uint32_t>(accounts.size()));
  for (const Account& a : accounts) {
    w.put_bytes(a.spec.label.bytes.data(), 16);
    w.put(a.spec.type);
    w.put<std::uint8_t>(a.killed);
    w.put(a.limits.max_open_orders);
    w.put(a.limits.max_orders_per_second);
    w.put(a.limits.max_order_quantity);
    w.put(a.limits.max_order_notional);
    w.put(a.rate_window);
    w.put(a.rate_count);
    w.put(static_cast<std::uint32_t>(a.balances.size()));
    for (const Balance& b : a.balances) {
      w.put(b.total);
      w.put(b.held);
    }
    w.put(static_cast<std::uint32_t>(a.positions.size()));
    for (const Position& p : a.positions)
      for (Int128 v : {p.cost, p.realized}) {
        w.put(static_cast<std::uint64_t>(v));
        w.put(static_cast<std::int64_t>(v >> 64));
      }
  }
  for (const auto* system : {&fee_balances, &external_balances}) {
    w.put(static_cast<std::uint32_t>(system->size()));
    for (const Balance& b : *system) w.put(b.total);
  }
  return w.take();
}

std::string Engine::Impl::decode_snapshot(std::string_view bytes) {
  Reader r(bytes);
  char magic[8] = {};
  r.take(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) return "not a Stox engine snapshot";
  if (r.get<std::uint32_t>() != kVersion) return "unknown snapshot version";
  if (!same_config(r, config)) return "snapshot was taken with a different engine configuration";
  last_order_id = r.get<OrderId>();
  last_trade_id = r.get<TradeId>();

  const std::uint32_t instrument_count = r.count(80);
  for (std::uint32_t i = 0; i < instrument_count; ++i) {
    Instrument& ins = instruments.emplace_back();
    ins.id = i + 1;
    get_instrument(r, ins);
    const std::string symbol(ins.spec.symbol.view());
    if (symbol.empty() || !symbols.emplace(symbol, ins.id).second) return "bad instrument symbol";
    if (ins.resume_at != 0) ++breaker_halts;
  }
  fee_balances.resize(instruments.size() + 1);
  external_balances.resize(instruments.size() + 1);

  // Orders come by account, levels list them by price and time: every id
  // index insert and lookup below lands in a random bucket of a table far
  // larger than the cache, so the buckets of the ids a few records ahead
  // are prefetched (ids are the first field of an order record).
  constexpr std::uint32_t kAhead = 8;
  const std::uint32_t order_count = r.count(kOrderBytes);
  for (std::uint32_t i = 0; i < order_count; ++i) {
    if (i + kAhead < order_count) ids.prefetch(mix_hash(r.peek<OrderId>(kAhead * kOrderBytes)));
    const std::uint32_t slot = orders.alloc();
    if (!get_order(r, orders[slot])) return "order with an invalid field";
    const Order& o = orders[slot];
    // The account is range-checked before registering: the per-account lists
    // are indexed by it. Existence (accounts mode) is checked once accounts are read.
    if (instrument(o.instrument) == nullptr || o.account == 0 || o.account > config.max_accounts ||
        find_order(o.id) != kNoSlot)
      return "order " + std::to_string(o.id) + " is invalid or listed twice";
    register_order(slot);
  }

  std::size_t placed = 0;
  std::vector<bool> seen(order_count, false);  // slots of a fresh engine are 0..count-1
  for (Instrument& ins : instruments) {
    const std::pair<Ladder*, bool> ladders[] = {
        {&ins.bids, false}, {&ins.asks, false}, {&ins.buy_stops, true}, {&ins.sell_stops, true}};
    for (auto [ladder, stops] : ladders) {
      const std::uint32_t level_count = r.count(12);
      for (std::uint32_t l = 0; l < level_count; ++l) {
        const auto price = r.get<Price>();
        const std::uint32_t n = r.count(8);
        for (std::uint32_t k = 0; k < n; ++k) {
          if (k + kAhead < n) ids.prefetch(mix_hash(r.peek<OrderId>(kAhead * sizeof(OrderId))));
          if (k + kAhead / 2 < n) prefetch_order_run(r.peek<OrderId>(kAhead / 2 * sizeof(OrderId)));
          const std::uint32_t slot = find_order(r.get<OrderId>());
          if (slot == kNoSlot || seen[slot]) return "a level lists an unknown or placed order";
          seen[slot] = true;
          const Order& o = orders[slot];
          const bool fits_here = o.instrument == ins.id && (stops ? o.stop_price : o.price) == price &&
                                 o.place == (stops ? OrderPlace::kStops : OrderPlace::kBook) &&
                                 (ladder == &ins.book(o.side) || ladder == &ins.stops(o.side));
          if (!fits_here) return "order " + std::to_string(o.id) + " is on the wrong level";
          append_to_level(*ladder, price, slot, stops ? 0 : o.visible, stops ? 0 : o.leaves);
          ++placed;
        }
      }
    }
  }
  if (placed != registered) return "some open orders are on no level, or on two";

  const std::uint32_t account_count = r.count(62);
  for (std::uint32_t i = 0; i < account_count; ++i) {
    Account& a = accounts.emplace_back();
    r.take(a.spec.label.bytes.data(), 16);
    a.spec.type = r.get<AccountType>();
    a.killed = r.get<std::uint8_t>() != 0;
    a.limits.account = i + 1;
    a.limits.max_open_orders = r.get<std::uint32_t>();
    a.limits.max_orders_per_second = r.get<std::uint32_t>();
    a.limits.max_order_quantity = r.get<Quantity>();
    a.limits.max_order_notional = r.get<Amount>();
    a.rate_window = r.get<std::int64_t>();
    a.rate_count = r.get<std::uint32_t>();
    a.balances.resize(r.count(16));
    for (Balance& b : a.balances) {
      b.total = r.get<Amount>();
      b.held = r.get<Amount>();
    }
    a.positions.resize(r.count(32));
    for (Position& p : a.positions)
      for (Int128* v : {&p.cost, &p.realized}) {
        const auto low = r.get<std::uint64_t>();
        const auto high = r.get<std::int64_t>();
        *v = static_cast<Int128>(static_cast<UInt128>(high) << 64 | low);
      }
    if (a.balances.size() != instruments.size() + 1 || a.positions.size() != instruments.size() + 1)
      return "account without exactly one balance and position per asset";
  }
  for (auto* system : {&fee_balances, &external_balances}) {
    if (r.count(8) != system->size()) return "system balances do not match the instruments";
    for (Balance& b : *system) b.total = r.get<Amount>();
  }
  if (r.failed()) return "snapshot is truncated";
  for (const AccountOrders& list : account_orders)
    for (std::uint32_t s = list.head; s != kNoSlot; s = orders[s].account_next)
      if (!account_exists(orders[s].account)) return "an order belongs to an unknown account";
  if (!r.at_end()) return "snapshot has trailing bytes";
  if (std::string err = check_invariants(); !err.empty()) return "restored book is broken: " + err;
  if (std::string err = check_ledger(); !err.empty()) return "restored ledger is broken: " + err;
  return {};
}

std::string Engine::snapshot() const { return impl_->encode_snapshot(); }

std::unique_ptr<Engine> Engine::restore(const EngineConfig& config, std::string_view bytes,
                                        std::string* error) {
  auto engine = std::make_unique<Engine>(config);
  std::string err = engine->impl_->decode_snapshot(bytes);
  if (err.empty()) return engine;
  if (error != nullptr) *error = std::move(err);
  return nullptr;
}

}  // namespace stox
