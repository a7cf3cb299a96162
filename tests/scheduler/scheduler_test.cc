#include "server/scheduler/scheduler.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util/eventually.h"

namespace sluice::scheduler {
namespace {

using test_util::Eventually;
using ::testing::ElementsAre;

// Records every processed batch; can hold workers back until released.
class RecordingProcessor : public BatchProcessor {
 public:
  void Process(size_t, RecordBatch& batch) override {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return open_; });
    processed_.push_back(
        {batch.stream_id(), batch.size(), batch.empty() ? "" : batch.records().Get(0).message()});
    records_ += batch.size();
    for (const v1::LogRecord& record : batch.records()) {
      messages_by_stream_[batch.stream_id()].push_back(std::stoi(record.message()));
    }
    changed_.notify_all();
  }

  void Hold() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    changed_.notify_all();
  }
  bool AwaitRecords(size_t n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [this, n] { return records_ >= n; });
  }

  struct Processed {
    uint64_t stream_id;
    size_t size;
    std::string first_message;
  };
  std::vector<Processed> processed() {
    std::lock_guard lock(mu_);
    return processed_;
  }
  std::map<uint64_t, std::vector<int>> messages_by_stream() {
    std::lock_guard lock(mu_);
    return messages_by_stream_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  size_t records_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Processed> processed_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::vector<int>> messages_by_stream_ ABSL_GUARDED_BY(mu_);
};

RecordBatch MakeBatch(size_t records, uint64_t stream_id = 0, int first_message = 0) {
  RecordBatch batch;
  batch.set_stream_id(stream_id);
  for (size_t i = 0; i < records; ++i) {
    batch.records().Add()->set_message(std::to_string(first_message + static_cast<int>(i)));
  }
  return batch;
}

SchedulerConfig Config(uint32_t workers, uint32_t capacity,
                       OverflowPolicy overflow = OverflowPolicy::kBlock,
                       DispatchPolicy dispatch = DispatchPolicy::kRoundRobin) {
  SchedulerConfig config;
  config.workers = workers;
  config.channel_capacity = capacity;
  config.overflow = overflow;
  config.dispatch = dispatch;
  return config;
}

void NoResume() { FAIL() << "a batch that was not parked must not be resumed"; }

// Records of about 10 KB each: heavy in memory, light in count. Each message starts with
// its index, as RecordingProcessor expects.
constexpr size_t kHeavyRecordBytes = 10000;

// A batch on a message of its own, not one recycled by the shared pool: a recycled message
// keeps the capacity of what it held before, which the scheduler rightly counts, and the
// tests want sizes they can predict.
RecordBatch FreshBatch(uint64_t stream_id) {
  RecordBatch batch = RecordBatch::FromRequest(LogBatchPool::Handle(new v1::LogBatch()));
  batch.set_stream_id(stream_id);
  return batch;
}

RecordBatch HeavyBatch(size_t records, uint64_t stream_id = 0) {
  RecordBatch batch = FreshBatch(stream_id);
  for (size_t i = 0; i < records; ++i) {
    batch.records().Add()->set_message(std::to_string(i) + " " +
                                       std::string(kHeavyRecordBytes, 'x'));
  }
  return batch;
}

// What a heavy batch of `records` counts against the channel's bytes.
size_t HeavyBytes(size_t records) { return HeavyBatch(records).memory_bytes(); }

// Submits a heavy batch; adds what it counts to `*counted` when it is queued.
SubmitOutcome SubmitHeavy(Scheduler& scheduler, size_t records, uint64_t stream_id, size_t* counted,
                          Scheduler::ResumeCallback on_queued = NoResume) {
  RecordBatch batch = HeavyBatch(records, stream_id);
  const size_t bytes = batch.memory_bytes();
  const SubmitOutcome outcome = scheduler.Submit(std::move(batch), std::move(on_queued));
  if (outcome == SubmitOutcome::kAccepted || outcome == SubmitOutcome::kAcceptedEvictedOldest) {
    *counted += bytes;
  }
  return outcome;
}

