#include "server/scheduler/scheduler_collector.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "server/scheduler/scheduler_metrics.h"
#include "tests/test_util/eventually.h"

namespace sluice::scheduler {
namespace {

class NullProcessor : public BatchProcessor {
 public:
  void Process(size_t, RecordBatch&) override {}
};

TEST(SchedulerCollectorTest, ReportsDepthBytesAndCapacitiesPerWorkerAndParkedStreams) {
  NullProcessor processor;
  Ledger ledger;
  SchedulerConfig config;
  config.workers = 2;
  config.channel_capacity = 4;
  prometheus::Registry registry;
  SchedulerMetrics metrics(registry, config.workers, config.overflow);
  Scheduler scheduler(config, processor, ledger, &metrics);
  // Per batch: a batch may reuse a pooled message whose capacity, which the channel
  // counts, is what an earlier use left, so the sizes can differ.
  std::vector<size_t> batch_bytes;
  for (int i = 0; i < 3; ++i) {
    RecordBatch batch;
    for (int r = 0; r < 4; ++r) batch.records().Add();
    batch_bytes.push_back(batch.memory_bytes());
    scheduler.Submit(std::move(batch), [] {});
  }

  SchedulerCollector collector(scheduler);
  std::string text = prometheus::TextSerializer().Serialize(collector.Collect());
  text += prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_scheduler_queue_depth{worker=\"0\"} 4"));
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_scheduler_queue_depth{worker=\"1\"} 4"));
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_scheduler_queue_capacity{worker=\"1\"} 4"));
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_scheduler_queue_capacity_bytes{worker=\"1\"} " +
                                         std::to_string(config.channel_capacity_bytes)));
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_scheduler_queue_bytes{worker=\"0\"} " +
                                         std::to_string(batch_bytes[0])));
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_scheduler_parked_streams 1"));
  EXPECT_THAT(text,
              ::testing::HasSubstr("sluice_scheduler_backpressure_pauses_total{worker=\"0\"} 1"));
  scheduler.Start();
}

// The counter of a family the collector reports without labels; -1 when it is missing.
double UnlabelledCounter(const SchedulerCollector& collector, const std::string& name) {
  for (const prometheus::MetricFamily& family : collector.Collect()) {
    if (family.name != name) continue;
    if (family.type != prometheus::MetricType::Counter || family.metric.size() != 1) return -1;
    return family.metric[0].counter.value;
  }
  return -1;
}

TEST(SchedulerCollectorTest, BlockedSecondsGrowWhileAStreamIsParked) {
  NullProcessor processor;
  Ledger ledger;
  scheduler::SchedulerConfig config;
  config.workers = 1;
  config.channel_capacity = 4;
  Scheduler scheduler(config, processor, ledger, nullptr);
  SchedulerCollector collector(scheduler);
  EXPECT_EQ(UnlabelledCounter(collector, "sluice_scheduler_blocked_seconds_total"), 0);
  RecordBatch queued;
  for (int r = 0; r < 4; ++r) queued.records().Add();
  ASSERT_EQ(scheduler.Submit(std::move(queued), [] {}), SubmitOutcome::kAccepted);
  RecordBatch parked;
  parked.records().Add();
  const absl::Time parked_lo = absl::Now();
  ASSERT_EQ(scheduler.Submit(std::move(parked), [] {}), SubmitOutcome::kParked);
  const absl::Time parked_hi = absl::Now();

  // Workers not started: the stream stays parked, and its time so far is counted. The
  // bounds come from the clock read around the park and the scrape.
  double previous = 0;
  for (int scrape = 0; scrape < 3; ++scrape) {
    const absl::Time since = absl::Now();
    ASSERT_TRUE(
        test_util::Eventually([&] { return absl::Now() - since >= absl::Milliseconds(20); }));
    const absl::Time read_lo = absl::Now();
    const double blocked = UnlabelledCounter(collector, "sluice_scheduler_blocked_seconds_total");
    const absl::Time read_hi = absl::Now();
    EXPECT_GE(blocked, absl::ToDoubleSeconds(read_lo - parked_hi));
    EXPECT_LE(blocked, absl::ToDoubleSeconds(read_hi - parked_lo));
    EXPECT_GT(blocked, previous);
    previous = blocked;
  }
  scheduler.Start();
}

}  // namespace
}  // namespace sluice::scheduler
