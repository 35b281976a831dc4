// WsHub: WebSocket subscriptions and market-data fan-out, on the engine
// thread (docs/design.md, "WebSocket API").
//
// Messages are built here and queued to each subscriber's WsSink (which
// never blocks). Changes are collected per engine batch (publish() after
// each command) and sent at the end of the batch (flush()): one message per
// channel and symbol (per account for orders) whose "data" is the array of
// that batch's changes, built once and shared by every subscriber. Under
// load that turns thousands of tiny frames per subscriber into one per
// batch, which is what makes fan-out to a thousand subscribers affordable.
//
// Because the hub runs on the engine thread, a depth snapshot sent on
// subscribe and the updates after it are cut at exactly the same point
// (the core flushes before running any read): the first update after a
// snapshot carries snapshot.sequence + 1.
//
// Slow consumers (the sink's buffer is over its soft limit, SendResult::
// kDropped): market data is conflated, never queued without bound —
//   depth   updates of that symbol stop; once the buffer has drained a new
//           snapshot is sent (type "snapshot"), so the client's book is
//           whole again and its sequence check passes;
//   quotes  the latest top of book is sent once drained;
//   trades  trades are events, not state: the client gets
//           {"type":"gap","missed":N} once drained and can GET /trades.
// Private order updates are never dropped: a consumer too slow for them is
// disconnected by its sink with a reason ("slow consumer").
//
// Thread-safety: none; engine thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "marketdata/projections.h"
#include "server/http_types.h"
#include "server/request_parser.h"

namespace stox::server {

struct HubOptions {
  std::size_t resync_below_bytes = std::size_t{64} * 1024;  // a lagging sink is resynced below this
  std::size_t max_symbols_per_connection = 200;
  std::size_t max_snapshot_levels = 5000;      // per side
};

struct HubStats {
  std::uint64_t connections = 0;
  std::uint64_t subscriptions = 0;
  std::uint64_t messages = 0;   // queued to sinks
  std::uint64_t conflated = 0;  // market-data messages dropped for a slow consumer
};

class WsHub {
 public:
  explicit WsHub(const HubOptions& options = {}) : options_(options) {}

  // A new connection; account 0 = no API key (public channels only).
  void attach(std::shared_ptr<WsSink> sink, AccountId account);
  // Applies a subscribe/unsubscribe of connection `sink_id` and answers it
  // on that connection ({"type":"subscribed",...} or {"type":"error",...}).
  void handle(std::uint64_t sink_id, const WsRequest& request, const marketdata::Projections& md);
  // After the projections applied one command's events: collects its depth
  // updates, quotes, trades and order updates for flush().
  void publish(const marketdata::Projections& md);
  // Sends what publish() collected since the last flush. The core calls it
  // at the end of each batch and before any read (a subscribe must not see
  // updates older than its snapshot).
  void flush(const marketdata::Projections& md);
  // After each batch: forgets closed connections, resyncs drained laggards.
  void service(const marketdata::Projections& md);

  HubStats stats() const { return stats_; }

 private:
  enum Public : std::uint8_t { kQuotes = 0, kTrades = 1, kDepth = 2, kPublicChannels = 3 };
  struct Conn {
    std::shared_ptr<WsSink> sink;
    AccountId account = 0;
    std::set<InstrumentId> subs[kPublicChannels];
    bool orders = false;
    std::set<InstrumentId> stale_depth, stale_quotes;
    std::map<InstrumentId, std::uint64_t> missed_trades;
    bool lagging = false;
    bool dead = false;
  };
  using Message = std::shared_ptr<const std::string>;

  static void reply_error(Conn& c, std::string_view code, std::string_view message);
  void subscribe_public(Conn& c, Public channel, const std::vector<InstrumentId>& ids,
                        const marketdata::Projections& md);
  void unsubscribe_public(Conn& c, Public channel, const std::vector<InstrumentId>& ids);
  void send_snapshot(Conn& c, InstrumentId id, const marketdata::Projections& md);
  void send_quote(Conn& c, InstrumentId id, const marketdata::Projections& md);
  // Queues market data; on kDropped marks the connection lagging.
  bool send_market(Conn& c, const Message& m);
  // `trades`: how many trades m carries (counted as missed if dropped).
  void fan_out(Public channel, InstrumentId id, const Message& m, std::uint64_t trades);
  void send_orders(AccountId account, const Message& m);
  // The comma-separated JSON items collected for one message.
  struct Pending {
    std::string items;
    std::size_t count = 0;
  };
  void resync(Conn& c, const marketdata::Projections& md);
  void forget(std::uint64_t id);
  Conn* find(std::uint64_t id);

  HubOptions options_;
  std::unordered_map<std::uint64_t, Conn> conns_;
  std::unordered_map<InstrumentId, std::vector<std::uint64_t>> subscribers_[kPublicChannels];
  std::unordered_map<AccountId, std::vector<std::uint64_t>> order_subscribers_;
  std::map<InstrumentId, Pending> pending_[kPublicChannels];  // ordered: deterministic output
  std::map<AccountId, Pending> pending_orders_;
  HubStats stats_;
};

}  // namespace stox::server
