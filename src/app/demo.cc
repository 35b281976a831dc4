#include "app/demo.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/decimal.h"
#include "core/engine.h"

namespace stox {
namespace {

// ---------------------------------------------------------------------------
// Who trades, and when.

constexpr AccountId kAlice = 1;  // the market maker: quotes both sides everywhere
constexpr AccountId kBob = 2;
constexpr AccountId kCarol = 3;
constexpr AccountId kDave = 4;

std::string account_name(AccountId account) {
  static constexpr std::array<std::string_view, 5> kNames = {"", "Alice", "Bob", "Carol", "Dave"};
  if (account >= 1 && account < kNames.size()) return std::string(kNames[account]);
  return "account " + std::to_string(account);
}

// The sequencer's clock, made deterministic: 2025-03-03 14:30:00 UTC, then
// one millisecond per command.
class FakeClock {
 public:
  Timestamp next() { return kStart + kStep * ticks_++; }

 private:
  static constexpr Timestamp kStart = 1'741'012'200LL * 1'000'000'000;
  static constexpr Timestamp kStep = 1'000'000;
  Timestamp ticks_ = 0;
};

// "14:30:00.017" (UTC time of day, milliseconds).
std::string time_of_day(Timestamp ns) {
  constexpr Timestamp kMillisPerDay = 86'400'000;
  const Timestamp ms = (ns / 1'000'000) % kMillisPerDay;
  std::ostringstream s;
  s << std::setfill('0') << std::setw(2) << ms / 3'600'000 << ':' << std::setw(2)
    << ms / 60'000 % 60 << ':' << std::setw(2) << ms / 1000 % 60 << '.' << std::setw(3)
    << ms % 1000;
  return s.str();
}

// ---------------------------------------------------------------------------
// Names of enum values, for people.

std::string_view side_name(Side side) { return side == Side::kBuy ? "BUY" : "SELL"; }

std::string_view type_name(OrderType type) {
  switch (type) {
    case OrderType::kLimit: return "LIMIT";
    case OrderType::kMarket: return "MARKET";
    case OrderType::kStop: return "STOP";
    case OrderType::kStopLimit: return "STOP_LIMIT";
  }
  return "?";
}

std::string_view tif_name(TimeInForce tif) {
  switch (tif) {
    case TimeInForce::kDay: return "DAY";
    case TimeInForce::kGtc: return "GTC";
    case TimeInForce::kIoc: return "IOC";
    case TimeInForce::kFok: return "FOK";
  }
  return "?";
}

std::string_view stp_name(StpMode stp) {
  switch (stp) {
    case StpMode::kCancelTaker: return "CANCEL_TAKER";
    case StpMode::kCancelMaker: return "CANCEL_MAKER";
    case StpMode::kCancelBoth: return "CANCEL_BOTH";
    case StpMode::kDecrement: return "DECREMENT";
  }
  return "?";
}

std::string_view status_name(InstrumentStatus status) {
  switch (status) {
    case InstrumentStatus::kTrading: return "TRADING";
    case InstrumentStatus::kHalted: return "HALTED";
    case InstrumentStatus::kClosed: return "CLOSED";
  }
  return "?";
}

std::string_view command_name(CommandType type) {
  switch (type) {
    case CommandType::kNewOrder: return "new order";
    case CommandType::kCancel: return "cancel";
    case CommandType::kReplace: return "replace";
    case CommandType::kMassCancel: return "mass cancel";
    case CommandType::kEndOfDay: return "end of day";
    case CommandType::kSetInstrumentStatus: return "status change";
    case CommandType::kAddInstrument: return "new instrument";
    default: return "command";  // commands the demo does not send
  }
}

// ---------------------------------------------------------------------------
// Numbers.

// Decimal places a value of `step` (at `scale`) needs: tick 0.01 at scale 4
// (100) needs 2.
int decimals_of(std::int64_t step, int scale) {
  int decimals = scale;
  while (decimals > 0 && step % 10 == 0) {
    step /= 10;
    --decimals;
  }
  return decimals;
}

// Like format_decimal, but without trailing zeros beyond `min_decimals`:
// prices print with as many decimals as the tick has ("227.60"), finer
// values (a cash balance) with as many as they need.
std::string format_at_least(std::int64_t value, int scale, int min_decimals) {
  std::string text = format_decimal(value, scale);
  if (scale == 0) return text;
  const std::size_t point = text.find('.');
  std::size_t end = text.size();
  while (end > point + 1 + static_cast<std::size_t>(min_decimals) && text[end - 1] == '0') --end;
  if (end == point + 1) end = point;
  text.resize(end);
  return text;
}

// What the demo knows of a listed instrument, learnt from InstrumentAdded.
struct Listing {
  std::string symbol;
  int price_scale = 0;
  int quantity_scale = 0;
  int price_decimals = 0;     // of the tick
  int quantity_decimals = 0;  // of the lot

