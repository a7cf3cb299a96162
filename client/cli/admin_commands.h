// The operator subcommands of `sluice`, each one AdminService call on the --admin address:
// `level get|set`, `stats`, `drain`, `resume`, `shutdown`. Called by main() with the
// arguments after the subcommand name.
//
// Each prints the response readably to stdout and returns kExitOk. A failed call prints
// "sluice: <method>: <status code name>: <message>" to stderr and returns kExitFailure;
// wrong arguments return kExitUsage.
#ifndef SLUICE_CLIENT_CLI_ADMIN_COMMANDS_H_
#define SLUICE_CLIENT_CLI_ADMIN_COMMANDS_H_

#include <memory>
#include <string>

#include "absl/types/span.h"
#include "sluice/v1/admin.grpc.pb.h"

namespace sluice::cli {

// A stub on the --admin address, as every admin subcommand connects.
std::unique_ptr<v1::AdminService::Stub> AdminStub();

// `level get` prints one line per rule: "default  INFO", "checkout  DEBUG  (expires in
// 9m59s)". `level set <prefix> <level>` prints the table after the change.
int RunLevel(absl::Span<const std::string> args);

int RunStats(absl::Span<const std::string> args);

// kExitFailure too when the drain did not complete before the deadline.
int RunDrain(absl::Span<const std::string> args);

int RunResume(absl::Span<const std::string> args);

// kExitFailure too when the drain before the shutdown did not complete.
int RunShutdown(absl::Span<const std::string> args);

}  // namespace sluice::cli

#endif  // SLUICE_CLIENT_CLI_ADMIN_COMMANDS_H_
