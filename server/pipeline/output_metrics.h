// OutputMetrics: what the pipeline and the output senders count per output, registered
// once at start-up. The buffer gauges are OutputCollector's, read at scrape time.
//
//   sluice_output_records_sent_total{output}             records an output took
//   sluice_output_records_send_failed_total{output}      records of failed write attempts
//   sluice_output_records_dropped_total{output,reason}   records given up on
//   sluice_output_retries_total{output}                  attempts repeated after an error
//   sluice_output_write_duration_seconds{output}         time per Write call (histogram)
//   sluice_record_latency_seconds                        receive to written, per batch
//   sluice_pipeline_records_unrouted_total               records no output was routed
#ifndef SLUICE_SERVER_PIPELINE_OUTPUT_METRICS_H_
#define SLUICE_SERVER_PIPELINE_OUTPUT_METRICS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace sluice::pipeline {

// Why an output's sender gave up on a batch; the `reason` label.
enum class OutputDropReason {
  kPermanentError = 0,    // the output refused it (not UNAVAILABLE or DEADLINE_EXCEEDED)
  kRetriesExhausted = 1,  // retry.max_elapsed passed
  kBufferFull = 2,        // buffer.when_full: drop_newest, and the buffer was full
  kShutdown = 3,          // still unwritten when shutdown's deadline passed
};
inline constexpr size_t kOutputDropReasons = 4;

// The label value: "permanent_error", "retries_exhausted", "buffer_full", "shutdown".
absl::string_view OutputDropReasonName(OutputDropReason reason);

class OutputMetrics {
 public:
  OutputMetrics(prometheus::Registry& registry, const std::vector<std::string>& output_ids);

  void OnWritten(size_t output, size_t records, absl::Duration took) {
    slots_[output].sent->Increment(static_cast<double>(records));
    slots_[output].duration->Observe(absl::ToDoubleSeconds(took));
  }
  void OnFailedAttempt(size_t output, size_t records) {
    slots_[output].failed->Increment(static_cast<double>(records));
  }
  void OnRetry(size_t output) { slots_[output].retries->Increment(); }
  void OnDropped(size_t output, OutputDropReason reason, size_t records) {
    slots_[output].dropped[static_cast<size_t>(reason)]->Increment(static_cast<double>(records));
  }
  void OnBatchDone(absl::Duration since_received) {
    latency_.Observe(absl::ToDoubleSeconds(since_received));
  }
  void OnUnrouted(size_t records) { unrouted_.Increment(static_cast<double>(records)); }

 private:
  struct Slot {
    prometheus::Counter* sent;
    prometheus::Counter* failed;
    prometheus::Counter* dropped[kOutputDropReasons];
    prometheus::Counter* retries;
    prometheus::Histogram* duration;
  };
  std::vector<Slot> slots_;
  prometheus::Histogram& latency_;
  prometheus::Counter& unrouted_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_OUTPUT_METRICS_H_
