// LoadGenerator: drives a LogService (sluiced or the no-op sink) as hard as asked and
// measures what it gets back: records/s, MB/s and, for PushBatches, the latency from
// writing a batch to reading its ack.
//
// Used by `sluice bench` and by bench/loadgen (the benchmark driver behind bench/run.sh).
// It lives with the client because the shipped `sluice` command is built on it; bench/
// links it from here, never the other way round.
// Each stream has its own channel and connection, so C streams are C TCP connections as
// with C independent applications. PushBatches keeps at most `window` batches unacked per
// stream, like the client library. Blocking calls on the caller's thread: RunLoad returns
// when the run is over.
#ifndef SLUICE_CLIENT_LOADGEN_LOAD_GENERATOR_H_
#define SLUICE_CLIENT_LOADGEN_LOAD_GENERATOR_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sluice/client.h"

namespace sluice::loadgen {

enum class LoadRpc { kPush, kPushBatches };

struct LoadOptions {
  std::string target = "127.0.0.1:4317";
  // Set: TLS, as sluice::Client does it. Not set: plaintext.
  std::optional<ClientTlsOptions> tls;
  // Sent as `authorization: Bearer <token>` on every stream; empty: none.
  std::string bearer_token;
  LoadRpc rpc = LoadRpc::kPushBatches;
  int streams = 4;
  // Records per LogBatch (PushBatches only).
  int batch_records = 100;
  // The run stops after `duration`, or after `total_records` when that is set (> 0).
  absl::Duration duration = absl::Seconds(10);
  uint64_t total_records = 0;
  // Unacked batches per stream at most (PushBatches only).
  int window = 8;
  // Bytes of each record's message; every record also carries four typed fields.
  int message_bytes = 200;
  // Records per second over all streams; 0 = as fast as the server takes them.
  double rate = 0;
};

struct LoadResult {
  uint64_t records = 0;  // acknowledged (PushBatches) or accepted by the summary (Push)
  uint64_t bytes = 0;    // serialized bytes of those records
  absl::Duration elapsed;
  double records_per_second = 0;
  double megabytes_per_second = 0;
  // Write-to-ack latency of PushBatches batches; zero for Push.
  absl::Duration ack_p50;
  absl::Duration ack_p99;
  absl::Duration ack_p999;
  // Streams that ended with an error.
  int failed_streams = 0;
  std::string first_error;
};

// Runs the load; an error only when not a single stream could run.
absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options);

// Readable summary, several lines.
std::string FormatResult(const LoadOptions& options, const LoadResult& result);
// One line "RESULT {...}" of JSON for scripts.
std::string FormatResultLine(const LoadOptions& options, const LoadResult& result);

}  // namespace sluice::loadgen

#endif  // SLUICE_CLIENT_LOADGEN_LOAD_GENERATOR_H_