  std::string price(Price p) const { return format_at_least(p, price_scale, price_decimals); }
  std::string quantity(Quantity q) const {
    return format_at_least(q, quantity_scale, quantity_decimals);
  }
};

// An order ticket as a trader writes it, amounts as text at the
// instrument's scales: buy(kCarol, "250", "AAPL").at("227.65").ioc().
// The type follows from what is given: a price alone is LIMIT, a stop alone
// STOP, both STOP_LIMIT; market() makes a MARKET IOC.
struct OrderText {
  AccountId account = 0;
  Side side = Side::kBuy;
  std::string_view symbol{};
  std::string_view quantity{};    // empty with a quote quantity
  std::string_view price{};       // LIMIT, STOP_LIMIT
  std::string_view stop_price{};  // STOP, STOP_LIMIT
  std::string_view display{};     // iceberg: the visible part
  std::string_view quote{};       // MARKET BUY IOC: cash to spend
  bool is_market = false;
  TimeInForce tif = TimeInForce::kGtc;
  StpMode stp = StpMode::kCancelTaker;
  bool is_post_only = false;

  OrderText at(std::string_view p) const {
    return with([p](OrderText& o) { o.price = p; });
  }
  OrderText stop(std::string_view p) const {
    return with([p](OrderText& o) { o.stop_price = p; });
  }
  OrderText market() const {
    return with([](OrderText& o) {
      o.is_market = true;
      o.tif = TimeInForce::kIoc;
    });
  }
  OrderText showing(std::string_view q) const {
    return with([q](OrderText& o) { o.display = q; });
  }
  OrderText day() const {
    return with([](OrderText& o) { o.tif = TimeInForce::kDay; });
  }
  OrderText ioc() const {
    return with([](OrderText& o) { o.tif = TimeInForce::kIoc; });
  }
  OrderText fok() const {
    return with([](OrderText& o) { o.tif = TimeInForce::kFok; });
  }
  OrderText post_only() const {
    return with([](OrderText& o) { o.is_post_only = true; });
  }
  OrderText self_trade(StpMode mode) const {
    return with([mode](OrderText& o) { o.stp = mode; });
  }

  OrderType type() const {
    if (is_market) return OrderType::kMarket;
    if (stop_price.empty()) return OrderType::kLimit;
    return price.empty() ? OrderType::kStop : OrderType::kStopLimit;
  }

 private:
  template <typename Change>
  OrderText with(Change change) const {
    OrderText copy = *this;
    change(copy);
    return copy;
  }
};

OrderText buy(AccountId account, std::string_view quantity, std::string_view symbol) {
  OrderText o;
  o.account = account;
  o.side = Side::kBuy;
  o.quantity = quantity;
  o.symbol = symbol;
  return o;
}

OrderText sell(AccountId account, std::string_view quantity, std::string_view symbol) {
  OrderText o = buy(account, quantity, symbol);
  o.side = Side::kSell;
  return o;
}

// A market buy that spends `cash` (quote quantity) rather than buying a quantity.
OrderText buy_for(AccountId account, std::string_view cash, std::string_view symbol) {
  OrderText o = buy(account, "", symbol).market();
  o.quote = cash;
  return o;
}

// ---------------------------------------------------------------------------
// The sequencer of the demo: numbers and stamps commands, applies them,
// prints what comes out.

class Demo {
 public:
  explicit Demo(std::ostream& out) : out_(out) {}

  void section(std::string_view title) { out_ << "\n=== " << title << " ===\n"; }

  void list(std::string_view symbol, std::string_view tick, std::string_view lot,
            std::string_view reference, int price_scale, int quantity_scale) {
    AddInstrument spec{};
    spec.symbol = Symbol::from(symbol);
    spec.price_scale = static_cast<std::uint8_t>(price_scale);
    spec.quantity_scale = static_cast<std::uint8_t>(quantity_scale);
    spec.tick_size = amount(tick, price_scale, "tick");
    spec.lot_size = amount(lot, quantity_scale, "lot");
    spec.reference_price = amount(reference, price_scale, "reference price");
    run("The exchange lists " + std::string(symbol), spec);
  }

