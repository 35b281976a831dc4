#include "journal/format.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "journal/crc32c.h"

namespace stox::journal {
namespace {

// Writes a record header for a payload that the caller appends right after;
// the CRC is filled in by finish_record once the payload is there.
std::size_t begin_record(std::string* dst, RecordType type, SeqNo seq, std::size_t length) {
  std::size_t start = dst->size();
  dst->resize(start + kRecordHeaderSize, '\0');
  char* h = dst->data() + start;
  put<std::uint32_t>(h + kLengthOffset, static_cast<std::uint32_t>(length));
  put<SeqNo>(h + kSeqOffset, seq);
  h[kTypeOffset] = static_cast<char>(type);
  return start;
}

void finish_record(std::string* dst, std::size_t start) {
  char* h = dst->data() + start;
  std::uint32_t crc = crc32c::value(h + kCrcCoveredFrom, dst->size() - start - kCrcCoveredFrom);
  put<std::uint32_t>(h + kCrcOffset, crc32c::mask(crc));
}

}  // namespace

void append_command_record(std::string* dst, const Command& c) {
  std::size_t start = begin_record(dst, RecordType::kCommand, c.seq, kCommandPayloadSize);
  std::size_t p = dst->size();
  dst->resize(p + kCommandPayloadSize);
  std::memcpy(dst->data() + p, &c, kCommandPayloadSize);
  std::memset(dst->data() + p + kCommandPadFrom, 0, kCommandPadTo - kCommandPadFrom);
  finish_record(dst, start);
}

void append_trailer_record(std::string* dst, SeqNo last_seq, const TrailerPayload& t) {
  std::size_t start = begin_record(dst, RecordType::kBatchTrailer, last_seq, kTrailerPayloadSize);
  char payload[kTrailerPayloadSize] = {};
  put<SeqNo>(payload, t.first_seq);
  put<std::uint32_t>(payload + 8, t.count);
  std::memcpy(payload + 16, t.hash.data(), t.hash.size());
  dst->append(payload, sizeof payload);
  finish_record(dst, start);
}

void append_header_record(std::string* dst, SeqNo first_seq, const HeaderPayload& h) {
  std::size_t start = begin_record(dst, RecordType::kSegmentHeader, first_seq, kHeaderPayloadSize);
  char payload[kHeaderPayloadSize] = {};
  std::memcpy(payload, kMagic.data(), kMagic.size());
  put<std::uint32_t>(payload + 8, kFormatVersion);
  std::memcpy(payload + 16, h.prev_hash.data(), h.prev_hash.size());
  dst->append(payload, sizeof payload);
  finish_record(dst, start);
}

ParseResult parse_record(std::string_view bytes, RecordView* out) {
  if (bytes.size() < kRecordHeaderSize) return ParseResult::kIncomplete;
  const char* h = bytes.data();
  auto length = get<std::uint32_t>(h + kLengthOffset);
  auto type = static_cast<std::uint8_t>(h[kTypeOffset]);
  // Check the cheap structural facts first: a damaged length must not make
  // us read (or wait for) bytes that are not there.
  if (payload_size(type) == 0 || length != payload_size(type)) return ParseResult::kBadRecord;
  for (std::size_t i = kTypeOffset + 1; i < kRecordHeaderSize; ++i) {
    if (h[i] != 0) return ParseResult::kBadRecord;
  }
  if (bytes.size() < kRecordHeaderSize + length) return ParseResult::kIncomplete;
  std::uint32_t crc = crc32c::value(h + kCrcCoveredFrom, kRecordHeaderSize - kCrcCoveredFrom + length);
  if (crc32c::unmask(get<std::uint32_t>(h + kCrcOffset)) != crc) return ParseResult::kBadRecord;
  out->length = length;
  out->seq = get<SeqNo>(h + kSeqOffset);
  out->type = type;
  out->payload = bytes.substr(kRecordHeaderSize, length);
  out->whole = bytes.substr(0, kRecordHeaderSize + length);
  return ParseResult::kOk;
}

Command decode_command(std::string_view payload) {
  Command c;
  std::memcpy(static_cast<void*>(&c), payload.data(), kCommandPayloadSize);
  return c;
}

TrailerPayload decode_trailer(std::string_view payload) {
  TrailerPayload t;
  t.first_seq = get<SeqNo>(payload.data());
  t.count = get<std::uint32_t>(payload.data() + 8);
  std::memcpy(t.hash.data(), payload.data() + 16, t.hash.size());
  return t;
}

bool decode_header(std::string_view payload, HeaderPayload* out) {
  if (payload.substr(0, 8) != kMagic) return false;
  if (get<std::uint32_t>(payload.data() + 8) != kFormatVersion) return false;
  if (get<std::uint32_t>(payload.data() + 12) != 0) return false;
  std::memcpy(out->prev_hash.data(), payload.data() + 16, out->prev_hash.size());
  return true;
}

Hash chain_hash(const Hash& prev, std::string_view bytes) {
  // EVP failures here mean a broken libcrypto (no SHA-256), not bad input:
  // there is no way to go on without the chain, so stop.
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Hash out{};
  unsigned int len = 0;
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, prev.data(), prev.size()) == 1 &&
            EVP_DigestUpdate(ctx, bytes.data(), bytes.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    std::fputs("stox journal: OpenSSL SHA-256 failed\n", stderr);
    std::abort();
  }
  return out;
}

std::string segment_name(SeqNo first_seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu.journal", static_cast<unsigned long long>(first_seq));
  return buf;
}

bool parse_segment_name(std::string_view name, SeqNo* first_seq) {
  constexpr std::string_view kSuffix = ".journal";
  if (name.size() != 20 + kSuffix.size() || name.substr(20) != kSuffix) return false;
  SeqNo v = 0;
  for (char ch : name.substr(0, 20)) {
    if (ch < '0' || ch > '9') return false;
    auto digit = static_cast<SeqNo>(ch - '0');
    if (v > (~SeqNo{0} - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *first_seq = v;
  return true;
}

}  // namespace stox::journal
