// JSON forms of the projections, in the field names of the server API.
//
// Conventions (every view):
//  - prices, quantities and amounts are decimal strings at their scale
//    (prices at the instrument's price scale, quantities at its quantity
//    scale, fees at the cash scale), written by JsonWriter::decimal;
//  - ids and sequence numbers are JSON integers;
//  - times are JSON integers: nanoseconds since the epoch (event time);
//  - an absent value (no price on a market order, no fill yet, no last
//    trade, an empty book side) is null, never 0.
//
// Shapes:
//   order     {orderId, clientOrderId, status, symbol, side, type, timeInForce,
//              quantity, filledQuantity, price, stopPrice, averageFillPrice,
//              fills: [{tradeId, price, quantity, fee, liquidity}],
//              cancelReason, createdAt}
//             + quoteQuantity, only on a quote-quantity market buy (its
//               quantity is null: it is sized in cash);
//             + rejectReason, only when status is REJECTED.
//   fill      (GET /fills) {tradeId, orderId, symbol, side, price, quantity,
//              fee, liquidity, time}
//   orderbook {symbol, sequence, timestamp, bids: [{price, quantity, orders}],
//              asks: [...], lastTrade: {price, quantity, time} | null}
//   depth     {symbol, sequence, timestamp, side, price, quantity, orders}
//             (one level update; quantity "0" with orders 0: level removed)
//   quote     {symbol, sequence, timestamp, bid, bidQuantity, ask, askQuantity}
//   trade     {tradeId, symbol, price, quantity, side (the taker's), time}
//   ticker    {symbol, bid, ask, last, open, high, low, volume, trades}
//   candle    {time (interval start), open, high, low, close, volume, trades}
//   candles   {symbol, interval, candles: [candle, ...]}
#pragma once

#include <string>
#include <vector>

#include "marketdata/book_view.h"
#include "marketdata/instruments.h"
#include "marketdata/json_writer.h"
#include "marketdata/order_tracker.h"
#include "marketdata/tape.h"

namespace stox::marketdata {

struct JsonContext {
  const InstrumentDirectory& instruments;
  int cash_scale = 4;  // EngineConfig::cash_scale: the scale of fees
};

void write(JsonWriter& w, const TrackedOrder& order, const JsonContext& ctx);
void write(JsonWriter& w, const OrderUpdate& update, const JsonContext& ctx);  // its batch's fills
void write(JsonWriter& w, const Fill& fill, const JsonContext& ctx);  // the GET /fills form
void write(JsonWriter& w, const DepthSnapshot& book, const JsonContext& ctx);
void write(JsonWriter& w, const DepthUpdate& update, const JsonContext& ctx);
void write(JsonWriter& w, const Quote& quote, const JsonContext& ctx);
void write(JsonWriter& w, const PublicTrade& trade, const JsonContext& ctx);
void write(JsonWriter& w, const Ticker& ticker, const JsonContext& ctx);
// A candle needs its instrument for the scales.
void write(JsonWriter& w, InstrumentId instrument, const Candle& candle, const JsonContext& ctx);

// GET /candles/{symbol}: {symbol, interval, candles: [candle, ...]} (oldest first).
struct CandleSeries {
  InstrumentId instrument = 0;
  CandleInterval interval = CandleInterval::k1m;
  std::vector<Candle> candles;
};
void write(JsonWriter& w, const CandleSeries& series, const JsonContext& ctx);

// One value as a JSON document: to_json(order, ctx).
template <class T>
std::string to_json(const T& value, const JsonContext& ctx) {
  JsonWriter w;
  write(w, value, ctx);
  return w.take();
}

// The REJECTED view of a NewOrder for the POST response: the tracker's
// update (reason, account, client order id, time) completed with the fields
// of the request, which the Rejected event does not carry.
OrderUpdate rejected_order(const NewOrder& request, const OrderUpdate& rejected);

}  // namespace stox::marketdata
