// loadgen: the benchmark driver. Streams realistic records (~200-byte message, four typed
// fields) to a LogService, or exports them to an OTLP/gRPC LogsService, and prints
// records/s, MB/s, ack latency percentiles and one machine-readable "RESULT {...}" line.
// bench/run.sh runs it against sluiced and noop_sink.
//
//   loadgen --target 127.0.0.1:4317 --rpc batches --streams 4 --batch 1000 --duration 10s
//   loadgen --rpc otlp --streams 1 --in_flight 4 --batch 1000 --connections 1
#include <cstdio>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/time.h"
#include "client/loadgen/load_generator.h"

ABSL_FLAG(std::string, target, "127.0.0.1:4317", "ingest address host:port");
ABSL_FLAG(std::string, rpc, "batches",
          "push (one record per message), batches (PushBatches) or otlp (OTLP/gRPC logs Export)");
ABSL_FLAG(int, streams, 4, "concurrent streams (otlp: senders of --in_flight calls each)");
ABSL_FLAG(int, connections, 0,
          "TCP connections the streams (otlp: streams x in_flight calls) share; 0: one per "
          "stream");
ABSL_FLAG(int, in_flight, 4, "concurrent Export calls per stream (otlp only)");
ABSL_FLAG(int, batch, 100, "records per batch or Export request (not push)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "how long to run");
ABSL_FLAG(uint64_t, records, 0, "stop after this many records (0: run for --duration)");
ABSL_FLAG(int, window, 8, "unacked batches per stream at most");
ABSL_FLAG(int, message_bytes, 200, "bytes per record message");
ABSL_FLAG(double, rate, 0, "records per second over all streams (0: as fast as possible)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sluice::loadgen::LoadOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  const std::string rpc = absl::GetFlag(FLAGS_rpc);
  const std::optional<sluice::loadgen::LoadRpc> parsed = sluice::loadgen::ParseLoadRpc(rpc);
  if (!parsed.has_value()) {
    std::fprintf(stderr, "loadgen: --rpc must be push, batches or otlp, got %s\n", rpc.c_str());
    return 2;
  }
  options.rpc = *parsed;
  options.streams = absl::GetFlag(FLAGS_streams);
  options.connections = absl::GetFlag(FLAGS_connections);
  options.in_flight = absl::GetFlag(FLAGS_in_flight);
  options.batch_records = absl::GetFlag(FLAGS_batch);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.total_records = absl::GetFlag(FLAGS_records);
  options.window = absl::GetFlag(FLAGS_window);
  options.message_bytes = absl::GetFlag(FLAGS_message_bytes);
  options.rate = absl::GetFlag(FLAGS_rate);
  absl::StatusOr<sluice::loadgen::LoadResult> result = sluice::loadgen::RunLoad(options);
  if (!result.ok()) {
    std::fprintf(stderr, "loadgen: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  std::printf("%s%s\n", sluice::loadgen::FormatResult(options, *result).c_str(),
              sluice::loadgen::FormatResultLine(options, *result).c_str());
  return result->failed_streams == 0 ? 0 : 1;
}
