#include "client/cli/usage.h"

#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace sluice::cli {
namespace {

// The flags every command that calls the server reads, and the environment variables
// that stand in for them; a flag given on the command line wins.
constexpr absl::string_view kConnectionHelp = R"(Connection flags:
  --target host:port       ingest address (default 127.0.0.1:4317; env SLUICE_TARGET)
  --admin host:port        admin address (default 127.0.0.1:4319; env SLUICE_ADMIN)
  --timeout duration       deadline for acknowledgements and admin calls (default 10s)
  --token-file path        bearer token for the server: the first word of the file's
                           first line that is not blank or a #comment (env
                           SLUICE_TOKEN_FILE)
  --tls-ca path            connect with TLS, trusting this CA (PEM)
  --tls-cert path          client certificate (PEM) for mTLS, with --tls-key
  --tls-key path           the client certificate's private key (PEM)
  --tls-server-name name   the name the server's certificate must carry, when it is not
                           the host of --target / --admin
)";

constexpr absl::string_view kExitCodesHelp = R"(Exit status:
  0  success
  1  the command ran but did not get what it asked for (records not all acknowledged,
     a health check not SERVING, a tap ended by the server)
  2  command-line error
  3  the server could not be reached or did not answer in time
  4  the server refused the call (bad argument, missing or wrong token, no permission)
  5  a drain or shutdown did not complete before its deadline
)";

std::vector<Command> MakeCommands() {
  return {
      {.name = "send",
       .synopsis = "[--level info] [--logger NAME] [--message TEXT] [--field key=value]...",
       .description = "Sends one record with --message, otherwise one record per line of "
                      "standard input, to --target, and waits until the server acknowledged "
                      "every record.",
       .flags = {"level", "logger", "message", "field"}},
      {.name = "level",
       .synopsis = "get | set <logger-prefix> <level>[,<level>...] [--ttl 10m] | clear "
                   "<logger-prefix>",
       .description =
           "get: prints the default threshold and every rule, with where it came from "
           "(config or admin), when it was set and when it expires.\n"
           "set: sets the rule of a logger prefix (\"\" or \"default\": the default "
           "threshold). One level is a threshold: that level and above pass. Several, "
           "comma-separated (error,debug), let exactly those levels through. With --ttl the "
           "rule applies for that long, then what the prefix had before applies again; "
           "without, it replaces what the prefix had.\n"
           "clear: removes the rule of a logger prefix, with any --ttl rules on it.",
       .actions = {"get", "set", "clear"},
       .flags = {"ttl"}},
      {.name = "stats",
       .description = "Prints the server's counts, worker queues, outputs, draining state "
                      "and parked streams."},
      {.name = "health",
       .description = "Asks the standard gRPC health service of the ingest port (\"\", "
                      "sluice.v1.LogService, the OTLP LogsService) and of the admin port "
                      "(\"\", sluice.v1.AdminService, and sluice.output.<id> of every output "
                      "GetStats lists) and prints each status. Exit status 1 unless every "
                      "one is SERVING."},
      {.name = "tap",
       .synopsis = "[--level warn] [--logger NAME] [--field key=value]... [--sample N] "
                   "[--format text|json] [--count N]",
       .description = "Prints the records the server processes as they flow (after the "
                      "post-hooks, with the fields the outputs see), one line each: those at "
                      "--level or above (default info; trace for all), of loggers under "
                      "--logger, whose fields match every --field (a value, or /regex/ found "
                      "in it), one in --sample; until interrupted, or --count records. A tap "
                      "that reads too slowly loses records (the server never waits for it) and "
                      "is told how many by a WARN record of logger sluice.tap (lost_records). "
                      "At most admin.max_taps taps are open at once.",
       .flags = {"level", "logger", "field", "sample", "format", "count"}},
      {.name = "reload",
       .description = "Makes the server read its config file again. Prints what was applied "
                      "and the settings that take a restart; a file that does not validate "
                      "is refused with the error (exit status 4) and the running config "
                      "stays."},
      {.name = "drain",
       .description = "Stops intake and waits (up to --timeout) for the queues to empty and "
                      "the outputs to flush. Intake stays closed until resume."},
      {.name = "resume", .description = "Reopens intake after a drain."},
      {.name = "shutdown", .description = "Drains (up to --timeout), then stops the server."},
      {.name = "bench",
       .synopsis = "[--rpc batches|push|otlp] [--streams 4] [--connections N] [--in_flight 4] "
                   "[--batch 100] [--duration 10s] [--records N] [--rate R]",
       .description = "Streams realistic records to --target as fast as it takes them (or at "
                      "--rate records/s) and prints records/s, MB/s and ack latency "
                      "percentiles. --rpc otlp sends OTLP/gRPC logs Export calls instead, "
                      "--in_flight at a time per stream.",
       .flags = {"rpc", "streams", "connections", "in_flight", "batch", "duration", "records",
                 "rate"}},
      {.name = "completion",
       .synopsis = "bash",
       .description = "Prints a bash completion script: source <(sluice completion bash), or "
                      "save it as /usr/share/bash-completion/completions/sluice.",
       .actions = {"bash"}},
  };
}

