// LoadGenerator: drives a LogService or an OTLP/gRPC LogsService (sluiced or the no-op
// sink) as hard as asked and measures what it gets back: records/s, MB/s and, for
// PushBatches and OTLP Export, the latency from sending a batch to its ack.
//
// Used by `sluice bench` and by bench/loadgen (the benchmark driver behind bench/run.sh).
// It lives with the client because the shipped `sluice` command is built on it; bench/
// links it from here, never the other way round.
// By default each stream has its own channel and connection, so C streams are C TCP
// connections as with C independent applications; `connections` spreads them over fewer
// (HTTP/2 multiplexes the streams of one connection). PushBatches keeps at most `window`
// batches unacked per stream, like the client library; an OTLP stream keeps `in_flight`
// unary Export calls outstanding through gRPC's callback API. Blocking calls on the
// caller's thread: RunLoad returns when the run is over.
#ifndef SLUICE_CLIENT_LOADGEN_LOAD_GENERATOR_H_
#define SLUICE_CLIENT_LOADGEN_LOAD_GENERATOR_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sluice/client.h"

namespace sluice::loadgen {

enum class LoadRpc { kPush, kPushBatches, kOtlpExport };

// "push", "batches" or "otlp", as loadgen's and `sluice bench`'s --rpc spell them; nullopt
// for any other name.
std::optional<LoadRpc> ParseLoadRpc(absl::string_view name);

struct LoadOptions {
  std::string target = "127.0.0.1:4317";
  // Set: TLS, as sluice::Client does it. Not set: plaintext.
  std::optional<ClientTlsOptions> tls;
  // Sent as `authorization: Bearer <token>` on every stream; empty: none.
  std::string bearer_token;
  LoadRpc rpc = LoadRpc::kPushBatches;
  int streams = 4;
  // TCP connections the calls are spread over, in even blocks (the calls are the streams,
  // or streams x in_flight for OTLP); 0: one per stream.
  int connections = 0;
  // Concurrent Export calls per stream (OTLP only).
  int in_flight = 4;
  // Records per LogBatch or per Export request (not Push).
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
  // Acknowledged (PushBatches), accepted by the summary (Push) or answered without being
  // counted in a partial_success (OTLP).
  uint64_t records = 0;
  uint64_t bytes = 0;  // serialized bytes of those records
  absl::Duration elapsed;
  double records_per_second = 0;
  double megabytes_per_second = 0;
  // Send-to-ack latency of PushBatches batches and OTLP Export calls; zero for Push.
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
