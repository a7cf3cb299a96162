// `sluice send`: streams records to the ingest port through sluice::Client and waits for
// the server's acknowledgements. Called by main() with the arguments after "send" and the
// values of every --field.
#ifndef SLUICE_CLIENT_CLI_SEND_COMMAND_H_
#define SLUICE_CLIENT_CLI_SEND_COMMAND_H_

#include <string>

#include "absl/types/span.h"

namespace sluice::cli {

// One record from --message, or one per line of standard input. Prints
// "sent N records (accepted a, filtered f, dropped d, rejected r)" and returns kExitOk once
// all are acknowledged; kExitFailure when the server cannot be reached or --timeout passes
// while waiting for acknowledgements, kExitUsage on bad flags.
int RunSend(absl::Span<const std::string> args, absl::Span<const std::string> fields);

}  // namespace sluice::cli

#endif  // SLUICE_CLIENT_CLI_SEND_COMMAND_H_
