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
    : sent_(prometheus::BuildCounter()
                .Name("sluice_output_records_sent_total")
                .Help("Records each output took")
                .Register(registry)),
      failed_(prometheus::BuildCounter()
                  .Name("sluice_output_records_send_failed_total")
                  .Help("Records in write attempts that failed (retried or dropped)")
                  .Register(registry)),
      dropped_(prometheus::BuildCounter()
                   .Name("sluice_output_records_dropped_total")
                   .Help("Records an output did not get, by reason")
                   .Register(registry)),
      retries_(prometheus::BuildCounter()
                   .Name("sluice_output_retries_total")
                   .Help("Write and flush attempts repeated after a transient error")
                   .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("sluice_output_write_duration_seconds")
                    .Help("Seconds per output Write call")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
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
  // Every id gets a slot of its own, at its index, as the pipeline numbers its outputs.
  for (const std::string& id : output_ids) {
    ids_.push_back(id);
    slots_.push_back(NewCounters(id));
  }
}

size_t OutputMetrics::AddOutput(const std::string& id) {
  for (size_t i = 0; i < ids_.size(); ++i) {
    if (ids_[i] == id) return i;
  }
  ids_.push_back(id);
  slots_.push_back(NewCounters(id));
  return slots_.size() - 1;
}

std::unique_ptr<OutputMetrics::Counters> OutputMetrics::NewCounters(const std::string& id) {
  auto counters = std::make_unique<Counters>();
  counters->sent_ = &sent_.Add({{"output", id}});
  counters->failed_ = &failed_.Add({{"output", id}});
  for (size_t reason = 0; reason < kOutputDropReasons; ++reason) {
    counters->dropped_[reason] = &dropped_.Add(
        {{"output", id},
         {"reason", std::string(OutputDropReasonName(static_cast<OutputDropReason>(reason)))}});
  }
  counters->retries_ = &retries_.Add({{"output", id}});
  counters->duration_ = &duration_.Add({{"output", id}}, LatencyBuckets());
  return counters;
}

}  // namespace sluice::pipeline
