// The journal's byte layout: docs/journal-format.md is the specification;
// this header pins its constants and gives the encoders and decoders the
// writer and reader share.
//
//   record  = crc u32 | length u32 | seq u64 | type u8 | reserved u8[7] | payload
//   segment = header-record (command-record+ trailer-record)*
//
// All integers little-endian; a Command payload is its in-memory bytes.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/command.h"

namespace stox::journal {

static_assert(std::endian::native == std::endian::little,
              "the journal stores integers and Commands in little-endian memory order");

enum class RecordType : std::uint8_t {
  kSegmentHeader = 1,
  kCommand = 2,
  kBatchTrailer = 3,
};

using Hash = std::array<std::uint8_t, 32>;  // SHA-256

inline constexpr std::size_t kRecordHeaderSize = 24;
inline constexpr std::size_t kCrcOffset = 0;
inline constexpr std::size_t kLengthOffset = 4;
inline constexpr std::size_t kSeqOffset = 8;
inline constexpr std::size_t kTypeOffset = 16;
inline constexpr std::size_t kCrcCoveredFrom = 4;  // the CRC covers [4, 24 + length)

inline constexpr std::size_t kCommandPayloadSize = sizeof(Command);
inline constexpr std::size_t kTrailerPayloadSize = 48;  // first_seq u64 | count u32 | 0 u32 | hash
inline constexpr std::size_t kHeaderPayloadSize = 48;   // magic 8 | version u32 | 0 u32 | prev_hash

inline constexpr std::size_t kCommandRecordSize = kRecordHeaderSize + kCommandPayloadSize;
inline constexpr std::size_t kTrailerRecordSize = kRecordHeaderSize + kTrailerPayloadSize;
inline constexpr std::size_t kHeaderRecordSize = kRecordHeaderSize + kHeaderPayloadSize;

inline constexpr std::string_view kMagic = "STOXJRN1";
inline constexpr std::uint32_t kFormatVersion = 1;

// Command header padding written as zero so that identical commands give
// identical journal bytes (and hashes).
inline constexpr std::size_t kCommandPadFrom = 17;
inline constexpr std::size_t kCommandPadTo = 24;

static_assert(kCommandPayloadSize == 96, "the journal stores the 96-byte Command of command.h");
static_assert(std::is_trivially_copyable_v<Command>);
static_assert(offsetof(Command, seq) == 0 && offsetof(Command, timestamp) == 8 &&
              offsetof(Command, type) == 16 && offsetof(Command, new_order) == kCommandPadTo);
static_assert(kCommandRecordSize == 120 && kTrailerRecordSize == 72 && kHeaderRecordSize == 72);
static_assert(kMagic.size() == 8);
static_assert(sizeof(Hash) == 32);

// Expected payload length of a record type; 0 for an unknown type.
constexpr std::size_t payload_size(std::uint8_t type) {
  switch (static_cast<RecordType>(type)) {
    case RecordType::kSegmentHeader: return kHeaderPayloadSize;
    case RecordType::kCommand: return kCommandPayloadSize;
    case RecordType::kBatchTrailer: return kTrailerPayloadSize;
  }
  return 0;
}

// --- little-endian scalar access ---
template <typename T>
inline void put(char* dst, T v) {
  std::memcpy(dst, &v, sizeof v);
}
template <typename T>
inline T get(const char* src) {
  T v;
  std::memcpy(&v, src, sizeof v);
  return v;
}

struct TrailerPayload {
  SeqNo first_seq = 0;
  std::uint32_t count = 0;
  Hash hash{};
};

struct HeaderPayload {
  Hash prev_hash{};
};

// Appends complete records (header with CRC, then payload) to *dst.
void append_command_record(std::string* dst, const Command& c);
void append_trailer_record(std::string* dst, SeqNo last_seq, const TrailerPayload& t);
void append_header_record(std::string* dst, SeqNo first_seq, const HeaderPayload& h);

// A record viewed in place. Valid only while the bytes it points to live.
struct RecordView {
  std::uint32_t length = 0;
  SeqNo seq = 0;
  std::uint8_t type = 0;
  std::string_view payload;
  std::string_view whole;  // header + payload
};

enum class ParseResult {
  kOk,          // a complete record with a valid CRC, known type and its length
  kIncomplete,  // the bytes end before the record does (header or payload)
  kBadRecord,   // CRC mismatch, unknown type, wrong length or nonzero reserved bytes
};

// Parses the record starting at bytes[0]. Never reads past bytes.size().
ParseResult parse_record(std::string_view bytes, RecordView* out);

Command decode_command(std::string_view payload);            // REQUIRES: size 96
TrailerPayload decode_trailer(std::string_view payload);     // REQUIRES: size 48
// Returns false if the magic or version is wrong.
bool decode_header(std::string_view payload, HeaderPayload* out);  // REQUIRES: size 48

// SHA-256(prev || bytes): the hash chain step (OpenSSL EVP).
Hash chain_hash(const Hash& prev, std::string_view bytes);

// "00000000000000000001.journal" for first_seq 1; parse_segment_name inverts
// it and rejects any other name.
std::string segment_name(SeqNo first_seq);
bool parse_segment_name(std::string_view name, SeqNo* first_seq);

}  // namespace stox::journal
