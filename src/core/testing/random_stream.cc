#include "core/testing/random_stream.h"

#include "core/engine.h"
#include "core/testing/builders.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <string>

namespace stox::testing {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

AddInstrument spec(std::string_view symbol, Price tick, Quantity lot, Price reference,
                   std::int32_t band, std::uint8_t price_scale, std::uint8_t quantity_scale) {
  return instrument_spec(symbol, tick, lot, reference, band, price_scale, quantity_scale);
}

// Instruments chosen to exercise different arithmetic: unit ticks, coarse
// ticks, lots > 1, 8 decimal quantities, a band that rounds to a single tick.
std::vector<AddInstrument> valid_instruments() {
  return {
      spec("AAPL", 1, 1, 15000, 0, 2, 0),
      spec("BTC-USD", 50, 100000, 3000000, 200, 2, 8),
      spec("PENNY", 5, 100, 1000, 1000, 4, 0),
      spec("ZED", 1, 10, 40, 300, 0, 0),
      spec("WIDE-SYMBOL-16CH", 1000, 7, 12345000, 50, 9, 3),
  };
}

// One AddInstrument per kind of bad field, plus a duplicate symbol.
std::vector<AddInstrument> invalid_instruments() {
  return {
      spec("", 1, 1, 100, 0, 2, 0),           // empty symbol
      spec("BADTICK", 0, 1, 100, 0, 2, 0),    // tick 0
      spec("BADLOT", 1, -5, 100, 0, 2, 0),    // lot < 0
      spec("BADREF", 5, 1, 101, 0, 2, 0),     // reference off tick
      spec("BADREF0", 5, 1, 0, 0, 2, 0),      // reference 0
      spec("BADBAND", 1, 1, 100, 10001, 2, 0),
      spec("NEGBAND", 1, 1, 100, -1, 2, 0),
      spec("BADSCALE", 1, 1, 100, 0, 10, 0),
      spec("BADQSCALE", 1, 1, 100, 0, 2, 12),
      spec("AAPL", 1, 1, 100, 0, 2, 0),       // duplicate
  };
}

AddInstrument with_fees(AddInstrument a, std::int32_t maker, std::int32_t taker) {
  a.maker_fee_bps = maker;
  a.taker_fee_bps = taker;
  return a;
}

// Accounts mode: price scales within the cash scale (4), and fees of every
// kind: a rebate, no fee, a rebate as large as the taker fee, maker above taker.
std::vector<AddInstrument> accounts_instruments() {
  return {
      with_fees(spec("AAPL", 1, 1, 15000, 0, 2, 0), -2, 5),
      with_fees(spec("BTC-USD", 50, 100000, 3000000, 200, 2, 8), 10, 20),
      with_fees(spec("PENNY", 5, 100, 1000, 1000, 4, 0), -30, 30),
      spec("ZED", 1, 10, 40, 300, 0, 0),
      with_fees(spec("WIDE-SYMBOL-16CH", 1000, 7, 12345000, 50, 4, 3), 9, 7),
  };
}

// Invalid only in accounts mode (price scale above the cash scale), or in
// both modes (fees).
std::vector<AddInstrument> accounts_invalid_instruments() {
  return {
      spec("PS9", 1, 1, 100, 0, 9, 0),
      with_fees(spec("NEGTAKER", 1, 1, 100, 0, 2, 0), 0, -1),
      with_fees(spec("BIGREBATE", 1, 1, 100, 0, 2, 0), -6, 5),
      with_fees(spec("BIGTAKER", 1, 1, 100, 0, 2, 0), 0, 10001),
      with_fees(spec("BIGMAKER", 1, 1, 100, 0, 2, 0), 10001, 5),
  };
}

Command body(CommandType type) {
  Command c;
  c.type = type;
  return c;
}

constexpr Timestamp kMs = 1'000'000;

}  // namespace

