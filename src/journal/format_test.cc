#include "journal/format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "journal/fault_env.h"
#include "journal/journal_test_util.h"
#include "journal/writer.h"

namespace stox::journal {
namespace {

TEST(Format, CommandRecordRoundTripsAndFillsTheHeader) {
  std::mt19937_64 rng(1);
  Command c = testing::random_command(rng, 42);
  std::string buf;
  append_command_record(&buf, c);
  ASSERT_EQ(buf.size(), kCommandRecordSize);
  RecordView r;
  ASSERT_EQ(parse_record(buf, &r), ParseResult::kOk);
  EXPECT_EQ(r.seq, 42u);
  EXPECT_EQ(r.type, static_cast<std::uint8_t>(RecordType::kCommand));
  EXPECT_TRUE(testing::same(decode_command(r.payload), c));
}

TEST(Format, ParseNeverReadsPastTheBytesGiven) {
  std::string buf;
  append_trailer_record(&buf, 9, TrailerPayload{5, 5, Hash{}});
  RecordView r;
  for (std::size_t n = 0; n < buf.size(); ++n) {
    EXPECT_EQ(parse_record(std::string_view(buf).substr(0, n), &r), ParseResult::kIncomplete) << n;
  }
  EXPECT_EQ(parse_record(buf, &r), ParseResult::kOk);
}

TEST(Format, WrongLengthForTypeIsABadRecordEvenBeforeThePayloadArrives) {
  std::string buf;
  append_command_record(&buf, Command());
  put<std::uint32_t>(buf.data() + kLengthOffset, 1u << 30);  // a length pointing far away
  RecordView r;
  EXPECT_EQ(parse_record(std::string_view(buf).substr(0, kRecordHeaderSize), &r),
            ParseResult::kBadRecord);
}

TEST(Format, SegmentNamesSortBySeqAndRejectOtherNames) {
  EXPECT_EQ(segment_name(1), "00000000000000000001.journal");
  SeqNo seq = 0;
  EXPECT_TRUE(parse_segment_name(segment_name(18446744073709551615ull), &seq));
  EXPECT_EQ(seq, 18446744073709551615ull);
  EXPECT_FALSE(parse_segment_name("99999999999999999999.journal", &seq));  // overflow
  EXPECT_FALSE(parse_segment_name("0000000000000000001.journal", &seq));
  EXPECT_FALSE(parse_segment_name("00000000000000000001.journal.tmp", &seq));
  EXPECT_FALSE(parse_segment_name("0000000000000000000x.journal", &seq));
}

TEST(Format, ChainHashIsSha256OfPreviousHashThenBytes) {
  // SHA-256 of 32 zero bytes followed by "abc", computed independently.
  Hash h = chain_hash(Hash{}, "abc");
  char hex[65];
  for (std::size_t i = 0; i < 32; ++i) std::snprintf(hex + 2 * i, 3, "%02x", h[i]);
  EXPECT_STREQ(hex, "365aa7d8f7f9402c4b9434502b4cc89ddb09fe50d7cd95b493b834c62d5a5370");
}

// docs/journal-format.md, "Worked example" (also checked there with an
// independent CRC32C and SHA-256).
const char* const kWorkedExample =
    "0000: 24 19 e0 36 30 00 00 00 01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00\n"
    "0018: 53 54 4f 58 4a 52 4e 31 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
    "0030: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
    "0048: c6 77 5b 1e 60 00 00 00 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00\n"
    "0060: 01 00 00 00 00 00 00 00 e8 03 00 00 00 00 00 00 05 00 00 00 00 00 00 00\n"
    "0078: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
    "0090: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
    "00a8: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
    "00c0: 13 bf e9 08 60 00 00 00 02 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00\n"
    "00d8: 02 00 00 00 00 00 00 00 d0 07 00 00 00 00 00 00 04 00 00 00 00 00 00 00\n"
    "00f0: 07 00 00 00 03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
    "0108: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
    "0120: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
    "0138: b7 15 50 2c 30 00 00 00 02 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00\n"
    "0150: 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 99 0d 2b 73 3b da 38 24\n"
    "0168: 36 a4 1e f6 30 94 17 13 5c 64 7d f4 f9 3b b5 fb 47 ce f1 df 6a 10 b3 49\n";

std::string hex_dump(const std::string& bytes) {
  std::string out;
  char line[32];
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i % 24 == 0) {
      std::snprintf(line, sizeof line, "%s%04x:", i == 0 ? "" : "\n", static_cast<unsigned>(i));
      out += line;
    }
    std::snprintf(line, sizeof line, " %02x", static_cast<unsigned char>(bytes[i]));
    out += line;
  }
  return out + "\n";
}

// The worked example of docs/journal-format.md, byte for byte.
TEST(Format, WorkedExampleMatchesTheFormatDoc) {
  FaultEnv env(1);
  auto w = JournalWriter::open(&env, "/j");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->append(Command::make(1, 1000, EndOfDay{})).ok());
  ASSERT_TRUE((*w)->append(Command::make(2, 2000, MassCancel{7, 3})).ok());
  ASSERT_TRUE((*w)->commit().ok());
  std::string bytes;
  ASSERT_TRUE(read_file(&env, "/j/00000000000000000001.journal", &bytes).ok());
  ASSERT_EQ(bytes.size(), 384u);
  EXPECT_EQ(hex_dump(bytes), kWorkedExample) << hex_dump(bytes);
}

}  // namespace
}  // namespace stox::journal
