// `sluice bench`: load for a running server, from the command line or a container
// (docker-compose.yml's producer). A thin front end to client/loadgen/load_generator.h, the
// same load generator bench/run.sh measures Sluice with.
#ifndef SLUICE_CLIENT_CLI_BENCH_COMMAND_H_
#define SLUICE_CLIENT_CLI_BENCH_COMMAND_H_

#include <string>

#include "absl/types/span.h"

namespace sluice::cli {

// Runs the load against --target with --rpc, --streams, --batch, --duration (0 = until
// --records), --records, --rate; prints the result and a RESULT line. kExitFailure when
// no stream could run.
int RunBench(absl::Span<const std::string> args);

}  // namespace sluice::cli

#endif  // SLUICE_CLIENT_CLI_BENCH_COMMAND_H_