RandomStream::RandomStream(std::uint64_t seed, Options options) : options_(options) {
  std::uint64_t x = seed;
  for (std::uint64_t& s : state_) s = splitmix64(x);
  const bool accounts = options_.accounts_mode;
  const std::vector<AddInstrument> valid = accounts ? accounts_instruments() : valid_instruments();
  const int n = std::clamp(options_.instruments, 1, static_cast<int>(valid.size()));
  std::vector<AddInstrument> adds(valid.begin(), valid.begin() + n);
  // A couple of invalid ones early, so the engine must not consume an id.
  const std::vector<AddInstrument> invalid = invalid_instruments();
  adds.insert(adds.begin() + 1, invalid.back());
  adds.insert(adds.begin() + 1, invalid[below(invalid.size() - 1)]);
  if (accounts) {
    const std::vector<AddInstrument> bad = accounts_invalid_instruments();
    adds.insert(adds.begin() + 1, bad[below(bad.size())]);
  }
  for (const AddInstrument& a : adds) {
    Command c = body(CommandType::kAddInstrument);
    c.add_instrument = a;
    setup_.push_back(c);
  }
  if (!accounts) return;

  // Breaker halts of a fraction of a second (the default 300 s would be
  // hundreds of thousands of commands at ~1 ms per command).
  for (InstrumentId id = 1; id <= static_cast<InstrumentId>(n); ++id) {
    Command c = body(CommandType::kSetInstrumentLimits);
    c.instrument_limits = SetInstrumentLimits{};
    c.instrument_limits.instrument = id;
    c.instrument_limits.breaker_halt_ns = between(50, 300) * kMs;
    setup_.push_back(c);
  }
  for (AccountId a = 1; a <= options_.accounts; ++a) {
    if (below(40) == 0) {
      Command m = body(CommandType::kCreateAccount);
      m.create_account = CreateAccount{FixedString<16>::from("margin"), AccountType::kMargin};
      setup_.push_back(m);
    }
    Command c = body(CommandType::kCreateAccount);
    c.create_account = CreateAccount{FixedString<16>::from("acct" + std::to_string(a)),
                                     AccountType::kCash};
    setup_.push_back(c);
  }
  // Limited money: a few rich active accounts, the rest with a little cash
  // and a few lots (or nothing) of each instrument.
  for (AccountId a = 1; a <= options_.accounts; ++a) {
    const bool rich = a <= options_.active_accounts;
    const Amount cash = rich ? 5'000'000'000 : below(5) == 0 ? 0 : between(1, 40'000'000);
    if (cash > 0) {
      Command c = body(CommandType::kDeposit);
      c.transfer = Transfer{a, kCashAsset, cash};
      setup_.push_back(c);
    }
    for (InstrumentId id = 1; id <= static_cast<InstrumentId>(n); ++id) {
      const std::int64_t lots = rich ? 1000 : below(2) == 0 ? 0 : between(1, 30);
      if (lots == 0) continue;
      Command c = body(CommandType::kDeposit);
      c.transfer = Transfer{a, id, lots * valid[id - 1].lot_size};
      setup_.push_back(c);
    }
  }
}

// xoshiro256**
std::uint64_t RandomStream::rand() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

std::uint64_t RandomStream::below(std::uint64_t n) { return n == 0 ? 0 : rand() % n; }

std::int64_t RandomStream::between(std::int64_t lo, std::int64_t hi) {
  return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
}

// ---------------------------------------------------------------------------
// Commands

Command RandomStream::make(CommandType type) {
  Command c;
  c.seq = ++seq_;
  if (options_.accounts_mode) {
    // ~1 ms per command, now and then a jump of a second or more.
    timestamp_ += per_mille(2) ? between(1000, 3000) * kMs : 1 + between(0, 2 * kMs);
  } else {
    timestamp_ += 1 + static_cast<Timestamp>(below(5000));
  }
  c.timestamp = timestamp_;
  c.type = type;
  return c;
}

Command RandomStream::next() {
  if (setup_done_ < setup_.size()) {
    Command c = setup_[setup_done_++];
    const Command header = make(c.type);
    c.seq = header.seq;
    c.timestamp = header.timestamp;
    return c;
  }
  // Without instruments (observe() not called) only EndOfDay makes sense.
  if (instruments_.empty()) return make(CommandType::kEndOfDay);
  drift_mids();
  // Halts are short: while an instrument is not trading, resumes come often.
  // (An instrument halted by the circuit breaker resumes by itself.)
  const bool any_stopped = std::any_of(
      instruments_.begin(), instruments_.end(), [](const Instrument& i) {
        return i.status != InstrumentStatus::kTrading && !i.breaker_halted;
      });
  if (any_stopped && per_mille(60)) return set_status();
  if (options_.accounts_mode && !killed_.empty() && per_mille(15)) return kill_switch();
  const bool crowded = live_.size() > options_.target_open_orders;
  int roll = static_cast<int>(below(1000));
  if ((roll -= options_.end_of_day_per_mille) < 0) return make(CommandType::kEndOfDay);
  if ((roll -= options_.status_per_mille) < 0) return set_status();
  if ((roll -= 2) < 0) return add_instrument();
  if ((roll -= 1) < 0) return invalid_command_type();
  if (options_.accounts_mode) {
    if ((roll -= 30) < 0) return deposit();
    if ((roll -= 20) < 0) return withdraw();
    if ((roll -= 3) < 0) return account_limits();
    if ((roll -= 3) < 0) return instrument_limits();
    if ((roll -= 3) < 0) return kill_switch();
    if ((roll -= 1) < 0) return create_account();
  } else if ((roll -= options_.account_commands_per_mille) < 0) {
    return account_command_in_matching_mode();
  }
  if ((roll -= crowded ? 30 : 6) < 0) return mass_cancel();
  if ((roll -= crowded ? 350 : 140) < 0) return cancel();
  if (roll < 130) return replace();  // the last step of the chain needs no subtraction
  return new_order();
}

