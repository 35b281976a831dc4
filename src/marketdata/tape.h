// Tape: the public trade record of every instrument, built from Trade and
// DayEnded events alone: the recent trades, the day's ticker statistics and
// OHLCV candles.
//
// Candles. A trade at event time t falls in the candle that starts at
// floor(t / width) × width (epoch aligned: 1d candles start at 00:00 UTC).
// Only intervals with trades have a candle (no empty fill-in). Event times
// never decrease (the sequencer stamps them); should one go backwards, its
// trade is folded into the newest candle rather than reopening an old one.
//
// Day. The ticker's open/high/low/volume cover the trades since the last
// DayEnded event (the session day, not the calendar day); DayEnded resets
// them. The last price survives DayEnded.
//
// Memory bounds (TapeConfig), per instrument: max_trades recent trades and
// max_candles candles per interval, oldest evicted first.
// Thread-safety: none; owned by the dispatch thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "marketdata/book_view.h"

namespace stox::marketdata {

class ProjectionsCodec;

struct PublicTrade {
  TradeId trade_id = 0;
  InstrumentId instrument = 0;
  Price price = 0;
  Quantity quantity = 0;
  Side aggressor{};  // the taker's side
  Timestamp time = 0;
};

enum class CandleInterval : std::uint8_t { k1m = 0, k5m = 1, k1h = 2, k1d = 3 };
inline constexpr std::size_t kCandleIntervals = 4;

// Width in nanoseconds.
Timestamp width_of(CandleInterval i);
std::string_view to_string(CandleInterval i);  // "1m", "5m", "1h", "1d"
std::optional<CandleInterval> parse_candle_interval(std::string_view text);

struct Candle {
  Timestamp open_time = 0;  // start of the interval
  Price open = 0;
  Price high = 0;
  Price low = 0;
  Price close = 0;
  Quantity volume = 0;
  std::uint32_t trades = 0;
  friend bool operator==(const Candle&, const Candle&) = default;
};

struct DayStats {
  Price open = 0;  // 0: no trade since the last DayEnded
  Price high = 0;
  Price low = 0;
  Quantity volume = 0;
  std::uint32_t trades = 0;
};

struct Ticker {
  InstrumentId instrument = 0;
  Price bid = 0;  // 0: side empty
  Price ask = 0;
  Price last = 0;  // 0: never traded
  Timestamp last_time = 0;
  DayStats day;
};

struct TapeConfig {
  std::size_t max_trades = 1000;
  std::size_t max_candles = 1000;
};

class Tape {
 public:
  explicit Tape(const TapeConfig& config = {});

  // REQUIRES: `events` are all the events of one command.
  void apply_batch(std::span<const Event> events);
  // One event; starts a new batch if `e` belongs to another command.
  void apply(const Event& e);

  // The trades of the current (or last) batch, in print order.
  const std::vector<PublicTrade>& batch_trades() const { return batch_trades_; }

  // Up to `limit` most recent trades, newest first.
  std::vector<PublicTrade> recent_trades(InstrumentId id, std::size_t limit) const;
  // Bid and ask come from `book` (the BookView fed the same events).
  Ticker ticker(InstrumentId id, const BookView& book) const;
  // Up to `limit` most recent candles of the interval, oldest first.
  std::vector<Candle> candles(InstrumentId id, CandleInterval interval, std::size_t limit) const;

 private:
  friend class ProjectionsCodec;  // projections_codec.cc: reads and restores the state

  struct Series {
    std::deque<PublicTrade> trades;
    std::array<std::deque<Candle>, kCandleIntervals> candles;
    DayStats day;
    Price last = 0;
    Timestamp last_time = 0;
  };

  void on_trade(const Event& e);
  void add_to_candles(Series& s, const PublicTrade& t) const;
  const Series* series(InstrumentId id) const;

  TapeConfig config_;
  std::vector<Series> series_;  // index: instrument id - 1
  bool batch_started_ = false;
  SeqNo batch_seq_ = 0;
  std::vector<PublicTrade> batch_trades_;
};

}  // namespace stox::marketdata
