// The usage text of the `sluice` command and the exit codes its subcommands return.
#ifndef SLUICE_CLIENT_CLI_USAGE_H_
#define SLUICE_CLIENT_CLI_USAGE_H_

#include <cstdio>

#include "absl/strings/string_view.h"

namespace sluice::cli {

inline constexpr int kExitOk = 0;
// The server was unreachable, an RPC failed, a deadline passed or a drain did not complete.
inline constexpr int kExitFailure = 1;
// The command line was wrong.
inline constexpr int kExitUsage = 2;

void PrintUsage(std::FILE* out);

// Prints "sluice: <problem>" and the usage to stderr; returns kExitUsage.
int UsageError(absl::string_view problem);

}  // namespace sluice::cli

#endif  // SLUICE_CLIENT_CLI_USAGE_H_
