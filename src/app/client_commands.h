// `stox order|cancel|orders|book|account`: a command-line client of a
// running server's REST API (src/client/http_client.h).
//
// Each prints the response JSON on out (`book`: a price ladder) and returns
// the process exit code: 0 on a 2xx answer; 1 on an error answer (its code
// and message on err) or when the server cannot be reached; 2 on a usage
// error (a message on err; the dispatcher adds kClientUsage).
#pragma once

#include <iosfwd>
#include <string_view>
#include <vector>

namespace stox {

// Usage lines for the dispatcher's help text, in the style of main.cc's.
extern const std::string_view kClientUsage;

// True for the command names run_client_command() handles.
bool is_client_command(std::string_view name);

// args[0] is the command name ("order", ...), the rest its arguments.
// --server URL defaults to $STOX_SERVER, else http://127.0.0.1:8080;
// --key KEY defaults to $STOX_API_KEY (none: no Authorization header).
int run_client_command(const std::vector<std::string_view>& args, std::ostream& out,
                       std::ostream& err);

}  // namespace stox