Command RandomStream::new_order() {
  Command c = make(CommandType::kNewOrder);
  NewOrder& o = c.new_order;
  o = NewOrder{};
  const Instrument& inst = pick_instrument();
  const Price tick = inst.spec.tick_size;
  const Quantity lot = inst.spec.lot_size;
  o.account = pick_account();
  o.instrument = inst.id;
  o.side = below(2) == 0 ? Side::kBuy : Side::kSell;
  o.stp = static_cast<StpMode>(below(4));
  if (per_mille(250)) o.client_order_id = client_order_id();

  const std::uint64_t kind = below(100);
  o.type = kind < 55   ? OrderType::kLimit
           : kind < 72 ? OrderType::kMarket
           : kind < 86 ? OrderType::kStop
                       : OrderType::kStopLimit;
  const std::uint64_t tif = below(100);
  switch (o.type) {
    case OrderType::kLimit:
      o.time_in_force = tif < 40   ? TimeInForce::kDay
                        : tif < 70 ? TimeInForce::kGtc
                        : tif < 88 ? TimeInForce::kIoc
                                   : TimeInForce::kFok;
      break;
    case OrderType::kMarket:
      o.time_in_force = tif < 75 ? TimeInForce::kIoc : TimeInForce::kFok;
      break;
    default:
      o.time_in_force = tif < 50 ? TimeInForce::kDay : TimeInForce::kGtc;
      break;
  }

  const std::int64_t lots = per_mille(100) ? between(10, 60) : between(1, 10);
  o.quantity = lots * lot;
  const bool resting_limit = o.type == OrderType::kLimit &&
                             (o.time_in_force == TimeInForce::kDay ||
                              o.time_in_force == TimeInForce::kGtc);
  if (o.type == OrderType::kLimit) o.price = price_near(inst, inst.mid, 6);
  if (options_.accounts_mode && o.type == OrderType::kLimit && per_mille(15)) {
    // Far from the market: outside the (default 10 %) collar.
    const Price away = std::max<Price>(inst.mid * between(11, 30) / 100 / tick, 1) * tick;
    o.price = below(2) == 0 ? inst.mid / tick * tick + away
                            : std::max(inst.mid / tick * tick - away, tick);
  }
  if (resting_limit && lots >= 2 && per_mille(120)) o.display_quantity = between(1, lots - 1) * lot;
  if (resting_limit && per_mille(100)) o.post_only = true;

  if (o.type == OrderType::kStop || o.type == OrderType::kStopLimit) {
    // Just beyond the last price, so that ordinary trading elects it soon.
    const Price away = between(1, 5) * tick;
    o.stop_price = o.side == Side::kBuy ? inst.last + away : std::max(inst.last - away, tick);
    if (o.type == OrderType::kStopLimit) o.price = price_near(inst, o.stop_price, 3);
    if (options_.accounts_mode && o.type == OrderType::kStop && o.side == Side::kBuy &&
        per_mille(300)) {
      // As many lots as the account's cash pays at the band of the stop, so
      // that a gap at the trigger needs more than is available.
      Int128 ps = 1;
      Int128 qs = 1;
      for (int i = inst.spec.price_scale; i < 4; ++i) ps *= 10;
      for (int i = 0; i < inst.spec.quantity_scale; ++i) qs *= 10;
      const Int128 edge = Int128(o.stop_price) * (10000 + inst.spec.market_band_bps) / 10000;
      const Int128 per_lot = std::max<Int128>(edge * lot / qs * ps * 10030 / 10000, 1);
      const Int128 lots_paid = Int128(shadow_total(o.account, kCashAsset)) / per_lot;
      o.quantity = static_cast<Quantity>(std::clamp<Int128>(lots_paid, 1, 1000)) * lot;
    }
  }

  const bool quote_ok = o.type == OrderType::kMarket && o.side == Side::kBuy &&
                        o.time_in_force == TimeInForce::kIoc && o.stp != StpMode::kDecrement;
  if (quote_ok && per_mille(350)) {
    // Cash for a few lots at the mid; sometimes too little for one lot, sometimes a fortune.
    const Int128 one_lot = Int128(inst.mid) * lot;
    Int128 scale = 1;
    for (int i = 0; i < inst.spec.quantity_scale; ++i) scale *= 10;
    const Int128 per_lot = std::max<Int128>(one_lot / scale, 1);
    const std::uint64_t size = below(100);
    const auto per_lot_u = static_cast<std::uint64_t>(per_lot);
    const Int128 lots = between(1, 15);
    Int128 cash = per_lot * lots + below(per_lot_u);
    if (size < 8) {
      cash = 1 + below(per_lot_u);  // less than one lot
    } else if (size < 11) {
      cash = kMax / 2;
    } else if (size < 40) {
      cash = per_lot * lots;  // may be spent exactly
    }
    o.quote_quantity = static_cast<Amount>(cash);
    o.quantity = 0;
  }

  if (per_mille(options_.invalid_per_mille)) corrupt(o, inst);
  return c;
}