// Two-space indented, wrapped at 88 columns.
std::string Indented(absl::string_view text, absl::string_view indent) {
  std::string out;
  for (absl::string_view paragraph : absl::StrSplit(text, '\n')) {
    std::string line(indent);
    for (absl::string_view word : absl::StrSplit(paragraph, ' ', absl::SkipEmpty())) {
      if (line.size() > indent.size() && line.size() + 1 + word.size() > 88) {
        absl::StrAppend(&out, line, "\n");
        line = std::string(indent);
      }
      if (line.size() > indent.size()) line += ' ';
      absl::StrAppend(&line, word);
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

// "level get | set ...", or only the name when the command takes no arguments.
std::string Invocation(const Command& command) {
  return command.synopsis.empty() ? command.name
                                  : absl::StrCat(command.name, " ", command.synopsis);
}

// The help of a flag the command reads: Abseil's, or for --field (which main() takes out of
// argv itself, as Abseil flags cannot repeat) ours.
std::string FlagLine(absl::string_view name) {
  std::string help;
  if (name == "field") {
    help =
        "key=value: send: a field of every record; tap: a field the records must have "
        "(/regex/ matches a part of the value). Repeatable.";
  } else if (const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name); flag != nullptr) {
    help = flag->Help();
    if (!flag->DefaultValue().empty() && flag->DefaultValue() != "0") {
      absl::StrAppend(&help, " (default ", flag->DefaultValue(), ")");
    }
  }
  constexpr absl::string_view kIndent = "                ";
  std::string lines = Indented(help, kIndent);
  return absl::StrCat(absl::StrFormat("  --%-12s", name), lines.substr(kIndent.size()));
}

}  // namespace

const std::vector<Command>& Commands() {
  static const std::vector<Command>* const commands = new std::vector<Command>(MakeCommands());
  return *commands;
}

const Command* FindCommand(absl::string_view name) {
  for (const Command& command : Commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

void PrintUsage(std::FILE* out) {
  absl::FPrintF(out,
                "usage: sluice [flags] <command> [arguments]\n"
                "       sluice <command> --help\n\n"
                "Sends records to a Sluice server and operates it.\n\nCommands:\n");
  for (const Command& command : Commands()) {
    absl::FPrintF(out, "  %s\n%s", Invocation(command), Indented(command.description, "        "));
  }
  absl::FPrintF(out, "\n%s\n%s", kConnectionHelp, kExitCodesHelp);
}

void PrintCommandUsage(const Command& command, std::FILE* out) {
  absl::FPrintF(out, "usage: sluice [flags] %s\n\n%s", Invocation(command),
                Indented(command.description, ""));
  if (!command.flags.empty()) {
    absl::FPrintF(out, "\nFlags:\n");
    for (const std::string& flag : command.flags) absl::FPrintF(out, "%s", FlagLine(flag));
  }
  absl::FPrintF(out, "\n%s\n%s", kConnectionHelp, kExitCodesHelp);
}

int UsageError(absl::string_view problem) {
  absl::FPrintF(stderr, "sluice: %s\n(sluice --help lists the commands and flags)\n", problem);
  return kExitUsage;
}

int ExitCodeFor(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded
             ? kExitConnection
             : kExitRefused;
}

int CallFailed(absl::string_view what, absl::StatusCode code, absl::string_view message) {
  absl::FPrintF(stderr, "sluice: %s: %s: %s\n", what, absl::StatusCodeToString(code), message);
  return ExitCodeFor(code);
}

std::string BashCompletionScript() {
  std::vector<std::string> names;
  std::string cases;
  for (const Command& command : Commands()) {
    names.push_back(command.name);
    std::vector<std::string> words = command.actions;
    for (const std::string& flag : command.flags) words.push_back(absl::StrCat("--", flag));
    words.push_back("--help");
    absl::StrAppend(&cases, "    ", command.name, ") words=\"", absl::StrJoin(words, " "),
                    "\" ;;\n");
  }
  constexpr absl::string_view kScript =
      R"(# bash completion for sluice; generated by `sluice completion bash`.
_sluice() {
  local cur="${COMP_WORDS[COMP_CWORD]}" cmd="" words="" i
  # The command is the first word that is neither a flag nor a flag's value.
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      --*=*) ;;
      -*) if [[ "${COMP_WORDS[i+1]}" == "=" ]]; then ((i += 2)); else ((i++)); fi ;;
      *) cmd="${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$cmd" in
    "") if [[ "$cur" == -* ]]; then words="$CONNECTION_FLAGS --help"; else words="$COMMANDS"; fi ;;
$CASES  esac
  [[ -n "$cmd" && "$cur" == -* ]] && words="$words $CONNECTION_FLAGS"
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _sluice sluice
)";
  return absl::StrReplaceAll(
      kScript, {{"$COMMANDS", absl::StrJoin(names, " ")},
                {"$CONNECTION_FLAGS",
                 "--target --admin --timeout --token-file --tls-ca --tls-cert --tls-key "
                 "--tls-server-name"},
                {"$CASES", cases}});
}

}  // namespace sluice::cli
