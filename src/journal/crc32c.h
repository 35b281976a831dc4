// CRC32C (Castagnoli, polynomial 0x1EDC6F41; reflected 0x82F63B78), the
// checksum of every journal record. On x86-64 CPUs with SSE4.2 (every one
// since 2008) the CRC32 instruction computes it at ~7 GB/s; elsewhere a
// software slicing-by-8 (~1-2 GB/s) does. Writing is bound by the disk's
// sync either way; the hardware path is for recovery, which checks every
// record of the replayed journal (the software path was 8 % of a restart).
// A test checks both paths against each other and a bitwise reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace stox::journal::crc32c {

// Returns the CRC32C of data[0, n) continued from `crc`, the CRC32C of some
// earlier bytes A, so that extend(value(A), B) == value(A || B).
std::uint32_t extend(std::uint32_t crc, const void* data, std::size_t n);

inline std::uint32_t value(const void* data, std::size_t n) { return extend(0, data, n); }

// The two implementations behind extend(), for tests. extend_hardware
// REQUIRES hardware_available().
std::uint32_t extend_portable(std::uint32_t crc, const void* data, std::size_t n);
std::uint32_t extend_hardware(std::uint32_t crc, const void* data, std::size_t n);
bool hardware_available();
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