// One deliberate mistake, of a kind chosen at random, so that every
// validation rule is reached.
void RandomStream::corrupt(NewOrder& o, const Instrument& inst) {
  const Price tick = inst.spec.tick_size;
  const Quantity lot = inst.spec.lot_size;
  switch (below(17)) {
    case 0: o.instrument = below(2) == 0 ? 0 : 999; break;
    case 1:
      if (options_.accounts_mode && below(2) == 0) {
        o.account = created_ + 1 + static_cast<AccountId>(below(10));  // not created
      } else {
        o.account = below(2) == 0 ? 0 : options_.max_accounts + 1;
      }
      break;
    case 2: o.side = static_cast<Side>(below(2) == 0 ? 0 : 3); break;
    case 3: o.type = static_cast<OrderType>(below(2) == 0 ? 0 : 5); break;
    case 4: o.time_in_force = static_cast<TimeInForce>(below(2) == 0 ? 0 : 7); break;
    case 5: o.stp = static_cast<StpMode>(4 + below(3)); break;
    case 6:
      o.time_in_force = o.type == OrderType::kLimit ? static_cast<TimeInForce>(0)
                        : o.type == OrderType::kMarket ? TimeInForce::kDay
                                                       : TimeInForce::kIoc;
      break;
    case 7: o.post_only = true; break;
    case 8: o.price = o.price == 0 ? tick : (below(2) == 0 ? 0 : -o.price); break;
    case 9: o.stop_price = o.stop_price == 0 ? tick : (below(2) == 0 ? 0 : -o.stop_price); break;
    case 10:
      if (tick > 1) {
        if (o.price != 0) o.price += 1;
        else if (o.stop_price != 0) o.stop_price += 1;
      }
      break;
    case 11:
      o.quantity = below(3) == 0 ? 0 : below(2) == 0 ? -o.quantity : o.quantity + (lot > 1 ? 1 : 0);
      break;
    case 12:
      // A quote quantity where it is not allowed, or a bad one.
      if (o.quote_quantity != 0 && below(2) == 0) {
        o.quote_quantity = below(2) == 0 ? -o.quote_quantity : o.quote_quantity;
        if (below(2) == 0) o.quantity = lot;
      } else {
        o.quote_quantity = 1000;
      }
      break;
    case 13:
      o.display_quantity = below(3) == 0   ? o.quantity
                           : below(2) == 0 ? -lot
                                           : (lot > 1 ? lot + 1 : o.quantity + lot);
      break;
    case 14: {
      // price x quantity (or stop x quantity) beyond int64.
      const Price p = std::max(o.price, o.stop_price);
      if (p > 0 && below(2) == 0) {
        o.quantity = ((kMax / p) / lot + 1) * lot;
        o.quote_quantity = 0;
      } else if (o.price > 0) {
        o.price = kMax / tick * tick;
        o.quantity = std::max(o.quantity, 2 * lot);
      } else {
        o.quantity = kMax / lot * lot;
        if (options_.accounts_mode && !options_.huge_market_orders &&
            o.type == OrderType::kMarket) {
          o.quantity = std::max<Quantity>(kMax / (4 * std::max(inst.mid, inst.last)) / lot, 1) * lot;
        }
      }
      break;
    }
    case 15:
      // Reuse the client order id of an open order of the same account.
      for (const LiveOrder& live : live_) {
        if (!live.client_order_id.empty()) {
          o.account = live.account;
          o.client_order_id = live.client_order_id;
          break;
        }
      }
      break;
    case 16:
      // A stop already elected by the last price.
      if (o.stop_price != 0) {
        const Price beyond = tick * static_cast<Price>(below(3));
        o.stop_price =
            o.side == Side::kBuy ? std::max(inst.last - beyond, tick) : inst.last + beyond;
      }
      break;
  }
}

Command RandomStream::cancel() {
  Command c = make(CommandType::kCancel);
  c.cancel = Cancel{};
  if (!live_.empty() && per_mille(850)) {
    const LiveOrder& o = live_[below(live_.size())];
    c.cancel.order_id = o.id;
    c.cancel.account = per_mille(950) ? o.account : o.account % options_.accounts + 1;
  } else {
    c.cancel.order_id = dead_or_unknown_order();
    c.cancel.account = pick_account();
  }
  return c;
}