  void set_status(std::string_view note, std::string_view symbol, InstrumentStatus status) {
    run(note, SetInstrumentStatus{instrument_id(symbol), status});
  }

  // Returns the id the engine gave the order, 0 if it was rejected.
  OrderId submit(std::string_view note, const OrderText& text) {
    const InstrumentId id = instrument_id(text.symbol);
    const Listing& l = listings_[id];
    NewOrder order{};
    order.account = text.account;
    order.instrument = id;
    order.side = text.side;
    order.type = text.type();
    order.time_in_force = text.tif;
    order.stp = text.stp;
    order.post_only = text.is_post_only;
    order.quantity = amount(text.quantity, l.quantity_scale, "quantity");
    order.price = amount(text.price, l.price_scale, "price");
    order.stop_price = amount(text.stop_price, l.price_scale, "stop price");
    order.display_quantity = amount(text.display, l.quantity_scale, "display quantity");
    order.quote_quantity = amount(text.quote, l.price_scale, "quote quantity");
    for (const Event& e : run(note, order)) {
      if (e.type == EventType::kAccepted) return e.accepted.order_id;
    }
    return 0;
  }

  void cancel(std::string_view note, AccountId account, OrderId order) {
    run(note, Cancel{account, order});
  }

  // `quantity` and `price` may be empty (unchanged).
  void replace(std::string_view note, AccountId account, OrderId order, std::string_view quantity,
               std::string_view price) {
    const auto view = engine_.order(order);
    if (!view) {
      fail("replace of order #" + std::to_string(order) + ", which is not open");
      return;
    }
    const Listing& l = listings_[view->instrument];
    Replace r{};
    r.account = account;
    r.order_id = order;
    r.quantity = amount(quantity, l.quantity_scale, "quantity");
    r.price = amount(price, l.price_scale, "price");
    run(note, r);
  }

  void print_books(std::size_t levels) {
    section("Books (top " + std::to_string(levels) + " levels)");
    for (const auto& [id, listing] : listings_) print_book(id, listing, levels);
  }

  void print_trades() {
    section("Trades");
    out_ << "  trade  time          symbol    quantity       price  buyer        seller"
            "       aggressor\n";
    for (const Event& e : trades_) {
      const TradeEvent& t = e.trade;
      const Listing& l = listings_[t.instrument];
      const bool taker_buys = t.aggressor == Side::kBuy;
      const std::string buyer = party(taker_buys ? t.taker_account : t.maker_account,
                                      taker_buys ? t.taker_order : t.maker_order);
      const std::string seller = party(taker_buys ? t.maker_account : t.taker_account,
                                       taker_buys ? t.maker_order : t.taker_order);
      std::string id = "T";  // not "T" + ...: GCC 12 reports a false -Wrestrict there
      id += std::to_string(t.trade_id);
      out_ << "  " << std::left << std::setw(6) << id << ' ' << std::setw(13)
           << time_of_day(e.timestamp) << ' ' << std::setw(6) << l.symbol << std::right
           << std::setw(12) << l.quantity(t.quantity) << std::setw(12) << l.price(t.price) << "  "
           << std::left << std::setw(12) << buyer << ' ' << std::setw(12) << seller << ' '
           << side_name(t.aggressor) << std::right << '\n';
    }
    out_ << "  " << trades_.size() << " trades\n";
  }

  // Prints the run's totals; returns the exit status of the demo.
  int finish() {
    section("Summary");
    out_ << "  commands " << seq_ << ", events " << event_count_ << ", trades " << trades_.size()
         << ", open orders " << engine_.open_orders() << "\n  state hash 0x" << std::hex
         << std::setfill('0') << std::setw(16) << engine_.state_hash() << std::dec
         << std::setfill(' ') << '\n';
    for (const std::string& e : errors_) out_ << "  ERROR: " << e << '\n';
    return errors_.empty() ? 0 : 1;
  }

