#include "marketdata/instruments.h"

namespace stox::marketdata {

void InstrumentDirectory::apply(const Event& e) {
  if (e.type == EventType::kInstrumentAdded) {
    const InstrumentAddedEvent& a = e.instrument_added;
    // The engine assigns ids densely from 1, so the index is id - 1.
    if (a.instrument != instruments_.size() + 1) return;
    const InstrumentInfo& added =
        instruments_.emplace_back(InstrumentInfo{a.instrument, a.spec, InstrumentStatus::kTrading});
    by_symbol_.emplace(Symbol::from(added.symbol()), added.id);  // as find() spells it
  } else if (e.type == EventType::kInstrumentStatus) {
    const InstrumentId id = e.instrument_status.instrument;
    if (id == 0 || id > instruments_.size()) return;
    instruments_[id - 1].status = e.instrument_status.status;
  }
}

const InstrumentInfo* InstrumentDirectory::find(InstrumentId id) const {
  if (id == 0 || id > instruments_.size()) return nullptr;
  return &instruments_[id - 1];
}

const InstrumentInfo* InstrumentDirectory::find(std::string_view symbol) const {
  // Symbols are NUL padded: text with a NUL, or too long, names none.
  if (symbol.size() > Symbol::kCapacity || symbol.find('\0') != std::string_view::npos) {
    return nullptr;
  }
  auto it = by_symbol_.find(Symbol::from(symbol));
  return it == by_symbol_.end() ? nullptr : find(it->second);
}

}  // namespace stox::marketdata
