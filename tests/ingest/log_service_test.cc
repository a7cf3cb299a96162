#include "server/ingest/log_service.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/ingest/ingest_fixture.h"
#include "tests/test_util/eventually.h"

namespace sluice::ingest {
namespace {

using test_util::Eventually;
using Options = FixtureOptions;
using Fixture = IngestFixture<LogService, v1::LogService>;

v1::LogRecord Record(const std::string& message, v1::Level level = v1::LEVEL_INFO) {
  v1::LogRecord record;
  record.set_level(level);
  record.set_logger("demo");
  record.set_message(message);
  return record;
}

v1::LogBatch Batch(uint64_t sequence, int records, v1::Level level = v1::LEVEL_INFO) {
  v1::LogBatch batch;
  batch.set_sequence(sequence);
  for (int i = 0; i < records; ++i) {
    *batch.add_records() = Record(absl::StrCat(sequence, ":", i), level);
  }
  return batch;
}

TEST(LogServiceTest, PushGathersRecordsIntoMicroBatches) {
  Options options;
  options.max_batch_records = 10;
  options.max_batch_delay = absl::Seconds(10);  // only size and half-close cut batches here
  Fixture fixture(options);
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(writer->Write(Record(std::to_string(i))));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());

  EXPECT_EQ(summary.received(), 25u);
  EXPECT_EQ(summary.accepted(), 25u);
  ASSERT_TRUE(fixture.processor().AwaitRecords(25));
  EXPECT_THAT(fixture.processor().batch_sizes(), ::testing::UnorderedElementsAre(10, 10, 5));
}

TEST(LogServiceTest, PushSendsALoneRecordOnceTheBatchDelayPassed) {
  Options options;
  options.max_batch_delay = absl::Milliseconds(20);
  Fixture fixture(options);
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  ASSERT_TRUE(writer->Write(Record("lonely")));
  // The stream stays open: only the delay can have sent the record on.
  ASSERT_TRUE(fixture.processor().AwaitRecords(1));
  EXPECT_THAT(fixture.processor().messages(), ::testing::ElementsAre("lonely"));
  writer->WritesDone();
  EXPECT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.accepted(), 1u);
}

TEST(LogServiceTest, PushBatchesAcksEveryBatchInOrder) {
  Fixture fixture(Options{});
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  for (uint64_t sequence = 1; sequence <= 20; ++sequence) {
    ASSERT_TRUE(stream->Write(Batch(sequence, 50)));
  }
  stream->WritesDone();
  v1::PushAck ack;
  uint64_t expected = 1;
  while (stream->Read(&ack)) {
    EXPECT_EQ(ack.sequence(), expected++);
    EXPECT_EQ(ack.accepted(), 50u);
  }
  EXPECT_EQ(expected, 21u);
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_TRUE(fixture.processor().AwaitRecords(1000));
}

TEST(LogServiceTest, FullChannelParksTheStreamUntilTheWorkerFreesRoom) {
  Options options;
  options.workers = 1;
  options.channel_capacity = 10;
  options.limits.ack_on = DeliveryStage::kAccepted;  // acks tell what the queue took
  Fixture fixture(options);
  fixture.processor().Hold();
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  // Batch 1 is taken by the (held) worker, batch 2 fills the channel, batch 3 is parked.
  for (uint64_t sequence = 1; sequence <= 4; ++sequence) {
    ASSERT_TRUE(stream->Write(Batch(sequence, 10)));
  }
  v1::PushAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 1u);
  EXPECT_EQ(ack.stage(), v1::ACK_STAGE_ACCEPTED);
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 2u);
  ASSERT_TRUE(Eventually([&] { return fixture.scheduler().parked_streams() == 1; }));

  fixture.processor().Release();
  stream->WritesDone();
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 3u);
  EXPECT_EQ(ack.accepted(), 10u);
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 4u);
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_TRUE(fixture.processor().AwaitRecords(40));
}

