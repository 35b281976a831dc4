#include "marketdata/book_view.h"

namespace stox::marketdata {

void BookView::apply_batch(std::span<const Event> events) {
  finish_batch();
  updates_.clear();
  quotes_.clear();
  for (const Event& e : events) apply(e);
  finish_batch();
}

void BookView::apply(const Event& e) {
  if (batch_open_ && e.seq != batch_seq_) finish_batch();
  if (!batch_open_) begin_batch(e);
  switch (e.type) {
    case EventType::kInstrumentAdded:
      // Ids are dense from 1; anything else is not an engine stream.
      if (e.instrument_added.instrument == books_.size() + 1) books_.emplace_back();
      return;
    case EventType::kBookLevel:
      return on_level(e);
    case EventType::kTrade:
      if (Book* b = book(e.trade.instrument)) {
        b->last_trade = LastTrade{e.trade.trade_id, e.trade.price, e.trade.quantity, e.timestamp};
      }
      return;
    default:
      return;
  }
}

void BookView::begin_batch(const Event& first) {
  batch_open_ = true;
  batch_seq_ = first.seq;
  pending_.clear();
}

void BookView::finish_batch() {
  if (!batch_open_) return;
  batch_open_ = false;
  quotes_.clear();
  for (InstrumentId id : touched_) {
    Book& b = books_[id - 1];
    b.touched = false;
    const Quote now = top_of(id, b);
    if (!now.same_top(b.top_before)) quotes_.push_back(now);
  }
  touched_.clear();
  updates_.swap(pending_);
  pending_.clear();
}

void BookView::touch(InstrumentId id, Book& b) {
  if (b.touched) return;
  b.touched = true;
  b.top_before = top_of(id, b);
  touched_.push_back(id);
}

void BookView::on_level(const Event& e) {
  const BookLevelEvent& l = e.book_level;
  Book* b = book(l.instrument);
  if (b == nullptr) return;
  touch(l.instrument, *b);
  std::map<Price, DepthLevel>& side = l.side == Side::kBuy ? b->bids : b->asks;
  if (l.count == 0) {
    side.erase(l.price);
  } else {
    side[l.price] = DepthLevel{l.price, l.quantity, l.count};
  }
  ++b->sequence;
  b->time = e.timestamp;
  pending_.push_back(
      {l.instrument, b->sequence, l.side, l.price, l.quantity, l.count, e.timestamp});
}

BookView::Book* BookView::book(InstrumentId id) {
  return id == 0 || id > books_.size() ? nullptr : &books_[id - 1];
}

const BookView::Book* BookView::book(InstrumentId id) const {
  return id == 0 || id > books_.size() ? nullptr : &books_[id - 1];
}

Quote BookView::top_of(InstrumentId id, const Book& b) {
  Quote q;
  q.instrument = id;
  q.sequence = b.sequence;
  q.time = b.time;
  if (!b.bids.empty()) {
    const DepthLevel& best = b.bids.rbegin()->second;
    q.bid_price = best.price;
    q.bid_quantity = best.quantity;
  }
  if (!b.asks.empty()) {
    const DepthLevel& best = b.asks.begin()->second;
    q.ask_price = best.price;
    q.ask_quantity = best.quantity;
  }
  return q;
}

std::optional<DepthSnapshot> BookView::snapshot(InstrumentId id, std::size_t depth) const {
  const Book* b = book(id);
  if (b == nullptr) return std::nullopt;
  DepthSnapshot s;
  s.instrument = id;
  s.sequence = b->sequence;
  s.time = b->time;
  s.last_trade = b->last_trade;
  for (auto it = b->bids.rbegin(); it != b->bids.rend() && s.bids.size() < depth; ++it) {
    s.bids.push_back(it->second);
  }
  for (auto it = b->asks.begin(); it != b->asks.end() && s.asks.size() < depth; ++it) {
    s.asks.push_back(it->second);
  }
  return s;
}

Quote BookView::top(InstrumentId id) const {
  const Book* b = book(id);
  return b == nullptr ? Quote{} : top_of(id, *b);
}

std::uint64_t BookView::sequence(InstrumentId id) const {
  const Book* b = book(id);
  return b == nullptr ? 0 : b->sequence;
}

}  // namespace stox::marketdata
