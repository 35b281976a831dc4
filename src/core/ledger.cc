// Accounts mode: balances, holds, settlement of trades, deposits and
// withdrawals, positions, and the conservation / hold-consistency check.
// The rules and the rounding argument are in docs/design.md ("Accounts,
// ledger and risk").
//
// A hold is never stored per order: an open order's requirement is a pure
// function of its state (requirement()), and an account's held amount is
// kept equal to the sum of its orders' requirements by adjusting it by the
// change in requirement whenever an order changes. check_ledger() recomputes
// the sum from scratch to prove it.
#include <algorithm>
#include <sstream>

#include "core/engine_impl.h"

namespace stox {

// --------------------------------------------------------------- accounts
Account* Engine::Impl::account(AccountId id) {
  return (id >= 1 && id <= accounts.size()) ? &accounts[id - 1] : nullptr;
}
const Account* Engine::Impl::account(AccountId id) const {
  return (id >= 1 && id <= accounts.size()) ? &accounts[id - 1] : nullptr;
}

// Every account has a balance and a position for every asset from the
// moment the asset exists (on_create_account, grow_accounts), so taking a
// reference to one never invalidates another.
Balance& Engine::Impl::balance(Account& a, AssetId asset) { return a.balances[asset]; }

void Engine::Impl::grow_accounts() {
  for (Account& a : accounts) {
    a.balances.resize(instruments.size() + 1);
    a.positions.resize(instruments.size() + 1);
  }
}

Amount Engine::Impl::available(AccountId id, AssetId asset) {
  Balance& b = balance(*account(id), asset);
  return b.total - b.held;
}

void Engine::Impl::on_create_account(const CreateAccount& c) {
  if (c.type != AccountType::kCash)
    return emit_reject(RejectReason::kUnsupportedAccountType, 0, 0, ClientOrderId{});
  if (accounts.size() >= config.max_accounts)
    return emit_reject(RejectReason::kUnknownAccount, 0, 0, ClientOrderId{});
  Account& a = accounts.emplace_back();
  a.spec = c;
  a.balances.resize(instruments.size() + 1);
  a.positions.resize(instruments.size() + 1);
  AccountCreatedEvent& e = emit(EventType::kAccountCreated).account_created;
  e.account = static_cast<AccountId>(accounts.size());
  e.spec = c;
}

// ------------------------------------------------------------- transfers
void Engine::Impl::on_transfer(const Transfer& t, bool deposit) {
  Account* a = account(t.account);
  auto reject = [&](RejectReason r) { emit_reject(r, t.account, 0, ClientOrderId{}); };
  if (a == nullptr) return reject(RejectReason::kUnknownAccount);
  if (t.asset > instruments.size()) return reject(RejectReason::kInvalidAsset);
  if (t.amount <= 0) return reject(RejectReason::kInvalidAmount);
  Balance& b = balance(*a, t.asset);
  Balance& world = external_balances[t.asset];
  if (!deposit && t.amount > b.total - b.held) return reject(RejectReason::kInsufficientAvailable);
  const Amount signed_amount = deposit ? t.amount : -t.amount;
  if (!fits(Int128{b.total} + signed_amount) || !fits(Int128{world.total} - signed_amount))
    return reject(RejectReason::kBalanceOverflow);

  if (t.asset != kCashAsset) {
    const Instrument& ins = instruments[t.asset - 1];
    Position& p = a->positions[t.asset];
    if (deposit) {
      p.cost += exact_cash_notional(ins, ins.spec.reference_price, t.amount);  // at the reference
    } else {
      p.cost -= p.cost * t.amount / b.total;  // at the average cost
    }
  }
  b.total += signed_amount;
  world.total -= signed_amount;
  TransferredEvent& e = emit(EventType::kTransferred).transferred;
  e.kind = deposit ? CommandType::kDeposit : CommandType::kWithdraw;
  e.account = t.account;
  e.asset = t.asset;
  e.amount = t.amount;
  e.total_after = b.total;
}

// ------------------------------------------------------- notional and holds
// A price-scale amount in cash; exact because price_scale <= cash_scale.
Amount Engine::Impl::to_cash(const Instrument& ins, Amount amount) const {
  const Int128 v = Int128{amount} * kPow10[config.cash_scale - ins.spec.price_scale];
  return fits(v) ? static_cast<Amount>(v) : kMaxValue;
}

Amount Engine::Impl::cash_notional(const Instrument& ins, Price price, Quantity qty) const {
  return to_cash(ins, notional(ins, price, qty));
}

// Without the 64-bit limits of notional()/to_cash(): at most 10^18 × 10^9.
Int128 Engine::Impl::exact_cash_notional(const Instrument& ins, Price price, Quantity qty) const {
  return Int128{price} * qty / kPow10[ins.spec.quantity_scale] *
         kPow10[config.cash_scale - ins.spec.price_scale];
}

std::int32_t Engine::Impl::max_fee_bps(const Instrument& ins) {
  return std::max({ins.spec.maker_fee_bps, ins.spec.taker_fee_bps, 0});
}

namespace {
// Fees round toward zero (docs/design.md explains why).
Amount fee_of(Amount notional, std::int32_t bps) {
  return static_cast<Amount>(Int128{notional} * bps / 10000);
}
Amount with_max_fee(Amount notional, std::int32_t bps) {
  const Int128 v = Int128{notional} + fee_of(notional, bps);
  return fits(v) ? static_cast<Amount>(v) : kMaxValue;
}
}  // namespace

Amount Engine::Impl::buy_need(const Instrument& ins, Price price, Quantity qty) const {
  return with_max_fee(cash_notional(ins, price, qty), max_fee_bps(ins));
}

// The price a BUY holds at: its limit (or, once matching, its band edge); an
// untriggered stop-market uses the band edge around its stop price.
Price Engine::Impl::hold_price(const Instrument& ins, const Order& o) {
  return o.price != 0 ? o.price : band_edge(ins, Side::kBuy, o.stop_price);
}

AssetId Engine::Impl::hold_asset(const Order& o) {
  return o.side == Side::kBuy ? kCashAsset : o.instrument;
}

// What an open order must hold: cash for a BUY, shares for a SELL.
Amount Engine::Impl::requirement(const Instrument& ins, const Order& o) const {
  if (o.side == Side::kSell) return o.leaves;
  if (o.quote) return with_max_fee(to_cash(ins, o.leaves), max_fee_bps(ins));
  return buy_need(ins, hold_price(ins, o), o.leaves);
}

void Engine::Impl::adjust_hold(const Order& o, Amount delta) {
  if (delta == 0) return;
  balance(*account(o.account), hold_asset(o)).held += delta;
}

// ------------------------------------------------------------- settlement
// Moves cash and shares for one fill and emits its posting. Each side's hold
// drops by the drop in its order's requirement; what the fill costs is paid
// out of that drop, the rest (price improvement, fee rounding) becomes
// available again.
void Engine::Impl::settle(const Instrument& ins, Order& taker, Order& maker, Price price,
                          Quantity qty, Amount taker_before, Amount maker_before,
                          TradeId trade_id) {
  const bool taker_buys = taker.side == Side::kBuy;
  Order& buy = taker_buys ? taker : maker;
  Order& sell = taker_buys ? maker : taker;
  const Amount value = cash_notional(ins, price, qty);
  const Amount taker_fee = fee_of(value, ins.spec.taker_fee_bps);
  const Amount maker_fee = fee_of(value, ins.spec.maker_fee_bps);
  const Amount buyer_fee = taker_buys ? taker_fee : maker_fee;
  const Amount seller_fee = taker_buys ? maker_fee : taker_fee;
  const Amount buy_before = taker_buys ? taker_before : maker_before;
  const Amount sell_before = taker_buys ? maker_before : taker_before;

  Account& buyer = *account(buy.account);
  Account& seller = *account(sell.account);
  Balance& buyer_cash = balance(buyer, kCashAsset);
  Balance& buyer_shares = balance(buyer, ins.id);
  Balance& seller_cash = balance(seller, kCashAsset);
  Balance& seller_shares = balance(seller, ins.id);
  const Quantity seller_shares_before = seller_shares.total;

  buyer_cash.total -= value + buyer_fee;
  buyer_cash.held -= buy_before - requirement(ins, buy);
  buyer_shares.total += qty;
  seller_shares.total -= qty;
  seller_shares.held -= sell_before - requirement(ins, sell);
  seller_cash.total += value - seller_fee;
  fee_balances[kCashAsset].total += buyer_fee + seller_fee;

  buyer.positions[ins.id].cost += value;
  Position& sp = seller.positions[ins.id];
  const Int128 removed = sp.cost * qty / seller_shares_before;
  sp.cost -= removed;
  sp.realized += value - removed;

  SettledEvent& e = emit(EventType::kSettled).settled;
  e.trade_id = trade_id;
  e.instrument = ins.id;
  e.buyer = buy.account;
  e.seller = sell.account;
  e.quantity = qty;
  e.notional = value;
  e.buyer_fee = buyer_fee;
  e.seller_fee = seller_fee;
}

// ------------------------------------------------------------------ check
std::string Engine::Impl::check_ledger() const {
  if (!config.accounts) return {};
  std::ostringstream err;
  const std::size_t assets = instruments.size() + 1;
  // Requirements of open orders, per account and asset; 128 bits, because the
  // checker must stay exact on any state, damaged ones included.
  std::vector<std::vector<Int128>> required(accounts.size(), std::vector<Int128>(assets, 0));
  for (AccountId id = 1; id < account_orders.size(); ++id)
    for (std::uint32_t s = account_orders[id].head; s != kNoSlot; s = orders[s].account_next) {
      const Order& o = orders[s];
      required[id - 1][hold_asset(o)] += requirement(instruments[o.instrument - 1], o);
    }
  for (AssetId asset = 0; asset < assets; ++asset) {
    Int128 sum = Int128{fee_balances[asset].total} + external_balances[asset].total;
    for (std::size_t i = 0; i < accounts.size(); ++i) {
      const Balance b = asset < accounts[i].balances.size() ? accounts[i].balances[asset] : Balance{};
      sum += b.total;
      if (b.total < 0 || b.held < 0 || b.held > b.total)
        err << "account " << i + 1 << " asset " << asset << " total " << b.total << " held "
            << b.held << "; ";
      if (b.held != required[i][asset])
        err << "account " << i + 1 << " asset " << asset << " holds " << b.held
            << " but its open orders require another amount; ";
    }
    if (sum != 0) err << "asset " << asset << " does not balance: sum " << static_cast<std::int64_t>(sum) << "; ";
  }
  if (fee_balances[kCashAsset].total < 0) err << "fee account negative; ";
  return err.str();
}

// -------------------------------------------------------------- public API
std::optional<BalanceView> Engine::balance(AccountId account, AssetId asset) const {
  if (!impl_->config.accounts || asset > impl_->instruments.size()) return std::nullopt;
  Balance b{};
  if (account == kFeeAccount) {
    b = impl_->fee_balances[asset];
  } else if (account == kExternalAccount) {
    b = impl_->external_balances[asset];
  } else {
    const Account* a = impl_->account(account);
    if (a == nullptr) return std::nullopt;
    if (asset < a->balances.size()) b = a->balances[asset];
  }
  return BalanceView{b.total, b.held, b.total - b.held};
}

std::optional<PositionView> Engine::position(AccountId account, InstrumentId instrument) const {
  const Account* a = impl_->account(account);
  const Instrument* ins = impl_->instrument(instrument);
  if (!impl_->config.accounts || a == nullptr || ins == nullptr) return std::nullopt;
  const Position p = a->positions[instrument];
  const Quantity qty = a->balances[instrument].total;
  auto clamp = [](Int128 v) {
    return static_cast<Amount>(v > kMaxValue ? kMaxValue : v < -kMaxValue ? -kMaxValue : v);
  };
  PositionView v{qty, clamp(p.cost), clamp(p.realized), 0, 0};
  v.unrealized_pnl =
      clamp(impl_->exact_cash_notional(*ins, ins->last_or_reference(), qty) - p.cost);
  if (qty > 0) {
    // cost (cash scale) per share (quantity scale), at price scale.
    v.average_cost = clamp(p.cost * kPow10[ins->spec.quantity_scale] /
                           kPow10[impl_->config.cash_scale - ins->spec.price_scale] / qty);
  }
  return v;
}

}  // namespace stox