// Room for 1,000 records, so only the byte capacity can make the channel full.
SchedulerConfig ByteConfig(uint64_t capacity_bytes,
                           OverflowPolicy overflow = OverflowPolicy::kBlock) {
  SchedulerConfig config = Config(1, 1000, overflow);
  config.channel_capacity_bytes = capacity_bytes;
  return config;
}

std::vector<size_t> QueueBytes(const Scheduler& scheduler) {
  std::vector<size_t> bytes;
  for (const WorkerSnapshot& worker : scheduler.Snapshot()) bytes.push_back(worker.queue_bytes);
  return bytes;
}

std::vector<size_t> Depths(const Scheduler& scheduler) {
  std::vector<size_t> depths;
  for (const WorkerSnapshot& worker : scheduler.Snapshot()) depths.push_back(worker.queue_depth);
  return depths;
}

TEST(SchedulerTest, RoundRobinDispatchesBatchesToWorkersInTurn) {
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(Config(3, 100), processor, ledger, nullptr);
  // Not started: batches stay where dispatch put them.
  for (size_t size = 1; size <= 6; ++size) {
    EXPECT_EQ(scheduler.Submit(MakeBatch(size), NoResume), SubmitOutcome::kAccepted);
  }
  EXPECT_THAT(Depths(scheduler), ElementsAre(1 + 4, 2 + 5, 3 + 6));
}

TEST(SchedulerTest, RoundRobinSpillsToAnotherWorkerWhenTheNextIsFull) {
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(Config(2, 10), processor, ledger, nullptr);
  EXPECT_EQ(scheduler.Submit(MakeBatch(10), NoResume), SubmitOutcome::kAccepted);  // worker 0
  EXPECT_EQ(scheduler.Submit(MakeBatch(3), NoResume), SubmitOutcome::kAccepted);   // worker 1
  EXPECT_EQ(scheduler.Submit(MakeBatch(3), NoResume), SubmitOutcome::kAccepted);   // 0 full -> 1
  EXPECT_THAT(Depths(scheduler), ElementsAre(10, 6));
}

TEST(SchedulerTest, ChannelNeverHoldsMoreThanItsCapacity) {
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(Config(1, 10), processor, ledger, nullptr);
  EXPECT_EQ(scheduler.Submit(MakeBatch(6), NoResume), SubmitOutcome::kAccepted);
  EXPECT_EQ(scheduler.Submit(MakeBatch(4), NoResume), SubmitOutcome::kAccepted);
  EXPECT_EQ(scheduler.Submit(MakeBatch(1), [] {}), SubmitOutcome::kParked);
  EXPECT_THAT(Depths(scheduler), ElementsAre(10));
  EXPECT_EQ(scheduler.parked_streams(), 1u);
}

TEST(SchedulerTest, BatchLargerThanCapacityIsAdmittedIntoAnEmptyChannel) {
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(Config(1, 10), processor, ledger, nullptr);
  EXPECT_EQ(scheduler.Submit(MakeBatch(25), NoResume), SubmitOutcome::kAccepted);
  EXPECT_THAT(Depths(scheduler), ElementsAre(25));
}

