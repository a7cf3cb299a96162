#include "server/pipeline/tap_hub.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/common/ledger.h"
#include "server/outputs/encoding_registry.h"
#include "server/pipeline/pipeline.h"

namespace sluice::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Reads its tap the way TapReactor does, with writes that complete at once: on OnReady (and
// when told to) it takes records until Next says kIdle or kClosed.
class CollectingReader : public TapReader {
 public:
  void Attach(std::shared_ptr<Tap> tap) { tap_ = std::move(tap); }

  // Takes what the tap has, holding the read right (as the reader does after Open).
  void Drain() {
    v1::LogRecord record;
    for (;;) {
      switch (tap_->Next(&record)) {
        case Tap::NextResult::kRecord: {
          std::lock_guard<std::mutex> lock(mu_);
          records_.push_back(record);
          continue;
        }
        case Tap::NextResult::kIdle:
          return;
        case Tap::NextResult::kClosed: {
          std::lock_guard<std::mutex> lock(mu_);
          closed_ = true;
          closed_cv_.notify_all();
          return;
        }
      }
    }
  }

  void OnReady() override { Drain(); }

  std::vector<v1::LogRecord> records() const {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }
  std::vector<std::string> messages() const {
    std::vector<std::string> result;
    for (const v1::LogRecord& record : records()) result.push_back(record.message());
    return result;
  }
  // Whether Next said kClosed.
  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  void AwaitClosed() {
    std::unique_lock<std::mutex> lock(mu_);
    closed_cv_.wait(lock, [this] { return closed_; });
  }

 private:
  std::shared_ptr<Tap> tap_;
  // std::mutex, as the tap's: visible to ThreadSanitizer.
  mutable std::mutex mu_;
  std::condition_variable closed_cv_;
  std::vector<v1::LogRecord> records_;
  bool closed_ = false;
};

v1::LogRecord Record(v1::Level level, const std::string& logger, const std::string& message) {
  v1::LogRecord record;
  record.set_level(level);
  record.set_logger(logger);
  record.set_message(message);
  return record;
}

void AddField(v1::LogRecord& record, const std::string& key, const std::string& value) {
  v1::Field* field = record.add_fields();
  field->set_key(key);
  field->set_string_value(value);
}

RecordBatch Batch(const std::vector<v1::LogRecord>& records) {
  RecordBatch batch;
  for (const v1::LogRecord& record : records) *batch.records().Add() = record;
  batch.set_received_at(absl::FromUnixSeconds(1700000000));
  return batch;
}

TapFilter Filter(const v1::TapRequest& request) {
  absl::StatusOr<TapFilter> filter = TapFilter::FromRequest(request);
  EXPECT_TRUE(filter.ok()) << filter.status();
  return filter.ok() ? *std::move(filter) : TapFilter{};
}

// A tap opened on `hub` that `reader` reads, with the reader's first (empty) read done.
std::shared_ptr<Tap> OpenTap(TapHub& hub, CollectingReader& reader, const v1::TapRequest& request) {
  absl::StatusOr<std::shared_ptr<Tap>> tap = hub.Open(Filter(request), reader);
  EXPECT_TRUE(tap.ok()) << tap.status();
  if (!tap.ok()) return nullptr;
  reader.Attach(*tap);
  reader.Drain();
  return *tap;
}

double CounterValue(prometheus::Registry& registry, const std::string& name) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    const prometheus::ClientMetric& metric = family.metric.at(0);
    return family.type == prometheus::MetricType::Gauge ? metric.gauge.value : metric.counter.value;
  }
  return -1;
}

class TapHubTest : public ::testing::Test {
 protected:
  PipelineConfig config_;
  FieldComposer composer_{config_};
};

TEST_F(TapHubTest, InactiveUntilATapOpensAndAfterItIsRemoved) {
  TapHub hub(nullptr, 4);
  EXPECT_FALSE(hub.active());
  CollectingReader reader;
  std::shared_ptr<Tap> tap = OpenTap(hub, reader, {});
  EXPECT_TRUE(hub.active());
  hub.Remove(tap);
  EXPECT_FALSE(hub.active());
  EXPECT_TRUE(reader.closed());
}