TEST(LogServiceTest, InvalidRecordsAreRejectedAndTheRestOfTheBatchFlows) {
  Fixture fixture(Options{});
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  v1::LogBatch batch = Batch(7, 3);
  batch.mutable_records(1)->set_level(static_cast<v1::Level>(42));
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_TRUE(stream->Write(Batch(8, 2)));
  stream->WritesDone();
  v1::PushAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 7u);
  EXPECT_EQ(ack.accepted(), 2u);
  EXPECT_EQ(ack.rejected(), 1u);
  EXPECT_THAT(ack.rejection(), ::testing::HasSubstr("level: 42"));
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.accepted(), 2u);
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_TRUE(fixture.processor().AwaitRecords(4));
  EXPECT_THAT(fixture.processor().messages(), ::testing::Not(::testing::Contains("7:1")));
}

TEST(LogServiceTest, RecordsBelowTheThresholdAreFilteredAndCounted) {
  Fixture fixture(Options{});
  ASSERT_TRUE(
      fixture.levels().SetRule("demo", Level::kWarn, absl::ZeroDuration(), absl::Now()).ok());
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  ASSERT_TRUE(writer->Write(Record("info", v1::LEVEL_INFO)));
  ASSERT_TRUE(writer->Write(Record("error", v1::LEVEL_ERROR)));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.filtered(), 1u);
  EXPECT_EQ(summary.accepted(), 1u);
  ASSERT_TRUE(fixture.processor().AwaitRecords(1));
  EXPECT_THAT(fixture.processor().messages(), ::testing::ElementsAre("error"));
}

// The server's gRPC retry pushback on a finished call, or "" when it sent none.
TEST(LogServiceTest, DropNewestIsReportedInTheAckAndEndsTheCallWithPushback) {
  Options options;
  options.workers = 1;
  options.channel_capacity = 10;
  options.overflow = scheduler::OverflowPolicy::kDropNewest;
  options.limits.ack_on = DeliveryStage::kAccepted;  // the worker stays held throughout
  Fixture fixture(options);
  fixture.processor().Hold();
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  ASSERT_TRUE(stream->Write(Batch(1, 10)));
  ASSERT_TRUE(fixture.processor().AwaitEntered(1));
  // Batch 2 fills the channel, batch 3 finds no room; batch 4 is not read.
  for (uint64_t sequence = 2; sequence <= 4; ++sequence) stream->Write(Batch(sequence, 10));
  stream->WritesDone();
  std::vector<v1::PushAck> acks;
  v1::PushAck ack;
  while (stream->Read(&ack)) acks.push_back(ack);
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("drop_newest"));
  EXPECT_EQ(RetryPushback(context), "500");
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[0].accepted(), 10u);
  EXPECT_EQ(acks[1].accepted(), 10u);
  EXPECT_EQ(acks[2].sequence(), 3u);
  EXPECT_EQ(acks[2].accepted(), 0u);
  EXPECT_EQ(acks[2].dropped(), 10u);
  EXPECT_EQ(acks[2].drop_reason(), v1::DROP_REASON_OVERFLOW_DROP_NEWEST);
  EXPECT_EQ(fixture.ledger().Snapshot().dropped, 10u);
  EXPECT_EQ(fixture.ledger().Snapshot().received, 30u) << "batch 4 was never read";
}

