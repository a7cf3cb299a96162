// OutputCollector: each output sender's gauges, computed when Prometheus scrapes.
//
//   sluice_output_buffer_records{output}              records buffered for the output now
//   sluice_output_buffer_capacity_records{output}     buffer.max_records
//   sluice_output_buffer_bytes{output}                in-memory bytes buffered now
//   sluice_output_buffer_capacity_bytes{output}       buffer.max_bytes
//   sluice_output_up{output}                          0 while the last attempt failed
//   sluice_output_oldest_record_age_seconds{output}   age of the oldest buffered batch
//
// Reading these at scrape time takes each sender's lock once per scrape instead of
// updating gauges on every batch. Registered with MetricsServer::AddCollectable by
// server/app; it must not outlive the pipeline (the exposer holds it weakly).
#ifndef SLUICE_SERVER_PIPELINE_OUTPUT_COLLECTOR_H_
#define SLUICE_SERVER_PIPELINE_OUTPUT_COLLECTOR_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "server/pipeline/pipeline.h"

namespace sluice::pipeline {

class OutputCollector : public prometheus::Collectable {
 public:
  explicit OutputCollector(const Pipeline& pipeline) : pipeline_(pipeline) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Pipeline& pipeline_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_OUTPUT_COLLECTOR_H_
