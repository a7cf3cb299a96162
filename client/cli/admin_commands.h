// The operator subcommands of `sluice`, AdminService calls on the --admin address:
// `level get|set|clear`, `stats`, `health`, `drain`, `resume`, `shutdown`. Called by main()
// with the arguments after the subcommand name.
//
// Each prints the response readably to stdout and returns kExitOk. A failed call prints
// "sluice: <method>: <status code name>: <message>" to stderr and returns kExitConnection
// or kExitRefused (usage.h); wrong arguments return kExitUsage.
#ifndef SLUICE_CLIENT_CLI_ADMIN_COMMANDS_H_
#define SLUICE_CLIENT_CLI_ADMIN_COMMANDS_H_

#include <memory>
#include <string>

#include "absl/types/span.h"
#include "sluice/v1/admin.grpc.pb.h"

namespace sluice::cli {

// A stub on the --admin address, as every admin subcommand connects.
std::unique_ptr<v1::AdminService::Stub> AdminStub();

// `level get` prints one line per rule: "default  INFO  config, set <time>", "checkout
// DEBUG,ERROR  admin, set <time>  (expires in 9m59s, at <time>)". `level set <prefix>
// <level>[,<level>...]` and `level clear <prefix>` print the table after the change.
int RunLevel(absl::Span<const std::string> args);

int RunStats(absl::Span<const std::string> args);

// The grpc.health.v1 status of the ingest port's and the admin port's services and of
// every output; kExitFailure unless all are SERVING.
int RunHealth(absl::Span<const std::string> args);

// kExitDrainIncomplete when the drain did not complete before the deadline.
int RunDrain(absl::Span<const std::string> args);

int RunResume(absl::Span<const std::string> args);

// kExitDrainIncomplete when the drain before the shutdown did not complete.
int RunShutdown(absl::Span<const std::string> args);

}  // namespace sluice::cli

#endif  // SLUICE_CLIENT_CLI_ADMIN_COMMANDS_H_