TEST(LogServiceTest, AckWaitsForTheOutputsAndReportsWhatTheyLost) {
  Fixture fixture(Options{});  // ingest.ack_on defaults to written
  fixture.processor().FailOutputs();
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  ASSERT_TRUE(stream->Write(Batch(1, 5)));
  stream->WritesDone();
  v1::PushAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 1u);
  EXPECT_EQ(ack.stage(), v1::ACK_STAGE_WRITTEN);
  // Queued, the batch would have been acked accepted; only the processor knew of the loss.
  EXPECT_EQ(ack.accepted(), 0u);
  EXPECT_EQ(ack.dropped(), 5u);
  EXPECT_EQ(ack.drop_reason(), v1::DROP_REASON_OUTPUT_FAILED);
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(LogServiceTest, AckOfADroppedBatchWaitsForTheAcksBeforeIt) {
  Options options;
  options.workers = 1;
  options.channel_capacity = 10;
  options.overflow = scheduler::OverflowPolicy::kDropNewest;
  options.limits.ack_on = DeliveryStage::kFlushed;
  Fixture fixture(options);
  fixture.processor().Hold();
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  ASSERT_TRUE(stream->Write(Batch(1, 10)));
  ASSERT_TRUE(fixture.processor().AwaitEntered(1));
  ASSERT_TRUE(stream->Write(Batch(2, 10)));  // queued
  ASSERT_TRUE(stream->Write(Batch(3, 10)));  // dropped, settled at once
  stream->WritesDone();
  ASSERT_TRUE(Eventually([&] { return fixture.ledger().Snapshot().dropped == 10; }));
  // Batches 1 and 2 are still to be written: the ack of batch 3 must wait for theirs.
  fixture.processor().Release();
  std::vector<uint64_t> sequences;
  v1::PushAck ack;
  while (stream->Read(&ack)) {
    sequences.push_back(ack.sequence());
    EXPECT_EQ(ack.stage(), v1::ACK_STAGE_FLUSHED);
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(sequences, ::testing::ElementsAre(1, 2, 3));
}

// One worker, whose channel holds one batch of 10 records, under scheduler.overflow:
// drop_oldest.
Options DropOldestOneBatchChannel() {
  Options options;
  options.workers = 1;
  options.channel_capacity = 10;
  options.overflow = scheduler::OverflowPolicy::kDropOldest;
  return options;
}

// With the worker held on batch 1, batch 2 fills the channel and batch 3 evicts it; true
// once the eviction is counted.
bool WriteBatchesEvictingTheSecond(Fixture& fixture,
                                   grpc::ClientReaderWriter<v1::LogBatch, v1::PushAck>& stream) {
  fixture.processor().Hold();
  if (!stream.Write(Batch(1, 10)) || !fixture.processor().AwaitEntered(1)) return false;
  if (!stream.Write(Batch(2, 10)) || !stream.Write(Batch(3, 10))) return false;
  return Eventually([&] { return fixture.ledger().Snapshot().dropped == 10; });
}

TEST(LogServiceTest, DropOldestIsReportedInTheAckOfTheEvictedBatch) {
  Fixture fixture(DropOldestOneBatchChannel());
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  ASSERT_TRUE(WriteBatchesEvictingTheSecond(fixture, *stream));
  stream->WritesDone();
  fixture.processor().Release();
  std::vector<v1::PushAck> acks;
  v1::PushAck ack;
  while (stream->Read(&ack)) acks.push_back(ack);
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[0].accepted(), 10u);
  EXPECT_EQ(acks[1].sequence(), 2u);
  EXPECT_EQ(acks[1].accepted(), 0u);
  EXPECT_EQ(acks[1].dropped(), 10u);
  EXPECT_EQ(acks[1].drop_reason(), v1::DROP_REASON_OVERFLOW_DROP_OLDEST);
  EXPECT_EQ(acks[2].accepted(), 10u);
  EXPECT_EQ(acks[2].dropped(), 0u);
  ASSERT_TRUE(fixture.processor().AwaitRecords(20));
}

TEST(LogServiceTest, AfterADropOldestEvictionTheNextMessageEndsTheCallWithPushback) {
  Fixture fixture(DropOldestOneBatchChannel());
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  ASSERT_TRUE(WriteBatchesEvictingTheSecond(fixture, *stream));
  fixture.processor().Release();
  v1::PushAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 1u);
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 2u);
  EXPECT_EQ(ack.drop_reason(), v1::DROP_REASON_OVERFLOW_DROP_OLDEST);

  // The eviction was reported: the next batch is not taken, and the call ends.
  stream->Write(Batch(4, 10));
  stream->WritesDone();
  std::vector<uint64_t> later;
  while (stream->Read(&ack)) later.push_back(ack.sequence());
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("drop_oldest"));
  EXPECT_EQ(RetryPushback(context), "500");
  EXPECT_THAT(later, ::testing::ElementsAre(3)) << "batch 3 was taken, batch 4 not";
  EXPECT_EQ(fixture.ledger().Snapshot().received, 30u) << "batch 4 was not taken";
}

