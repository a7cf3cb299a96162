// The ingest call protocol (server/ingest/ingest_call.h) as each RPC shows it under
// overload: Push and OTLP Export here; PushBatches in log_service_test.cc
// (DropNewestIsReportedInTheAckAndEndsTheCallWithPushback,
// AfterADropOldestEvictionTheNextMessageEndsTheCallWithPushback) and Export under
// drop_newest in otlp_logs_service_test.cc.
#include "server/ingest/ingest_call.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "server/ingest/log_service.h"
#include "server/ingest/otlp_logs_service.h"
#include "tests/ingest/ingest_fixture.h"

namespace sluice::ingest {
namespace {

namespace otlp_collector = opentelemetry::proto::collector::logs::v1;
namespace otlp_logs = opentelemetry::proto::logs::v1;

using ::testing::HasSubstr;
using LogFixture = IngestFixture<LogService, v1::LogService>;
using OtlpFixture = IngestFixture<OtlpLogsService, otlp_collector::LogsService>;

v1::LogRecord Record(int i) {
  v1::LogRecord record;
  record.set_level(v1::LEVEL_INFO);
  record.set_logger("demo");
  record.set_message(std::to_string(i));
  return record;
}

// One worker whose channel holds one batch of 10 records; Push cuts a batch every 10
// records (the delay never does).
FixtureOptions OneBatchChannel(scheduler::OverflowPolicy overflow) {
  FixtureOptions options;
  options.workers = 1;
  options.channel_capacity = 10;
  options.overflow = overflow;
  options.max_batch_records = 10;
  options.max_batch_delay = absl::Seconds(30);
  return options;
}

// The details of a status: its google.rpc.Status, whose code must be the status's own.
struct StatusDetails {
  std::optional<v1::PushSummary> summary;
  int64_t retry_delay_ms = -1;
};

// Waits, within a bounded time, until `condition` holds.
template <typename Condition>
bool Eventually(Condition condition) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

StatusDetails DetailsOf(const grpc::Status& status) {
  StatusDetails found;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return found;
  EXPECT_EQ(details.code(), static_cast<int32_t>(status.error_code()));
  for (const google::protobuf::Any& detail : details.details()) {
    google::rpc::RetryInfo retry;
    v1::PushSummary summary;
    if (detail.UnpackTo(&retry)) {
      found.retry_delay_ms =
          retry.retry_delay().seconds() * 1000 + retry.retry_delay().nanos() / 1000000;
    } else if (detail.UnpackTo(&summary)) {
      found.summary = summary;
    }
  }
  return found;
}

TEST(IngestCallTest, PushUnderDropNewestEndsAtOnceWithPushbackAndItsSummary) {
  FixtureOptions options = OneBatchChannel(scheduler::OverflowPolicy::kDropNewest);
  options.limits.ack_on = DeliveryStage::kAccepted;  // the worker stays held throughout
  LogFixture fixture(options);
  fixture.processor().Hold();
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(writer->Write(Record(i)));
  ASSERT_TRUE(fixture.processor().AwaitEntered(1));
  // Records 10-19 fill the channel, 20-29 find no room; what follows is not taken.
  for (int i = 10; i < 40; ++i) writer->Write(Record(i));
  writer->WritesDone();
  const grpc::Status status = writer->Finish();

  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("drop_newest"));
  EXPECT_EQ(RetryPushback(context), "500");
  const StatusDetails details = DetailsOf(status);
  EXPECT_EQ(details.retry_delay_ms, 500);
  ASSERT_TRUE(details.summary.has_value()) << "the summary travels with the status";
  EXPECT_EQ(details.summary->received(), 30u);
  EXPECT_EQ(details.summary->accepted(), 20u);
  EXPECT_EQ(details.summary->dropped(), 10u);
  EXPECT_EQ(fixture.ledger().Snapshot().received, 30u) << "records 30-39 were not taken";
  EXPECT_EQ(fixture.ledger().Snapshot().dropped, 10u);
}

TEST(IngestCallTest, PushUnderDropNewestOnTheBatchAlarmEndsWithoutWaitingForTheClient) {
  FixtureOptions options = OneBatchChannel(scheduler::OverflowPolicy::kDropNewest);
  options.max_batch_delay = absl::Milliseconds(20);
  options.limits.ack_on = DeliveryStage::kAccepted;
  LogFixture fixture(options);
  fixture.processor().Hold();
  // Another stream fills the held worker and the channel.
  grpc::ClientContext filler_context;
  auto filler = fixture.stub().PushBatches(&filler_context);
  v1::PushAck ack;
  for (uint64_t sequence = 1; sequence <= 2; ++sequence) {
    v1::LogBatch batch;
    batch.set_sequence(sequence);
    for (int i = 0; i < 10; ++i) *batch.add_records() = Record(i);
    ASSERT_TRUE(filler->Write(batch));
    ASSERT_TRUE(filler->Read(&ack));
    ASSERT_EQ(ack.accepted(), 10u);
    // The worker holds the first batch before the second may take the channel.
    ASSERT_TRUE(fixture.processor().AwaitEntered(1));
  }

  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  // One record, cut by the delay while the server waits for the next one: dropped, and
  // the call ends though the client neither sends more nor half-closes.
  ASSERT_TRUE(writer->Write(Record(0)));
  const grpc::Status status = writer->Finish();

  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  const StatusDetails details = DetailsOf(status);
  ASSERT_TRUE(details.summary.has_value());
  EXPECT_EQ(details.summary->received(), 1u);
  EXPECT_EQ(details.summary->accepted(), 0u);
  EXPECT_EQ(details.summary->dropped(), 1u);
  filler_context.TryCancel();
  filler->Finish();
}

TEST(IngestCallTest, PushUnderDropOldestCountsTheEvictionAndRefusesTheNextRecord) {
  LogFixture fixture(OneBatchChannel(scheduler::OverflowPolicy::kDropOldest));  // ack_on: written
  fixture.processor().Hold();
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(writer->Write(Record(i)));
  ASSERT_TRUE(fixture.processor().AwaitEntered(1));
  // Records 10-19 fill the channel; 20-29 evict them.
  for (int i = 10; i < 30; ++i) ASSERT_TRUE(writer->Write(Record(i)));
  ASSERT_TRUE(Eventually([&] { return fixture.ledger().Snapshot().dropped == 10; }));
  fixture.processor().Release();
  // The worker reports the eviction before it processes the batch that evicted.
  ASSERT_TRUE(fixture.processor().AwaitRecords(20));

  writer->Write(Record(30));
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("drop_oldest"));
  EXPECT_EQ(RetryPushback(context), "500");
  const StatusDetails details = DetailsOf(status);
  EXPECT_EQ(details.retry_delay_ms, 500);
  ASSERT_TRUE(details.summary.has_value());
  EXPECT_EQ(details.summary->received(), 30u);
  EXPECT_EQ(details.summary->accepted(), 20u);
  EXPECT_EQ(details.summary->dropped(), 10u);
  EXPECT_EQ(fixture.ledger().Snapshot().received, 30u) << "record 30 was not taken";
}

