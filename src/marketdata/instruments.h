// InstrumentDirectory: symbols, scales and status of every instrument, built
// from InstrumentAdded and InstrumentStatus events. The other projections
// key everything by InstrumentId; the directory turns ids into symbols and
// fixed-point values into text (the JSON views need both scales).
//
// Copyable: a copy is an independent directory in the same state.
// Thread-safety: none. Fed on the dispatch thread with every event.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "core/event.h"

namespace stox::marketdata {

class ProjectionsCodec;

struct InstrumentInfo {
  InstrumentId id = 0;
  AddInstrument spec{};
  InstrumentStatus status = InstrumentStatus::kTrading;

  std::string_view symbol() const { return spec.symbol.view(); }
  int price_scale() const { return spec.price_scale; }
  int quantity_scale() const { return spec.quantity_scale; }
};

class InstrumentDirectory {
 public:
  void apply(const Event& e);

  // nullptr if unknown. Pointers stay valid until the next apply().
  const InstrumentInfo* find(InstrumentId id) const;
  const InstrumentInfo* find(std::string_view symbol) const;
  // In id order.
  const std::deque<InstrumentInfo>& all() const { return instruments_; }

 private:
  friend class ProjectionsCodec;  // projections_codec.cc: reads and restores the state

  struct SymbolHash {
    std::size_t operator()(const Symbol& s) const { return std::hash<std::string_view>{}(s.view()); }
  };

  // Ids are dense from 1: index id - 1. The index holds symbols by value (not
  // views into instruments_), so that a copy of the directory is independent.
  std::deque<InstrumentInfo> instruments_;
  std::unordered_map<Symbol, InstrumentId, SymbolHash> by_symbol_;
};

}  // namespace stox::marketdata