TEST(LogServiceTest, PushSummaryCountsWhatTheOutputsLost) {
  Options options;
  options.max_batch_records = 4;
  Fixture fixture(options);
  fixture.processor().FailOutputs();
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(writer->Write(Record(std::to_string(i))));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.received(), 10u);
  EXPECT_EQ(summary.accepted(), 0u);
  EXPECT_EQ(summary.dropped(), 10u);
}

TEST(LogServiceTest, ClosedIntakeRefusesNewCallsWithUnavailable) {
  Fixture fixture(Options{});
  fixture.intake().Close();
  {
    grpc::ClientContext context;
    v1::PushSummary summary;
    auto writer = fixture.stub().Push(&context, &summary);
    writer->Write(Record("late"));
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(RetryPushback(context), "1000");
  }
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  stream->Write(Batch(1, 1));
  stream->WritesDone();
  v1::PushAck ack;
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(RetryPushback(context), "1000");
  EXPECT_EQ(fixture.ledger().Snapshot().received, 0u);
}

TEST(LogServiceTest, StreamInProgressIsToldToStopWhenIntakeCloses) {
  Fixture fixture(Options{});
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  ASSERT_TRUE(stream->Write(Batch(1, 5)));
  v1::PushAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  fixture.intake().Close();
  stream->Write(Batch(2, 5));
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_TRUE(fixture.processor().AwaitRecords(5));
  EXPECT_EQ(fixture.processor().messages().size(), 5u);
}

TEST(LogServiceTest, RecordOverALimitIsRejectedNamingItAndTheStreamGoesOn) {
  Options options;
  options.limits.max_fields_per_record = 2;
  Fixture fixture(options);
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  ASSERT_TRUE(writer->Write(Record("before")));
  v1::LogRecord crowded = Record("crowded");
  for (int i = 0; i < 3; ++i) crowded.add_fields()->set_key(absl::StrCat("k", i));
  ASSERT_TRUE(writer->Write(crowded));
  ASSERT_TRUE(writer->Write(Record("after")));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());

  EXPECT_EQ(summary.received(), 3u);
  EXPECT_EQ(summary.accepted(), 2u);
  EXPECT_EQ(summary.rejected(), 1u);
  EXPECT_EQ(summary.rejection(), "fields: 3 fields, over ingest.max_fields_per_record (2)");
  ASSERT_TRUE(fixture.processor().AwaitRecords(2));
  EXPECT_THAT(fixture.processor().messages(), ::testing::ElementsAre("before", "after"));
  EXPECT_EQ(fixture.ledger().Snapshot().rejected, 1u);
}

// gRPC itself enforces max_message_bytes (SetMaxReceiveMessageSize, as server/app does):
// the call ends with RESOURCE_EXHAUSTED, which docs/ERRORS.md promises.
TEST(LogServiceTest, MessageOverMaxMessageBytesEndsTheCallWithResourceExhausted) {
  Options options;
  options.limits.max_message_bytes = 4096;
  Fixture fixture(options);
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  v1::LogBatch batch = Batch(1, 1);
  batch.mutable_records(0)->set_message(std::string(5000, 'x'));
  stream->Write(batch);
  stream->WritesDone();
  v1::PushAck ack;
  EXPECT_FALSE(stream->Read(&ack));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("larger than max"));
  EXPECT_EQ(fixture.ledger().Snapshot().received, 0u);
}

