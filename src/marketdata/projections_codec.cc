#include "marketdata/projections_codec.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <vector>

namespace stox::marketdata {

namespace {

// "<before><n><after>", built by appends (GCC 12 warns falsely on chains of
// std::string operator+).
std::string with_number(std::string_view before, std::uint64_t n, std::string_view after) {
  std::string s(before);
  s.append(std::to_string(n)).append(after);
  return s;
}

std::string with_text(std::string_view before, std::string_view text, std::string_view after) {
  std::string s(before);
  s.append(text).append(after);
  return s;
}

// --- bytes out -------------------------------------------------------------

// Appends to a string through a raw cursor; the string is grown by doubling
// and cut to what was written by finish(), so the hot loop is a bounds check
// and a store per byte.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out), base_(out->size()) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void u8(std::uint8_t v) {
    room(1);
    (*out_)[used_++] = static_cast<char>(v);
  }
  // REQUIRES: bytes <= 8.
  void le(std::uint64_t v, int bytes) {
    room(static_cast<std::size_t>(bytes));
    for (int i = 0; i < bytes; ++i) (*out_)[used_++] = static_cast<char>(v >> (8 * i));
  }
  template <class U>
  void uv(U v) {
    room(19);
    char* p = out_->data();
    while (v >= 0x80) {
      p[used_++] = static_cast<char>(static_cast<std::uint8_t>(v) | 0x80);
      v >>= 7;
    }
    p[used_++] = static_cast<char>(v);
  }
  void sv(std::int64_t v) {
    const auto u = static_cast<std::uint64_t>(v);
    uv((u << 1) ^ (u >> 63 != 0 ? ~std::uint64_t{0} : 0));
  }
  void sv128(Int128 v) {
    const auto u = static_cast<UInt128>(v);
    uv((u << 1) ^ (u >> 127 != 0 ? ~UInt128{0} : 0));
  }
  template <std::size_t N>
  void text(const FixedString<N>& s) {
    std::size_t n = N;
    while (n > 0 && s.bytes[n - 1] == '\0') --n;
    u8(static_cast<std::uint8_t>(n));
    room(n);
    std::memcpy(out_->data() + used_, s.bytes.data(), n);
    used_ += n;
  }
  template <class E>
  void e8(E v) {
    u8(static_cast<std::uint8_t>(v));
  }

  // Bytes written so far (from where this writer started).
  std::size_t size() const { return used_ - base_; }
  // Overwrites 8 bytes at `offset` (from where this writer started).
  void patch_u64(std::size_t offset, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) (*out_)[base_ + offset + i] = static_cast<char>(v >> (8 * i));
  }
  void finish() { out_->resize(used_); }

 private:
  void room(std::size_t n) {
    if (out_->size() - used_ >= n) return;
    out_->resize(std::max(2 * out_->size(), used_ + n + 4096));
  }

  std::string* out_;
  std::size_t base_;
  std::size_t used_ = base_;
};

// --- bytes in --------------------------------------------------------------