 private:
  // Numbers, stamps and applies one command; prints it and its events.
  template <typename Body>
  std::vector<Event> run(std::string_view note, const Body& body) {
    const Command command = Command::make(++seq_, clock_.next(), body);
    out_ << "\n[#" << command.seq << ' ' << time_of_day(command.timestamp) << "] " << note << '\n';
    std::vector<Event> events;
    engine_.apply(command, events);
    event_count_ += events.size();
    for (const Event& e : events) print_event(e);
    if (std::string broken = engine_.check_invariants(); !broken.empty()) {
      fail("after command #" + std::to_string(command.seq) + ": " + broken);
    }
    return events;
  }

  void fail(std::string message) {
    out_ << "    !! " << message << '\n';
    errors_.push_back(std::move(message));
  }

  // Empty text is an absent (zero) field.
  std::int64_t amount(std::string_view text, int scale, std::string_view what) {
    if (text.empty()) return 0;
    const DecimalResult r = parse_decimal(text, scale);
    if (!r.ok()) {
      fail(std::string(what) + " \"" + std::string(text) +
           "\": " + std::string(to_string(r.error)));
    }
    return r.value;
  }

  InstrumentId instrument_id(std::string_view symbol) {
    const auto id = engine_.find_symbol(symbol);
    if (!id) fail("unknown symbol " + std::string(symbol));
    return id.value_or(0);
  }

  static std::string party(AccountId account, OrderId order) {
    return account_name(account) + " #" + std::to_string(order);
  }

  std::string order_description(OrderId id, const NewOrder& o) {
    const Listing& l = listings_[o.instrument];
    std::ostringstream s;
    s << '#' << id << ' ' << account_name(o.account) << ' ' << side_name(o.side) << ' ';
    if (o.quote_quantity != 0) {
      s << "for " << l.price(o.quote_quantity) << " of";
    } else {
      s << l.quantity(o.quantity);
    }
    s << ' ' << l.symbol << ' ' << type_name(o.type) << ' ' << tif_name(o.time_in_force);
    if (o.price != 0) s << " @ " << l.price(o.price);
    if (o.stop_price != 0) s << " stop " << l.price(o.stop_price);
    if (o.display_quantity != 0) s << ", iceberg showing " << l.quantity(o.display_quantity);
    if (o.post_only) s << ", post-only";
    if (o.stp != StpMode::kCancelTaker) s << ", self-trade " << stp_name(o.stp);
    return s.str();
  }