TEST_F(TapHubTest, TakesTheRecordsAtTheLevelUnderTheLoggerWithTheField) {
  TapHub hub(nullptr, 4);
  CollectingReader reader;
  v1::TapRequest request;
  request.set_min_level(v1::LEVEL_WARN);
  request.set_logger_prefix("checkout");
  (*request.mutable_match())["user"] = "/^ad/";
  OpenTap(hub, reader, request);

  v1::LogRecord taken = Record(v1::LEVEL_WARN, "checkout.db", "taken");
  AddField(taken, "user", "ada");
  v1::LogRecord info = Record(v1::LEVEL_INFO, "checkout", "info");
  AddField(info, "user", "ada");
  v1::LogRecord other_logger = Record(v1::LEVEL_ERROR, "checkouts", "other logger");
  AddField(other_logger, "user", "ada");
  v1::LogRecord other_user = Record(v1::LEVEL_ERROR, "checkout", "other user");
  AddField(other_user, "user", "bob");
  v1::LogRecord no_field = Record(v1::LEVEL_ERROR, "checkout", "no field");
  v1::LogRecord error = Record(v1::LEVEL_ERROR, "checkout", "error");
  AddField(error, "user", "adam");
  hub.Offer(Batch({taken, info, other_logger, other_user, no_field, error}), {}, composer_);

  EXPECT_THAT(reader.messages(), ElementsAre("taken", "error"));
}

TEST_F(TapHubTest, TheRecordShowsTheComposedFieldsItsTimeAndItsLevel) {
  config_.base_fields = {{"env", "prod"}, {"user", "base"}};
  FieldComposer composer(config_);
  TapHub hub(nullptr, 4);
  CollectingReader reader;
  OpenTap(hub, reader, {});

  // An ad-hoc `user`, then a post-hook `user` that wins over it.
  v1::LogRecord record = Record(v1::LEVEL_UNSPECIFIED, "api", "hello");
  AddField(record, "user", "ada");
  AddField(record, "user", "post-hook");
  hub.Offer(Batch({record}), {FieldLayers{.adhoc_end = 1, .pre_end = 1}}, composer);

  const std::vector<v1::LogRecord> records = reader.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].level(), v1::LEVEL_INFO);
  EXPECT_EQ(records[0].time_unix_nano(), uint64_t{1700000000} * 1000000000);
  ASSERT_EQ(records[0].fields_size(), 2);
  EXPECT_EQ(records[0].fields(0).key(), "env");
  EXPECT_EQ(records[0].fields(0).string_value(), "prod");
  EXPECT_EQ(records[0].fields(1).key(), "user");
  EXPECT_EQ(records[0].fields(1).string_value(), "post-hook");
}

TEST_F(TapHubTest, SamplesOneInNOfTheMatchingRecords) {
  TapHub hub(nullptr, 4);
  CollectingReader reader;
  v1::TapRequest request;
  request.set_min_level(v1::LEVEL_WARN);
  request.set_sample_one_in(3);
  OpenTap(hub, reader, request);

  std::vector<v1::LogRecord> records;
  for (int i = 0; i < 9; ++i) {
    // The INFO records in between do not count towards the sample.
    records.push_back(Record(v1::LEVEL_INFO, "a", "info"));
    records.push_back(Record(v1::LEVEL_WARN, "a", std::to_string(i)));
  }
  hub.Offer(Batch(records), {}, composer_);

  EXPECT_THAT(reader.messages(), ElementsAre("0", "3", "6"));
}

