#include "common/decimal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace stox {
namespace {

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// Expects `text` to parse to `value` at `scale`.
void expect_value(std::string_view text, int scale, std::int64_t value, bool negative = false) {
  const DecimalResult r = parse_decimal(text, scale, negative);
  EXPECT_EQ(r.error, DecimalError::kOk)
      << '"' << text << "\" scale " << scale << ": " << to_string(r.error);
  EXPECT_EQ(r.value, value) << '"' << text << "\" scale " << scale;
}

// Expects `text` to fail with `error` (and value 0) at `scale`.
void expect_error(std::string_view text, int scale, DecimalError error, bool negative = false) {
  const DecimalResult r = parse_decimal(text, scale, negative);
  EXPECT_EQ(r.error, error) << '"' << text << "\" scale " << scale << ": got " << to_string(r.error)
                            << " value " << r.value;
  EXPECT_EQ(r.value, 0) << '"' << text << '"';
}

// --- parsing: accepted text ---

TEST(ParseDecimal, ScalesPriceToFixedPoint) { expect_value("150.25", 4, 1502500); }

TEST(ParseDecimal, IntegerWithoutDecimalsIsScaled) {
  expect_value("150", 4, 1500000);
  expect_value("150", 0, 150);
}

TEST(ParseDecimal, DecimalsUpToTheScaleAreExact) {
  expect_value("0.0001", 4, 1);
  expect_value("0.1", 4, 1000);
  expect_value("1.2345", 4, 12345);
  expect_value("0.000000001", 9, 1);
}

TEST(ParseDecimal, ZeroInEveryForm) {
  expect_value("0", 0, 0);
  expect_value("0.0", 1, 0);
  expect_value("0000", 4, 0);
  expect_value("0.0000", 4, 0);
}

TEST(ParseDecimal, LeadingZerosAreAccepted) {
  expect_value("007.50", 2, 750);
  expect_value("00000000000000000000000001", 0, 1);
}

TEST(ParseDecimal, TrailingZerosWithinScaleAreAccepted) { expect_value("1.5000", 4, 15000); }

TEST(ParseDecimal, NegativeValueWhenAllowed) {
  expect_value("-150.25", 4, -1502500, true);
  expect_value("-0.0001", 4, -1, true);
}

TEST(ParseDecimal, NegativeZeroIsZero) { expect_value("-0.00", 2, 0, true); }

TEST(ParseDecimal, PositiveValueParsesWhenNegativeAllowed) { expect_value("12.5", 1, 125, true); }

// --- parsing: every error ---

TEST(ParseDecimal, EmptyTextIsEmpty) {
  expect_error("", 4, DecimalError::kEmpty);
  expect_error("", 4, DecimalError::kEmpty, true);
}

TEST(ParseDecimal, PlusSignIsRejected) {
  expect_error("+1", 2, DecimalError::kInvalidCharacter, true);
}

TEST(ParseDecimal, SpacesAreRejected) {
  expect_error(" 1", 2, DecimalError::kInvalidCharacter);
  expect_error("1 ", 2, DecimalError::kInvalidCharacter);
  expect_error("1 000", 2, DecimalError::kInvalidCharacter);
  expect_error("- 1", 2, DecimalError::kInvalidCharacter, true);
}

TEST(ParseDecimal, ExponentHexAndWordsAreRejected) {
  expect_error("1e3", 4, DecimalError::kInvalidCharacter);
  expect_error("1E3", 4, DecimalError::kInvalidCharacter);
  expect_error("0x10", 4, DecimalError::kInvalidCharacter);
  expect_error("inf", 4, DecimalError::kInvalidCharacter);
  expect_error("nan", 4, DecimalError::kInvalidCharacter);
  expect_error("1,000", 4, DecimalError::kInvalidCharacter);
}

TEST(ParseDecimal, MissingIntegerPartIsRejected) {
  expect_error(".5", 4, DecimalError::kInvalidCharacter);
  expect_error("-.5", 4, DecimalError::kInvalidCharacter, true);
}

TEST(ParseDecimal, MissingFractionAfterPointIsRejected) {
  expect_error("5.", 4, DecimalError::kInvalidCharacter);
  expect_error(".", 4, DecimalError::kInvalidCharacter);
}

TEST(ParseDecimal, SecondPointIsRejected) {
  expect_error("1.2.3", 4, DecimalError::kInvalidCharacter);
}

TEST(ParseDecimal, LoneOrDoubleMinusIsRejected) {
  expect_error("-", 4, DecimalError::kInvalidCharacter, true);
  expect_error("--1", 4, DecimalError::kInvalidCharacter, true);
  expect_error("1-", 4, DecimalError::kInvalidCharacter, true);
}

TEST(ParseDecimal, EmbeddedNulIsRejected) {
  expect_error(std::string_view("1\0"
                                "2",
                                3),
               4, DecimalError::kInvalidCharacter);
}

TEST(ParseDecimal, MinusIsRejectedWhenNotAllowed) {
  expect_error("-1", 4, DecimalError::kNegative);
  expect_error("-0", 4, DecimalError::kNegative);
}

TEST(ParseDecimal, MalformedTextWinsOverNegative) {
  expect_error("-x", 4, DecimalError::kInvalidCharacter);
}

TEST(ParseDecimal, MoreDecimalsThanScaleIsNeverRounded) {
  expect_error("150.25001", 4, DecimalError::kTooManyDecimals);
  expect_error("1.0", 0, DecimalError::kTooManyDecimals);
  expect_error("1.50000", 4, DecimalError::kTooManyDecimals);
  expect_error("0.0000000001", 9, DecimalError::kTooManyDecimals);
}

TEST(ParseDecimal, NegativeWinsOverTooManyDecimals) {
  expect_error("-1.123456", 2, DecimalError::kNegative);
}

TEST(ParseDecimal, TooManyDecimalsWinsOverOverflow) {
  expect_error("99999999999999999999.123", 2, DecimalError::kTooManyDecimals);
}

TEST(ParseDecimal, ValueBeyondInt64IsOverflow) {
  expect_error("9223372036854775808", 0, DecimalError::kOverflow);
  expect_error("99999999999999999999999999", 0, DecimalError::kOverflow);
  expect_error("-9223372036854775809", 0, DecimalError::kOverflow, true);
}

TEST(ParseDecimal, ScalingBeyondInt64IsOverflow) {
  // Fits as an integer, not once multiplied by 10^4.
  expect_error("922337203685478", 4, DecimalError::kOverflow);
  expect_error("922337203685477.5808", 4, DecimalError::kOverflow);
  expect_value("922337203685477.5807", 4, kMax);
}

TEST(ParseDecimal, ScaleOutsideZeroToNineIsInvalid) {
  expect_error("1", -1, DecimalError::kInvalidScale);
  expect_error("1", 10, DecimalError::kInvalidScale);
  expect_error("", 10, DecimalError::kInvalidScale);
}

// --- boundaries at every scale ---

TEST(DecimalBoundaries, Int64MaxAndMinRoundTripAtEveryScale) {
  for (int scale = kMinDecimalScale; scale <= kMaxDecimalScale; ++scale) {
    for (const std::int64_t v : {kMax, kMin, kMax - 1, kMin + 1}) {
      const std::string text = format_decimal(v, scale);
      expect_value(text, scale, v, true);
      expect_value(format_decimal_trimmed(v, scale), scale, v, true);
    }
  }
}

TEST(DecimalBoundaries, OneUnitPastInt64MaxOverflowsAtEveryScale) {
  // "9223372036854775807" with the point moved `scale` places, plus one unit.
  const std::string past_max = "9223372036854775808";
  const std::string past_min = "-9223372036854775809";
  for (int scale = kMinDecimalScale; scale <= kMaxDecimalScale; ++scale) {
    const auto point = [scale](const std::string& s) {
      if (scale == 0) return s;
      const std::size_t split = s.size() - static_cast<std::size_t>(scale);
      return s.substr(0, split) + "." + s.substr(split);
    };
    expect_error(point(past_max), scale, DecimalError::kOverflow, true);
    expect_error(point(past_min), scale, DecimalError::kOverflow, true);
  }
}

TEST(DecimalBoundaries, FormatsInt64MinExactly) {
  EXPECT_EQ(format_decimal(kMin, 0), "-9223372036854775808");
  EXPECT_EQ(format_decimal(kMin, 4), "-922337203685477.5808");
  EXPECT_EQ(format_decimal(kMin, 9), "-9223372036.854775808");
  EXPECT_EQ(format_decimal(kMax, 9), "9223372036.854775807");
}

// --- formatting ---

TEST(FormatDecimal, EmitsExactlyScaleDecimals) {
  EXPECT_EQ(format_decimal(1502500, 4), "150.2500");
  EXPECT_EQ(format_decimal(1, 4), "0.0001");
  EXPECT_EQ(format_decimal(0, 2), "0.00");
  EXPECT_EQ(format_decimal(-5, 3), "-0.005");
}

TEST(FormatDecimal, ScaleZeroHasNoPoint) {
  EXPECT_EQ(format_decimal(150, 0), "150");
  EXPECT_EQ(format_decimal(-150, 0), "-150");
  EXPECT_EQ(format_decimal(0, 0), "0");
}

TEST(FormatDecimalTrimmed, DropsTrailingZeros) {
  EXPECT_EQ(format_decimal_trimmed(1502500, 4), "150.25");
  EXPECT_EQ(format_decimal_trimmed(1502510, 4), "150.251");
  EXPECT_EQ(format_decimal_trimmed(-1000, 4), "-0.1");
}

TEST(FormatDecimalTrimmed, DropsPointWhenNoDecimalsRemain) {
  EXPECT_EQ(format_decimal_trimmed(1500000, 4), "150");
  EXPECT_EQ(format_decimal_trimmed(0, 4), "0");
  EXPECT_EQ(format_decimal_trimmed(100, 0), "100");  // integer zeros are kept
  EXPECT_EQ(format_decimal_trimmed(-1000000000, 9), "-1");
}

TEST(DecimalErrorName, EveryErrorHasAName) {
  EXPECT_EQ(to_string(DecimalError::kOk), "OK");
  EXPECT_EQ(to_string(DecimalError::kEmpty), "EMPTY");
  EXPECT_EQ(to_string(DecimalError::kInvalidCharacter), "INVALID_CHARACTER");
  EXPECT_EQ(to_string(DecimalError::kTooManyDecimals), "TOO_MANY_DECIMALS");
  EXPECT_EQ(to_string(DecimalError::kOverflow), "OVERFLOW");
  EXPECT_EQ(to_string(DecimalError::kNegative), "NEGATIVE");
  EXPECT_EQ(to_string(DecimalError::kInvalidScale), "INVALID_SCALE");
}

// --- randomised, fixed seeds ---

// Values spread over every magnitude: random bit widths, then random bits.
std::int64_t random_value(std::mt19937_64& rng) {
  const auto bits = static_cast<int>(rng() % 64);
  const std::uint64_t mask = bits == 0 ? 0 : (~0ULL >> (64 - bits));
  const auto magnitude = static_cast<std::int64_t>(rng() & mask);
  return (rng() & 1) != 0 ? -magnitude : magnitude;
}

TEST(DecimalRoundTrip, RandomValuesRoundTripAtEveryScale) {
  std::mt19937_64 rng(20240601);
  for (int i = 0; i < 200000; ++i) {
    const std::int64_t v = random_value(rng);
    const int scale = static_cast<int>(rng() % (kMaxDecimalScale + 1));
    const std::string fixed = format_decimal(v, scale);
    const DecimalResult a = parse_decimal(fixed, scale, true);
    ASSERT_TRUE(a.ok()) << fixed << " " << to_string(a.error);
    ASSERT_EQ(a.value, v) << fixed;
    const std::string trimmed = format_decimal_trimmed(v, scale);
    const DecimalResult b = parse_decimal(trimmed, scale, true);
    ASSERT_TRUE(b.ok()) << trimmed << " " << to_string(b.error);
    ASSERT_EQ(b.value, v) << trimmed;
  }
}

TEST(DecimalRoundTrip, ParsedTextFormatsBackToTheSameDigits) {
  // Canonical text (no leading zeros, exactly `scale` decimals) survives
  // parse then format unchanged.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50000; ++i) {
    const int scale = static_cast<int>(rng() % (kMaxDecimalScale + 1));
    std::string text = std::to_string(rng() % 1000000000);
    if (scale > 0) {
      text += '.';
      for (int d = 0; d < scale; ++d) text += static_cast<char>('0' + rng() % 10);
    }
    const DecimalResult r = parse_decimal(text, scale);
    ASSERT_TRUE(r.ok()) << text;
    ASSERT_EQ(format_decimal(r.value, scale), text);
  }
}

