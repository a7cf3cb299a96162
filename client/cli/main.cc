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
#include "client/cli/connection.h"
#include "client/cli/flags.h"
#include "client/cli/reload_command.h"
#include "client/cli/send_command.h"
#include "client/cli/tap_command.h"
#include "client/cli/usage.h"

namespace {

using ::sluice::cli::Command;
using ::sluice::cli::ExtractRepeatedFlag;
using ::sluice::cli::FindCommand;
using ::sluice::cli::kExitOk;
using ::sluice::cli::kExitUsage;
using ::sluice::cli::PrintCommandUsage;
using ::sluice::cli::PrintUsage;
using ::sluice::cli::UsageError;

bool IsHelpFlag(absl::string_view arg) {
  return arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpfull";
}

// Abseil's --help lists only flags; ours lists the commands as well, and `sluice <command>
// --help` (or `sluice help <command>`) the command's own usage. Returns whether help was
// asked for; the command is the first argument that names one.
bool PrintHelpIfAsked(int argc, char** argv) {
  bool asked = false;
  const Command* command = nullptr;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (IsHelpFlag(arg) || (arg == "help" && command == nullptr)) {
      asked = true;
    } else if (command == nullptr) {
      command = FindCommand(arg);
    }
  }
  if (!asked) return false;
  if (command != nullptr) {
    PrintCommandUsage(*command, stdout);
  } else {
    PrintUsage(stdout);
  }
  return true;
}

int RunCompletion(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "bash") {
    return UsageError("completion: expected \"bash\"");
  }
  std::fputs(sluice::cli::BashCompletionScript().c_str(), stdout);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> fields = ExtractRepeatedFlag("field", argc, argv);
  sluice::cli::ExtractConnectionFlags(argc, argv);
  if (PrintHelpIfAsked(argc, argv)) return kExitOk;
  absl::SetProgramUsageMessage("sends records to a Sluice server and operates it; see --help");
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) return UsageError("expected a command");
  const std::string command = positional[1];
  const std::vector<std::string> args(positional.begin() + 2, positional.end());
  if (command != "send" && command != "tap" && !fields.empty()) {
    return UsageError(absl::StrCat(command, ": --field only applies to send and tap"));
  }
  if (command == "send") return sluice::cli::RunSend(args, fields);
  if (command == "level") return sluice::cli::RunLevel(args);
  if (command == "stats") return sluice::cli::RunStats(args);
  if (command == "health") return sluice::cli::RunHealth(args);
  if (command == "drain") return sluice::cli::RunDrain(args);
  if (command == "resume") return sluice::cli::RunResume(args);
  if (command == "shutdown") return sluice::cli::RunShutdown(args);
  if (command == "bench") return sluice::cli::RunBench(args);
  if (command == "tap") return sluice::cli::RunTap(args, fields);
  if (command == "reload") return sluice::cli::RunReload(args);
  if (command == "completion") return RunCompletion(args);
  return UsageError(absl::StrCat("unknown command \"", command, "\""));
}