TEST(SchedulerTest, ParkedStreamIsWokenOnceTheWorkerFreesRoom) {
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(Config(1, 10), processor, ledger, nullptr);
  ASSERT_EQ(scheduler.Submit(MakeBatch(8, 1, 0), NoResume), SubmitOutcome::kAccepted);
  std::promise<void> resumed;
  std::future<void> resumed_future = resumed.get_future();
  ASSERT_EQ(scheduler.Submit(MakeBatch(8, 2, 100), [&] { resumed.set_value(); }),
            SubmitOutcome::kParked);
  EXPECT_EQ(resumed_future.wait_for(std::chrono::seconds(0)), std::future_status::timeout);

  scheduler.Start();
  EXPECT_EQ(resumed_future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  ASSERT_TRUE(processor.AwaitRecords(16));
  EXPECT_EQ(scheduler.parked_streams(), 0u);
  std::vector<RecordingProcessor::Processed> processed = processor.processed();
  ASSERT_EQ(processed.size(), 2u);
  EXPECT_EQ(processed[0].stream_id, 1u);
  EXPECT_EQ(processed[1].stream_id, 2u);
}

TEST(SchedulerTest, DropNewestDropsTheIncomingBatchAndCountsIt) {
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(Config(1, 10, OverflowPolicy::kDropNewest), processor, ledger, nullptr);
  EXPECT_EQ(scheduler.Submit(MakeBatch(8, 1), NoResume), SubmitOutcome::kAccepted);
  EXPECT_EQ(scheduler.Submit(MakeBatch(5, 2), NoResume), SubmitOutcome::kDroppedNewest);
  EXPECT_EQ(ledger.Snapshot().dropped, 5u);
  EXPECT_THAT(Depths(scheduler), ElementsAre(8));

  scheduler.Start();
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(30)).ok());
  std::vector<RecordingProcessor::Processed> processed = processor.processed();
  ASSERT_EQ(processed.size(), 1u);
  EXPECT_EQ(processed[0].stream_id, 1u);
}

TEST(SchedulerTest, DropOldestEvictsQueuedBatchesUntilTheNewOneFits) {
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(Config(1, 10, OverflowPolicy::kDropOldest), processor, ledger, nullptr);
  EXPECT_EQ(scheduler.Submit(MakeBatch(4, 1), NoResume), SubmitOutcome::kAccepted);
  EXPECT_EQ(scheduler.Submit(MakeBatch(4, 2), NoResume), SubmitOutcome::kAccepted);
  EXPECT_EQ(scheduler.Submit(MakeBatch(5, 3), NoResume), SubmitOutcome::kAcceptedEvictedOldest);
  EXPECT_EQ(ledger.Snapshot().dropped, 4u);
  EXPECT_THAT(Depths(scheduler), ElementsAre(9));

  scheduler.Start();
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(30)).ok());
  std::vector<RecordingProcessor::Processed> processed = processor.processed();
  ASSERT_EQ(processed.size(), 2u);
  EXPECT_EQ(processed[0].stream_id, 2u);
  EXPECT_EQ(processed[1].stream_id, 3u);
}

TEST(SchedulerTest, ByteCapacityMakesAChannelFullAndParksUnderBlock) {
  RecordingProcessor processor;
  Ledger ledger;
  const size_t batch_bytes = HeavyBytes(2);
  Scheduler scheduler(ByteConfig(2 * batch_bytes + batch_bytes / 2), processor, ledger, nullptr);
  size_t counted = 0;
  EXPECT_EQ(SubmitHeavy(scheduler, 2, 1, &counted), SubmitOutcome::kAccepted);
  EXPECT_EQ(SubmitHeavy(scheduler, 2, 2, &counted), SubmitOutcome::kAccepted);
  std::promise<void> resumed;
  std::future<void> resumed_future = resumed.get_future();
  // Four records of a thousand: only the bytes are full.
  EXPECT_EQ(SubmitHeavy(scheduler, 2, 3, &counted, [&] { resumed.set_value(); }),
            SubmitOutcome::kParked);
  EXPECT_THAT(Depths(scheduler), ElementsAre(4));
  EXPECT_THAT(QueueBytes(scheduler), ElementsAre(counted));
  EXPECT_EQ(scheduler.parked_streams(), 1u);

  scheduler.Start();
  EXPECT_EQ(resumed_future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(30)).ok());
  EXPECT_EQ(processor.processed().size(), 3u);
  EXPECT_THAT(QueueBytes(scheduler), ElementsAre(0));
}

