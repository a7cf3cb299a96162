#include "server/scheduler/scheduler_metrics.h"

#include <string>

namespace sluice::scheduler {

const char* OverflowPolicyName(OverflowPolicy policy) {
  switch (policy) {
    case OverflowPolicy::kBlock:
      return "block";
    case OverflowPolicy::kDropNewest:
      return "drop_newest";
    case OverflowPolicy::kDropOldest:
      return "drop_oldest";
  }
  return "unknown";
}

SchedulerMetrics::SchedulerMetrics(prometheus::Registry& registry, size_t workers,
                                   OverflowPolicy policy) {
  auto& pauses = prometheus::BuildCounter()
                     .Name("sluice_scheduler_backpressure_pauses_total")
                     .Help("Times a stream was parked because its worker's channel was full")
                     .Register(registry);
  auto& dropped = prometheus::BuildCounter()
                      .Name("sluice_scheduler_records_dropped_total")
                      .Help("Records dropped by the overflow policy")
                      .Register(registry);
  for (size_t worker = 0; worker < workers; ++worker) {
    const std::string label = std::to_string(worker);
    pauses_.push_back(&pauses.Add({{"worker", label}}));
    dropped_.push_back(&dropped.Add({{"worker", label}, {"policy", OverflowPolicyName(policy)}}));
  }
}

}  // namespace sluice::scheduler