  void print_event(const Event& e) {
    out_ << "    ";
    switch (e.type) {
      case EventType::kInstrumentAdded: {
        const auto& a = e.instrument_added;
        Listing l;
        l.symbol = std::string(a.spec.symbol.view());
        l.price_scale = a.spec.price_scale;
        l.quantity_scale = a.spec.quantity_scale;
        l.price_decimals = decimals_of(a.spec.tick_size, l.price_scale);
        l.quantity_decimals = decimals_of(a.spec.lot_size, l.quantity_scale);
        out_ << "listed     " << l.symbol << " as instrument " << a.instrument << ": tick "
             << l.price(a.spec.tick_size) << ", lot " << l.quantity(a.spec.lot_size)
             << ", reference " << l.price(a.spec.reference_price) << ", market band "
             << format_decimal_trimmed(a.spec.market_band_bps, 2) << "%";
        listings_[a.instrument] = std::move(l);
        break;
      }
      case EventType::kInstrumentStatus:
        out_ << "status     " << listings_[e.instrument_status.instrument].symbol << " is now "
             << status_name(e.instrument_status.status);
        break;
      case EventType::kAccepted:
        if (e.accepted.order.quote_quantity != 0) quote_orders_.insert(e.accepted.order_id);
        out_ << "accepted   " << order_description(e.accepted.order_id, e.accepted.order);
        break;
      case EventType::kRejected: {
        const auto& r = e.rejected;
        out_ << "REJECTED   " << command_name(r.command) << " of " << account_name(r.account);
        if (r.order_id != 0) out_ << " for #" << r.order_id;
        out_ << ": " << to_string(r.reason);
        break;
      }
      case EventType::kTrade: {
        const auto& t = e.trade;
        const Listing& l = listings_[t.instrument];
        trades_.push_back(e);
        out_ << "TRADE      T" << t.trade_id << ' ' << l.symbol << ' ' << l.quantity(t.quantity)
             << " @ " << l.price(t.price) << ": " << party(t.taker_account, t.taker_order)
             << (t.aggressor == Side::kBuy ? " buys from " : " sells to ")
             << party(t.maker_account, t.maker_order) << " (maker leaves "
             << l.quantity(t.maker_leaves) << ", taker leaves "
             << leaves(t.taker_order, t.instrument, t.taker_leaves) << ')';
        break;
      }
      case EventType::kCancelled: {
        const auto& c = e.cancelled;
        out_ << "cancelled  #" << c.order_id << ' ' << account_name(c.account) << ' '
             << listings_[c.instrument].symbol << ": " << to_string(c.reason) << ", "
             << leaves(c.order_id, c.instrument, c.leaves) << " unfilled";
        break;
      }
      case EventType::kReduced: {
        const auto& r = e.reduced;
        const Listing& l = listings_[r.instrument];
        out_ << "reduced    #" << r.order_id << ' ' << account_name(r.account) << ' ' << l.symbol
             << " by " << l.quantity(r.reduced_by) << " (self-trade), " << l.quantity(r.leaves)
             << " left";
        break;
      }
      case EventType::kReplaced: {
        const auto& r = e.replaced;
        const Listing& l = listings_[r.instrument];
        out_ << "replaced   #" << r.order_id << ' ' << account_name(r.account) << ' ' << l.symbol
             << ": quantity " << l.quantity(r.quantity);
        if (r.price != 0) out_ << " @ " << l.price(r.price);
        if (r.stop_price != 0) out_ << " stop " << l.price(r.stop_price);
        out_ << ", " << l.quantity(r.leaves) << " left, " << (r.kept_priority ? "kept" : "lost")
             << " time priority";
        break;
      }
      case EventType::kStopTriggered: {
        const auto& s = e.stop_triggered;
        const Listing& l = listings_[s.instrument];
        out_ << "triggered  #" << s.order_id << ' ' << account_name(s.account) << ' ' << l.symbol
             << " stop elected (last trade " << l.price(s.last_price) << ')';
        break;
      }
      case EventType::kBookLevel: {
        const auto& b = e.book_level;
        const Listing& l = listings_[b.instrument];
        out_ << "book       " << l.symbol << ' ' << (b.side == Side::kBuy ? "bid " : "ask ")
             << l.price(b.price) << ": ";
        if (b.count == 0) {
          out_ << "level gone";
        } else {
          out_ << l.quantity(b.quantity) << " in " << b.count
               << (b.count == 1 ? " order" : " orders");
        }
        break;
      }
      case EventType::kMassCancelled: {
        const auto& m = e.mass_cancelled;
        out_ << "mass-cancelled " << m.count << " orders of " << account_name(m.account) << " on "
             << (m.instrument == 0 ? "every instrument" : listings_[m.instrument].symbol);
        break;
      }
      case EventType::kDayEnded:
        out_ << "day ended: " << e.day_ended.expired << " orders expired";
        break;
      default:  // events of commands the demo does not send: the generic form
        out_ << to_string(e);
        break;
    }
    out_ << '\n';
  }

  // An order's leaves: cash at price scale for a quote-quantity order.
  std::string leaves(OrderId order, InstrumentId instrument, std::int64_t value) {
    const Listing& l = listings_[instrument];
    if (quote_orders_.contains(order)) return l.price(value) + " cash";
    return l.quantity(value);
  }

  void print_book(InstrumentId id, const Listing& l, std::size_t levels) {
    const auto view = engine_.instrument(id);
    if (!view) return;
    out_ << '\n'
         << l.symbol << "  " << status_name(view->status) << ", reference "
         << l.price(view->spec.reference_price) << ", last trade "
         << (view->last_price == 0 ? std::string("none") : l.price(view->last_price)) << '\n';
    const auto bids = engine_.depth(id, Side::kBuy, levels);
    const auto asks = engine_.depth(id, Side::kSell, levels);
    out_ << "  orders    quantity     bid   |   ask       quantity  orders\n";
    for (std::size_t i = 0; i < std::max(bids.size(), asks.size()); ++i) {
      std::ostringstream row;
      row << "  ";
      if (i < bids.size()) {
        row << std::setw(6) << bids[i].count << std::setw(12) << l.quantity(bids[i].quantity)
            << std::setw(8) << l.price(bids[i].price);
      } else {
        row << std::string(26, ' ');
      }
      row << "   |   ";
      if (i < asks.size()) {
        row << std::left << std::setw(8) << l.price(asks[i].price) << std::right << std::setw(10)
            << l.quantity(asks[i].quantity) << std::setw(8) << asks[i].count;
      }
      std::string text = row.str();
      text.erase(text.find_last_not_of(' ') + 1);
      out_ << text << '\n';
    }
    if (bids.empty() && asks.empty()) out_ << "  (empty)\n";
  }

