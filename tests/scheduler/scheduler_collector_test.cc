#include "server/scheduler/scheduler_collector.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "server/scheduler/scheduler_metrics.h"

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
  size_t batch_bytes = 0;
  for (int i = 0; i < 3; ++i) {
    RecordBatch batch;
    for (int r = 0; r < 4; ++r) batch.records().Add();
    batch_bytes = batch.memory_bytes();
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
                                         std::to_string(batch_bytes)));
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_scheduler_parked_streams 1"));
  EXPECT_THAT(text,
              ::testing::HasSubstr("sluice_scheduler_backpressure_pauses_total{worker=\"0\"} 1"));
  scheduler.Start();
}

}  // namespace
}  // namespace sluice::scheduler