TEST(SchedulerTest, DropNewestDropsABatchThatDoesNotFitTheBytesLeft) {
  RecordingProcessor processor;
  Ledger ledger;
  const size_t batch_bytes = HeavyBytes(2);
  Scheduler scheduler(ByteConfig(2 * batch_bytes + batch_bytes / 2, OverflowPolicy::kDropNewest),
                      processor, ledger, nullptr);
  size_t counted = 0;
  EXPECT_EQ(SubmitHeavy(scheduler, 2, 1, &counted), SubmitOutcome::kAccepted);
  EXPECT_EQ(SubmitHeavy(scheduler, 2, 2, &counted), SubmitOutcome::kAccepted);
  EXPECT_EQ(SubmitHeavy(scheduler, 2, 3, &counted), SubmitOutcome::kDroppedNewest);
  EXPECT_EQ(ledger.Snapshot().dropped, 2u);
  // A light batch still fits the bytes left.
  RecordBatch light = FreshBatch(4);
  light.records().Add()->set_message("0");
  EXPECT_EQ(scheduler.Submit(std::move(light), NoResume), SubmitOutcome::kAccepted);
  EXPECT_THAT(Depths(scheduler), ElementsAre(5));

  scheduler.Start();
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(30)).ok());
  std::vector<RecordingProcessor::Processed> processed = processor.processed();
  ASSERT_EQ(processed.size(), 3u);
  EXPECT_EQ(processed[2].stream_id, 4u);
}

TEST(SchedulerTest, DropOldestEvictsQueuedBatchesUntilTheNewOnesBytesFit) {
  RecordingProcessor processor;
  Ledger ledger;
  const size_t small_bytes = HeavyBytes(1);
  Scheduler scheduler(ByteConfig(3 * small_bytes + small_bytes / 2, OverflowPolicy::kDropOldest),
                      processor, ledger, nullptr);
  size_t counted = 0;
  for (uint64_t stream = 1; stream <= 3; ++stream) {
    EXPECT_EQ(SubmitHeavy(scheduler, 1, stream, &counted), SubmitOutcome::kAccepted);
  }
  // Two records' worth of bytes: evicting one small batch is not enough, two are.
  RecordBatch large = HeavyBatch(2, 4);
  const size_t large_bytes = large.memory_bytes();
  EXPECT_EQ(scheduler.Submit(std::move(large), NoResume), SubmitOutcome::kAcceptedEvictedOldest);
  EXPECT_EQ(ledger.Snapshot().dropped, 2u);
  EXPECT_THAT(Depths(scheduler), ElementsAre(3));
  EXPECT_THAT(QueueBytes(scheduler), ElementsAre(small_bytes + large_bytes));

  scheduler.Start();
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(30)).ok());
  std::vector<RecordingProcessor::Processed> processed = processor.processed();
  ASSERT_EQ(processed.size(), 2u);
  EXPECT_EQ(processed[0].stream_id, 3u);
  EXPECT_EQ(processed[1].stream_id, 4u);
}

TEST(SchedulerTest, BatchLargerThanTheByteCapacityIsAdmittedIntoAnEmptyChannelOnly) {
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(ByteConfig(HeavyBytes(2) / 2), processor, ledger, nullptr);
  size_t counted = 0;
  EXPECT_EQ(SubmitHeavy(scheduler, 2, 1, &counted), SubmitOutcome::kAccepted);
  RecordBatch light = FreshBatch(2);
  light.records().Add()->set_message("0");
  EXPECT_EQ(scheduler.Submit(std::move(light), [] {}), SubmitOutcome::kParked);
  EXPECT_THAT(QueueBytes(scheduler), ElementsAre(counted));

  scheduler.Start();
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(30)).ok());
  EXPECT_EQ(processor.processed().size(), 2u);
}