  Engine engine_;
  std::ostream& out_;
  FakeClock clock_;
  SeqNo seq_ = 0;
  std::size_t event_count_ = 0;
  std::map<InstrumentId, Listing> listings_;
  std::set<OrderId> quote_orders_;
  std::vector<Event> trades_;
  std::vector<std::string> errors_;
};

// ---------------------------------------------------------------------------
// The script. Every step names what it shows; the comments give what the
// rules in docs/design.md make of it.

// The orders of Alice's that the script amends later.
struct AliceQuotes {
  OrderId aapl_bid_227_20 = 0;
  OrderId aapl_offer_227_70 = 0;
  OrderId aapl_offer_227_80 = 0;
};

AliceQuotes open_books(Demo& d) {
  d.section("Listing");
  d.list("AAPL", "0.01", "1", "227.50", 4, 0);
  d.list("MSFT", "0.01", "1", "415.00", 4, 0);
  d.list("GOOGL", "0.01", "1", "165.25", 4, 0);

  d.section("Alice makes markets");
  AliceQuotes quotes;
  d.submit("Alice bids for AAPL", buy(kAlice, "100", "AAPL").at("227.40"));
  d.submit("Alice bids lower", buy(kAlice, "200", "AAPL").at("227.30"));
  quotes.aapl_bid_227_20 =
      d.submit("Alice bids lower still", buy(kAlice, "300", "AAPL").at("227.20"));
  d.submit("Alice offers AAPL", sell(kAlice, "100", "AAPL").at("227.60"));
  quotes.aapl_offer_227_70 =
      d.submit("Alice offers higher", sell(kAlice, "200", "AAPL").at("227.70"));
  quotes.aapl_offer_227_80 =
      d.submit("Alice offers higher still", sell(kAlice, "300", "AAPL").at("227.80"));
  d.submit("Bob joins the best bid, behind Alice", buy(kBob, "150", "AAPL").at("227.40"));

  d.submit("Alice bids for MSFT", buy(kAlice, "50", "MSFT").at("414.90"));
  d.submit("Alice bids lower", buy(kAlice, "80", "MSFT").at("414.80"));
  d.submit("Alice offers MSFT", sell(kAlice, "50", "MSFT").at("415.10"));
  d.submit("Alice offers higher", sell(kAlice, "80", "MSFT").at("415.20"));
  d.submit("Bob offers MSFT for the day", sell(kBob, "40", "MSFT").at("415.30").day());

  d.submit("Alice bids for GOOGL", buy(kAlice, "300", "GOOGL").at("165.20"));
  d.submit("Alice bids lower", buy(kAlice, "500", "GOOGL").at("165.10"));
  d.submit("Alice offers GOOGL", sell(kAlice, "300", "GOOGL").at("165.30"));
  d.submit("Alice offers higher", sell(kAlice, "500", "GOOGL").at("165.40"));
  return quotes;
}

void trade_aapl(Demo& d) {
  d.section("AAPL: every kind of order");
  d.submit("Bob hides a large offer: an iceberg of 500 showing 100",
           sell(kBob, "500", "AAPL").at("227.65").showing("100"));
  // Takes Alice's 100 @ 227.60, then 100 + 50 of the iceberg, which refreshes.
  d.submit("Carol crosses the spread: buys 250 up to 227.65",
           buy(kCarol, "250", "AAPL").at("227.65"));
  // Sweeps 227.40 (Alice first, then Bob: time priority) and part of 227.30.
  d.submit("Dave sells 300 at market", sell(kDave, "300", "AAPL").market());
  d.submit("Carol protects her position: sell 100 at market if AAPL trades at 227.25 or lower",
           sell(kCarol, "100", "AAPL").stop("227.25"));
  // 150 trade at 227.30; the other 250 are cancelled, never rested.
  d.submit("Dave sells 400 immediate-or-cancel at 227.30 or better",
           sell(kDave, "400", "AAPL").at("227.30").ioc());
  // The trade at 227.20 elects Carol's stop, which sells at market at once.
  d.submit("Dave sells 100 at 227.20: the print triggers Carol's stop",
           sell(kDave, "100", "AAPL").at("227.20").day());
  // Only 350 (the whole iceberg) + 200 are offered up to 227.70.
  d.submit("Carol wants 1000 fill-or-kill up to 227.70: not enough, nothing trades",
           buy(kCarol, "1000", "AAPL").at("227.70").fok());
  d.submit("Carol wants 400 fill-or-kill up to 227.70: fills, draining the iceberg",
           buy(kCarol, "400", "AAPL").at("227.70").fok());
  d.submit("Bob posts a post-only bid at 227.70: it would take, so it is cancelled",
           buy(kBob, "100", "AAPL").at("227.70").post_only());
  d.submit("Bob posts a post-only bid at 227.25: it rests",
           buy(kBob, "100", "AAPL").at("227.25").post_only());
  d.submit("Dave bids at 227.255: not on the 0.01 tick", buy(kDave, "10", "AAPL").at("227.255"));
}

void amend_aapl(Demo& d, const AliceQuotes& alice) {
  d.section("AAPL: cancel and replace");
  d.cancel("Alice pulls her 227.80 offer", kAlice, alice.aapl_offer_227_80);
  d.cancel("Dave tries to cancel Alice's 227.70 offer: not his", kDave, alice.aapl_offer_227_70);
  // 300 in total with 200 filled: 50 left, same price, so it keeps its place.
  d.replace("Alice trims her 227.20 bid to 250 in total", kAlice, alice.aapl_bid_227_20, "250", "");
  // A new price always loses time priority.
  d.replace("Alice moves her 227.70 offer to 227.75, 300 in total", kAlice, alice.aapl_offer_227_70,
            "300", "227.75");
}

void trade_msft(Demo& d) {
  d.section("MSFT: a cash order, self-trade prevention, a halt");
  // 50 @ 415.10 (20755.00), then 22 @ 415.20 (9134.40): 110.60 cannot buy one more.
  d.submit("Carol spends 30000.00 on MSFT at market", buy_for(kCarol, "30000.00", "MSFT"));
  // Takes Alice's 58 @ 415.20, then meets Bob's own offer at 415.30: that one is cancelled.
  d.submit("Bob buys 100 up to 415.30, cancelling his own offer rather than trading with it",
           buy(kBob, "100", "MSFT").at("415.30").self_trade(StpMode::kCancelMaker));
  d.set_status("The exchange halts MSFT", "MSFT", InstrumentStatus::kHalted);
  d.submit("Dave tries to sell during the halt", sell(kDave, "10", "MSFT").at("415.00"));
  d.set_status("MSFT resumes trading", "MSFT", InstrumentStatus::kTrading);
  d.submit("Dave sells 10 at 415.00 or better: gets Bob's 415.30",
           sell(kDave, "10", "MSFT").at("415.00"));
}

void trade_googl(Demo& d) {
  d.section("GOOGL: a stop-limit");
  d.submit("Carol will buy 200 up to 165.60 if GOOGL trades at 165.50 or higher",
           buy(kCarol, "200", "GOOGL").stop("165.50").at("165.60").day());
  d.submit("Bob offers 100 at 165.55", sell(kBob, "100", "GOOGL").at("165.55").day());
  // 300 @ 165.30, 500 @ 165.40, 100 @ 165.55; the 165.55 print elects the
  // stop-limit, which finds no offer up to 165.60 and rests as a bid.
  d.submit("Dave buys 900 immediate-or-cancel up to 165.55",
           buy(kDave, "900", "GOOGL").at("165.55").ioc());
  d.submit("Alice offers GOOGL again", sell(kAlice, "400", "GOOGL").at("165.80"));
}

}  // namespace

int run_demo(std::ostream& out) {
  out << "Stox demo: a scripted session through one matching engine.\n"
         "Accounts: Alice (market maker), Bob, Carol, Dave. Prices at scale 4, tick 0.01;\n"
         "quantities in whole shares. Order ids (#n) and trade ids (Tn) come from the engine.\n";
  Demo d(out);
  const AliceQuotes alice = open_books(d);
  trade_aapl(d);
  amend_aapl(d, alice);
  trade_msft(d);
  trade_googl(d);
  d.print_books(5);
  d.print_trades();
  return d.finish();
}

}  // namespace stox