Command RandomStream::replace() {
  Command c = make(CommandType::kReplace);
  Replace& r = c.replace;
  r = Replace{};
  if (live_.empty() || per_mille(100)) {
    r.order_id = dead_or_unknown_order();
    r.account = pick_account();
    r.quantity = instruments_.front().spec.lot_size;
    return c;
  }
  const LiveOrder& o = live_[below(live_.size())];
  const Instrument& inst = *find_instrument(o.instrument);
  const Price tick = inst.spec.tick_size;
  const Quantity lot = inst.spec.lot_size;
  r.order_id = o.id;
  r.account = per_mille(970) ? o.account : o.account % options_.accounts + 1;

  const Quantity filled = o.quantity - o.leaves;
  const std::uint64_t what = below(100);
  const bool change_quantity = what < 60;
  const bool change_price = what >= 40 && what < 85;
  const bool change_stop = what >= 75;
  if (change_quantity) {
    const std::int64_t leaves_lots = std::max<std::int64_t>(o.leaves / lot, 1);
    r.quantity = below(2) == 0 ? filled + between(1, leaves_lots) * lot  // down (or same)
                               : o.quantity + between(1, 5) * lot;       // up
  }
  const bool untriggered_stop =
      (o.type == OrderType::kStop || o.type == OrderType::kStopLimit) && !o.triggered;
  if (change_price && (o.type == OrderType::kLimit || o.type == OrderType::kStopLimit)) {
    r.price = std::max(o.price + between(-3, 3) * tick, tick);
  }
  if (change_stop && untriggered_stop) {
    const Price away = between(1, 5) * tick;
    r.stop_price = o.side == Side::kBuy ? inst.last + away : std::max(inst.last - away, tick);
  }
  if (per_mille(options_.invalid_per_mille * 2)) corrupt(r, o, inst);
  return c;
}

void RandomStream::corrupt(Replace& r, const LiveOrder& o, const Instrument& inst) {
  const Price tick = inst.spec.tick_size;
  const Quantity lot = inst.spec.lot_size;
  switch (below(8)) {
    case 0: r.price = std::max(o.price, tick); break;  // unexpected on STOP
    case 1: r.stop_price = std::max(o.stop_price, inst.last); break;  // unexpected, or elected
    case 2: r.price = -tick; break;
    case 3: if (tick > 1) r.price = o.price + 1; break;
    case 4: r.quantity = -lot; break;
    case 5: if (lot > 1) r.quantity = o.quantity + 1; break;
    case 6: r.quantity = o.quantity - o.leaves; break;  // at (or below) the filled part
    case 7: r.quantity = kMax / lot * lot; break;       // overflow
  }
}

Command RandomStream::mass_cancel() {
  Command c = make(CommandType::kMassCancel);
  c.mass_cancel = MassCancel{};
  c.mass_cancel.account = per_mille(980) ? pick_account() : options_.max_accounts + 1;
  const std::uint64_t which = below(100);
  c.mass_cancel.instrument = which < 50 ? 0 : which < 97 ? pick_instrument().id : 777;
  return c;
}

// Halts and closes are rare and short: a status command prefers to resume an
// instrument that is not trading.
Command RandomStream::set_status() {
  Command c = make(CommandType::kSetInstrumentStatus);
  c.set_status = SetInstrumentStatus{};
  Instrument* stopped = nullptr;
  bool breaker = false;
  for (Instrument& inst : instruments_) {
    if (inst.status != InstrumentStatus::kTrading && !inst.breaker_halted) stopped = &inst;
    breaker = breaker || inst.breaker_halted;
  }
  if (stopped != nullptr && per_mille(900)) {
    c.set_status.instrument = per_mille(100) && !breaker ? 0 : stopped->id;  // 0: every instrument
    c.set_status.status = InstrumentStatus::kTrading;
    return c;
  }
  const std::uint64_t roll = below(100);
  c.set_status.instrument = roll < 3 ? 4242 : roll < 5 ? 0 : pick_instrument().id;
  // Accounts mode: a status command never touches an instrument the breaker
  // halted (docs/design.md does not say how the two interact; see the
  // reference's header).
  if (c.set_status.instrument == 0 && breaker) c.set_status.instrument = 4242;
  if (Instrument* target = find_instrument(c.set_status.instrument);
      target != nullptr && target->breaker_halted) {
    c.set_status.instrument = 4242;
  }
  c.set_status.status = roll < 6    ? static_cast<InstrumentStatus>(9)
                        : roll < 60 ? InstrumentStatus::kHalted
                        : roll < 85 ? InstrumentStatus::kClosed
                                    : InstrumentStatus::kTrading;
  return c;
}