TEST(IngestCallTest, PushThatHalfClosesAfterAnEvictionEndsOkWithTheDropCounted) {
  LogFixture fixture(OneBatchChannel(scheduler::OverflowPolicy::kDropOldest));
  fixture.processor().Hold();
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(writer->Write(Record(i)));
  ASSERT_TRUE(fixture.processor().AwaitEntered(1));
  for (int i = 10; i < 30; ++i) ASSERT_TRUE(writer->Write(Record(i)));
  ASSERT_TRUE(Eventually([&] { return fixture.ledger().Snapshot().dropped == 10; }));
  writer->WritesDone();
  fixture.processor().Release();
  const grpc::Status status = writer->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.received(), 30u);
  EXPECT_EQ(summary.accepted(), 20u);
  EXPECT_EQ(summary.dropped(), 10u);
}

TEST(IngestCallTest, PushToldToStopByADrainStillReportsWhatItTook) {
  FixtureOptions options;
  options.max_batch_delay = absl::Milliseconds(1);
  LogFixture fixture(options);
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  ASSERT_TRUE(writer->Write(Record(0)));
  ASSERT_TRUE(fixture.processor().AwaitRecords(1));
  fixture.intake().Close();
  writer->Write(Record(1));
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  const StatusDetails details = DetailsOf(status);
  EXPECT_EQ(details.retry_delay_ms, 1000);
  ASSERT_TRUE(details.summary.has_value());
  EXPECT_EQ(details.summary->received(), 1u);
  EXPECT_EQ(details.summary->accepted(), 1u);
  EXPECT_EQ(fixture.ledger().Snapshot().received, 1u) << "the record after the drain was not taken";
}

// An Export whose answer is delivered to `status` and `done` under `mu`.
struct PendingExport {
  grpc::ClientContext context;
  otlp_collector::ExportLogsServiceRequest request;
  otlp_collector::ExportLogsServiceResponse response;
  std::mutex mu;
  std::condition_variable answered;
  bool done = false;
  grpc::Status status;

  void Start(OtlpFixture& fixture, const std::string& body, int records) {
    otlp_logs::ScopeLogs& scope_logs = *request.add_resource_logs()->add_scope_logs();
    for (int i = 0; i < records; ++i) {
      otlp_logs::LogRecord& record = *scope_logs.add_log_records();
      record.set_severity_number(otlp_logs::SEVERITY_NUMBER_INFO);
      record.mutable_body()->set_string_value(absl::StrCat(body, i));
    }
    fixture.stub().async()->Export(&context, &request, &response, [this](grpc::Status s) {
      std::lock_guard lock(mu);
      status = std::move(s);
      done = true;
      answered.notify_all();
    });
  }
  grpc::Status Await() {
    std::unique_lock lock(mu);
    EXPECT_TRUE(answered.wait_for(lock, std::chrono::seconds(30), [this] { return done; }));
    return status;
  }
};

TEST(IngestCallTest, ExportEvictedByDropOldestGetsResourceExhaustedAndPushback) {
  OtlpFixture fixture(OneBatchChannel(scheduler::OverflowPolicy::kDropOldest));  // ack_on: written
  fixture.processor().Hold();
  PendingExport held, evicted, evicting;
  held.Start(fixture, "held", 10);
  ASSERT_TRUE(fixture.processor().AwaitEntered(1));
  evicted.Start(fixture, "evicted", 10);
  ASSERT_TRUE(Eventually([&] { return fixture.scheduler().Snapshot()[0].queue_depth == 10; }));
  evicting.Start(fixture, "evicting", 10);
  ASSERT_TRUE(Eventually([&] { return fixture.ledger().Snapshot().dropped == 10; }));
  fixture.processor().Release();

  EXPECT_TRUE(held.Await().ok());
  const grpc::Status status = evicted.Await();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("drop_oldest"));
  EXPECT_EQ(RetryPushback(evicted.context), "500");
  EXPECT_EQ(DetailsOf(status).retry_delay_ms, 500);
  EXPECT_TRUE(evicting.Await().ok());
  EXPECT_FALSE(evicting.response.has_partial_success());
}

}  // namespace
}  // namespace sluice::ingest
