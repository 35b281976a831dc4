// InstrumentDirectory: symbols, scales and status of every instrument, built
// from InstrumentAdded and InstrumentStatus events. The other projections
// key everything by InstrumentId; the directory turns ids into symbols and
// fixed-point values into text (the JSON views need both scales).
//
// Thread-safety: none. Fed on the dispatch thread with every event.
#pragma once

#include <deque>
#include <string_view>
#include <unordered_map>

#include "core/event.h"

namespace stox::marketdata {

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
  // Ids are dense from 1: index id - 1. A deque, so that the symbol views in
  // by_symbol_ stay valid as instruments are added.
  std::deque<InstrumentInfo> instruments_;
  std::unordered_map<std::string_view, InstrumentId> by_symbol_;
};

}  // namespace stox::marketdata
