#include "server/pipeline/output_collector.h"

#include <string>
#include <utility>

#include "absl/time/clock.h"

namespace sluice::pipeline {
namespace {

prometheus::MetricFamily GaugeFamily(std::string name, std::string help) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  return family;
}

void AddGauge(prometheus::MetricFamily& family, const std::string& output, double value) {
  prometheus::ClientMetric metric;
  metric.label = {{"output", output}};
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
}

}  // namespace

std::vector<prometheus::MetricFamily> OutputCollector::Collect() const {
  auto records = GaugeFamily("sluice_output_buffer_records",
                             "Records buffered for the output: queued, being written or "
                             "awaiting a flush");
  auto capacity_records = GaugeFamily("sluice_output_buffer_capacity_records",
                                      "Records the output's buffer holds at most");
  auto bytes = GaugeFamily("sluice_output_buffer_bytes", "In-memory bytes buffered for the output");
  auto capacity_bytes = GaugeFamily("sluice_output_buffer_capacity_bytes",
                                    "In-memory bytes the output's buffer holds at most");
  auto up = GaugeFamily("sluice_output_up", "0 while the output's last attempt failed, else 1");
  auto age = GaugeFamily("sluice_output_oldest_record_age_seconds",
                         "Seconds since the oldest batch buffered for the output was received");
  const absl::Time now = absl::Now();
  for (const OutputSenderSnapshot& output : pipeline_.Snapshot()) {
    AddGauge(records, output.id, static_cast<double>(output.buffer_records));
    AddGauge(capacity_records, output.id, static_cast<double>(output.max_records));
    AddGauge(bytes, output.id, static_cast<double>(output.buffer_bytes));
    AddGauge(capacity_bytes, output.id, static_cast<double>(output.max_bytes));
    AddGauge(up, output.id, output.up ? 1 : 0);
    AddGauge(age, output.id,
             output.oldest_received_at.has_value()
                 ? absl::ToDoubleSeconds(now - *output.oldest_received_at)
                 : 0);
  }
  return {std::move(records), std::move(capacity_records),
          std::move(bytes),   std::move(capacity_bytes),
          std::move(up),      std::move(age)};
}

}  // namespace sluice::pipeline