TEST(LogServiceTest, CallsOverMaxConcurrentStreamsAreRefusedUntilOneCloses) {
  Options options;
  options.limits.max_concurrent_streams = 2;
  Fixture fixture(options);
  // Two streams open, each proven established by an ack.
  grpc::ClientContext first_context;
  grpc::ClientContext second_context;
  auto first = fixture.stub().PushBatches(&first_context);
  auto second = fixture.stub().PushBatches(&second_context);
  v1::PushAck ack;
  for (auto* stream : {first.get(), second.get()}) {
    ASSERT_TRUE(stream->Write(Batch(1, 1)));
    ASSERT_TRUE(stream->Read(&ack));
  }

  {
    grpc::ClientContext context;
    v1::PushSummary summary;
    auto writer = fixture.stub().Push(&context, &summary);
    writer->Write(Record("third"));
    writer->WritesDone();
    const grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(status.error_message(), ::testing::HasSubstr("ingest.max_concurrent_streams"));
    EXPECT_THAT(status.error_message(), ::testing::HasSubstr("2"));
    EXPECT_EQ(RetryPushback(context), "250");
  }
  {
    grpc::ClientContext context;
    auto third = fixture.stub().PushBatches(&context);
    third->Write(Batch(1, 1));
    third->WritesDone();
    EXPECT_FALSE(third->Read(&ack));
    EXPECT_EQ(third->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  EXPECT_EQ(fixture.context().streams->open_streams(), 2u);

  first->WritesDone();
  EXPECT_FALSE(first->Read(&ack));
  ASSERT_TRUE(first->Finish().ok());
  // The server counts the stream out in its OnDone, just after the client saw the status.
  ASSERT_TRUE(Eventually([&] { return fixture.context().streams->open_streams() == 1; }));
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  ASSERT_TRUE(writer->Write(Record("fits again")));
  writer->WritesDone();
  EXPECT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.accepted(), 1u);

  second->WritesDone();
  EXPECT_FALSE(second->Read(&ack));
  EXPECT_TRUE(second->Finish().ok());
  EXPECT_TRUE(Eventually([&] { return fixture.context().streams->open_streams() == 0; }));
}

// The string or integer value of the field `key` of `record` as text; "" when absent.
std::string FieldText(const v1::LogRecord& record, const std::string& key) {
  for (const v1::Field& field : record.fields()) {
    if (field.key() != key) continue;
    return field.has_int_value() ? std::to_string(field.int_value()) : field.string_value();
  }
  return "";
}

constexpr char kCallHooks[] =
    "[{type: metadata, keys: {x-tenant: tenant}}, {type: peer}, {type: sequence}]";

TEST(LogServiceTest, PushRecordsGetTheCallsPreHookFieldsAndLayers) {
  Options options;
  options.max_batch_records = 2;
  options.pre_hooks = kCallHooks;
  Fixture fixture(options);
  grpc::ClientContext context;
  context.AddMetadata("x-tenant", "acme");
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  v1::LogRecord with_field = Record("0");
  v1::Field* app = with_field.add_fields();
  app->set_key("app");
  app->set_string_value("1");
  ASSERT_TRUE(writer->Write(with_field));
  ASSERT_TRUE(writer->Write(Record("filtered", v1::LEVEL_DEBUG)));
  for (int i = 1; i < 5; ++i) ASSERT_TRUE(writer->Write(Record(std::to_string(i))));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.accepted(), 5u);

  ASSERT_TRUE(fixture.processor().AwaitRecords(5));
  std::vector<v1::LogRecord> records = fixture.processor().records();
  std::vector<FieldLayers> layers = fixture.processor().layers();
  ASSERT_EQ(records.size(), 5u);
  std::vector<std::string> sequences;
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(FieldText(records[i], "tenant"), "acme");
    EXPECT_EQ(FieldText(records[i], "peer"), "127.0.0.1");
    sequences.push_back(records[i].message() + "=" + FieldText(records[i], "sequence"));
    const int adhoc = records[i].message() == "0" ? 1 : 0;
    EXPECT_EQ(layers[i], (FieldLayers{.adhoc_end = adhoc, .pre_end = adhoc + 3}));
  }
  // Batches may reach the workers in any order; the filtered record took no number.
  EXPECT_THAT(sequences, ::testing::UnorderedElementsAre("0=1", "1=2", "2=3", "3=4", "4=5"));
}

