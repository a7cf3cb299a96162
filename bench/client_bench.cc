// client_bench: how fast application threads can call sluice::Client::Log(), and what
// reaches the server. `--threads` threads share one Client and log `--records` records
// between them as fast as they can, then it flushes.
//
//   client_bench --target 127.0.0.1:4317 --records 2000000 --threads 4
// Prints calls/s of Log() over all application threads (from the first call to the last
// thread's last call), records dropped because the buffer was full, and the end-to-end
// rate until every record was acknowledged.
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "sluice/client.h"

ABSL_FLAG(std::string, target, "127.0.0.1:4317", "ingest address host:port");
ABSL_FLAG(int64_t, records, 2000000, "Log() calls to make over all threads");
ABSL_FLAG(int64_t, buffer, 100000, "ClientOptions::max_buffered_records");
ABSL_FLAG(int, threads, 1, "application threads calling Log() on the one Client");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sluice::ClientOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.max_buffered_records = static_cast<size_t>(absl::GetFlag(FLAGS_buffer));
  const int64_t records = absl::GetFlag(FLAGS_records);
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads < 1) {
    std::fprintf(stderr, "client_bench: --threads must be at least 1\n");
    return 2;
  }
  sluice::Client client(options);
  const std::string message(200, 'm');

  const absl::Time start = absl::Now();
  std::vector<std::thread> loggers;
  for (int t = 0; t < threads; ++t) {
    // The remainder goes to the first thread, so the calls add up to --records.
    const int64_t share = records / threads + (t == 0 ? records % threads : 0);
    loggers.emplace_back([&client, &message, share] {
      for (int64_t i = 0; i < share; ++i) {
        client.Log(
            sluice::v1::LEVEL_INFO, "bench.client", message,
            {{"user_id", "u-7001"}, {"status", 200}, {"latency_ms", 12.5}, {"cached", true}});
      }
    });
  }
  for (std::thread& logger : loggers) logger.join();
  const absl::Duration logging = absl::Now() - start;
  const absl::Status flushed = client.Flush(absl::Now() + absl::Seconds(60));
  const absl::Duration total = absl::Now() - start;
  const sluice::ClientStats stats = client.stats();
  const double calls_per_second = static_cast<double>(records) / absl::ToDoubleSeconds(logging);
  std::printf("Log(): %lld calls in %.3f s on %d threads: %.0f calls/s\n",
              static_cast<long long>(records), absl::ToDoubleSeconds(logging), threads,
              calls_per_second);
  std::printf("dropped (buffer full): %llu; acknowledged: %llu in %.3f s (%.0f records/s)%s\n",
              static_cast<unsigned long long>(stats.dropped_buffer_full),
              static_cast<unsigned long long>(stats.acked_records), absl::ToDoubleSeconds(total),
              static_cast<double>(stats.acked_records) / absl::ToDoubleSeconds(total),
              flushed.ok() ? "" : " (flush deadline passed)");
  std::printf(
      "RESULT {\"calls\":%lld,\"threads\":%d,\"calls_per_s\":%.0f,\"dropped\":%llu,"
      "\"acked\":%llu,\"end_to_end_per_s\":%.0f}\n",
      static_cast<long long>(records), threads, calls_per_second,
      static_cast<unsigned long long>(stats.dropped_buffer_full),
      static_cast<unsigned long long>(stats.acked_records),
      static_cast<double>(stats.acked_records) / absl::ToDoubleSeconds(total));
  return flushed.ok() ? 0 : 1;
}
