// CRC32C (Castagnoli, polynomial 0x1EDC6F41; reflected 0x82F63B78), the
// checksum of every journal record. Software slicing-by-8: about 1-2 GB/s,
// far more than a disk syncs, and no CPU feature detection to get wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace stox::journal::crc32c {

// Returns the CRC32C of data[0, n) continued from `crc`, the CRC32C of some
// earlier bytes A, so that extend(value(A), B) == value(A || B).
std::uint32_t extend(std::uint32_t crc, const void* data, std::size_t n);

inline std::uint32_t value(const void* data, std::size_t n) { return extend(0, data, n); }
inline std::uint32_t value(std::string_view s) { return value(s.data(), s.size()); }

// The stored form of a CRC (as in LevelDB): computing the CRC of bytes that
// contain embedded CRCs is weak, so stored CRCs are rotated and offset.
inline constexpr std::uint32_t kMaskDelta = 0xa282ead8u;
inline constexpr std::uint32_t mask(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}
inline constexpr std::uint32_t unmask(std::uint32_t masked) {
  std::uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace stox::journal::crc32c
