// SchedulerCollector: the scheduler's gauges, computed when Prometheus scrapes.
//
//   sluice_scheduler_queue_depth{worker}                 records queued now
//   sluice_scheduler_queue_capacity{worker}              records the channel holds at most
//   sluice_scheduler_queue_bytes{worker}                 in-memory bytes queued now
//   sluice_scheduler_queue_capacity_bytes{worker}        bytes the channel holds at most
//   sluice_scheduler_oldest_record_age_seconds{worker}   age of the batch at the queue head
//   sluice_scheduler_parked_streams                      streams waiting for room now
//   sluice_scheduler_blocked_seconds_total               time streams spent parked (counter)
//
// blocked_seconds_total is computed here rather than added when a stream resumes, so that it
// grows while streams wait: an outage that parks them for an hour shows in rate() during
// that hour, not as one step at its end.
//
// Reading these at scrape time takes each channel lock once per scrape instead of updating
// gauges on every Submit. Registered with MetricsServer::AddCollectable by server/app; it
// must not outlive the scheduler (the exposer holds it weakly).
#ifndef SLUICE_SERVER_SCHEDULER_SCHEDULER_COLLECTOR_H_
#define SLUICE_SERVER_SCHEDULER_SCHEDULER_COLLECTOR_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "server/scheduler/scheduler.h"

namespace sluice::scheduler {

class SchedulerCollector : public prometheus::Collectable {
 public:
  explicit SchedulerCollector(const Scheduler& scheduler) : scheduler_(scheduler) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Scheduler& scheduler_;
};

}  // namespace sluice::scheduler

#endif  // SLUICE_SERVER_SCHEDULER_SCHEDULER_COLLECTOR_H_
