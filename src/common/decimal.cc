#include "common/decimal.h"

#include <array>
#include <cassert>
#include <cstddef>
#include <limits>

namespace stox {
namespace {

constexpr std::array<std::uint64_t, kMaxDecimalScale + 1> kPow10 = {
    1ULL,       10ULL,        100ULL,        1'000ULL,       10'000ULL,
    100'000ULL, 1'000'000ULL, 10'000'000ULL, 100'000'000ULL, 1'000'000'000ULL,
};

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

constexpr bool valid_scale(int scale) {
  return scale >= kMinDecimalScale && scale <= kMaxDecimalScale;
}

// The syntactic parts of a decimal: sign, integer digits, fraction digits.
struct Parts {
  bool negative = false;
  std::string_view integer;
  std::string_view fraction;  // empty when there is no '.'
};

// Splits `text` by the grammar in decimal.h; false if it does not match.
bool split(std::string_view text, Parts& parts) {
  if (!text.empty() && text.front() == '-') {
    parts.negative = true;
    text.remove_prefix(1);
  }
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == 0) return false;
  parts.integer = text.substr(0, i);
  if (i == text.size()) return true;
  if (text[i] != '.') return false;
  const std::string_view fraction = text.substr(i + 1);
  if (fraction.empty()) return false;
  for (const char c : fraction) {
    if (!is_digit(c)) return false;
  }
  parts.fraction = fraction;
  return true;
}

// magnitude = magnitude * 10 + digit, unless the result would exceed `limit`.
bool append_digit(std::uint64_t& magnitude, char digit, std::uint64_t limit) {
  const auto d = static_cast<std::uint64_t>(digit - '0');
  if (magnitude > (limit - d) / 10) return false;
  magnitude = magnitude * 10 + d;
  return true;
}

DecimalResult failure(DecimalError error) { return {0, error}; }

// |value| without overflow, INT64_MIN included.
std::uint64_t magnitude_of(std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  return value < 0 ? 0 - bits : bits;
}

}  // namespace

DecimalResult parse_decimal(std::string_view text, int scale, bool allow_negative) {
  if (!valid_scale(scale)) return failure(DecimalError::kInvalidScale);
  if (text.empty()) return failure(DecimalError::kEmpty);
  Parts parts;
  if (!split(text, parts)) return failure(DecimalError::kInvalidCharacter);
  if (parts.negative && !allow_negative) return failure(DecimalError::kNegative);
  if (parts.fraction.size() > static_cast<std::size_t>(scale)) {
    return failure(DecimalError::kTooManyDecimals);
  }

  // A negative value may reach 2^63 in magnitude (INT64_MIN).
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const std::uint64_t limit = parts.negative ? kMax + 1 : kMax;

  std::uint64_t magnitude = 0;
  for (const char c : parts.integer) {
    if (!append_digit(magnitude, c, limit)) return failure(DecimalError::kOverflow);
  }
  for (const char c : parts.fraction) {
    if (!append_digit(magnitude, c, limit)) return failure(DecimalError::kOverflow);
  }
  const std::uint64_t multiplier = kPow10[static_cast<std::size_t>(scale) - parts.fraction.size()];
  if (magnitude > limit / multiplier) return failure(DecimalError::kOverflow);
  magnitude *= multiplier;

  // Conversion of an out-of-range unsigned value is modular in C++20, so
  // 2^63 negated becomes INT64_MIN.
  const std::uint64_t bits = parts.negative ? 0 - magnitude : magnitude;
  return {static_cast<std::int64_t>(bits), DecimalError::kOk};
}

std::string format_decimal(std::int64_t value, int scale) {
  assert(valid_scale(scale));
  const std::uint64_t unit = kPow10[static_cast<std::size_t>(scale)];
  const std::uint64_t magnitude = magnitude_of(value);
  std::uint64_t integer = magnitude / unit;
  std::uint64_t fraction = magnitude % unit;

  // Filled from the end: 20 integer digits, '-', '.', 9 decimals fit in 32.
  std::array<char, 32> buffer{};
  std::size_t begin = buffer.size();
  for (int i = 0; i < scale; ++i) {
    buffer[--begin] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  if (scale > 0) buffer[--begin] = '.';
  do {
    buffer[--begin] = static_cast<char>('0' + integer % 10);
    integer /= 10;
  } while (integer != 0);
  if (value < 0) buffer[--begin] = '-';
  return {buffer.data() + begin, buffer.size() - begin};
}

std::string format_decimal_trimmed(std::int64_t value, int scale) {
  std::string text = format_decimal(value, scale);
  if (scale == 0) return text;
  const std::size_t last = text.find_last_not_of('0');
  text.resize(text[last] == '.' ? last : last + 1);
  return text;
}

std::string_view to_string(DecimalError error) {
  switch (error) {
    case DecimalError::kOk: return "OK";
    case DecimalError::kEmpty: return "EMPTY";
    case DecimalError::kInvalidCharacter: return "INVALID_CHARACTER";
    case DecimalError::kTooManyDecimals: return "TOO_MANY_DECIMALS";
    case DecimalError::kOverflow: return "OVERFLOW";
    case DecimalError::kNegative: return "NEGATIVE";
    case DecimalError::kInvalidScale: return "INVALID_SCALE";
  }
  return "UNKNOWN";
}

}  // namespace stox
