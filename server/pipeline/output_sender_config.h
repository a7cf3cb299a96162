// OutputSenderConfig: how one output's sender buffers and retries (the `buffer`, `retry`
// and `unhealthy_after` keys of an output block, docs/CONFIG.md).
//
// Read by server/config into config::OutputConfig, handed by server/app to the pipeline,
// which gives each output's OutputSender its own copy.
#ifndef SLUICE_SERVER_PIPELINE_OUTPUT_SENDER_CONFIG_H_
#define SLUICE_SERVER_PIPELINE_OUTPUT_SENDER_CONFIG_H_

#include <cstdint>

#include "absl/time/time.h"

namespace sluice::pipeline {

// What a full output buffer does to the next batch routed to the output.
enum class WhenFull {
  kBlock,       // the worker waits for room: the scheduler's channels fill, clients are paced
  kDropNewest,  // the batch is dropped for this output alone, counted (reason buffer_full)
};

struct OutputBufferConfig {
  static constexpr uint64_t kMaxRecords = uint64_t{1} << 24;
  static constexpr uint64_t kMaxBytes = uint64_t{16} << 30;

  // Records routed to the output and not yet finished with (written, or flushed when the
  // sender waits for `flushed`), at most. An empty buffer takes one batch of any size.
  uint64_t max_records = 100000;
  // In-memory bytes of those batches, at most: each buffered batch counts its records'
  // memory and the lines formatted for this output.
  uint64_t max_bytes = uint64_t{64} << 20;
  WhenFull when_full = WhenFull::kBlock;
};

struct OutputRetryConfig {
  static constexpr absl::Duration kMinBackoff = absl::Milliseconds(1);
  static constexpr absl::Duration kMaxBackoff = absl::Hours(1);
  // The default max_elapsed under drop_newest; under block it is 0 (forever).
  static constexpr absl::Duration kDropNewestMaxElapsed = absl::Seconds(60);

  // The wait after the first failed attempt; it doubles after each further one, up to
  // max_backoff, and each wait is drawn at random from its upper half (jitter).
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  // How long one batch is retried before it is dropped for this output (reason
  // retries_exhausted). Zero: until the output takes it, or shutdown's deadline.
  absl::Duration max_elapsed = absl::ZeroDuration();
};

struct OutputSenderConfig {
  OutputBufferConfig buffer;
  OutputRetryConfig retry;
  // An output whose attempts have failed for this long is reported unhealthy (GetStats,
  // the admin health service); it never affects readiness.
  absl::Duration unhealthy_after = absl::Seconds(30);
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_OUTPUT_SENDER_CONFIG_H_
