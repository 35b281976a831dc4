// Exact conversion between decimal text and fixed-point integers.
//
// A value at scale s is an int64 counting units of 10^-s: "150.25" at scale 4
// is 1502500. Conversion is exact in both directions; nothing is ever
// rounded, and no floating point is used.
//
// Accepted text (the whole string, nothing around it):
//
//   decimal := ['-'] digits ['.' digits]      digits := [0-9]+
//
//  - the '-' only when the caller allows negative values ("-0" is then 0);
//  - never '+', spaces, exponents ("1e3"), hex, "inf"/"nan", or thousands
//    separators;
//  - both sides of the '.' need at least one digit: "0.5" is accepted,
//    ".5" and "5." are not (a lone '.' is almost always a truncated field);
//  - leading zeros are accepted ("007.50"), trailing zeros count as
//    decimals: "1.50" has two, so it needs scale >= 2;
//  - at most `scale` decimals (kTooManyDecimals, never rounded);
//  - the scaled value must fit in int64 (kOverflow).
//
// When a text has several faults, the first in this list is reported:
// kInvalidScale, kEmpty, kInvalidCharacter (anything that does not match the
// grammar), kNegative, kTooManyDecimals, kOverflow.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace stox {

enum class DecimalError : std::uint8_t {
  kOk = 0,
  kEmpty,             // ""
  kInvalidCharacter,  // text that does not match the grammar above
  kTooManyDecimals,   // more digits after the '.' than the scale
  kOverflow,          // the scaled value does not fit in int64
  kNegative,          // a '-' where negative values are not allowed
  kInvalidScale,      // scale outside 0..9
};

struct DecimalResult {
  std::int64_t value;  // 0 unless error == kOk
  DecimalError error;

  bool ok() const { return error == DecimalError::kOk; }
};

// Smallest and largest scale (decimal places) of any value.
constexpr int kMinDecimalScale = 0;
constexpr int kMaxDecimalScale = 9;

// Parses `text` as a value at `scale` decimal places. See the grammar above.
DecimalResult parse_decimal(std::string_view text, int scale, bool allow_negative = false);

// Exactly `scale` decimals: format_decimal(1502500, 4) == "150.2500";
// at scale 0 there is no '.'. Every int64 (INT64_MIN included) formats, and
// parse_decimal(format_decimal(v, s), s, true) gives back v.
// REQUIRES: 0 <= scale <= 9.
std::string format_decimal(std::int64_t value, int scale);

// As format_decimal without trailing zeros after the '.', and without the
// '.' when nothing is left: 1502500 at scale 4 -> "150.25", 1500000 -> "150".
// The result parses back to the same value at the same scale.
// REQUIRES: 0 <= scale <= 9.
std::string format_decimal_trimmed(std::int64_t value, int scale);

std::string_view to_string(DecimalError error);

}  // namespace stox
