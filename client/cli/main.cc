// The `sluice` command: sends records to a Sluice server and operates it. Parses the
// command line and dispatches to the subcommand; the subcommands live beside this file.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/cli/admin_commands.h"
#include "client/cli/bench_command.h"
#include "client/cli/flags.h"
#include "client/cli/send_command.h"
#include "client/cli/tap_command.h"
#include "client/cli/usage.h"

namespace {

using ::sluice::cli::ExtractRepeatedFlag;
using ::sluice::cli::kExitOk;
using ::sluice::cli::kExitUsage;
using ::sluice::cli::PrintUsage;
using ::sluice::cli::UsageError;

// Abseil's --help lists only flags; ours lists the subcommands as well.
bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") return false;
    if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "help") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> fields = ExtractRepeatedFlag("field", argc, argv);
  if (WantsHelp(argc, argv)) {
    PrintUsage(stdout);
    return kExitOk;
  }
  absl::SetProgramUsageMessage("sends records to a Sluice server and operates it; see --help");
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  const std::string command = positional[1];
  const std::vector<std::string> args(positional.begin() + 2, positional.end());
  if (command != "send" && command != "tap" && !fields.empty()) {
    return UsageError(absl::StrCat(command, ": --field only applies to send and tap"));
  }
  if (command == "send") return sluice::cli::RunSend(args, fields);
  if (command == "level") return sluice::cli::RunLevel(args);
  if (command == "stats") return sluice::cli::RunStats(args);
  if (command == "drain") return sluice::cli::RunDrain(args);
  if (command == "resume") return sluice::cli::RunResume(args);
  if (command == "shutdown") return sluice::cli::RunShutdown(args);
  if (command == "bench") return sluice::cli::RunBench(args);
  if (command == "tap") return sluice::cli::RunTap(args, fields);
  return UsageError(absl::StrCat("unknown command \"", command, "\""));
}