// Reads from a byte range; the first failure is kept and every later read
// returns 0, so decoders check ok() once per record instead of per field.
class Reader {
 public:
  explicit Reader(std::string_view bytes)
      : p_(reinterpret_cast<const std::uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
  // Records the first failure; returns false for `return r.fail(...)`.
  bool fail(std::string_view what) {
    if (ok()) error_ = what;
    p_ = end_;
    return false;
  }

  std::uint8_t u8() {
    if (p_ == end_) return fail("truncated"), 0;
    return *p_++;
  }
  // REQUIRES: bytes <= 8.
  std::uint64_t le(int bytes) {
    if (left() < static_cast<std::size_t>(bytes)) return fail("truncated"), 0;
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= std::uint64_t{*p_++} << (8 * i);
    return v;
  }
  template <class U>
  U uv() {
    constexpr int kBits = sizeof(U) * 8;
    U v = 0;
    for (int shift = 0; shift < kBits; shift += 7) {
      if (p_ == end_) return fail("truncated"), 0;
      const std::uint8_t b = *p_++;
      const U part = static_cast<U>(b & 0x7f);
      if (kBits - shift < 7 && (part >> (kBits - shift)) != 0) return fail("varint overflow"), 0;
      v |= part << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift > 0) return fail("overlong varint"), 0;
        return v;
      }
    }
    return fail("varint overflow"), 0;
  }
  std::uint64_t uv64() { return uv<std::uint64_t>(); }
  std::uint32_t uv32() {
    const std::uint64_t v = uv64();
    if (v > UINT32_MAX) return fail("value out of range for 32 bits"), 0;
    return static_cast<std::uint32_t>(v);
  }
  std::int64_t sv() {
    const std::uint64_t u = uv64();
    return static_cast<std::int64_t>((u >> 1) ^ (0 - (u & 1)));
  }
  std::int32_t sv32() {
    const std::int64_t v = sv();
    if (v < INT32_MIN || v > INT32_MAX) return fail("value out of range for 32 bits"), 0;
    return static_cast<std::int32_t>(v);
  }
  Int128 sv128() {
    const auto u = uv<UInt128>();
    return static_cast<Int128>((u >> 1) ^ (0 - (u & 1)));
  }
  template <std::size_t N>
  FixedString<N> text(const char* what) {
    FixedString<N> s;
    const std::size_t n = u8();
    if (n > N) return fail(with_text("", what, " too long")), s;
    if (left() < n) return fail("truncated"), s;
    std::memcpy(s.bytes.data(), p_, n);
    p_ += n;
    if (n > 0 && s.bytes[n - 1] == '\0') fail(with_text("", what, " not canonical"));
    return s;
  }
  // An enum stored as u8 whose value must lie in [lo, hi].
  template <class E>
  E e8(int lo, int hi, const char* what) {
    const int v = u8();
    if (ok() && (v < lo || v > hi)) fail(with_number(with_text("bad ", what, " "), v, ""));
    return static_cast<E>(v);
  }
  bool flag(const char* what) { return e8<std::uint8_t>(0, 1, what) != 0; }
  // A count of records of at least `min_bytes` each: more than the bytes
  // left could hold is damage, caught before anything is allocated for it.
  std::size_t count(std::size_t min_bytes, const char* what) {
    const std::uint64_t n = uv64();
    if (n > left() / min_bytes) return fail(with_text("", what, " count exceeds the bytes left")), 0;
    return static_cast<std::size_t>(n);
  }
  // The next `n` bytes as a reader of their own.
  Reader sub(std::uint64_t n) {
    if (n > left()) {
      fail("section longer than the bytes left");
      return Reader({});
    }
    Reader r({reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n)});
    p_ += n;
    return r;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::string error_;
};

// Smallest encodings, for Reader::count().
constexpr std::size_t kMinFill = 12;
constexpr std::size_t kMinOrder = 30;
constexpr std::size_t kMinLevel = 3;
constexpr std::size_t kMinTrade = 6;
constexpr std::size_t kMinCandle = 7;
constexpr std::size_t kMinInstrument = 10;
constexpr std::size_t kMinBook = 5;
constexpr std::size_t kMinSeries = 12;

constexpr int kMaxCancelReason = static_cast<int>(CancelReason::kInsufficientFunds);

void put_fill(Writer& w, const Fill& f) {
  w.uv(f.trade_id);
  w.uv(f.order_id);
  w.uv(f.account);
  w.uv(f.instrument);
  w.e8(f.side);
  w.sv(f.price);
  w.sv(f.quantity);
  w.sv(f.fee);
  w.e8(f.liquidity);
  w.sv(f.time);
}

Fill get_fill(Reader& r) {
  Fill f;
  f.trade_id = r.uv64();
  f.order_id = r.uv64();
  f.account = r.uv32();
  f.instrument = r.uv32();
  f.side = r.e8<Side>(1, 2, "fill side");
  f.price = r.sv();
  f.quantity = r.sv();
  f.fee = r.sv();
  f.liquidity = r.e8<Liquidity>(1, 2, "fill liquidity");
  f.time = r.sv();
  return f;
}

void put_order(Writer& w, const TrackedOrder& o) {
  const OrderState& s = o.state;
  w.uv(s.id);
  w.uv(s.account);
  w.uv(s.instrument);
  w.text(s.client_order_id);
  w.e8(s.side);
  w.e8(s.type);
  w.e8(s.time_in_force);
  w.u8(static_cast<std::uint8_t>((s.post_only ? 1 : 0) | (s.triggered ? 2 : 0)));
  w.e8(s.status);
  w.e8(s.cancel_reason);
  w.uv(s.fill_count);
  for (const std::int64_t v : {s.price, s.stop_price, s.quantity, s.quote_quantity,
                               s.display_quantity, s.leaves, s.filled, s.fees}) {
    w.sv(v);
  }
  w.sv128(s.filled_value);
  w.sv(s.created_at);
  w.sv(static_cast<std::int64_t>(static_cast<std::uint64_t>(s.updated_at) -
                                 static_cast<std::uint64_t>(s.created_at)));
  w.uv(o.fills.size());
  for (const Fill& f : o.fills) put_fill(w, f);
}

