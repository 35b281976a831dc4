#include "marketdata/tape.h"

#include <algorithm>

namespace stox::marketdata {

namespace {

constexpr Timestamp kMinute = 60LL * 1'000'000'000;

Timestamp floor_to(Timestamp t, Timestamp width) {
  Timestamp q = t / width;
  if (t % width < 0) --q;  // floor for times before the epoch
  return q * width;
}

void extend(Candle& c, const PublicTrade& t) {
  c.high = std::max(c.high, t.price);
  c.low = std::min(c.low, t.price);
  c.close = t.price;
  c.volume += t.quantity;
  ++c.trades;
}

}  // namespace

Timestamp width_of(CandleInterval i) {
  switch (i) {
    case CandleInterval::k1m: return kMinute;
    case CandleInterval::k5m: return 5 * kMinute;
    case CandleInterval::k1h: return 60 * kMinute;
    case CandleInterval::k1d: return Timestamp{24} * 60 * kMinute;
  }
  return kMinute;
}

std::string_view to_string(CandleInterval i) {
  switch (i) {
    case CandleInterval::k1m: return "1m";
    case CandleInterval::k5m: return "5m";
    case CandleInterval::k1h: return "1h";
    case CandleInterval::k1d: return "1d";
  }
  return "?";
}

std::optional<CandleInterval> parse_candle_interval(std::string_view text) {
  for (std::size_t i = 0; i < kCandleIntervals; ++i) {
    const auto interval = static_cast<CandleInterval>(i);
    if (text == to_string(interval)) return interval;
  }
  return std::nullopt;
}

Tape::Tape(const TapeConfig& config) : config_(config) {}

void Tape::apply_batch(std::span<const Event> events) {
  batch_started_ = false;
  batch_trades_.clear();
  for (const Event& e : events) apply(e);
}

void Tape::apply(const Event& e) {
  if (!batch_started_ || e.seq != batch_seq_) {
    batch_started_ = true;
    batch_seq_ = e.seq;
    batch_trades_.clear();
  }
  switch (e.type) {
    case EventType::kInstrumentAdded:
      if (e.instrument_added.instrument == series_.size() + 1) series_.emplace_back();
      return;
    case EventType::kTrade:
      return on_trade(e);
    case EventType::kDayEnded:
      for (Series& s : series_) s.day = DayStats{};
      return;
    default:
      return;
  }
}

void Tape::on_trade(const Event& e) {
  const TradeEvent& t = e.trade;
  if (t.instrument == 0 || t.instrument > series_.size()) return;
  Series& s = series_[t.instrument - 1];
  const PublicTrade p{t.trade_id, t.instrument, t.price, t.quantity, t.aggressor, e.timestamp};
  batch_trades_.push_back(p);
  if (config_.max_trades > 0) {
    if (s.trades.size() >= config_.max_trades) s.trades.pop_front();
    s.trades.push_back(p);
  }
  s.last = p.price;
  s.last_time = p.time;
  DayStats& d = s.day;
  if (d.trades == 0) {
    d.open = d.high = d.low = p.price;
  } else {
    d.high = std::max(d.high, p.price);
    d.low = std::min(d.low, p.price);
  }
  d.volume += p.quantity;
  ++d.trades;
  add_to_candles(s, p);
}

void Tape::add_to_candles(Series& s, const PublicTrade& t) const {
  if (config_.max_candles == 0) return;
  for (std::size_t i = 0; i < kCandleIntervals; ++i) {
    std::deque<Candle>& history = s.candles[i];
    const Timestamp start = floor_to(t.time, width_of(static_cast<CandleInterval>(i)));
    if (!history.empty() && start <= history.back().open_time) {
      extend(history.back(), t);
      continue;
    }
    if (history.size() >= config_.max_candles) history.pop_front();
    history.push_back(Candle{start, t.price, t.price, t.price, t.price, t.quantity, 1});
  }
}

const Tape::Series* Tape::series(InstrumentId id) const {
  return id == 0 || id > series_.size() ? nullptr : &series_[id - 1];
}

std::vector<PublicTrade> Tape::recent_trades(InstrumentId id, std::size_t limit) const {
  std::vector<PublicTrade> result;
  const Series* s = series(id);
  if (s == nullptr) return result;
  for (auto it = s->trades.rbegin(); it != s->trades.rend() && result.size() < limit; ++it) {
    result.push_back(*it);
  }
  return result;
}

Ticker Tape::ticker(InstrumentId id, const BookView& book) const {
  Ticker t;
  t.instrument = id;
  const Quote q = book.top(id);
  t.bid = q.bid_price;
  t.ask = q.ask_price;
  if (const Series* s = series(id)) {
    t.last = s->last;
    t.last_time = s->last_time;
    t.day = s->day;
  }
  return t;
}

std::vector<Candle> Tape::candles(InstrumentId id, CandleInterval interval,
                                  std::size_t limit) const {
  const Series* s = series(id);
  if (s == nullptr) return {};
  const std::deque<Candle>& history = s->candles[static_cast<std::size_t>(interval)];
  const std::size_t n = std::min(limit, history.size());
  return {history.end() - static_cast<std::ptrdiff_t>(n), history.end()};
}

}  // namespace stox::marketdata