TEST_F(TapHubTest, AFullBufferLosesRecordsCountsThemAndTellsTheReader) {
  prometheus::Registry registry;
  TapHub hub(&registry, 4, TapLimits{.max_records = 3, .max_bytes = size_t{1} << 20});
  // A reader that does not read: it never takes the read right back after Open.
  CollectingReader reader;
  absl::StatusOr<std::shared_ptr<Tap>> tap = hub.Open(TapFilter{}, reader);
  ASSERT_TRUE(tap.ok());
  reader.Attach(*tap);

  std::vector<v1::LogRecord> records;
  for (int i = 0; i < 10; ++i) records.push_back(Record(v1::LEVEL_INFO, "a", std::to_string(i)));
  hub.Offer(Batch(records), {}, composer_);
  EXPECT_THAT(reader.records(), IsEmpty());
  EXPECT_EQ((*tap)->lost(), 7u);
  EXPECT_EQ(CounterValue(registry, "sluice_tap_records_lost_total"), 7);

  reader.Drain();
  std::vector<v1::LogRecord> read = reader.records();
  ASSERT_EQ(read.size(), 4u);
  EXPECT_EQ(read[0].logger(), kTapNoticeLogger);
  EXPECT_EQ(read[0].level(), v1::LEVEL_WARN);
  ASSERT_EQ(read[0].fields_size(), 1);
  EXPECT_EQ(read[0].fields(0).key(), kTapLostRecordsField);
  EXPECT_EQ(read[0].fields(0).int_value(), 7);
  EXPECT_EQ(read[1].message(), "0");
  EXPECT_EQ(read[3].message(), "2");
  EXPECT_EQ(CounterValue(registry, "sluice_tap_records_sent_total"), 3);

  // Read empty, the reader gets each record as it comes, and no second notice.
  hub.Offer(Batch({Record(v1::LEVEL_INFO, "a", "later")}), {}, composer_);
  read = reader.records();
  ASSERT_EQ(read.size(), 5u);
  EXPECT_EQ(read[4].message(), "later");
  EXPECT_EQ((*tap)->lost(), 7u);
}

TEST_F(TapHubTest, TheNoticeCountsOnlyTheRecordsLostSinceTheLastOne) {
  TapHub hub(nullptr, 4, TapLimits{.max_records = 1, .max_bytes = size_t{1} << 20});
  CollectingReader reader;
  absl::StatusOr<std::shared_ptr<Tap>> tap = hub.Open(TapFilter{}, reader);
  ASSERT_TRUE(tap.ok());
  reader.Attach(*tap);
  hub.Offer(Batch({Record(v1::LEVEL_INFO, "a", "1"), Record(v1::LEVEL_INFO, "a", "lost")}), {},
            composer_);
  v1::LogRecord record;
  ASSERT_EQ((*tap)->Next(&record), Tap::NextResult::kRecord);
  EXPECT_EQ(record.fields(0).int_value(), 1);
  ASSERT_EQ((*tap)->Next(&record), Tap::NextResult::kRecord);
  EXPECT_EQ(record.message(), "1");
  // Still holding the read right (as a reactor with a write in flight does).
  hub.Offer(Batch({Record(v1::LEVEL_INFO, "a", "2"), Record(v1::LEVEL_INFO, "a", "lost"),
                   Record(v1::LEVEL_INFO, "a", "lost")}),
            {}, composer_);
  ASSERT_EQ((*tap)->Next(&record), Tap::NextResult::kRecord);
  EXPECT_EQ(record.logger(), kTapNoticeLogger);
  EXPECT_EQ(record.fields(0).int_value(), 2);
  ASSERT_EQ((*tap)->Next(&record), Tap::NextResult::kRecord);
  EXPECT_EQ(record.message(), "2");
  EXPECT_EQ((*tap)->Next(&record), Tap::NextResult::kIdle);
  EXPECT_EQ((*tap)->lost(), 3u);
}

TEST_F(TapHubTest, TheBufferIsBoundedInBytes) {
  TapHub hub(nullptr, 4, TapLimits{.max_records = 1000, .max_bytes = 64 * 1024});
  CollectingReader reader;
  absl::StatusOr<std::shared_ptr<Tap>> tap = hub.Open(TapFilter{}, reader);
  ASSERT_TRUE(tap.ok());
  reader.Attach(*tap);
  const std::string big(10 * 1024, 'x');
  std::vector<v1::LogRecord> records;
  for (int i = 0; i < 20; ++i) records.push_back(Record(v1::LEVEL_INFO, "a", big));
  hub.Offer(Batch(records), {}, composer_);
  // Six records of a little over 10 KiB fit in 64 KiB; the rest are lost.
  EXPECT_EQ((*tap)->lost(), 14u);
}