void get_order_state(Reader& r, OrderState& s) {
  s.id = r.uv64();
  s.account = r.uv32();
  s.instrument = r.uv32();
  s.client_order_id = r.text<16>("client order id");
  s.side = r.e8<Side>(1, 2, "order side");
  s.type = r.e8<OrderType>(1, 4, "order type");
  s.time_in_force = r.e8<TimeInForce>(1, 4, "time in force");
  const auto flags = r.e8<std::uint8_t>(0, 3, "order flags");
  s.post_only = (flags & 1) != 0;
  s.triggered = (flags & 2) != 0;
  s.status = r.e8<OrderStatus>(1, 6, "order status");
  s.cancel_reason = r.e8<CancelReason>(0, kMaxCancelReason, "cancel reason");
  s.fill_count = r.uv32();
  for (std::int64_t* v : {&s.price, &s.stop_price, &s.quantity, &s.quote_quantity,
                          &s.display_quantity, &s.leaves, &s.filled, &s.fees}) {
    *v = r.sv();
  }
  s.filled_value = r.sv128();
  s.created_at = r.sv();
  s.updated_at = static_cast<Timestamp>(static_cast<std::uint64_t>(s.created_at) +
                                        static_cast<std::uint64_t>(r.sv()));
  if (r.ok() && s.id == 0) r.fail("order id 0");
}

template <class T>
void sorted_keys(const T& map, std::vector<typename T::key_type>* keys) {
  keys->clear();
  keys->reserve(map.size());
  for (const auto& [k, v] : map) keys->push_back(k);
  std::sort(keys->begin(), keys->end());
}

void put_level(Writer& w, const DepthLevel& l) {
  w.sv(l.price);
  w.sv(l.quantity);
  w.uv(l.count);
}

void put_candle(Writer& w, const Candle& c) {
  w.sv(c.open_time);
  w.sv(c.open);
  w.sv(c.high);
  w.sv(c.low);
  w.sv(c.close);
  w.sv(c.volume);
  w.uv(c.trades);
}

Candle get_candle(Reader& r) {
  Candle c;
  c.open_time = r.sv();
  c.open = r.sv();
  c.high = r.sv();
  c.low = r.sv();
  c.close = r.sv();
  c.volume = r.sv();
  c.trades = r.uv32();
  return c;
}

void put_trade(Writer& w, const PublicTrade& t) {
  w.uv(t.trade_id);
  w.uv(t.instrument);
  w.sv(t.price);
  w.sv(t.quantity);
  w.e8(t.aggressor);
  w.sv(t.time);
}

PublicTrade get_trade(Reader& r) {
  PublicTrade t;
  t.trade_id = r.uv64();
  t.instrument = r.uv32();
  t.price = r.sv();
  t.quantity = r.sv();
  t.aggressor = r.e8<Side>(1, 2, "trade side");
  t.time = r.sv();
  return t;
}

// Reads n records into a bounded deque, keeping the most recent `cap`;
// returns n.
template <class T, class Get>
std::size_t get_bounded(Reader& r, std::size_t min_bytes, const char* what, std::size_t cap,
                 std::deque<T>& out, Get get) {
  const std::size_t n = r.count(min_bytes, what);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    T v = get(r);
    if (n - i > cap) continue;  // older than the config keeps
    out.push_back(v);
  }
  return n;
}

Status corruption(std::string_view section, const std::string& what) {
  std::string msg = "projections ";
  msg.append(section).append(": ").append(what);
  return Status::Corruption(msg);
}

}  // namespace

// Reads and restores the private state of each projection (a friend of each).
class ProjectionsCodec {
 public:
  static void put(Writer& w, const InstrumentDirectory& d);
  static void put(Writer& w, const OrderTracker& t);
  static void put(Writer& w, const BookView& b);
  static void put(Writer& w, const Tape& t);
  static bool get(Reader& r, InstrumentDirectory& d);
  static bool get(Reader& r, OrderTracker& t);
  static bool get(Reader& r, std::size_t instruments, BookView& b);
  static bool get(Reader& r, std::size_t instruments, Tape& t);

