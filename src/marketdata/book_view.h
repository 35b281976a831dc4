// BookView: the public depth book of every instrument, built from BookLevel
// and Trade events alone.
//
// A BookLevel event states a level's visible quantity and order count after
// a change (0/0: the level is gone), so the view is simply "the last value
// reported per (side, price)". It therefore equals Engine::depth() whenever
// both have seen the same commands (the consistency test checks this).
//
// Depth channel protocol. Every BookLevel event becomes one DepthUpdate with
// the instrument's next sequence number (1, 2, 3, ... per instrument, no
// gaps). snapshot() carries the sequence of the last update it includes, so
// a client applies the updates numbered snapshot.sequence + 1, + 2, ... and
// detects a gap (a lost message) when a number is skipped; it then asks for
// a new snapshot.
//
// Quotes channel. At the end of each batch (one command's events, as in
// OrderTracker), every instrument whose top of book (best bid and ask price
// and quantity) differs from the start of the batch yields one Quote. A top
// that changes and changes back within one command is not reported: the
// intermediate state was never observable between commands.
//
// Memory: one entry per live public level (levels reported 0/0 are erased)
// plus, per instrument, the last trade.
// Thread-safety: none; owned by the dispatch thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "core/event.h"

namespace stox::marketdata {

class ProjectionsCodec;

struct DepthLevel {
  Price price = 0;
  Quantity quantity = 0;  // visible
  std::uint32_t count = 0;
  friend bool operator==(const DepthLevel&, const DepthLevel&) = default;
};

struct LastTrade {
  TradeId trade_id = 0;
  Price price = 0;
  Quantity quantity = 0;
  Timestamp time = 0;
};

struct DepthUpdate {
  InstrumentId instrument = 0;
  std::uint64_t sequence = 0;  // per instrument, from 1, no gaps
  Side side{};
  Price price = 0;
  Quantity quantity = 0;  // 0 with count 0: the level is gone
  std::uint32_t count = 0;
  Timestamp time = 0;
};

// Best bid and ask; price 0 (and quantity 0) means that side is empty.
struct Quote {
  InstrumentId instrument = 0;
  std::uint64_t sequence = 0;  // depth sequence this top corresponds to
  Price bid_price = 0;
  Quantity bid_quantity = 0;
  Price ask_price = 0;
  Quantity ask_quantity = 0;
  Timestamp time = 0;

  bool same_top(const Quote& o) const {
    return bid_price == o.bid_price && bid_quantity == o.bid_quantity &&
           ask_price == o.ask_price && ask_quantity == o.ask_quantity;
  }
};

struct DepthSnapshot {
  InstrumentId instrument = 0;
  std::uint64_t sequence = 0;  // of the last update included
  Timestamp time = 0;          // of the last update included (0: none yet)
  std::vector<DepthLevel> bids;  // best (highest) first
  std::vector<DepthLevel> asks;  // best (lowest) first
  std::optional<LastTrade> last_trade;
};

class BookView {
 public:
  // REQUIRES: `events` are all the events of one command, in engine order.
  void apply_batch(std::span<const Event> events);
  // One event; closes the open batch first if `e` belongs to another command.
  void apply(const Event& e);
  // Ends the open batch (no-op if none): computes quote_changes().
  void finish_batch();

  // Level updates and top-of-book changes of the last finished batch (an
  // open batch collects its own until it finishes).
  const std::vector<DepthUpdate>& updates() const { return updates_; }
  const std::vector<Quote>& quote_changes() const { return quotes_; }

  // Up to `depth` levels per side from the best; nullopt for an unknown
  // instrument.
  std::optional<DepthSnapshot> snapshot(InstrumentId id, std::size_t depth) const;
  Quote top(InstrumentId id) const;
  std::uint64_t sequence(InstrumentId id) const;

 private:
  friend class ProjectionsCodec;  // projections_codec.cc: reads and restores the state

  struct Book {
    std::map<Price, DepthLevel> bids;  // best is the last
    std::map<Price, DepthLevel> asks;  // best is the first
    std::uint64_t sequence = 0;
    Timestamp time = 0;
    std::optional<LastTrade> last_trade;
    bool touched = false;  // by the open batch
    Quote top_before{};    // at the start of the open batch
  };

  void begin_batch(const Event& first);
  Book* book(InstrumentId id);
  const Book* book(InstrumentId id) const;
  void touch(InstrumentId id, Book& b);
  void on_level(const Event& e);
  static Quote top_of(InstrumentId id, const Book& b);

  std::vector<Book> books_;  // index: instrument id - 1 (ids are dense from 1)
  bool batch_open_ = false;
  SeqNo batch_seq_ = 0;
  std::vector<InstrumentId> touched_;
  std::vector<DepthUpdate> pending_;  // of the open batch
  std::vector<DepthUpdate> updates_;  // of the last finished batch
  std::vector<Quote> quotes_;
};

}  // namespace stox::marketdata