TEST_F(TapHubTest, RefusesTapsBeyondMaxTapsAndAfterCloseAll) {
  prometheus::Registry registry;
  TapHub hub(&registry, 2);
  CollectingReader first, second, third;
  std::shared_ptr<Tap> tap = OpenTap(hub, first, {});
  OpenTap(hub, second, {});
  EXPECT_EQ(CounterValue(registry, "sluice_taps_open"), 2);
  absl::StatusOr<std::shared_ptr<Tap>> refused = hub.Open(TapFilter{}, third);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("admin.max_taps is 2"));

  hub.Remove(tap);
  EXPECT_EQ(CounterValue(registry, "sluice_taps_open"), 1);
  OpenTap(hub, third, {});

  hub.CloseAll();
  // Idle readers are woken to learn that their tap closed.
  EXPECT_TRUE(second.closed());
  EXPECT_TRUE(third.closed());
  CollectingReader late;
  EXPECT_EQ(hub.Open(TapFilter{}, late).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(TapHubTest, RejectsInvalidFilters) {
  v1::TapRequest bad_regex;
  (*bad_regex.mutable_match())["user"] = "/(/";
  absl::StatusOr<TapFilter> filter = TapFilter::FromRequest(bad_regex);
  EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(filter.status().message(), HasSubstr("match.user"));

  v1::TapRequest bad_prefix;
  bad_prefix.set_logger_prefix("checkout..db");
  EXPECT_EQ(TapFilter::FromRequest(bad_prefix).status().code(), absl::StatusCode::kInvalidArgument);

  v1::TapRequest bad_level;
  bad_level.set_min_level(static_cast<v1::Level>(42));
  EXPECT_EQ(TapFilter::FromRequest(bad_level).status().code(), absl::StatusCode::kInvalidArgument);

  v1::TapRequest empty_key;
  (*empty_key.mutable_match())[""] = "x";
  EXPECT_EQ(TapFilter::FromRequest(empty_key).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TapHubTest, ThePipelineOffersEveryBatchAfterThePostHooks) {
  config_.base_fields = {{"env", "prod"}};
  outputs::EncodingRegistry encodings;
  Ledger ledger;
  Pipeline pipeline(config_, {}, encodings, 1, ledger, nullptr);
  TapHub hub(nullptr, 4);
  pipeline.SetTaps(&hub);
  ASSERT_TRUE(pipeline.Start().ok());
  CollectingReader reader;
  OpenTap(hub, reader, {});

  RecordBatch batch = Batch({Record(v1::LEVEL_WARN, "a", "through the pipeline")});
  pipeline.Process(0, batch);

  const std::vector<v1::LogRecord> records = reader.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message(), "through the pipeline");
  ASSERT_EQ(records[0].fields_size(), 1);
  EXPECT_EQ(records[0].fields(0).key(), "env");
  EXPECT_TRUE(pipeline.Shutdown(absl::Now()).ok());
}

// Workers offer while taps open, read, close and go away on other threads: run under TSan
// (and ASan), this fails on a data race or on a reader reached after it was removed.
TEST_F(TapHubTest, TapsComeAndGoWhileWorkersOffer) {
  TapHub hub(nullptr, 4, TapLimits{.max_records = 8, .max_bytes = size_t{1} << 20});
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      std::vector<v1::LogRecord> records;
      for (int i = 0; i < 16; ++i) records.push_back(Record(v1::LEVEL_WARN, "a", "x"));
      while (!stop.load()) {
        RecordBatch batch = Batch(records);
        if (hub.active()) hub.Offer(batch, {}, composer_);
      }
    });
  }
  std::vector<std::thread> tappers;
  std::atomic<int> opened{0};
  for (int t = 0; t < 4; ++t) {
    tappers.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        auto reader = std::make_unique<CollectingReader>();
        v1::TapRequest request;
        request.set_sample_one_in(static_cast<uint32_t>(t + 1));
        absl::StatusOr<std::shared_ptr<Tap>> tap = hub.Open(Filter(request), *reader);
        if (!tap.ok()) continue;
        opened.fetch_add(1);
        reader->Attach(*tap);
        if (round % 2 == 0) reader->Drain();
        // As TapReactor: close, wait until the reader learned it, remove, then die.
        (*tap)->Close();
        if (round % 2 == 1) reader->Drain();
        reader->AwaitClosed();
        hub.Remove(*tap);
        reader.reset();
      }
    });
  }
  for (std::thread& tapper : tappers) tapper.join();
  stop.store(true);
  for (std::thread& worker : workers) worker.join();
  EXPECT_FALSE(hub.active());
  EXPECT_GT(opened.load(), 0);
}

}  // namespace
}  // namespace sluice::pipeline
