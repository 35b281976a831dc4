// The `stox` executable: a dispatcher over subcommands.
#include <iostream>
#include <string_view>

#include "app/demo.h"

namespace {

constexpr std::string_view kUsage =
    "usage: stox <command>\n"
    "\n"
    "commands:\n"
    "  demo    run a scripted trading session through the matching engine and print\n"
    "          every event, the final books and the trades\n"
    "  help    print this message (also --help, -h)\n";

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc == 2 ? argv[1] : "";
  if (command == "demo") return stox::run_demo(std::cout);
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (argc < 2) {
    std::cerr << "stox: missing command\n\n";
  } else if (argc > 2) {
    std::cerr << "stox: too many arguments\n\n";
  } else {
    std::cerr << "stox: unknown command '" << command << "'\n\n";
  }
  std::cerr << kUsage;
  return 2;
}