TEST(SchedulerTest, SnapshotReportsQueuedBytesAndByteCapacityPerWorker) {
  RecordingProcessor processor;
  Ledger ledger;
  SchedulerConfig config = Config(2, 100);
  config.channel_capacity_bytes = 1 << 20;
  Scheduler scheduler(config, processor, ledger, nullptr);
  RecordBatch first = HeavyBatch(3);
  RecordBatch second = FreshBatch(0);
  second.records().Add()->set_message("0");
  const size_t first_bytes = first.memory_bytes();
  const size_t second_bytes = second.memory_bytes();
  ASSERT_GT(first_bytes, 3 * kHeavyRecordBytes);
  ASSERT_GT(second_bytes, 0u);
  EXPECT_EQ(scheduler.Submit(std::move(first), NoResume), SubmitOutcome::kAccepted);
  EXPECT_EQ(scheduler.Submit(std::move(second), NoResume), SubmitOutcome::kAccepted);

  const std::vector<WorkerSnapshot> workers = scheduler.Snapshot();
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers[0].queue_bytes, first_bytes);
  EXPECT_EQ(workers[1].queue_bytes, second_bytes);
  EXPECT_EQ(workers[0].queue_capacity_bytes, size_t{1} << 20);
  EXPECT_EQ(workers[1].queue_capacity_bytes, size_t{1} << 20);

  scheduler.Start();
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(30)).ok());
  EXPECT_THAT(QueueBytes(scheduler), ElementsAre(0, 0));
}

// Collects delivery reports, from whichever thread runs them.
class DeliveryLog {
 public:
  DeliveryCallback Callback(uint64_t stream_id) {
    return [this, stream_id](const Delivery& delivery) {
      std::lock_guard lock(mu_);
      reports_.push_back({stream_id, delivery});
      changed_.notify_all();
    };
  }
  bool AwaitReports(size_t n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return reports_.size() >= n; });
  }
  struct Report {
    uint64_t stream_id;
    Delivery delivery;
  };
  std::vector<Report> reports() {
    std::lock_guard lock(mu_);
    return reports_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Report> reports_ ABSL_GUARDED_BY(mu_);
};

RecordBatch AwaitingBatch(size_t records, uint64_t stream_id, DeliveryLog& log) {
  RecordBatch batch = MakeBatch(records, stream_id);
  batch.set_delivery(DeliveryStage::kWritten, log.Callback(stream_id));
  return batch;
}

TEST(SchedulerTest, EvictedBatchIsReportedDroppedByTheWorkerAndTheRestDelivered) {
  RecordingProcessor processor;
  Ledger ledger;
  DeliveryLog log;
  Scheduler scheduler(Config(1, 10, OverflowPolicy::kDropOldest), processor, ledger, nullptr);
  EXPECT_EQ(scheduler.Submit(AwaitingBatch(4, 1, log), NoResume), SubmitOutcome::kAccepted);
  EXPECT_EQ(scheduler.Submit(AwaitingBatch(8, 2, log), NoResume),
            SubmitOutcome::kAcceptedEvictedOldest);
  // Submit's caller may hold its own lock: the report waits for the worker.
  EXPECT_TRUE(log.reports().empty());

  scheduler.Start();
  ASSERT_TRUE(log.AwaitReports(2));
  const std::vector<DeliveryLog::Report> reports = log.reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].stream_id, 1u);
  EXPECT_EQ(reports[0].delivery.delivered, 0u);
  EXPECT_EQ(reports[0].delivery.dropped, 4u);
  EXPECT_EQ(reports[0].delivery.reason, DropReason::kOverflowDropOldest);
  // The processor did not report batch 2 itself, so the scheduler reports it written.
  EXPECT_EQ(reports[1].stream_id, 2u);
  EXPECT_EQ(reports[1].delivery.delivered, 8u);
  EXPECT_EQ(reports[1].delivery.dropped, 0u);
}

// Takes every batch's delivery callback and reports only when its worker goes idle, as the
// pipeline does for ingest.ack_on: flushed.
class SettleWhenIdleProcessor : public BatchProcessor {
 public:
  void Process(size_t, RecordBatch& batch) override {
    std::lock_guard lock(mu_);
    held_.push_back({batch.TakeDeliveryCallback(), static_cast<uint32_t>(batch.size())});
  }
  void OnIdle(size_t) override {
    std::vector<Held> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
      if (!held.empty()) settled_per_idle_.push_back(held.size());
    }
    for (Held& entry : held) std::move(entry.callback)(Delivery{.delivered = entry.records});
  }
  std::vector<size_t> settled_per_idle() {
    std::lock_guard lock(mu_);
    return settled_per_idle_;
  }

 private:
  struct Held {
    DeliveryCallback callback;
    uint32_t records;
  };
  std::mutex mu_;
  std::vector<Held> held_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> settled_per_idle_ ABSL_GUARDED_BY(mu_);
};

