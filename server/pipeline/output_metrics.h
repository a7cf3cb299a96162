// OutputMetrics: what the pipeline and the output senders count per output, registered
// once at start-up and for each output a reload adds. The buffer gauges are OutputCollector's, read
// at scrape time.
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
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
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
  // One output's counters. Its address is stable for the life of the OutputMetrics, so a
  // sender keeps it while a reload adds outputs.
  class Counters {
   public:
    void OnWritten(size_t records, absl::Duration took) {
      sent_->Increment(static_cast<double>(records));
      duration_->Observe(absl::ToDoubleSeconds(took));
    }
    void OnFailedAttempt(size_t records) { failed_->Increment(static_cast<double>(records)); }
    void OnRetry() { retries_->Increment(); }
    void OnDropped(OutputDropReason reason, size_t records) {
      dropped_[static_cast<size_t>(reason)]->Increment(static_cast<double>(records));
    }

   private:
    friend class OutputMetrics;
    prometheus::Counter* sent_;
    prometheus::Counter* failed_;
    prometheus::Counter* dropped_[kOutputDropReasons];
    prometheus::Counter* retries_;
    prometheus::Histogram* duration_;
  };

  OutputMetrics(prometheus::Registry& registry, const std::vector<std::string>& output_ids);

  // The slot of output `id`, registering its labels if it has none yet: an output that a
  // reload removes and adds again goes on counting where it was. Not thread-safe: on the
  // start-up or lifecycle thread, before the output's sender exists.
  size_t AddOutput(const std::string& id);
  // The counters of slot `output` (the constructor's ids first, in order).
  Counters& output(size_t output) { return *slots_[output]; }

  void OnBatchDone(absl::Duration since_received) {
    latency_.Observe(absl::ToDoubleSeconds(since_received));
  }
  void OnUnrouted(size_t records) { unrouted_.Increment(static_cast<double>(records)); }

 private:
  std::unique_ptr<Counters> NewCounters(const std::string& id);

  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& failed_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Histogram>& duration_;
  std::vector<std::string> ids_;
  std::vector<std::unique_ptr<Counters>> slots_;
  prometheus::Histogram& latency_;
  prometheus::Counter& unrouted_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_OUTPUT_METRICS_H_
