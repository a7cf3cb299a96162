#include "client/cli/usage.h"

#include "absl/strings/str_format.h"
#include "client/cli/connection.h"

namespace sluice::cli {

void PrintUsage(std::FILE* out) {
  absl::FPrintF(out, R"(usage: sluice [flags] <command> [arguments]

Commands:
  send [--level info] [--logger NAME] [--message TEXT] [--field key=value]...
        Sends one record with --message, otherwise one record per line of standard
        input, and waits until the server acknowledged every record.
  level get
        Prints the level table: the default threshold and the rules per logger prefix.
  level set <logger-prefix> <level> [--ttl 10m]
        Sets the threshold of a logger prefix ("" or "default": the default threshold).
        Level "unset" or "none" removes the rule. With --ttl the level applies for that
        long, then what the prefix had before applies again; without, it replaces it.
  stats
        Prints the server's counts, worker queues, draining state and parked streams.
  drain
        Stops intake and waits (up to --timeout) for the queues to empty.
  resume
        Reopens intake after a drain.
  shutdown
        Drains (up to --timeout), then stops the server.
  bench [--rpc batches|push] [--streams 4] [--batch 100] [--duration 10s] [--records N]
        [--rate R]
        Streams realistic records to --target as fast as it takes them (or at --rate
        records/s) and prints records/s, MB/s and ack latency percentiles.

Flags:
  --target host:port   ingest address (default 127.0.0.1:4317)
  --admin host:port    admin address (default 127.0.0.1:4319)
  --timeout duration   deadline for acknowledgements and admin calls (default 10s)
%s
Exit status: 0 on success; 1 when the server cannot be reached, an RPC fails, a deadline
passes or a drain does not complete; 2 on a command-line error.
)",
                ConnectionFlagsHelp());
}

int UsageError(absl::string_view problem) {
  absl::FPrintF(stderr, "sluice: %s\n\n", problem);
  PrintUsage(stderr);
  return kExitUsage;
}

}  // namespace sluice::cli