Command RandomStream::add_instrument() {
  Command c = make(CommandType::kAddInstrument);
  std::vector<AddInstrument> invalid = invalid_instruments();
  if (options_.accounts_mode) {
    for (const AddInstrument& a : accounts_invalid_instruments()) invalid.push_back(a);
  }
  c.add_instrument = invalid[below(invalid.size())];
  return c;
}

// ---------------------------------------------------------------------------
// Accounts mode

Amount RandomStream::shadow_total(AccountId account, AssetId asset) const {
  auto it = totals_.find({account, asset});
  return it == totals_.end() ? 0 : it->second;
}

AccountId RandomStream::pick_transfer_account() {
  const std::uint64_t roll = below(1000);
  if (roll < 8) return 0;
  if (roll < 16) return created_ + 1 + static_cast<AccountId>(below(5));  // not created
  if (roll < 20) return below(2) == 0 ? kFeeAccount : kExternalAccount;
  return pick_account();
}

Command RandomStream::deposit() {
  Command c = make(CommandType::kDeposit);
  Transfer& t = c.transfer;
  t = Transfer{};
  t.account = pick_transfer_account();
  const bool cash = below(2) == 0;
  const Instrument& inst = pick_instrument();
  t.asset = cash ? kCashAsset : inst.id;
  t.amount = cash ? between(1, 20'000'000) : between(1, 20) * inst.spec.lot_size;
  switch (below(60)) {
    case 0: t.amount = below(2) == 0 ? 0 : -t.amount; break;
    case 1: t.asset = static_cast<AssetId>(instruments_.size() + 1 + below(50)); break;
    case 2: {
      // One unit more than the account's total can take.
      const Amount total = shadow_total(t.account, t.asset);
      if (total > 0) t.amount = kMax - total + 1;
      break;
    }
    default: break;
  }
  return c;
}

Command RandomStream::withdraw() {
  Command c = make(CommandType::kWithdraw);
  Transfer& t = c.transfer;
  t = Transfer{};
  t.account = pick_transfer_account();
  const bool cash = below(2) == 0;
  t.asset = cash ? kCashAsset : pick_instrument().id;
  // Up to a quarter more than the total, so some are beyond what is available.
  const Amount total = shadow_total(t.account, t.asset);
  t.amount = total > 0 ? between(1, total + total / 4 + 1) : between(1, 1000);
  switch (below(60)) {
    case 0: t.amount = below(2) == 0 ? 0 : -t.amount; break;
    case 1: t.asset = static_cast<AssetId>(instruments_.size() + 1 + below(50)); break;
    case 2: t.amount = kMax; break;
    default: break;
  }
  return c;
}

Command RandomStream::account_limits() {
  Command c = make(CommandType::kSetAccountLimits);
  SetAccountLimits& l = c.account_limits;
  l = SetAccountLimits{};
  l.account = pick_account();
  if (!per_mille(300)) {  // else: all zero, back to the defaults
    l.max_open_orders = per_mille(500) ? 0 : static_cast<std::uint32_t>(between(1, 20));
    l.max_orders_per_second = per_mille(500) ? 0 : static_cast<std::uint32_t>(between(1, 40));
    l.max_order_quantity = per_mille(700) ? 0 : between(1, 15) * pick_instrument().spec.lot_size;
    l.max_order_notional = per_mille(700) ? 0 : between(1'000'000, 100'000'000);
  }
  switch (below(25)) {
    case 0: l.account = below(2) == 0 ? 0 : created_ + 1 + static_cast<AccountId>(below(5)); break;
    case 1: l.max_order_quantity = -1 - static_cast<Quantity>(below(10)); break;
    case 2: l.max_order_notional = -1 - static_cast<Amount>(below(10)); break;
    default: break;
  }
  return c;
}

SetInstrumentLimits RandomStream::breaker_limits(InstrumentId id) {
  SetInstrumentLimits l{};
  l.instrument = id;
  const Instrument* inst = find_instrument(id);
  const Quantity lot = inst != nullptr ? inst->spec.lot_size : 1;
  static constexpr std::int32_t kCollars[] = {10, 30, 100, 300, 1000, 5000};
  static constexpr std::int32_t kTight[] = {5, 15, 40, 100, 200};
  l.collar_bps = per_mille(600) ? 0 : kCollars[below(std::size(kCollars))];
  const std::uint64_t breaker = below(100);
  l.breaker_bps = breaker < 35   ? kTight[below(std::size(kTight))]
                  : breaker < 70 ? 0
                                 : static_cast<std::int32_t>(between(500, 3000));
  l.max_order_quantity = per_mille(800) ? 0 : between(2, 30) * lot;
  l.max_order_notional = per_mille(800) ? 0 : between(1'000'000, 200'000'000);
  l.breaker_halt_ns = between(20, 500) * kMs;  // never 0 (the 300 s default)
  return l;
}

