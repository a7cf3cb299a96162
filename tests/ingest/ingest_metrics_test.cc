#include "server/ingest/ingest_metrics.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace sluice::ingest {
namespace {

// The series of `family_name`, keyed by their label values joined with ','.
std::map<std::string, double> Series(prometheus::Registry& registry,
                                     const std::string& family_name) {
  std::map<std::string, double> series;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != family_name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      std::string key;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        key += (key.empty() ? "" : ",") + label.name + "=" + label.value;
      }
      series[key] = metric.counter.value;
    }
  }
  return series;
}

TEST(IngestMetricsTest, EveryRequestRejectionSeriesExistsFromTheStart) {
  prometheus::Registry registry;
  IngestMetrics metrics(registry);
  const std::map<std::string, double> series =
      Series(registry, "sluice_ingest_requests_rejected_total");
  EXPECT_EQ(series.size(), kRpcCount * kRequestRejectReasonCount);
  EXPECT_EQ(series.at("reason=malformed,rpc=PushBatches"), 0.0);
  EXPECT_EQ(series.at("reason=too_many_records,rpc=Export"), 0.0);
  EXPECT_EQ(series.at("reason=too_large,rpc=Push"), 0.0);
  EXPECT_EQ(Series(registry, "sluice_ingest_utf8_replaced_total").size(), kRpcCount);
  EXPECT_EQ(Series(registry, "sluice_ingest_records_rejected_total").at("reason=invalid_utf8"),
            0.0);
}

TEST(IngestMetricsTest, CountsRequestRejectionsByRpcAndReason) {
  prometheus::Registry registry;
  IngestMetrics metrics(registry);
  metrics.AddRequestRejected(Rpc::kExport, RequestRejectReason::kTooLarge);
  metrics.AddRequestRejected(Rpc::kExport, RequestRejectReason::kTooLarge);
  metrics.AddRequestRejected(Rpc::kPushBatches, RequestRejectReason::kMalformed);
  metrics.AddUtf8Replaced(Rpc::kPush, 3);
  const std::map<std::string, double> series =
      Series(registry, "sluice_ingest_requests_rejected_total");
  EXPECT_EQ(series.at("reason=too_large,rpc=Export"), 2.0);
  EXPECT_EQ(series.at("reason=malformed,rpc=PushBatches"), 1.0);
  EXPECT_EQ(series.at("reason=malformed,rpc=Export"), 0.0);
  EXPECT_EQ(Series(registry, "sluice_ingest_utf8_replaced_total").at("rpc=Push"), 3.0);
}

}  // namespace
}  // namespace sluice::ingest
