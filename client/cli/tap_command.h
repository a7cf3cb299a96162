// `sluice tap`: watches the records flowing through a Sluice server (AdminService.Tap)
// and prints one line per record, as text or JSON. Called by main() with the arguments after
// "tap" and the values of every --field.
#ifndef SLUICE_CLIENT_CLI_TAP_COMMAND_H_
#define SLUICE_CLIENT_CLI_TAP_COMMAND_H_

#include <string>

#include "absl/types/span.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::cli {

// Streams until --count records arrived (0: until interrupted) and returns kExitOk;
// kExitFailure when the server ends the tap (it stops), kExitConnection when it cannot be
// reached, kExitRefused when it refuses the tap (too many taps, a bad --field pattern, a
// token), kExitUsage on bad flags.
int RunTap(absl::Span<const std::string> args, absl::Span<const std::string> fields);

// One output line of `record` (without the newline): `text` like the text encoding
// ("2026-11-22T10:00:00.123456Z WARN checkout: message key=value"), or `json`, one object.
std::string FormatTapText(const v1::LogRecord& record);
std::string FormatTapJson(const v1::LogRecord& record);

}  // namespace sluice::cli

#endif  // SLUICE_CLIENT_CLI_TAP_COMMAND_H_
