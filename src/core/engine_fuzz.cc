// libFuzzer target: arbitrary bytes as a stream of commands.
//
// Each 96-byte chunk of the input is taken as a `Command` exactly as the
// journal or a binary gateway would hold it, with every field (command type,
// enums, prices, quantities, ids) as the fuzzer chose it. The only
// normalisation is of the two `bool` fields, whose other byte values a
// decoder must reject before they become a `bool` at all. Both engine modes
// must answer every command without crashing, and after every command the
// book invariants and (accounts mode) the ledger must still hold.
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
  for (std::size_t at = 0; at + sizeof(Command) <= size; at += sizeof(Command)) {
    Command c;
    std::memcpy(static_cast<void*>(&c), data + at, sizeof c);
    if (c.type == CommandType::kNewOrder) c.new_order.post_only = (data[at + 24 + 68] & 1) != 0;
    if (c.type == CommandType::kSetKillSwitch) c.kill_switch.enabled = (data[at + 24 + 4] & 1) != 0;
    out.clear();
    with_accounts.apply(c, out);
    check(with_accounts, "accounts");
    out.clear();
    matching.apply(c, out);
    check(matching, "matching");
  }
  return 0;
}
