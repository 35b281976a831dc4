#include "journal/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace stox::journal {
namespace {

// Known answers: the CRC catalogue check value and RFC 3720 (iSCSI) B.4.
TEST(Crc32c, MatchesKnownVectors) {
  EXPECT_EQ(crc32c::value("123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c::value(""), 0u);
  EXPECT_EQ(crc32c::value(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(crc32c::value(std::string(32, '\xff')), 0x62a8ab43u);
  std::string ascending(32, '\0');
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(crc32c::value(ascending), 0x46dd794eu);
  EXPECT_EQ(crc32c::value(descending), 0x113fdb5cu);
  const unsigned char iscsi_read[48] = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
      0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(crc32c::value(iscsi_read, sizeof iscsi_read), 0xd9963a56u);
}

// Both paths (software slicing and the CRC32 instruction) must agree with a
// bit-at-a-time reference at every alignment and length, and extend() must
// compose.
TEST(Crc32c, BothPathsAgreeWithBitwiseReferenceAtEveryAlignment) {
  auto reference = [](const std::string& s) {
    std::uint32_t c = 0xffffffffu;
    for (unsigned char b : s) {
      c ^= b;
      for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1u) ? 0x82f63b78u : 0u);
    }
    return ~c;
  };
  std::mt19937_64 rng(7);
  std::string buf(300, '\0');
  for (char& ch : buf) ch = static_cast<char>(rng());
  for (std::size_t start = 0; start < 16; ++start) {
    for (std::size_t len = 0; len < 100; len += 3) {
      std::string s = buf.substr(start, len);
      ASSERT_EQ(crc32c::value(buf.data() + start, len), reference(s)) << start << " " << len;
      ASSERT_EQ(crc32c::extend_portable(0, buf.data() + start, len), reference(s)) << start << " " << len;
      if (crc32c::hardware_available()) {
        ASSERT_EQ(crc32c::extend_hardware(0, buf.data() + start, len), reference(s)) << start << " " << len;
      }
      std::size_t cut = len / 3;
      EXPECT_EQ(crc32c::extend(crc32c::value(s.data(), cut), s.data() + cut, len - cut), reference(s));
    }
  }
}

// The build machines are x86-64 with SSE4.2: the hardware path is the one
// in use there, so it must be the one tested.
TEST(Crc32c, HardwarePathIsUsedWhereTheCpuHasIt) {
#if defined(__x86_64__)
  EXPECT_EQ(crc32c::hardware_available(), __builtin_cpu_supports("sse4.2") != 0);
#else
  EXPECT_FALSE(crc32c::hardware_available());
#endif
}

TEST(Crc32c, MaskIsInvertibleAndChangesTheValue) {
  for (std::uint32_t crc : {0u, 1u, 0xe3069283u, 0xffffffffu}) {
    EXPECT_NE(crc32c::mask(crc), crc);
    EXPECT_EQ(crc32c::unmask(crc32c::mask(crc)), crc);
    EXPECT_NE(crc32c::mask(crc32c::mask(crc)), crc32c::mask(crc));
  }
}

}  // namespace
}  // namespace stox::journal
