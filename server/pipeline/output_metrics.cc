#include "server/pipeline/output_metrics.h"

namespace sluice::pipeline {
namespace {

// Seconds: from 50 µs (a buffered file append) to 10 s (a stuck network output).
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
  return *buckets;
}

}  // namespace

absl::string_view OutputDropReasonName(OutputDropReason reason) {
  switch (reason) {
    case OutputDropReason::kPermanentError:
      return "permanent_error";
    case OutputDropReason::kRetriesExhausted:
      return "retries_exhausted";
    case OutputDropReason::kBufferFull:
      return "buffer_full";
    case OutputDropReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

OutputMetrics::OutputMetrics(prometheus::Registry& registry,
                             const std::vector<std::string>& output_ids)
    : latency_(prometheus::BuildHistogram()
                   .Name("sluice_record_latency_seconds")
                   .Help("Seconds from receiving a batch to every output having taken it")
                   .Register(registry)
                   .Add({}, LatencyBuckets())),
      unrouted_(prometheus::BuildCounter()
                    .Name("sluice_pipeline_records_unrouted_total")
                    .Help("Records no output was routed (its level, loggers and match); "
                          "delivered, not lost")
                    .Register(registry)
                    .Add({})) {
  auto& sent = prometheus::BuildCounter()
                   .Name("sluice_output_records_sent_total")
                   .Help("Records each output took")
                   .Register(registry);
  auto& failed = prometheus::BuildCounter()
                     .Name("sluice_output_records_send_failed_total")
                     .Help("Records in write attempts that failed (retried or dropped)")
                     .Register(registry);
  auto& dropped = prometheus::BuildCounter()
                      .Name("sluice_output_records_dropped_total")
                      .Help("Records an output did not get, by reason")
                      .Register(registry);
  auto& retries = prometheus::BuildCounter()
                      .Name("sluice_output_retries_total")
                      .Help("Write and flush attempts repeated after a transient error")
                      .Register(registry);
  auto& duration = prometheus::BuildHistogram()
                       .Name("sluice_output_write_duration_seconds")
                       .Help("Seconds per output Write call")
                       .Register(registry);
  for (const std::string& id : output_ids) {
    Slot slot;
    slot.sent = &sent.Add({{"output", id}});
    slot.failed = &failed.Add({{"output", id}});
    for (size_t reason = 0; reason < kOutputDropReasons; ++reason) {
      slot.dropped[reason] = &dropped.Add(
          {{"output", id},
           {"reason", std::string(OutputDropReasonName(static_cast<OutputDropReason>(reason)))}});
    }
    slot.retries = &retries.Add({{"output", id}});
    slot.duration = &duration.Add({{"output", id}}, LatencyBuckets());
    slots_.push_back(slot);
  }
}

}  // namespace sluice::pipeline
