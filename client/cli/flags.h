// The command-line flags of the `sluice` command: defined once in flags.cc, read by the
// subcommands. `--field` is repeatable, which Abseil flags are not, so main() takes its
// occurrences out of argv (ExtractRepeatedFlag) before Abseil parses the rest.
#ifndef SLUICE_CLIENT_CLI_FLAGS_H_
#define SLUICE_CLIENT_CLI_FLAGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(std::string, admin);
ABSL_DECLARE_FLAG(absl::Duration, timeout);
ABSL_DECLARE_FLAG(std::string, level);
ABSL_DECLARE_FLAG(std::string, logger);
ABSL_DECLARE_FLAG(std::optional<std::string>, message);
ABSL_DECLARE_FLAG(absl::Duration, ttl);

namespace sluice::cli {

// Removes every `--name value`, `--name=value` (or single-dash) occurrence before a "--"
// from argv, shifting the rest down and updating argc, and returns the values in order.
// A trailing `--name` without a value is left in place for the flag parser to reject.
std::vector<std::string> ExtractRepeatedFlag(absl::string_view name, int& argc, char** argv);

}  // namespace sluice::cli

#endif  // SLUICE_CLIENT_CLI_FLAGS_H_
