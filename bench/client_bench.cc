// client_bench: how fast an application thread can call sluice::Client::Log(), and what
// reaches the server. One thread logs `--records` records as fast as it can, then flushes.
//
//   client_bench --target 127.0.0.1:4317 --records 2000000
// Prints calls/s of Log() on the application thread, records dropped because the buffer
// was full, and the end-to-end rate until every record was acknowledged.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "sluice/client.h"

ABSL_FLAG(std::string, target, "127.0.0.1:4317", "ingest address host:port");
ABSL_FLAG(int64_t, records, 2000000, "Log() calls to make");
ABSL_FLAG(int64_t, buffer, 100000, "ClientOptions::max_buffered_records");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sluice::ClientOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.max_buffered_records = static_cast<size_t>(absl::GetFlag(FLAGS_buffer));
  const int64_t records = absl::GetFlag(FLAGS_records);
  sluice::Client client(options);
  const std::string message(200, 'm');

  const absl::Time start = absl::Now();
  for (int64_t i = 0; i < records; ++i) {
    client.Log(sluice::v1::LEVEL_INFO, "bench.client", message,
               {{"user_id", "u-7001"}, {"status", 200}, {"latency_ms", 12.5}, {"cached", true}});
  }
  const absl::Duration logging = absl::Now() - start;
  const absl::Status flushed = client.Flush(absl::Now() + absl::Seconds(60));
  const absl::Duration total = absl::Now() - start;
  const sluice::ClientStats stats = client.stats();
  const double calls_per_second = static_cast<double>(records) / absl::ToDoubleSeconds(logging);
  std::printf("Log(): %lld calls in %.3f s on one thread: %.0f calls/s\n",
              static_cast<long long>(records), absl::ToDoubleSeconds(logging), calls_per_second);
  std::printf("dropped (buffer full): %llu; acknowledged: %llu in %.3f s (%.0f records/s)%s\n",
              static_cast<unsigned long long>(stats.dropped_buffer_full),
              static_cast<unsigned long long>(stats.acked_records), absl::ToDoubleSeconds(total),
              static_cast<double>(stats.acked_records) / absl::ToDoubleSeconds(total),
              flushed.ok() ? "" : " (flush deadline passed)");
  std::printf(
      "RESULT {\"calls\":%lld,\"calls_per_s\":%.0f,\"dropped\":%llu,\"acked\":%llu,"
      "\"end_to_end_per_s\":%.0f}\n",
      static_cast<long long>(records), calls_per_second,
      static_cast<unsigned long long>(stats.dropped_buffer_full),
      static_cast<unsigned long long>(stats.acked_records),
      static_cast<double>(stats.acked_records) / absl::ToDoubleSeconds(total));
  return flushed.ok() ? 0 : 1;
}