Command RandomStream::instrument_limits() {
  Command c = make(CommandType::kSetInstrumentLimits);
  c.instrument_limits = breaker_limits(pick_instrument().id);
  SetInstrumentLimits& l = c.instrument_limits;
  switch (below(20)) {
    case 0: l.instrument = below(2) == 0 ? 0 : 999; break;
    case 1: {
      switch (below(5)) {
        case 0: l.collar_bps = -1; break;
        case 1: l.breaker_bps = -5; break;
        case 2: l.max_order_quantity = -1; break;
        case 3: l.max_order_notional = -7; break;
        default: l.breaker_halt_ns = -1; break;
      }
      break;
    }
    default: break;
  }
  return c;
}

Command RandomStream::kill_switch() {
  Command c = make(CommandType::kSetKillSwitch);
  c.kill_switch = SetKillSwitch{};
  if (!killed_.empty() && below(3) != 0) {
    auto it = killed_.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(below(killed_.size())));
    c.kill_switch = SetKillSwitch{*it, false};
    return c;
  }
  const std::uint64_t roll = below(100);
  c.kill_switch.account = roll < 3 ? created_ + 1 + static_cast<AccountId>(below(5)) : pick_account();
  c.kill_switch.enabled = roll >= 8;  // sometimes "off" for an account that is not killed
  return c;
}

Command RandomStream::create_account() {
  Command c = make(CommandType::kCreateAccount);
  c.create_account = CreateAccount{FixedString<16>::from("late"),
                                   below(10) == 0 ? AccountType::kMargin : AccountType::kCash};
  return c;
}

// Every account command, as matching-only mode must reject it.
Command RandomStream::account_command_in_matching_mode() {
  const std::uint64_t which = below(6);
  const AccountId account = pick_account();
  switch (which) {
    case 0: {
      Command c = make(CommandType::kCreateAccount);
      c.create_account = CreateAccount{FixedString<16>::from("x"), AccountType::kCash};
      return c;
    }
    case 1:
    case 2: {
      Command c = make(which == 1 ? CommandType::kDeposit : CommandType::kWithdraw);
      c.transfer = Transfer{account, kCashAsset, between(1, 1000)};
      return c;
    }
    case 3: {
      Command c = make(CommandType::kSetAccountLimits);
      c.account_limits = SetAccountLimits{account, 1, 1, 1, 1};
      return c;
    }
    case 4: {
      Command c = make(CommandType::kSetInstrumentLimits);
      c.instrument_limits = breaker_limits(pick_instrument().id);
      return c;
    }
    default: {
      Command c = make(CommandType::kSetKillSwitch);
      c.kill_switch = SetKillSwitch{account, true};
      return c;
    }
  }
}

Command RandomStream::invalid_command_type() {
  Command c = make(CommandType::kEndOfDay);
  c.type = static_cast<CommandType>(below(2) == 0 ? 0 : 99);
  return c;
}

// ---------------------------------------------------------------------------
// Choices

RandomStream::Instrument& RandomStream::pick_instrument() {
  return instruments_[below(instruments_.size())];
}

AccountId RandomStream::pick_account() {
  if (options_.accounts_mode) {
    // The few active accounts send a large share of everything.
    const AccountId n = std::max<AccountId>(created_, 1);
    if (below(100) < 40) return 1 + static_cast<AccountId>(below(std::min(options_.active_accounts, n)));
    return 1 + static_cast<AccountId>(below(n));
  }
  return 1 + static_cast<AccountId>(below(options_.accounts));
}

// A price on tick near `center`, triangular around it, at least one tick.
Price RandomStream::price_near(const Instrument& inst, Price center, int spread_ticks) {
  const Price tick = inst.spec.tick_size;
  const std::int64_t offset =
      between(0, spread_ticks) + between(0, spread_ticks) - spread_ticks;
  return std::max(center / tick * tick + offset * tick, tick);
}

ClientOrderId RandomStream::client_order_id() {
  // A small pool ("c0".."c19"), so duplicates within an account happen.
  const std::uint64_t n = below(20);
  const char text[4] = {'c', static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10), 0};
  return ClientOrderId::from(text);
}

OrderId RandomStream::dead_or_unknown_order() {
  const std::uint64_t roll = below(100);
  if (roll < 70 && !dead_.empty()) return dead_[below(dead_.size())];
  if (roll < 85) return max_seen_order_id_ + 1 + below(1000);
  return roll < 92 ? 0 : 1 + below(max_seen_order_id_ + 1);
}

// Mids walk slowly and are pulled to the last trade, so prices follow the
// market and stops near the last price get elected.
void RandomStream::drift_mids() {
  if (instruments_.empty() || !per_mille(30)) return;
  Instrument& inst = pick_instrument();
  const Price tick = inst.spec.tick_size;
  if (below(4) == 0) {
    inst.mid = inst.last;
  } else {
    inst.mid += (below(2) == 0 ? -1 : 1) * tick;
  }
  inst.mid = std::max(inst.mid, 12 * tick);
}

