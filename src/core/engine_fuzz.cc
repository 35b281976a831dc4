// libFuzzer target: arbitrary bytes as a stream of commands.
//
// Two forms, chosen by the first byte. Raw: each 96-byte chunk is taken as a
// `Command` exactly as the journal or a binary gateway would hold it, every
// field (command type, enums, prices, quantities, ids) as the fuzzer chose
// it; the only normalisation is of the two `bool` fields, whose other byte
// values a decoder must reject before they become a `bool` at all.
// Structured: 16-byte records decoded into mostly valid commands near the
// book, so the fuzzer gets past validation into matching and settlement.
// Both engine modes must answer every command without crashing, and after
// every command the book invariants and (accounts mode) the ledger must hold.
//
// Build and run: `make fuzz` (clang 14, libFuzzer + ASan + UBSan).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/engine.h"

namespace {

using namespace stox;

// A small market to fuzz against: two instruments, four funded accounts.
void set_up(Engine& engine, std::vector<Event>& out) {
  SeqNo seq = 0;
  for (const char* symbol : {"AAA", "BBB"}) {
    AddInstrument a{};
    a.symbol = Symbol::from(symbol);
    a.tick_size = 5;
    a.lot_size = 10;
    a.reference_price = 10'000;
    a.price_scale = 2;
    a.quantity_scale = 1;
    a.taker_fee_bps = 10;
    a.maker_fee_bps = -2;
    engine.apply(Command::make(++seq, 0, a), out);
  }
  for (AccountId id = 1; id <= 4; ++id) {
    engine.apply(Command::make(++seq, 0, CreateAccount{FixedString<16>::from("f"),
                                                       AccountType::kCash}),
                 out);
    engine.apply(Command::deposit(++seq, 0, Transfer{id, kCashAsset, 1'000'000'000}), out);
    for (AssetId asset : {1u, 2u})
      engine.apply(Command::deposit(++seq, 0, Transfer{id, asset, 100'000}), out);
  }
}

// 16 bytes -> a command that is mostly valid and near the book, so that the
// fuzzer reaches matching, stops, replaces and settlement rather than
// stopping at validation; a few fields can still take extreme values.
Command structured_command(const std::uint8_t* p, SeqNo seq) {
  const auto wide = [&](int at) {
    std::int64_t v = 0;
    std::memcpy(&v, p + at, sizeof v);
    return v;
  };
  const InstrumentId instrument = 1 + (p[1] & 1);
  const AccountId account = 1 + (p[1] >> 1 & 3);
  const Price price = 10'000 + 5 * (static_cast<std::int8_t>(p[2]) / 4);
  const Quantity qty = 10 * (1 + (p[3] & 15));
  const Timestamp ts = static_cast<Timestamp>(seq) * 1'000'000;
  switch (p[0] % 8) {
    case 0:
    case 1:
    case 2: {
      NewOrder o{};
      o.account = account;
      o.instrument = instrument;
      o.side = (p[4] & 1) != 0 ? Side::kBuy : Side::kSell;
      o.type = static_cast<OrderType>(1 + (p[4] >> 1 & 3));
      o.time_in_force = static_cast<TimeInForce>(1 + (p[4] >> 3 & 3));
      o.stp = static_cast<StpMode>(p[4] >> 5 & 3);
      o.post_only = (p[4] & 0x80) != 0 && o.type == OrderType::kLimit;
      o.quantity = qty;
      if (o.type == OrderType::kLimit || o.type == OrderType::kStopLimit) o.price = price;
      if (o.type == OrderType::kStop || o.type == OrderType::kStopLimit)
        o.stop_price = 10'000 + 5 * (static_cast<std::int8_t>(p[5]) / 8);
      if (o.type == OrderType::kLimit && (p[6] & 3) == 0) o.display_quantity = 10;
      if (o.type == OrderType::kMarket && (p[6] & 7) == 1) {
        o.quantity = 0;
        o.quote_quantity = 1 + (wide(8) & 0xFFFFF);
        o.side = Side::kBuy;
        o.time_in_force = TimeInForce::kIoc;
      }
      if ((p[6] & 63) == 63) o.quantity = wide(8);  // extreme quantities
      return Command::make(seq, ts, o);
    }
    case 3:
      return Command::make(seq, ts, Cancel{account, 1 + static_cast<OrderId>(p[5] % 64)});
    case 4:
      return Command::make(seq, ts, Replace{account, 1 + static_cast<OrderId>(p[5] % 64),
                                            (p[6] & 1) != 0 ? qty : 0, (p[6] & 2) != 0 ? price : 0,
                                            0});
    case 5:
      return (p[6] & 1) != 0
                 ? Command::deposit(seq, ts, Transfer{account, p[7] % 3u, 1 + (wide(8) & 0xFFFF)})
                 : Command::withdraw(seq, ts, Transfer{account, p[7] % 3u, 1 + (wide(8) & 0xFFFF)});
    case 6:
      return (p[6] & 1) != 0 ? Command::make(seq, ts, SetKillSwitch{account, (p[6] & 2) != 0})
                             : Command::make(seq, ts, MassCancel{account, (p[6] & 2) != 0 ? instrument : 0});
    default:
      return (p[6] & 1) != 0 ? Command::make(seq, ts, EndOfDay{})
                             : Command::make(seq, ts, SetInstrumentStatus{
                                   instrument, (p[6] & 2) != 0 ? InstrumentStatus::kHalted
                                                               : InstrumentStatus::kTrading});
  }
}

void check(const Engine& engine, const char* mode) {
  const std::string broken = engine.check_invariants() + engine.check_ledger();
  if (!broken.empty()) {
    std::fprintf(stderr, "%s engine broken: %s\n", mode, broken.c_str());
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  EngineConfig accounts_config;
  accounts_config.accounts = true;
  EngineConfig matching_config;
  matching_config.expected_orders = 1024;
  accounts_config.expected_orders = 1024;
  Engine with_accounts(accounts_config);
  Engine matching(matching_config);
  std::vector<Event> out;
  set_up(with_accounts, out);
  set_up(matching, out);
  // The first byte chooses the form of the rest: raw 96-byte commands, or
  // 16-byte records decoded into mostly valid commands.
  const bool raw = size > 0 && (data[0] & 1) != 0;
  const std::size_t step = raw ? sizeof(Command) : 16;
  SeqNo seq = 100;
  for (std::size_t at = 1; at + step <= size; at += step) {
    Command c;
    if (raw) {
      std::memcpy(static_cast<void*>(&c), data + at, sizeof c);
      if (c.type == CommandType::kNewOrder) c.new_order.post_only = (data[at + 24 + 68] & 1) != 0;
      if (c.type == CommandType::kSetKillSwitch) c.kill_switch.enabled = (data[at + 24 + 4] & 1) != 0;
    } else {
      c = structured_command(data + at, ++seq);
    }
    out.clear();
    with_accounts.apply(c, out);
    check(with_accounts, "accounts");
    out.clear();
    matching.apply(c, out);
    check(matching, "matching");
  }
  return 0;
}