TEST(LogServiceTest, PushBatchesSequenceRunsAcrossMessagesAndEachStreamCountsAlone) {
  Options options;
  options.pre_hooks = "[{type: sequence}]";
  Fixture fixture(options);
  for (const std::string stream_name : {"a", "b"}) {
    grpc::ClientContext context;
    auto stream = fixture.stub().PushBatches(&context);
    for (uint64_t sequence = 1; sequence <= 3; ++sequence) {
      v1::LogBatch batch = Batch(sequence, 2);
      *batch.add_records() = Record("rejected", static_cast<v1::Level>(42));
      for (v1::LogRecord& record : *batch.mutable_records()) {
        record.set_message(stream_name + record.message());
      }
      ASSERT_TRUE(stream->Write(batch));
    }
    stream->WritesDone();
    v1::PushAck ack;
    while (stream->Read(&ack)) EXPECT_EQ(ack.accepted(), 2u);
    ASSERT_TRUE(stream->Finish().ok());
  }
  ASSERT_TRUE(fixture.processor().AwaitRecords(12));
  std::vector<std::string> numbered;
  for (const v1::LogRecord& record : fixture.processor().records()) {
    numbered.push_back(record.message() + "=" + FieldText(record, "sequence"));
  }
  EXPECT_THAT(numbered, ::testing::UnorderedElementsAre("a1:0=1", "a1:1=2", "a2:0=3", "a2:1=4",
                                                        "a3:0=5", "a3:1=6", "b1:0=1", "b1:1=2",
                                                        "b2:0=3", "b2:1=4", "b3:0=5", "b3:1=6"));
}

// Drops the records whose message starts with "drop".
class DropMarkedHook final : public pipeline::hooks::Hook {
 public:
  absl::string_view id() const override { return "drop_marked/x"; }
  Verdict OnRecord(pipeline::hooks::HookRecord& record) const override {
    return absl::StartsWith(record.record().message(), "drop") ? Verdict::kDrop : Verdict::kKeep;
  }
};

pipeline::hooks::HookChain DropMarkedChain() {
  std::vector<std::unique_ptr<pipeline::hooks::Hook>> hooks;
  hooks.push_back(std::make_unique<DropMarkedHook>());
  return pipeline::hooks::HookChain(std::move(hooks), nullptr);
}

TEST(LogServiceTest, RecordsAPreHookDropsAreAckedAsDeliveredAndBalanceTheBooks) {
  const pipeline::hooks::HookChain chain = DropMarkedChain();
  Options options;
  options.pre_hook_chain = &chain;
  options.limits.ack_on = DeliveryStage::kWritten;
  Fixture fixture(options);
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  v1::LogBatch mixed = Batch(1, 2);
  *mixed.add_records() = Record("drop me");
  ASSERT_TRUE(stream->Write(mixed));
  v1::LogBatch only_dropped;
  only_dropped.set_sequence(2);
  *only_dropped.add_records() = Record("drop all");
  ASSERT_TRUE(stream->Write(only_dropped));
  stream->WritesDone();
  std::vector<std::string> acks;
  v1::PushAck ack;
  while (stream->Read(&ack)) {
    acks.push_back(absl::StrCat(ack.sequence(), ": ", ack.accepted(), "/", ack.dropped()));
  }
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_THAT(acks, ::testing::ElementsAre("1: 3/0", "2: 1/0"));

  grpc::ClientContext push_context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&push_context, &summary);
  ASSERT_TRUE(writer->Write(Record("kept")));
  ASSERT_TRUE(writer->Write(Record("drop this")));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.received(), 2u);
  EXPECT_EQ(summary.accepted(), 2u);

  ASSERT_TRUE(fixture.processor().AwaitRecords(3));
  EXPECT_THAT(fixture.processor().messages(),
              ::testing::UnorderedElementsAre("1:0", "1:1", "kept"));
  const LedgerCounts counts = fixture.ledger().Snapshot();
  EXPECT_EQ(counts.received, 6u);
  EXPECT_EQ(counts.dropped_by_hook, 3u);
}

}  // namespace
}  // namespace sluice::ingest