// ---------------------------------------------------------------------------
// Learning from events

void RandomStream::observe(const std::vector<Event>& events) {
  breaker_cancelled_ = 0;
  for (const Event& e : events) {
    switch (e.type) {
      case EventType::kAccountCreated:
        created_ = std::max(created_, e.account_created.account);
        break;
      case EventType::kTransferred:
        totals_[{e.transferred.account, e.transferred.asset}] = e.transferred.total_after;
        break;
      case EventType::kSettled: {
        const SettledEvent& s = e.settled;
        totals_[{s.buyer, kCashAsset}] -= s.notional + s.buyer_fee;
        totals_[{s.seller, kCashAsset}] += s.notional - s.seller_fee;
        totals_[{s.buyer, s.instrument}] += s.quantity;
        totals_[{s.seller, s.instrument}] -= s.quantity;
        break;
      }
      case EventType::kKillSwitch:
        if (e.kill_switch.enabled) {
          killed_.insert(e.kill_switch.account);
        } else {
          killed_.erase(e.kill_switch.account);
        }
        break;
      case EventType::kInstrumentAdded: {
        const AddInstrument& s = e.instrument_added.spec;
        instruments_.push_back({e.instrument_added.instrument, s, InstrumentStatus::kTrading,
                                s.reference_price, s.reference_price});
        break;
      }
      case EventType::kInstrumentStatus:
        if (Instrument* inst = find_instrument(e.instrument_status.instrument)) {
          inst->status = e.instrument_status.status;
          inst->breaker_halted = e.instrument_status.status == InstrumentStatus::kHalted &&
                                 breaker_cancelled_ == inst->id;
        }
        break;
      case EventType::kAccepted: {
        const NewOrder& o = e.accepted.order;
        max_seen_order_id_ = std::max(max_seen_order_id_, e.accepted.order_id);
        const bool may_stay_open =
            o.type == OrderType::kStop || o.type == OrderType::kStopLimit ||
            (o.type == OrderType::kLimit &&
             (o.time_in_force == TimeInForce::kDay || o.time_in_force == TimeInForce::kGtc));
        if (!may_stay_open) break;
        live_index_[e.accepted.order_id] = live_.size();
        live_.push_back({e.accepted.order_id, o.account, o.instrument, o.client_order_id, o.side,
                         o.type, o.price, o.stop_price, o.quantity, o.quantity, false});
        break;
      }
      case EventType::kTrade: {
        const TradeEvent& t = e.trade;
        if (Instrument* inst = find_instrument(t.instrument)) inst->last = t.price;
        if (LiveOrder* m = find(t.maker_order)) m->leaves = t.maker_leaves;
        if (LiveOrder* tk = find(t.taker_order)) tk->leaves = t.taker_leaves;
        if (t.maker_leaves == 0) forget(t.maker_order);
        if (t.taker_leaves == 0) forget(t.taker_order);
        break;
      }
      case EventType::kCancelled:
        if (e.cancelled.reason == CancelReason::kCircuitBreaker) {
          breaker_cancelled_ = e.cancelled.instrument;
        }
        forget(e.cancelled.order_id);
        break;
      case EventType::kReduced:
        if (LiveOrder* o = find(e.reduced.order_id)) {
          o->quantity -= e.reduced.reduced_by;
          o->leaves = e.reduced.leaves;
        }
        break;
      case EventType::kReplaced:
        if (LiveOrder* o = find(e.replaced.order_id)) {
          o->price = e.replaced.price;
          o->stop_price = e.replaced.stop_price;
          o->quantity = e.replaced.quantity;
          o->leaves = e.replaced.leaves;
        }
        break;
      case EventType::kStopTriggered:
        if (LiveOrder* o = find(e.stop_triggered.order_id)) o->triggered = true;
        break;
      default:
        break;
    }
  }
}

void RandomStream::forget(OrderId id) {
  auto it = live_index_.find(id);
  if (it == live_index_.end()) return;
  const std::size_t index = it->second;
  live_index_.erase(it);
  if (index + 1 != live_.size()) {
    live_[index] = live_.back();
    live_index_[live_[index].id] = index;
  }
  live_.pop_back();
  dead_.push_back(id);
  if (dead_.size() > 64) dead_.pop_front();
}

RandomStream::LiveOrder* RandomStream::find(OrderId id) {
  auto it = live_index_.find(id);
  return it == live_index_.end() ? nullptr : &live_[it->second];
}

RandomStream::Instrument* RandomStream::find_instrument(InstrumentId id) {
  for (Instrument& inst : instruments_) {
    if (inst.id == id) return &inst;
  }
  return nullptr;
}

}  // namespace stox::testing
