// The `sluice` command's help and exit codes: the table of its commands, from which
// `sluice --help`, `sluice <command> --help` and the bash completion script
// (`sluice completion bash`) are printed, and the mapping from a failed call to an exit
// code. Used by main() and by every subcommand.
#ifndef SLUICE_CLIENT_CLI_USAGE_H_
#define SLUICE_CLIENT_CLI_USAGE_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sluice::cli {

// Exit codes, documented in --help (kExitCodesHelp) and the same for every command.
inline constexpr int kExitOk = 0;
// The command ran but did not get what it asked for: records not all acknowledged, a
// health check not SERVING, a tap ended by the server.
inline constexpr int kExitFailure = 1;
// The command line was wrong.
inline constexpr int kExitUsage = 2;
// The server could not be reached or did not answer in time (UNAVAILABLE,
// DEADLINE_EXCEEDED).
inline constexpr int kExitConnection = 3;
// The server answered and refused the call: any other gRPC status (INVALID_ARGUMENT,
// UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED, NOT_FOUND, ...).
inline constexpr int kExitRefused = 4;
// A drain (drain, shutdown) did not complete before its deadline.
inline constexpr int kExitDrainIncomplete = 5;

// One command of `sluice`: what --help says about it and what completion offers.
struct Command {
  std::string name;
  // The arguments after the name: "get | set <logger-prefix> <level> | clear <prefix>".
  std::string synopsis = {};
  std::string description = {};
  // Words completion offers right after the command ("get", "set", "clear").
  std::vector<std::string> actions = {};
  // The flags the command reads, without "--", besides the connection flags.
  std::vector<std::string> flags = {};
};

// Every command, in the order --help lists them.
const std::vector<Command>& Commands();
// nullptr when there is no such command.
const Command* FindCommand(absl::string_view name);

// The whole usage: every command, the flags, the environment and the exit codes.
void PrintUsage(std::FILE* out);
// One command's usage, with the flags it reads and the connection flags.
void PrintCommandUsage(const Command& command, std::FILE* out);

// Prints "sluice: <problem>" and a pointer to --help to stderr; returns kExitUsage.
int UsageError(absl::string_view problem);

// kExitConnection or kExitRefused for a failed call's status (never kExitOk).
int ExitCodeFor(absl::StatusCode code);
// Prints "sluice: <what>: <status code name>: <message>" to stderr; returns ExitCodeFor.
int CallFailed(absl::string_view what, absl::StatusCode code, absl::string_view message);

// A bash completion script for `sluice`, made from Commands(): `source <(sluice
// completion bash)`.
std::string BashCompletionScript();

}  // namespace sluice::cli

#endif  // SLUICE_CLIENT_CLI_USAGE_H_
