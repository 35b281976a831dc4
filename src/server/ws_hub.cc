#include "server/ws_hub.h"

#include <algorithm>
#include <utility>

#include "marketdata/json_views.h"
#include "marketdata/json_writer.h"

namespace stox::server {
namespace {

using marketdata::JsonWriter;

std::shared_ptr<const std::string> share(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

// {"channel":C,"type":T,"data":<value>}
template <class T>
std::shared_ptr<const std::string> envelope(std::string_view channel, std::string_view type,
                                            const T& value, const marketdata::JsonContext& ctx) {
  JsonWriter w;
  w.begin_object().key("channel").string(channel).key("type").string(type).key("data");
  marketdata::write(w, value, ctx);
  w.end_object();
  return share(w.take());
}

void erase_id(std::vector<std::uint64_t>& ids, std::uint64_t id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

}  // namespace

WsHub::Conn* WsHub::find(std::uint64_t id) {
  auto it = conns_.find(id);
  return it == conns_.end() || it->second.dead ? nullptr : &it->second;
}

void WsHub::attach(std::shared_ptr<WsSink> sink, AccountId account) {
  const std::uint64_t id = sink->id();
  Conn& c = conns_[id];
  c.sink = std::move(sink);
  c.account = account;
  ++stats_.connections;
}

void WsHub::reply_error(Conn& c, std::string_view code, std::string_view message) {
  JsonWriter w;
  w.begin_object().key("type").string("error").key("code").string(code);
  w.key("message").string(message).end_object();
  (void)c.sink->send(share(w.take()), MessageClass::kPrivate);
}

void WsHub::handle(std::uint64_t sink_id, const WsRequest& request,
                   const marketdata::Projections& md) {
  Conn* c = find(sink_id);
  if (c == nullptr) return;
  std::vector<InstrumentId> ids;
  for (const std::string& symbol : request.symbols) {
    const marketdata::InstrumentInfo* info = md.instruments.find(symbol);
    if (info == nullptr) return reply_error(*c, "UNKNOWN_SYMBOL", "unknown symbol: " + symbol);
    ids.push_back(info->id);
  }
  const bool subscribe = request.action == WsAction::kSubscribe;
  if (request.channel == WsChannel::kOrders) {
    if (c->account == 0) {
      return reply_error(*c, "UNAUTHORIZED",
                         "the orders channel needs an API key (Authorization: Bearer <key>)");
    }
    if (!ids.empty()) {
      return reply_error(*c, "INVALID_FIELD",
                         "symbols: the orders channel carries all of the account's orders; "
                         "send no symbols");
    }
    auto& subs = order_subscribers_[c->account];
    erase_id(subs, sink_id);
    c->orders = subscribe;
    if (subscribe) subs.push_back(sink_id);
  } else {
    if (ids.empty()) return reply_error(*c, "MISSING_FIELD", "symbols: at least one symbol");
    const Public ch = request.channel == WsChannel::kQuotes   ? kQuotes
                      : request.channel == WsChannel::kTrades ? kTrades
                                                              : kDepth;
    if (subscribe && c->subs[ch].size() + ids.size() > options_.max_symbols_per_connection) {
      return reply_error(*c, "TOO_MANY_SUBSCRIPTIONS",
                         "at most " + std::to_string(options_.max_symbols_per_connection) +
                             " symbols per channel and connection");
    }
    JsonWriter w;  // the confirmation goes out before the first data message
    w.begin_object().key("type").string(subscribe ? "subscribed" : "unsubscribed");
    w.key("channel").string(to_string(request.channel)).key("symbols").begin_array();
    for (const std::string& s : request.symbols) w.string(s);
    w.end_array().end_object();
    (void)c->sink->send(share(w.take()), MessageClass::kPrivate);
    if (subscribe) {
      subscribe_public(*c, ch, ids, md);
    } else {
      unsubscribe_public(*c, ch, ids);
    }
    return;
  }
  JsonWriter w;
  w.begin_object().key("type").string(subscribe ? "subscribed" : "unsubscribed");
  w.key("channel").string("orders").end_object();
  (void)c->sink->send(share(w.take()), MessageClass::kPrivate);
}

void WsHub::subscribe_public(Conn& c, Public channel, const std::vector<InstrumentId>& ids,
                             const marketdata::Projections& md) {
  for (InstrumentId id : ids) {
    if (!c.subs[channel].insert(id).second) continue;  // already subscribed
    subscribers_[channel][id].push_back(c.sink->id());
    ++stats_.subscriptions;
    if (channel == kDepth) send_snapshot(c, id, md);
    if (channel == kQuotes) send_quote(c, id, md);
  }
}

void WsHub::unsubscribe_public(Conn& c, Public channel, const std::vector<InstrumentId>& ids) {
  for (InstrumentId id : ids) {
    if (c.subs[channel].erase(id) == 0) continue;
    erase_id(subscribers_[channel][id], c.sink->id());
    if (channel == kDepth) c.stale_depth.erase(id);
    if (channel == kQuotes) c.stale_quotes.erase(id);
    if (channel == kTrades) c.missed_trades.erase(id);
  }
}

void WsHub::send_snapshot(Conn& c, InstrumentId id, const marketdata::Projections& md) {
  auto book = md.book.snapshot(id, options_.max_snapshot_levels);
  if (!book) return;
  if (send_market(c, envelope("depth", "snapshot", *book, md.json()))) {
    c.stale_depth.erase(id);
  } else {
    c.stale_depth.insert(id);
  }
}

void WsHub::send_quote(Conn& c, InstrumentId id, const marketdata::Projections& md) {
  // An array of one, like every later quote message.
  const marketdata::Quote top = md.book.top(id);
  const marketdata::InstrumentInfo* info = md.instruments.find(id);
  JsonWriter w;
  w.begin_object().key("channel").string("quotes").key("type").string("quote");
  w.key("symbol").string(info != nullptr ? info->symbol() : "").key("data").begin_array();
  marketdata::write(w, top, md.json());
  w.end_array().end_object();
  if (send_market(c, share(w.take()))) {
    c.stale_quotes.erase(id);
  } else {
    c.stale_quotes.insert(id);
  }
}

bool WsHub::send_market(Conn& c, const Message& m) {
  switch (c.sink->send(m, MessageClass::kMarketData)) {
    case SendResult::kQueued:
      ++stats_.messages;
      return true;
    case SendResult::kDropped:
      ++stats_.conflated;
      c.lagging = true;
      return false;
    case SendResult::kClosed:
      c.dead = true;
      return false;
  }
  return false;
}

void WsHub::fan_out(Public channel, InstrumentId id, const Message& m, std::uint64_t trades) {
  auto it = subscribers_[channel].find(id);
  if (it == subscribers_[channel].end()) return;
  for (std::uint64_t sid : it->second) {
    Conn* c = find(sid);
    if (c == nullptr) continue;
    // While a symbol is stale for this connection its updates are skipped:
    // the resync replaces them with the state.
    if (channel == kDepth) {
      if (c->stale_depth.contains(id) || !send_market(*c, m)) c->stale_depth.insert(id);
    } else if (channel == kQuotes) {
      if (c->stale_quotes.contains(id) || !send_market(*c, m)) c->stale_quotes.insert(id);
    } else {
      auto missed = c->missed_trades.find(id);
      if (missed != c->missed_trades.end()) {
        missed->second += trades;
      } else if (!send_market(*c, m)) {
        c->missed_trades[id] = trades;
      }
    }
  }
}

namespace {

template <class T>
void collect(std::string& items, const T& value, const marketdata::JsonContext& ctx) {
  JsonWriter w;
  marketdata::write(w, value, ctx);
  if (!items.empty()) items.push_back(',');
  items += w.text();
}

// {"channel":C,"type":T,"symbol":S,"data":[items]} (symbol omitted if empty)
std::shared_ptr<const std::string> batch_message(std::string_view channel, std::string_view type,
                                                 std::string_view symbol, const std::string& items) {
  JsonWriter w;
  w.begin_object().key("channel").string(channel).key("type").string(type);
  if (!symbol.empty()) w.key("symbol").string(symbol);
  w.key("data").json_value("[" + items + "]").end_object();
  return share(w.take());
}

}  // namespace

void WsHub::publish(const marketdata::Projections& md) {
  const marketdata::JsonContext ctx = md.json();
  for (const marketdata::DepthUpdate& u : md.book.updates()) {
    if (!subscribers_[kDepth].contains(u.instrument)) continue;
    collect(pending_[kDepth][u.instrument].items, u, ctx);
  }
  for (const marketdata::Quote& q : md.book.quote_changes()) {
    if (!subscribers_[kQuotes].contains(q.instrument)) continue;
    collect(pending_[kQuotes][q.instrument].items, q, ctx);
  }
  for (const marketdata::PublicTrade& t : md.tape.batch_trades()) {
    if (!subscribers_[kTrades].contains(t.instrument)) continue;
    Pending& p = pending_[kTrades][t.instrument];
    collect(p.items, t, ctx);
    ++p.count;
  }
  for (const marketdata::OrderUpdate& u : md.orders.updates()) {
    auto it = order_subscribers_.find(u.state.account);
    if (it == order_subscribers_.end() || it->second.empty()) continue;
    collect(pending_orders_[u.state.account].items, u, ctx);
  }
}

void WsHub::flush(const marketdata::Projections& md) {
  static constexpr std::string_view kTypes[] = {"quote", "trade", "update"};
  static constexpr std::string_view kNames[] = {"quotes", "trades", "depth"};
  for (std::uint8_t ch = 0; ch < kPublicChannels; ++ch) {
    for (auto& [id, p] : pending_[ch]) {
      const marketdata::InstrumentInfo* info = md.instruments.find(id);
      const std::string_view symbol = info != nullptr ? info->symbol() : std::string_view();
      fan_out(static_cast<Public>(ch), id, batch_message(kNames[ch], kTypes[ch], symbol, p.items),
              p.count);
    }
    pending_[ch].clear();
  }
  for (auto& [account, p] : pending_orders_) {
    send_orders(account, batch_message("orders", "order", "", p.items));
  }
  pending_orders_.clear();
}

void WsHub::send_orders(AccountId account, const Message& m) {
  auto it = order_subscribers_.find(account);
  if (it == order_subscribers_.end()) return;
  for (std::uint64_t sid : it->second) {
    Conn* c = find(sid);
    if (c == nullptr) continue;
    // Private: never dropped; the sink closes a consumer too slow for it.
    if (c->sink->send(m, MessageClass::kPrivate) == SendResult::kClosed) {
      c->dead = true;
    } else {
      ++stats_.messages;
    }
  }
}

void WsHub::resync(Conn& c, const marketdata::Projections& md) {
  c.lagging = false;
  for (InstrumentId id : std::vector<InstrumentId>(c.stale_depth.begin(), c.stale_depth.end())) {
    send_snapshot(c, id, md);
  }
  for (InstrumentId id : std::vector<InstrumentId>(c.stale_quotes.begin(), c.stale_quotes.end())) {
    send_quote(c, id, md);
  }
  for (auto it = c.missed_trades.begin(); it != c.missed_trades.end();) {
    const marketdata::InstrumentInfo* info = md.instruments.find(it->first);
    JsonWriter w;
    w.begin_object().key("channel").string("trades").key("type").string("gap");
    w.key("symbol").string(info != nullptr ? info->symbol() : "").key("missed");
    w.unsigned_integer(it->second).end_object();
    if (!send_market(c, share(w.take()))) break;
    it = c.missed_trades.erase(it);
  }
  c.lagging = c.lagging || !c.stale_depth.empty() || !c.stale_quotes.empty() ||
              !c.missed_trades.empty();
}

void WsHub::forget(std::uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  for (std::uint8_t ch = 0; ch < kPublicChannels; ++ch) {
    for (InstrumentId sym : c.subs[ch]) erase_id(subscribers_[ch][sym], id);
  }
  if (c.orders) erase_id(order_subscribers_[c.account], id);
  conns_.erase(it);
}

void WsHub::service(const marketdata::Projections& md) {
  std::vector<std::uint64_t> gone;
  for (auto& [id, c] : conns_) {
    if (c.dead || c.sink->closed()) {
      gone.push_back(id);
    } else if (c.lagging && c.sink->buffered_bytes() < options_.resync_below_bytes) {
      resync(c, md);
    }
  }
  for (std::uint64_t id : gone) forget(id);
}

}  // namespace stox::server
