// Basic value types shared by every module: fixed-point numbers, ids, enums.
//
// Prices and quantities are 64-bit integers in the instrument's fixed-point
// scale ("150.25" at price scale 4 is 1502500). No floating point is used
// anywhere in the engine.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace stox {

// Products of two 64-bit values are checked and rounded in 128 bits.
__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

using Price = std::int64_t;     // at the instrument's price scale
using Quantity = std::int64_t;  // at the instrument's quantity scale
using Amount = std::int64_t;    // cash, at the instrument's price scale
using SeqNo = std::uint64_t;    // command sequence number, assigned before the engine
using Timestamp = std::int64_t; // nanoseconds since the epoch, assigned before the engine

using OrderId = std::uint64_t;  // assigned by the engine on acceptance, from 1; 0 = none
using TradeId = std::uint64_t;  // assigned by the engine, from 1
using AccountId = std::uint32_t;     // 0 = none
using InstrumentId = std::uint32_t;  // assigned by the engine on AddInstrument, from 1; 0 = none

constexpr std::int64_t kMaxScale = 9;  // decimal places for prices and quantities

enum class Side : std::uint8_t { kBuy = 1, kSell = 2 };
enum class OrderType : std::uint8_t { kLimit = 1, kMarket = 2, kStop = 3, kStopLimit = 4 };
enum class TimeInForce : std::uint8_t { kDay = 1, kGtc = 2, kIoc = 3, kFok = 4 };
// Self-trade prevention; the incoming (taker) order's mode decides.
enum class StpMode : std::uint8_t {
  kCancelTaker = 0,  // default
  kCancelMaker = 1,
  kCancelBoth = 2,
  kDecrement = 3,
};
enum class InstrumentStatus : std::uint8_t { kTrading = 1, kHalted = 2, kClosed = 3 };

constexpr Side opposite(Side s) { return s == Side::kBuy ? Side::kSell : Side::kBuy; }

// A short fixed-size text (symbols, client order ids), NUL padded, compared
// as bytes. Fixed size keeps commands and orders trivially copyable.
template <std::size_t N>
struct FixedString {
  std::array<char, N> bytes{};

  static constexpr std::size_t kCapacity = N;

  // REQUIRES: text.size() <= N (longer text is truncated; callers validate first).
  static FixedString from(std::string_view text) {
    FixedString s;
    if (!text.empty()) std::memcpy(s.bytes.data(), text.data(), text.size() < N ? text.size() : N);
    return s;
  }
  std::string_view view() const {
    std::size_t n = 0;
    while (n < N && bytes[n] != '\0') ++n;
    return {bytes.data(), n};
  }
  bool empty() const { return bytes[0] == '\0'; }
  friend bool operator==(const FixedString&, const FixedString&) = default;
};

using Symbol = FixedString<16>;
using ClientOrderId = FixedString<16>;  // empty = none

}  // namespace stox