// The first worker's snapshot.
WorkerSnapshot Worker0(const Scheduler& scheduler) { return scheduler.Snapshot()[0]; }

// Waits until at least `elapsed` has passed since `since` by the clock the scheduler reads,
// so that a duration it measures from before `since` is at least that long.
bool AwaitElapsed(absl::Time since, absl::Duration elapsed) {
  return Eventually([&] { return absl::Now() - since >= elapsed; });
}

// The scheduler reads the real clock, so these tests bound what it reports by times they
// read themselves just before and after: a duration that started between `started_lo` and
// `started_hi` and was read between `read_lo` and `read_hi` lies within
// [read_lo - started_hi, read_hi - started_lo].
constexpr absl::Duration kWaitedAtLeast = absl::Milliseconds(50);

TEST(SchedulerTest, OldestRecordAgeGrowsWhileTheWorkerIsHeldAndIsZeroOnceTheQueueEmpties) {
  RecordingProcessor processor;
  processor.Hold();
  Ledger ledger;
  Scheduler scheduler(Config(1, 100), processor, ledger, nullptr);
  scheduler.Start();
  ASSERT_EQ(scheduler.Submit(MakeBatch(1), NoResume), SubmitOutcome::kAccepted);
  ASSERT_TRUE(Eventually([&] { return Worker0(scheduler).processing_records == 1; }));
  EXPECT_EQ(Worker0(scheduler).oldest_record_age, absl::ZeroDuration()) << "nothing queued";

  const absl::Time started_lo = absl::Now();
  ASSERT_EQ(scheduler.Submit(MakeBatch(2), NoResume), SubmitOutcome::kAccepted);
  const absl::Time started_hi = absl::Now();
  ASSERT_TRUE(AwaitElapsed(started_hi, kWaitedAtLeast));
  absl::Time read_lo = absl::Now();
  const absl::Duration first = Worker0(scheduler).oldest_record_age;
  absl::Time read_hi = absl::Now();
  EXPECT_GE(first, read_lo - started_hi);
  EXPECT_LE(first, read_hi - started_lo);

  // Still held: the same batch heads the queue and its age keeps growing.
  ASSERT_TRUE(AwaitElapsed(read_hi, kWaitedAtLeast));
  read_lo = absl::Now();
  const absl::Duration later = Worker0(scheduler).oldest_record_age;
  read_hi = absl::Now();
  EXPECT_GE(later, first + kWaitedAtLeast);
  EXPECT_GE(later, read_lo - started_hi);
  EXPECT_LE(later, read_hi - started_lo);

  processor.Release();
  ASSERT_TRUE(processor.AwaitRecords(3));
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(30)).ok());
  EXPECT_EQ(Worker0(scheduler).oldest_record_age, absl::ZeroDuration());
}

