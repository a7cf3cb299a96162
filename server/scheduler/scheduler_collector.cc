#include "server/scheduler/scheduler_collector.h"

#include <string>

namespace sluice::scheduler {
namespace {

prometheus::MetricFamily GaugeFamily(std::string name, std::string help) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  return family;
}

void AddGauge(prometheus::MetricFamily& family, std::vector<prometheus::ClientMetric::Label> labels,
              double value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
}

}  // namespace

std::vector<prometheus::MetricFamily> SchedulerCollector::Collect() const {
  auto depth =
      GaugeFamily("sluice_scheduler_queue_depth", "Records queued in the worker's channel");
  auto capacity =
      GaugeFamily("sluice_scheduler_queue_capacity", "Records the worker's channel holds at most");
  auto bytes = GaugeFamily("sluice_scheduler_queue_bytes",
                           "In-memory bytes of the records queued in the worker's channel");
  auto capacity_bytes = GaugeFamily("sluice_scheduler_queue_capacity_bytes",
                                    "In-memory bytes the worker's channel holds at most");
  auto age = GaugeFamily("sluice_scheduler_oldest_record_age_seconds",
                         "Seconds the batch at the head of the worker's channel has waited");
  auto parked = GaugeFamily("sluice_scheduler_parked_streams",
                            "Ingest streams parked now, waiting for channel room");
  prometheus::MetricFamily blocked;
  blocked.name = "sluice_scheduler_blocked_seconds_total";
  blocked.help = "Seconds ingest streams spent parked waiting for channel room";
  blocked.type = prometheus::MetricType::Counter;
  absl::Duration blocked_time = absl::ZeroDuration();
  const std::vector<WorkerSnapshot> workers = scheduler_.Snapshot();
  for (size_t i = 0; i < workers.size(); ++i) {
    std::vector<prometheus::ClientMetric::Label> labels = {{"worker", std::to_string(i)}};
    AddGauge(depth, labels, static_cast<double>(workers[i].queue_depth));
    AddGauge(capacity, labels, static_cast<double>(workers[i].queue_capacity));
    AddGauge(bytes, labels, static_cast<double>(workers[i].queue_bytes));
    AddGauge(capacity_bytes, labels, static_cast<double>(workers[i].queue_capacity_bytes));
    AddGauge(age, labels, absl::ToDoubleSeconds(workers[i].oldest_record_age));
    blocked_time += workers[i].blocked_time;
  }
  AddGauge(parked, {}, static_cast<double>(scheduler_.parked_streams()));
  prometheus::ClientMetric blocked_total;
  blocked_total.counter.value = absl::ToDoubleSeconds(blocked_time);
  blocked.metric.push_back(std::move(blocked_total));
  return {std::move(depth), std::move(capacity), std::move(bytes),  std::move(capacity_bytes),
          std::move(age),   std::move(parked),   std::move(blocked)};
}

}  // namespace sluice::scheduler
