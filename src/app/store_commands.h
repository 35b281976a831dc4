// `stox verify` and `stox backup`: the command-line side of src/store.
// Each returns the process exit code: 0 all good, 1 a check or an I/O
// operation failed, 2 a usage error (message and usage on err).
#pragma once

#include <iosfwd>
#include <span>
#include <string_view>

namespace stox {

// Usage lines for the dispatcher's help text: the commands, and their flags.
extern const std::string_view kStoreCommandsUsage;
extern const std::string_view kStoreFlagsUsage;

// args: the arguments after the subcommand name.
int run_verify(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_backup(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace stox