TEST(SchedulerTest, BlockedTimeGrowsWhileAStreamIsParkedAndStaysOnceItResumes) {
  RecordingProcessor processor;
  processor.Hold();
  Ledger ledger;
  Scheduler scheduler(Config(1, 10), processor, ledger, nullptr);
  scheduler.Start();
  ASSERT_EQ(scheduler.Submit(MakeBatch(8), NoResume), SubmitOutcome::kAccepted);
  ASSERT_TRUE(Eventually([&] { return Worker0(scheduler).processing_records == 8; }));
  ASSERT_EQ(scheduler.Submit(MakeBatch(8), NoResume), SubmitOutcome::kAccepted);
  EXPECT_EQ(Worker0(scheduler).blocked_time, absl::ZeroDuration()) << "nothing parked yet";

  std::promise<void> resumed;
  std::future<void> resumed_future = resumed.get_future();
  const absl::Time parked_lo = absl::Now();
  ASSERT_EQ(scheduler.Submit(MakeBatch(8), [&] { resumed.set_value(); }), SubmitOutcome::kParked);
  const absl::Time parked_hi = absl::Now();
  EXPECT_EQ(Worker0(scheduler).parked_records, 8u);
  EXPECT_EQ(scheduler.InFlightRecords(), 24u);

  ASSERT_TRUE(AwaitElapsed(parked_hi, kWaitedAtLeast));
  absl::Time read_lo = absl::Now();
  const absl::Duration first = Worker0(scheduler).blocked_time;
  absl::Time read_hi = absl::Now();
  EXPECT_GE(first, read_lo - parked_hi);
  EXPECT_LE(first, read_hi - parked_lo);
  // Still parked: the blocked time grows before the stream resumes, not only after.
  ASSERT_TRUE(AwaitElapsed(read_hi, kWaitedAtLeast));
  const absl::Duration later = Worker0(scheduler).blocked_time;
  EXPECT_GE(later, first + kWaitedAtLeast);

  const absl::Time resumed_lo = absl::Now();
  processor.Release();
  ASSERT_EQ(resumed_future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  const absl::Time resumed_hi = absl::Now();
  ASSERT_TRUE(processor.AwaitRecords(24));
  const absl::Duration total = Worker0(scheduler).blocked_time;
  EXPECT_GE(total, resumed_lo - parked_hi);
  EXPECT_LE(total, resumed_hi - parked_lo);
  // Resumed: what it waited is kept, and nothing more is added.
  ASSERT_TRUE(AwaitElapsed(resumed_hi, kWaitedAtLeast));
  EXPECT_EQ(Worker0(scheduler).blocked_time, total);
  EXPECT_EQ(Worker0(scheduler).parked_records, 0u);
}

TEST(SchedulerTest, InFlightCountsQueuedParkedAndProcessingRecords) {
  RecordingProcessor processor;
  processor.Hold();
  Ledger ledger;
  Scheduler scheduler(Config(1, 10), processor, ledger, nullptr);
  EXPECT_EQ(scheduler.InFlightRecords(), 0u);
  scheduler.Start();
  ASSERT_EQ(scheduler.Submit(MakeBatch(3), NoResume), SubmitOutcome::kAccepted);
  ASSERT_TRUE(Eventually([&] { return Worker0(scheduler).processing_records == 3; }));
  ASSERT_EQ(scheduler.Submit(MakeBatch(9), NoResume), SubmitOutcome::kAccepted);
  ASSERT_EQ(scheduler.Submit(MakeBatch(5), [] {}), SubmitOutcome::kParked);
  const WorkerSnapshot worker = Worker0(scheduler);
  EXPECT_EQ(worker.processing_records, 3u);
  EXPECT_EQ(worker.queue_depth, 9u);
  EXPECT_EQ(worker.parked_records, 5u);
  EXPECT_EQ(scheduler.InFlightRecords(), 17u);

  processor.Release();
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(30)).ok());
  EXPECT_EQ(scheduler.InFlightRecords(), 0u);
}

TEST(SchedulerTest, WorkerCallsOnIdleOnceItsQueueIsEmpty) {
  SettleWhenIdleProcessor processor;
  Ledger ledger;
  DeliveryLog log;
  Scheduler scheduler(Config(1, 100), processor, ledger, nullptr);
  for (uint64_t stream = 1; stream <= 3; ++stream) {
    scheduler.Submit(AwaitingBatch(5, stream, log), NoResume);
  }
  scheduler.Start();
  ASSERT_TRUE(log.AwaitReports(3));
  // All three were queued before the worker started: it went idle once, after the third.
  EXPECT_THAT(processor.settled_per_idle(), ElementsAre(3));
  for (const DeliveryLog::Report& report : log.reports()) {
    EXPECT_EQ(report.delivery.delivered, 5u);
  }
}

