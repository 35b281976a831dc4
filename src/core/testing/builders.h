// Small builders shared by the engine's tests and test streams.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/command.h"

namespace stox::testing {

// An AddInstrument with the fields tests vary most, in the order they vary.
inline AddInstrument instrument_spec(std::string_view symbol, Price tick, Quantity lot,
                                     Price reference, std::int32_t band_bps = 0,
                                     std::uint8_t price_scale = 2, std::uint8_t quantity_scale = 0,
                                     std::int32_t maker_fee_bps = 0,
                                     std::int32_t taker_fee_bps = 0) {
  AddInstrument a{};
  a.symbol = Symbol::from(symbol);
  a.tick_size = tick;
  a.lot_size = lot;
  a.reference_price = reference;
  a.market_band_bps = band_bps;
  a.maker_fee_bps = maker_fee_bps;
  a.taker_fee_bps = taker_fee_bps;
  a.price_scale = price_scale;
  a.quantity_scale = quantity_scale;
  return a;
}

}  // namespace stox::testing
