#include "client/cli/bench_command.h"

#include <cstdio>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "client/cli/connection.h"
#include "client/cli/flags.h"
#include "client/cli/usage.h"
#include "client/loadgen/load_generator.h"

ABSL_FLAG(std::string, rpc, "batches",
          "bench: push (one record per message), batches (PushBatches) or otlp (OTLP/gRPC logs "
          "Export).");
ABSL_FLAG(int, streams, 4, "bench: concurrent streams (otlp: senders of --in_flight calls each).");
ABSL_FLAG(int, connections, 0,
          "bench: TCP connections the streams (otlp: streams x in_flight calls) share; 0: one "
          "per stream.");
ABSL_FLAG(int, in_flight, 4, "bench: concurrent Export calls per stream (otlp only).");
ABSL_FLAG(int, batch, 100, "bench: records per batch or Export request (not push).");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "bench: how long to run; with --records, whichever ends first.");
ABSL_FLAG(uint64_t, records, 0, "bench: stop after this many records (0: run for --duration).");
ABSL_FLAG(double, rate, 0, "bench: records per second over all streams (0: as fast as possible).");

namespace sluice::cli {

int RunBench(absl::Span<const std::string> args) {
  if (!args.empty()) return UsageError(absl::StrCat("bench: unexpected argument ", args[0]));
  loadgen::LoadOptions options;
  ConfigureLoad(options);
  const std::string rpc = absl::GetFlag(FLAGS_rpc);
  const std::optional<loadgen::LoadRpc> parsed = loadgen::ParseLoadRpc(rpc);
  if (!parsed.has_value()) {
    return UsageError(absl::StrCat("bench: --rpc must be push, batches or otlp, got ", rpc));
  }
  options.rpc = *parsed;
  options.streams = absl::GetFlag(FLAGS_streams);
  options.connections = absl::GetFlag(FLAGS_connections);
  options.in_flight = absl::GetFlag(FLAGS_in_flight);
  options.batch_records = absl::GetFlag(FLAGS_batch);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.total_records = absl::GetFlag(FLAGS_records);
  options.rate = absl::GetFlag(FLAGS_rate);
  absl::StatusOr<loadgen::LoadResult> result = loadgen::RunLoad(options);
  if (!result.ok()) {
    std::fprintf(stderr, "sluice: bench: %s\n", std::string(result.status().message()).c_str());
    return kExitFailure;
  }
  std::printf("%s%s\n", loadgen::FormatResult(options, *result).c_str(),
              loadgen::FormatResultLine(options, *result).c_str());
  return result->failed_streams == 0 ? kExitOk : kExitFailure;
}

}  // namespace sluice::cli