 private:
  static bool get_open(Reader& r, OrderTracker& t);
  static bool get_closed(Reader& r, OrderTracker& t);
  static bool get_account_fills(Reader& r, OrderTracker& t);
  static bool get_order(Reader& r, OrderTracker& t, TrackedOrder** added);
  static bool get_side(Reader& r, std::map<Price, DepthLevel>& side);
};

// --- instruments -------------------------------------------------------------

void ProjectionsCodec::put(Writer& w, const InstrumentDirectory& d) {
  w.uv(d.instruments_.size());
  for (const InstrumentInfo& i : d.instruments_) {
    const AddInstrument& a = i.spec;
    w.text(a.symbol);
    for (const std::int64_t v : {a.tick_size, a.lot_size, a.reference_price}) w.sv(v);
    for (const std::int32_t v : {a.market_band_bps, a.maker_fee_bps, a.taker_fee_bps}) w.sv(v);
    w.u8(a.price_scale);
    w.u8(a.quantity_scale);
    w.e8(i.status);
  }
}

bool ProjectionsCodec::get(Reader& r, InstrumentDirectory& d) {
  const std::size_t n = r.count(kMinInstrument, "instrument");
  for (std::size_t k = 0; k < n && r.ok(); ++k) {
    InstrumentInfo i;
    i.id = static_cast<InstrumentId>(k + 1);
    AddInstrument& a = i.spec;
    a.symbol = r.text<16>("symbol");
    a.tick_size = r.sv();
    a.lot_size = r.sv();
    a.reference_price = r.sv();
    a.market_band_bps = r.sv32();
    a.maker_fee_bps = r.sv32();
    a.taker_fee_bps = r.sv32();
    a.price_scale = r.e8<std::uint8_t>(0, kMaxScale, "price scale");
    a.quantity_scale = r.e8<std::uint8_t>(0, kMaxScale, "quantity scale");
    i.status = r.e8<InstrumentStatus>(1, 3, "instrument status");
    if (!r.ok()) break;
    const InstrumentInfo& added = d.instruments_.emplace_back(i);
    d.by_symbol_.emplace(Symbol::from(added.symbol()), added.id);  // as apply() does
  }
  return r.ok();
}

// --- orders ------------------------------------------------------------------

void ProjectionsCodec::put(Writer& w, const OrderTracker& t) {
  std::vector<AccountId> accounts;
  sorted_keys(t.open_by_account_, &accounts);
  std::size_t open = 0;
  for (const auto& [account, ids] : t.open_by_account_) open += ids.size();
  w.uv(open);
  for (AccountId a : accounts) {
    t.open_by_account_.at(a).for_each([&](OrderId id) { put_order(w, t.orders_.at(id)); });
  }
  w.uv(t.closed_.size());
  for (const auto& [id, closed_at] : t.closed_) {
    put_order(w, t.orders_.at(id));
    w.sv(closed_at);
  }
  // Accounts whose ring is empty (the map made an entry, nothing was kept)
  // show the same as absent ones: they are left out.
  sorted_keys(t.fills_by_account_, &accounts);
  std::size_t with_fills = 0;
  for (AccountId a : accounts) with_fills += t.fills_by_account_.at(a).empty() ? 0 : 1;
  w.uv(with_fills);
  for (AccountId a : accounts) {
    const std::deque<Fill>& fills = t.fills_by_account_.at(a);
    if (fills.empty()) continue;
    w.uv(a);
    w.uv(fills.size());
    for (const Fill& f : fills) put_fill(w, f);
  }
}

bool ProjectionsCodec::get(Reader& r, OrderTracker& t) {
  return get_open(r, t) && get_closed(r, t) && get_account_fills(r, t);
}

// Reads one order with its fills into t.orders_; *added points at it.
bool ProjectionsCodec::get_order(Reader& r, OrderTracker& t, TrackedOrder** added) {
  TrackedOrder o;
  get_order_state(r, o.state);
  const std::size_t n = r.count(kMinFill, "order fill");
  for (std::size_t i = 0; i < n && r.ok(); ++i) o.fills.push(get_fill(r), t.config_.max_fills_per_order);
  if (!r.ok()) return false;
  auto [it, inserted] = t.orders_.emplace(o.state.id, std::move(o));
  if (!inserted) return r.fail(with_number("order ", it->first, " listed twice"));
  *added = &it->second;
  return true;
}