TEST(SchedulerTest, DrainReportsDeadlineWhileWorkersAreStuckAndSucceedsOnceTheyFinish) {
  RecordingProcessor processor;
  processor.Hold();
  Ledger ledger;
  Scheduler scheduler(Config(4, 100), processor, ledger, nullptr);
  scheduler.Start();
  for (int i = 0; i < 8; ++i) scheduler.Submit(MakeBatch(10), NoResume);

  absl::Status stuck = scheduler.Drain(absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(stuck.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(stuck.message()), ::testing::HasSubstr("80 records"));

  processor.Release();
  EXPECT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(30)).ok());
  EXPECT_THAT(Depths(scheduler), ElementsAre(0, 0, 0, 0));
  EXPECT_EQ(processor.processed().size(), 8u);
}

TEST(SchedulerTest, StopProcessesEverythingQueuedAndParked) {
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(Config(2, 5), processor, ledger, nullptr);
  std::atomic<int> resumed{0};
  for (int i = 0; i < 10; ++i) {
    // Both workers resume parked batches, concurrently.
    scheduler.Submit(MakeBatch(5), [&resumed] { ++resumed; });
  }
  EXPECT_EQ(scheduler.parked_streams(), 8u);
  scheduler.Start();
  scheduler.Stop();
  EXPECT_EQ(processor.processed().size(), 10u);
  EXPECT_EQ(resumed, 8);
}

// Each stream submits its next batch only after the previous one was queued, as ingest
// does; with stream_affinity every stream's records must come out in the order sent.
TEST(SchedulerTest, StreamAffinityKeepsEachStreamsRecordsInOrder) {
  constexpr int kStreams = 8;
  constexpr int kBatchesPerStream = 200;
  constexpr int kBatchSize = 16;
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(Config(4, 64, OverflowPolicy::kBlock, DispatchPolicy::kStreamAffinity),
                      processor, ledger, nullptr);
  scheduler.Start();
  std::vector<std::thread> streams;
  for (int stream = 0; stream < kStreams; ++stream) {
    streams.emplace_back([&, stream] {
      for (int b = 0; b < kBatchesPerStream; ++b) {
        std::promise<void> queued;
        SubmitOutcome outcome = scheduler.Submit(MakeBatch(kBatchSize, stream, b * kBatchSize),
                                                 [&queued] { queued.set_value(); });
        if (outcome == SubmitOutcome::kParked) queued.get_future().wait();
      }
    });
  }
  for (std::thread& t : streams) t.join();
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(60)).ok());

  std::map<uint64_t, std::vector<int>> by_stream = processor.messages_by_stream();
  ASSERT_EQ(by_stream.size(), static_cast<size_t>(kStreams));
  for (const auto& [stream, messages] : by_stream) {
    ASSERT_EQ(messages.size(), static_cast<size_t>(kBatchesPerStream * kBatchSize));
    for (size_t i = 0; i < messages.size(); ++i) {
      ASSERT_EQ(messages[i], static_cast<int>(i)) << "stream " << stream;
    }
  }
}

TEST(SchedulerTest, BlockPolicyLosesNothingUnderContention) {
  constexpr int kStreams = 6;
  constexpr int kBatchesPerStream = 300;
  RecordingProcessor processor;
  Ledger ledger;
  Scheduler scheduler(Config(2, 32), processor, ledger, nullptr);
  scheduler.Start();
  std::vector<std::thread> streams;
  for (int stream = 0; stream < kStreams; ++stream) {
    streams.emplace_back([&, stream] {
      for (int b = 0; b < kBatchesPerStream; ++b) {
        std::promise<void> queued;
        if (scheduler.Submit(MakeBatch(7, stream), [&queued] { queued.set_value(); }) ==
            SubmitOutcome::kParked) {
          queued.get_future().wait();
        }
      }
    });
  }
  for (std::thread& t : streams) t.join();
  ASSERT_TRUE(scheduler.Drain(absl::Now() + absl::Seconds(60)).ok());
  EXPECT_TRUE(processor.AwaitRecords(kStreams * kBatchesPerStream * 7));
  EXPECT_EQ(ledger.Snapshot().dropped, 0u);
}

}  // namespace
}  // namespace sluice::scheduler
