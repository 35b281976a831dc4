// Test helpers shared by the journal tests: seeded random commands and
// byte-exact comparison.
#pragma once

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/command.h"
#include "journal/env.h"
#include "journal/format.h"
#include "journal/reader.h"

namespace stox::journal::testing {

// A command of a random type with random field values and zeroed padding.
inline Command random_command(std::mt19937_64& rng, SeqNo seq) {
  Command c;
  std::memset(static_cast<void*>(&c), 0, sizeof c);
  c.seq = seq;
  c.timestamp = static_cast<Timestamp>(1'700'000'000'000'000'000 + seq * 1000 + rng() % 1000);
  switch (rng() % 4) {
    case 0: {
      NewOrder o{};
      o.account = static_cast<AccountId>(rng() % 1000 + 1);
      o.instrument = static_cast<InstrumentId>(rng() % 10 + 1);
      char id[16];
      std::snprintf(id, sizeof id, "c%u", static_cast<unsigned>(rng() % 100000));
      o.client_order_id = ClientOrderId::from(id);
      o.price = static_cast<Price>(rng() % 1'000'000 + 1);
      o.quantity = static_cast<Quantity>(rng() % 1000 + 1);
      o.side = rng() % 2 ? Side::kBuy : Side::kSell;
      o.type = OrderType::kLimit;
      o.time_in_force = TimeInForce::kGtc;
      c.type = CommandType::kNewOrder;
      c.new_order = o;
      break;
    }
    case 1:
      c.type = CommandType::kCancel;
      c.cancel = Cancel{static_cast<AccountId>(rng() % 1000 + 1), rng() % 100000 + 1};
      break;
    case 2:
      c.type = CommandType::kReplace;
      c.replace = Replace{static_cast<AccountId>(rng() % 1000 + 1), rng() % 100000 + 1,
                          static_cast<Quantity>(rng() % 500 + 1), 0, 0};
      break;
    default:
      c.type = CommandType::kEndOfDay;
      break;
  }
  return c;
}

inline std::string bytes_of(const Command& c) {
  std::string b(reinterpret_cast<const char*>(&c), sizeof c);
  std::memset(b.data() + kCommandPadFrom, 0, kCommandPadTo - kCommandPadFrom);
  return b;
}

inline bool same(const Command& a, const Command& b) { return bytes_of(a) == bytes_of(b); }

// Reads every durable command of dir; fails the caller's check on error.
inline Status read_all(Env* env, const std::string& dir, std::vector<Command>* out,
                       JournalSummary* summary = nullptr, SeqNo from = 0) {
  out->clear();
  auto reader = JournalReader::open(env, dir, from);
  if (!reader.ok()) return reader.status();
  Command c;
  for (;;) {
    Result<bool> more = (*reader)->next(&c);
    if (!more.ok()) return more.status();
    if (!*more) break;
    out->push_back(c);
  }
  if (summary) *summary = (*reader)->summary();
  return Status::OK();
}

// Byte offsets of every command record in the segment at path (which must
// be whole and valid), in file order.
inline std::vector<std::uint64_t> command_record_offsets(Env* env, const std::string& path) {
  std::vector<std::uint64_t> out;
  std::string bytes;
  if (!read_file(env, path, &bytes).ok()) return out;
  for (std::uint64_t pos = kHeaderRecordSize; pos < bytes.size();) {
    RecordView r;
    if (parse_record(std::string_view(bytes).substr(pos), &r) != ParseResult::kOk) break;
    if (r.type == static_cast<std::uint8_t>(RecordType::kCommand)) out.push_back(pos);
    pos += r.whole.size();
  }
  return out;
}

}  // namespace stox::journal::testing