bool ProjectionsCodec::get_open(Reader& r, OrderTracker& t) {
  const std::size_t n = r.count(kMinOrder, "open order");
  t.orders_.reserve(n);
  OpenIds* ids = nullptr;
  AccountId account = 0;
  OrderId last = 0;
  for (std::size_t i = 0; i < n; ++i) {
    TrackedOrder* o = nullptr;
    if (!get_order(r, t, &o)) return false;
    const OrderState& s = o->state;
    if (!s.is_open()) return r.fail(with_number("closed order ", s.id, " listed as open"));
    if (ids == nullptr || s.account != account) {
      if (ids != nullptr && s.account < account) return r.fail("open orders out of order");
      account = s.account;
      ids = &t.open_by_account_[account];
    } else if (s.id <= last) {
      return r.fail("open orders out of order");
    }
    last = s.id;
    ids->add(s.id);
  }
  return r.ok();
}

bool ProjectionsCodec::get_closed(Reader& r, OrderTracker& t) {
  const std::size_t n = r.count(kMinOrder + 1, "closed order");
  t.orders_.reserve(t.orders_.size() + n);
  for (std::size_t i = 0; i < n; ++i) {
    TrackedOrder* o = nullptr;
    if (!get_order(r, t, &o)) return false;
    if (o->state.is_open()) {
      return r.fail(with_number("open order ", o->state.id, " listed as closed"));
    }
    if (o->state.status == OrderStatus::kRejected) return r.fail("rejected order tracked");
    t.closed_.emplace_back(o->state.id, r.sv());
  }
  return r.ok();
}

bool ProjectionsCodec::get_account_fills(Reader& r, OrderTracker& t) {
  const std::size_t n = r.count(kMinFill + 2, "account");
  AccountId last = 0;
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    const AccountId account = r.uv32();
    if (r.ok() && i > 0 && account <= last) return r.fail("account fills out of order");
    last = account;
    std::deque<Fill> fills;
    const std::size_t stored =
        get_bounded(r, kMinFill, "account fill", t.config_.max_fills_per_account, fills, get_fill);
    if (r.ok() && stored == 0) return r.fail(with_number("account ", account, " without fills"));
    if (r.ok()) t.fills_by_account_.emplace(account, std::move(fills));
  }
  return r.ok();
}

// --- book --------------------------------------------------------------------

void ProjectionsCodec::put(Writer& w, const BookView& b) {
  w.uv(b.books_.size());
  for (const BookView::Book& book : b.books_) {
    w.uv(book.sequence);
    w.sv(book.time);
    w.u8(book.last_trade ? 1 : 0);
    if (book.last_trade) {
      w.uv(book.last_trade->trade_id);
      w.sv(book.last_trade->price);
      w.sv(book.last_trade->quantity);
      w.sv(book.last_trade->time);
    }
    for (const auto* side : {&book.bids, &book.asks}) {
      w.uv(side->size());
      for (const auto& [price, level] : *side) put_level(w, level);
    }
  }
}

bool ProjectionsCodec::get_side(Reader& r, std::map<Price, DepthLevel>& side) {
  const std::size_t n = r.count(kMinLevel, "level");
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    DepthLevel l;
    l.price = r.sv();
    l.quantity = r.sv();
    l.count = r.uv32();
    if (!r.ok()) break;
    if (l.count == 0) return r.fail("level of 0 orders");
    if (!side.empty() && l.price <= side.rbegin()->first) return r.fail("levels out of order");
    side.emplace_hint(side.end(), l.price, l);
  }
  return r.ok();
}

bool ProjectionsCodec::get(Reader& r, std::size_t instruments, BookView& b) {
  const std::size_t n = r.count(kMinBook, "book");
  if (r.ok() && n != instruments) return r.fail("book count differs from instrument count");
  b.books_.resize(n);
  for (BookView::Book& book : b.books_) {
    book.sequence = r.uv64();
    book.time = r.sv();
    if (r.flag("last trade flag")) {
      LastTrade t;
      t.trade_id = r.uv64();
      t.price = r.sv();
      t.quantity = r.sv();
      t.time = r.sv();
      book.last_trade = t;
    }
    if (!get_side(r, book.bids) || !get_side(r, book.asks)) return false;
  }
  return r.ok();
}

// --- tape --------------------------------------------------------------------

