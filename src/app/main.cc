// The `stox` executable: a dispatcher over subcommands.
#include <algorithm>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "app/client_commands.h"
#include "app/demo.h"
#include "app/store_commands.h"
#include "server/server.h"

namespace {

constexpr std::string_view kUsage =
    "usage: stox <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  serve   run the exchange: REST + WebSocket API (see `stox serve --help`);\n"
    "          --demo lists demo instruments and accounts and runs a market maker\n"
    "  demo    run a scripted trading session through the matching engine and print\n"
    "          every event, the final books and the trades\n";

constexpr std::string_view kHelpUsage = "  help    print this message (also --help, -h)\n";

void print_usage(std::ostream& os) {
  os << kUsage << stox::kClientUsage << stox::kStoreCommandsUsage << kHelpUsage
     << stox::kStoreFlagsUsage;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc >= 2 ? argv[1] : "";
  const std::vector<std::string_view> args(argv + std::min(argc, 2), argv + argc);
  if (command == "serve") return stox::server::run_serve(args, std::cout, std::cerr);
  if (stox::is_client_command(command)) {
    std::vector<std::string_view> words(argv + 1, argv + argc);
    const int rc = stox::run_client_command(words, std::cout, std::cerr);
    if (rc == 2) print_usage(std::cerr);
    return rc;
  }
  if (command == "verify" || command == "backup") {
    const int rc = command == "verify" ? stox::run_verify(args, std::cout, std::cerr)
                                       : stox::run_backup(args, std::cout, std::cerr);
    if (rc == 2) print_usage(std::cerr);
    return rc;
  }
  if (argc == 2 && command == "demo") return stox::run_demo(std::cout);
  if (argc == 2 && (command == "help" || command == "--help" || command == "-h")) {
    print_usage(std::cout);
    return 0;
  }
  if (argc < 2) {
    std::cerr << "stox: missing command\n\n";
  } else if (command == "demo" || command == "help" || command == "--help" || command == "-h") {
    std::cerr << "stox: too many arguments\n\n";
  } else {
    std::cerr << "stox: unknown command '" << command << "'\n\n";
  }
  print_usage(std::cerr);
  return 2;
}
