// Server: `stox serve`, the whole exchange in one process. Server::start is
// the one place where the pipeline is wired (docs/design.md, "The server"):
//
//   Transport (I/O threads) ─▶ Api (auth, limits, parse) ─▶ Core queue
//     ─▶ engine thread (sequencer ▸ journal ▸ engine ▸ projections)
//     ─▶ Responders / WsHub ─▶ Transport (I/O threads) ─▶ clients
//
// Tests start a Server in-process on port 0; `stox serve` starts one and
// waits for SIGINT or SIGTERM.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/config.h"

namespace stox::server {

class Api;
class Core;
class KeyStore;

class Server {
 public:
  // Recovers the data directory, starts the engine thread and the network.
  // With config.demo, sets up the demo market on an empty directory and
  // starts its market maker. Start-up messages (listening address, a newly
  // generated admin key, demo keys) go to `log`.
  static Result<std::unique_ptr<Server>> start(const ServerConfig& config, std::ostream& log);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Clean shutdown: the market maker, then the network (no new requests),
  // then the engine thread (answers what is queued, writes a snapshot).
  void stop();

  std::uint16_t port() const;
  std::string base_url() const;  // http://host:port
  const std::string& admin_key() const;
  Core& core();
  KeyStore& keys();

  struct Parts;

 private:
  explicit Server(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// `stox serve [flags]`: runs until SIGINT/SIGTERM. Exit status 0 after a
// clean shutdown, 1 if start-up failed, 2 on a usage error.
int run_serve(const std::vector<std::string_view>& args, std::ostream& out, std::ostream& err);

}  // namespace stox::server