void ProjectionsCodec::put(Writer& w, const Tape& t) {
  w.uv(t.series_.size());
  for (const Tape::Series& s : t.series_) {
    w.sv(s.last);
    w.sv(s.last_time);
    for (const std::int64_t v : {s.day.open, s.day.high, s.day.low, s.day.volume}) w.sv(v);
    w.uv(s.day.trades);
    w.uv(s.trades.size());
    for (const PublicTrade& p : s.trades) put_trade(w, p);
    for (const std::deque<Candle>& history : s.candles) {
      w.uv(history.size());
      for (const Candle& c : history) put_candle(w, c);
    }
  }
}

bool ProjectionsCodec::get(Reader& r, std::size_t instruments, Tape& t) {
  const std::size_t n = r.count(kMinSeries, "series");
  if (r.ok() && n != instruments) return r.fail("series count differs from instrument count");
  t.series_.resize(n);
  for (Tape::Series& s : t.series_) {
    s.last = r.sv();
    s.last_time = r.sv();
    s.day.open = r.sv();
    s.day.high = r.sv();
    s.day.low = r.sv();
    s.day.volume = r.sv();
    s.day.trades = r.uv32();
    get_bounded(r, kMinTrade, "trade", t.config_.max_trades, s.trades, get_trade);
    for (std::deque<Candle>& history : s.candles) {
      get_bounded(r, kMinCandle, "candle", t.config_.max_candles, history, get_candle);
    }
    if (!r.ok()) break;
  }
  return r.ok();
}

// --- the whole -----------------------------------------------------------------

void encode_projections(const Projections& p, std::string* out) {
  Writer w(out);
  for (char c : kProjectionsMagic) w.u8(static_cast<std::uint8_t>(c));
  w.le(kProjectionsVersion, 4);
  w.le(0, 4);
  for (int i = 0; i < 4; ++i) w.le(0, 8);  // the section lengths, patched below
  std::size_t start = w.size();
  const auto section = [&](std::size_t index, const auto& component) {
    ProjectionsCodec::put(w, component);
    w.patch_u64(16 + 8 * index, w.size() - start);
    start = w.size();
  };
  section(0, p.instruments);
  section(1, p.orders);
  section(2, p.book);
  section(3, p.tape);
  w.finish();
}

namespace {

Status section_status(const char* name, const Reader& in, bool ok) {
  if (!ok) return corruption(name, in.error());
  if (in.left() != 0) return corruption(name, "bytes after the last record");
  return Status::OK();
}

}  // namespace

Status decode_projections(std::string_view bytes, const ProjectionsConfig& config,
                          Projections* out) {
  if (bytes.size() < kProjectionsHeaderSize) return corruption("header", "truncated");
  if (bytes.substr(0, kProjectionsMagic.size()) != kProjectionsMagic) {
    return corruption("header", "bad magic (not a projections encoding)");
  }
  Reader r(bytes.substr(kProjectionsMagic.size()));
  const std::uint64_t version = r.le(4);
  if (version != kProjectionsVersion) {
    return corruption("header", with_number("unsupported version ", version, ""));
  }
  if (r.le(4) != 0) return corruption("header", "reserved bytes not zero");
  std::array<std::uint64_t, 4> lengths{};
  std::uint64_t total = 0;
  for (std::uint64_t& n : lengths) {
    n = r.le(8);
    total += std::min<std::uint64_t>(n, bytes.size());  // no overflow
  }
  if (total != r.left()) return corruption("header", "section lengths do not add up to the size");
  std::array<Reader, 4> in = {r.sub(lengths[0]), r.sub(lengths[1]), r.sub(lengths[2]),
                              r.sub(lengths[3])};

  Projections fresh(config);
  Status s = section_status("instruments", in[0], ProjectionsCodec::get(in[0], fresh.instruments));
  const std::size_t instruments = fresh.instruments.all().size();
  if (s.ok()) s = section_status("orders", in[1], ProjectionsCodec::get(in[1], fresh.orders));
  if (s.ok()) {
    s = section_status("book", in[2], ProjectionsCodec::get(in[2], instruments, fresh.book));
  }
  if (s.ok()) {
    s = section_status("tape", in[3], ProjectionsCodec::get(in[3], instruments, fresh.tape));
  }
  if (!s.ok()) return s;
  *out = std::move(fresh);
  return Status::OK();
}

}  // namespace stox::marketdata
