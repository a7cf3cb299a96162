// SchedulerMetrics: the scheduler's event counters, registered once at start-up.
//
// The hot path only touches cached Counter references, and only on rare events (a park, a
// drop). Queue depth and bytes, their capacities, oldest record age, parked streams and the
// time they spent parked are read at scrape time by SchedulerCollector
// (scheduler_collector.h) instead of being kept current here.
#ifndef SLUICE_SERVER_SCHEDULER_SCHEDULER_METRICS_H_
#define SLUICE_SERVER_SCHEDULER_SCHEDULER_METRICS_H_

#include <cstddef>
#include <vector>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "server/scheduler/scheduler_config.h"

namespace sluice::scheduler {

class SchedulerMetrics {
 public:
  SchedulerMetrics(prometheus::Registry& registry, size_t workers, OverflowPolicy policy);

  void OnParked(size_t worker) { pauses_[worker]->Increment(); }
  void OnDropped(size_t worker, size_t records) {
    dropped_[worker]->Increment(static_cast<double>(records));
  }

 private:
  std::vector<prometheus::Counter*> pauses_;
  std::vector<prometheus::Counter*> dropped_;
};

// The `policy` label value: "block", "drop_newest", "drop_oldest".
const char* OverflowPolicyName(OverflowPolicy policy);

}  // namespace sluice::scheduler

#endif  // SLUICE_SERVER_SCHEDULER_SCHEDULER_METRICS_H_