// Fuzz-style: random strings over a decimal-heavy alphabet never crash, and
// every accepted text matches the grammar and formats back to an equal value.
TEST(DecimalFuzz, RandomTextNeverCrashesAndAcceptedTextRoundTrips) {
  using namespace std::string_view_literals;
  constexpr std::string_view kAlphabet = "0123456789012345678901234567890123456789.-+ eE\0x"sv;
  std::mt19937_64 rng(424242);
  int accepted = 0;
  for (int i = 0; i < 300000; ++i) {
    const auto length = static_cast<std::size_t>(rng() % 24);
    std::string text;
    for (std::size_t k = 0; k < length; ++k) text += kAlphabet[rng() % kAlphabet.size()];
    const int scale = static_cast<int>(rng() % 12) - 1;  // includes the invalid -1 and 10
    const bool negative = (rng() & 1) != 0;
    const DecimalResult r = parse_decimal(text, scale, negative);
    if (!r.ok()) {
      ASSERT_EQ(r.value, 0) << text;
      continue;
    }
    ++accepted;
    ASSERT_TRUE(scale >= kMinDecimalScale && scale <= kMaxDecimalScale);
    ASSERT_EQ(text.find_first_not_of("0123456789.-"), std::string::npos) << text;
    ASSERT_TRUE(negative || r.value >= 0) << text;
    const DecimalResult back = parse_decimal(format_decimal(r.value, scale), scale, true);
    ASSERT_TRUE(back.ok()) << text;
    ASSERT_EQ(back.value, r.value) << text;
    ASSERT_EQ(parse_decimal(format_decimal_trimmed(r.value, scale), scale, true).value, r.value);
  }
  EXPECT_GT(accepted, 1000);  // the alphabet must actually exercise the accepting path
}

}  // namespace
}  // namespace stox
