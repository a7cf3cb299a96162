// `sluice reload`: asks the server on --admin to read its config file again
// (AdminService.Reload). Called by main() with the arguments after the subcommand name.
//
// Prints what the reload applied and the settings that differ but take a restart, and
// returns kExitOk. A refused reload (a file that does not load or validate: the server
// keeps its running config) or a failed call prints "sluice: Reload: <code>: <message>" to
// stderr and returns kExitRefused (kExitConnection when the server cannot be reached);
// arguments return kExitUsage.
#ifndef SLUICE_CLIENT_CLI_RELOAD_COMMAND_H_
#define SLUICE_CLIENT_CLI_RELOAD_COMMAND_H_

#include <string>

#include "absl/types/span.h"

namespace sluice::cli {

int RunReload(absl::Span<const std::string> args);

}  // namespace sluice::cli

#endif  // SLUICE_CLIENT_CLI_RELOAD_COMMAND_H_
