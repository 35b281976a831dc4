#include "marketdata/json_views.h"

namespace stox::marketdata {

namespace {

std::string_view side_name(Side s) {
  switch (s) {
    case Side::kBuy: return "BUY";
    case Side::kSell: return "SELL";
  }
  return {};
}

std::string_view type_name(OrderType t) {
  switch (t) {
    case OrderType::kLimit: return "LIMIT";
    case OrderType::kMarket: return "MARKET";
    case OrderType::kStop: return "STOP";
    case OrderType::kStopLimit: return "STOP_LIMIT";
  }
  return {};
}

std::string_view tif_name(TimeInForce t) {
  switch (t) {
    case TimeInForce::kDay: return "DAY";
    case TimeInForce::kGtc: return "GTC";
    case TimeInForce::kIoc: return "IOC";
    case TimeInForce::kFok: return "FOK";
  }
  return {};
}

// The scales and symbol of an instrument; scale 0 and no symbol if unknown
// (a rejected order for an unknown symbol).
struct Scales {
  const InstrumentInfo* info;
  int price;
  int quantity;
};

Scales scales_of(InstrumentId id, const JsonContext& ctx) {
  const InstrumentInfo* i = ctx.instruments.find(id);
  return i == nullptr ? Scales{nullptr, 0, 0} : Scales{i, i->price_scale(), i->quantity_scale()};
}

void symbol(JsonWriter& w, const Scales& s) {
  w.key("symbol");
  if (s.info == nullptr) {
    w.null();
  } else {
    w.string(s.info->symbol());
  }
}

void text_or_null(JsonWriter& w, std::string_view key, std::string_view text) {
  w.key(key);
  if (text.empty()) {
    w.null();
  } else {
    w.string(text);
  }
}

// A decimal, or null when the value is absent (0).
void decimal_or_null(JsonWriter& w, std::string_view key, std::int64_t v, int scale) {
  w.key(key);
  if (v == 0) {
    w.null();
  } else {
    w.decimal(v, scale);
  }
}

void order_fill(JsonWriter& w, const Fill& f, const Scales& s, const JsonContext& ctx) {
  w.begin_object();
  w.key("tradeId").unsigned_integer(f.trade_id);
  w.key("price").decimal(f.price, s.price);
  w.key("quantity").decimal(f.quantity, s.quantity);
  w.key("fee").decimal(f.fee, ctx.cash_scale);
  w.key("liquidity").string(to_string(f.liquidity));
  w.end_object();
}

template <class Fills>
void order(JsonWriter& w, const OrderState& o, const Fills& fills, const JsonContext& ctx) {
  const Scales s = scales_of(o.instrument, ctx);
  w.begin_object();
  w.key("orderId");
  if (o.id == 0) {
    w.null();
  } else {
    w.unsigned_integer(o.id);
  }
  text_or_null(w, "clientOrderId", o.client_order_id.view());
  w.key("status").string(to_string(o.status));
  symbol(w, s);
  text_or_null(w, "side", side_name(o.side));
  text_or_null(w, "type", type_name(o.type));
  text_or_null(w, "timeInForce", tif_name(o.time_in_force));
  decimal_or_null(w, "quantity", o.quantity, s.quantity);
  if (o.quote_quantity != 0) w.key("quoteQuantity").decimal(o.quote_quantity, s.price);
  w.key("filledQuantity").decimal(o.filled, s.quantity);
  decimal_or_null(w, "price", o.price, s.price);
  decimal_or_null(w, "stopPrice", o.stop_price, s.price);
  decimal_or_null(w, "averageFillPrice", o.average_fill_price().value_or(0), s.price);
  w.key("fills").begin_array();
  for (const Fill& f : fills) order_fill(w, f, s, ctx);
  w.end_array();
  w.key("cancelReason");
  if (o.status == OrderStatus::kCancelled && o.cancel_reason != CancelReason{}) {
    w.string(to_string(o.cancel_reason));
  } else {
    w.null();
  }
  if (o.status == OrderStatus::kRejected) w.key("rejectReason").string(to_string(o.reject_reason));
  w.key("createdAt").integer(o.created_at);
  w.end_object();
}

}  // namespace

void write(JsonWriter& w, const TrackedOrder& o, const JsonContext& ctx) {
  order(w, o.state, o.fills, ctx);
}

void write(JsonWriter& w, const OrderUpdate& u, const JsonContext& ctx) {
  order(w, u.state, u.fills, ctx);
}

void write(JsonWriter& w, const Fill& f, const JsonContext& ctx) {
  const Scales s = scales_of(f.instrument, ctx);
  w.begin_object();
  w.key("tradeId").unsigned_integer(f.trade_id);
  w.key("orderId").unsigned_integer(f.order_id);
  symbol(w, s);
  w.key("side").string(side_name(f.side));
  w.key("price").decimal(f.price, s.price);
  w.key("quantity").decimal(f.quantity, s.quantity);
  w.key("fee").decimal(f.fee, ctx.cash_scale);
  w.key("liquidity").string(to_string(f.liquidity));
  w.key("time").integer(f.time);
  w.end_object();
}

void write(JsonWriter& w, const DepthSnapshot& b, const JsonContext& ctx) {
  const Scales s = scales_of(b.instrument, ctx);
  const auto levels = [&](std::string_view key, const std::vector<DepthLevel>& side) {
    w.key(key).begin_array();
    for (const DepthLevel& l : side) {
      w.begin_object();
      w.key("price").decimal(l.price, s.price);
      w.key("quantity").decimal(l.quantity, s.quantity);
      w.key("orders").unsigned_integer(l.count);
      w.end_object();
    }
    w.end_array();
  };
  w.begin_object();
  symbol(w, s);
  w.key("sequence").unsigned_integer(b.sequence);
  w.key("timestamp").integer(b.time);
  levels("bids", b.bids);
  levels("asks", b.asks);
  w.key("lastTrade");
  if (b.last_trade) {
    w.begin_object();
    w.key("price").decimal(b.last_trade->price, s.price);
    w.key("quantity").decimal(b.last_trade->quantity, s.quantity);
    w.key("time").integer(b.last_trade->time);
    w.end_object();
  } else {
    w.null();
  }
  w.end_object();
}

void write(JsonWriter& w, const DepthUpdate& u, const JsonContext& ctx) {
  const Scales s = scales_of(u.instrument, ctx);
  w.begin_object();
  symbol(w, s);
  w.key("sequence").unsigned_integer(u.sequence);
  w.key("timestamp").integer(u.time);
  w.key("side").string(side_name(u.side));
  w.key("price").decimal(u.price, s.price);
  w.key("quantity").decimal(u.quantity, s.quantity);
  w.key("orders").unsigned_integer(u.count);
  w.end_object();
}

void write(JsonWriter& w, const Quote& q, const JsonContext& ctx) {
  const Scales s = scales_of(q.instrument, ctx);
  w.begin_object();
  symbol(w, s);
  w.key("sequence").unsigned_integer(q.sequence);
  w.key("timestamp").integer(q.time);
  decimal_or_null(w, "bid", q.bid_price, s.price);
  decimal_or_null(w, "bidQuantity", q.bid_quantity, s.quantity);
  decimal_or_null(w, "ask", q.ask_price, s.price);
  decimal_or_null(w, "askQuantity", q.ask_quantity, s.quantity);
  w.end_object();
}

void write(JsonWriter& w, const PublicTrade& t, const JsonContext& ctx) {
  const Scales s = scales_of(t.instrument, ctx);
  w.begin_object();
  w.key("tradeId").unsigned_integer(t.trade_id);
  symbol(w, s);
  w.key("price").decimal(t.price, s.price);
  w.key("quantity").decimal(t.quantity, s.quantity);
  w.key("side").string(side_name(t.aggressor));
  w.key("time").integer(t.time);
  w.end_object();
}

void write(JsonWriter& w, const Ticker& t, const JsonContext& ctx) {
  const Scales s = scales_of(t.instrument, ctx);
  w.begin_object();
  symbol(w, s);
  decimal_or_null(w, "bid", t.bid, s.price);
  decimal_or_null(w, "ask", t.ask, s.price);
  decimal_or_null(w, "last", t.last, s.price);
  decimal_or_null(w, "open", t.day.open, s.price);
  decimal_or_null(w, "high", t.day.high, s.price);
  decimal_or_null(w, "low", t.day.low, s.price);
  w.key("volume").decimal(t.day.volume, s.quantity);
  w.key("trades").unsigned_integer(t.day.trades);
  w.end_object();
}

void write(JsonWriter& w, InstrumentId instrument, const Candle& c, const JsonContext& ctx) {
  const Scales s = scales_of(instrument, ctx);
  w.begin_object();
  w.key("time").integer(c.open_time);
  w.key("open").decimal(c.open, s.price);
  w.key("high").decimal(c.high, s.price);
  w.key("low").decimal(c.low, s.price);
  w.key("close").decimal(c.close, s.price);
  w.key("volume").decimal(c.volume, s.quantity);
  w.key("trades").unsigned_integer(c.trades);
  w.end_object();
}

void write(JsonWriter& w, const CandleSeries& series, const JsonContext& ctx) {
  w.begin_object();
  symbol(w, scales_of(series.instrument, ctx));
  w.key("interval").string(to_string(series.interval));
  w.key("candles").begin_array();
  for (const Candle& c : series.candles) write(w, series.instrument, c, ctx);
  w.end_array();
  w.end_object();
}

OrderUpdate rejected_order(const NewOrder& request, const OrderUpdate& rejected) {
  OrderUpdate u = rejected;
  OrderState& s = u.state;
  s.instrument = request.instrument;
  s.side = request.side;
  s.type = request.type;
  s.time_in_force = request.time_in_force;
  s.post_only = request.post_only;
  s.price = request.price;
  s.stop_price = request.stop_price;
  s.quantity = request.quantity;
  s.quote_quantity = request.quote_quantity;
  s.display_quantity = request.display_quantity;
  return u;
}

}  // namespace stox::marketdata
