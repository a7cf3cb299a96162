// What a caller gets for a message that does not parse, on each ingest call: the call
// ends with INVALID_ARGUMENT (gRPC's generated code would end it with OK or
// UNIMPLEMENTED), what came before it was taken and acknowledged, and the server goes on.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ingest/log_service.h"
#include "server/ingest/otlp_logs_service.h"
#include "tests/ingest/ingest_fixture.h"

namespace sluice::ingest {
namespace {

namespace otlp_collector = opentelemetry::proto::collector::logs::v1;

using ::testing::HasSubstr;
using LogFixture = IngestFixture<LogService, v1::LogService>;
using OtlpFixture = IngestFixture<OtlpLogsService, otlp_collector::LogsService>;

// A length-delimited field whose content claims 100 bytes but holds 1: as a nested
// message it is truncated, so the request cannot be parsed. Clients serialize unknown
// fields as they are, which is how a test sends bytes no well-formed client would.
constexpr char kTruncatedMessage[] = "\x0a\x64x";

v1::LogRecord Record(const std::string& message) {
  v1::LogRecord record;
  record.set_level(v1::LEVEL_INFO);
  record.set_message(message);
  return record;
}

v1::LogBatch Batch(uint64_t sequence) {
  v1::LogBatch batch;
  batch.set_sequence(sequence);
  *batch.add_records() = Record(absl::StrCat("record of batch ", sequence));
  return batch;
}

template <typename Message>
void AddMalformedField(int number, Message& message) {
  message.GetReflection()->MutableUnknownFields(&message)->AddLengthDelimited(number,
                                                                              kTruncatedMessage);
}

TEST(MalformedRequestTest, PushBatchesEndsWithInvalidArgumentAfterTheEarlierAcks) {
  LogFixture fixture(FixtureOptions{});
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  ASSERT_TRUE(stream->Write(Batch(1)));
  v1::LogBatch malformed = Batch(2);
  AddMalformedField(2, malformed);  // field 2: records
  stream->Write(malformed);
  stream->WritesDone();
  v1::PushAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 1u);
  EXPECT_EQ(ack.accepted(), 1u);
  EXPECT_FALSE(stream->Read(&ack));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("sluice.v1.LogBatch"));
  ASSERT_TRUE(fixture.processor().AwaitRecords(1));
  EXPECT_THAT(fixture.processor().messages(), ::testing::ElementsAre("record of batch 1"));

  // The server carries on.
  grpc::ClientContext next_context;
  auto next = fixture.stub().PushBatches(&next_context);
  ASSERT_TRUE(next->Write(Batch(3)));
  ASSERT_TRUE(next->Read(&ack));
  EXPECT_EQ(ack.accepted(), 1u);
  next->WritesDone();
  EXPECT_FALSE(next->Read(&ack));
  EXPECT_TRUE(next->Finish().ok());
}

TEST(MalformedRequestTest, PushEndsWithInvalidArgument) {
  LogFixture fixture(FixtureOptions{});
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  ASSERT_TRUE(writer->Write(Record("fine")));
  v1::LogRecord malformed = Record("broken");
  AddMalformedField(5, malformed);  // field 5: fields
  writer->Write(malformed);
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("sluice.v1.LogRecord"));
  // The record before it was taken.
  ASSERT_TRUE(fixture.processor().AwaitRecords(1));
  EXPECT_THAT(fixture.processor().messages(), ::testing::ElementsAre("fine"));
}

TEST(MalformedRequestTest, ExportGetsInvalidArgumentNotUnimplemented) {
  OtlpFixture fixture(FixtureOptions{});
  otlp_collector::ExportLogsServiceRequest request;
  AddMalformedField(1, request);  // field 1: resource_logs
  otlp_collector::ExportLogsServiceResponse response;
  grpc::ClientContext context;
  const grpc::Status status = fixture.stub().Export(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("ExportLogsServiceRequest"));
  EXPECT_TRUE(fixture.processor().records().empty());
}

// Clients serialize a string that is not UTF-8 as it is (protobuf only logs it), which is
// how a Latin-1 log line reaches the server.
TEST(MalformedRequestTest, InvalidUtf8CostsOnlyItsRecordAndIsReplacedByDefault) {
  LogFixture fixture(FixtureOptions{});
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  v1::LogBatch batch;
  batch.set_sequence(1);
  *batch.add_records() = Record("before");
  *batch.add_records() = Record("caf\xe9");  // Latin-1
  *batch.add_records() = Record("after");
  ASSERT_TRUE(stream->Write(batch));
  v1::PushAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.accepted(), 3u);
  EXPECT_EQ(ack.rejected(), 0u);
  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_TRUE(fixture.processor().AwaitRecords(3));
  EXPECT_THAT(fixture.processor().messages(),
              ::testing::ElementsAre("before", "caf\xef\xbf\xbd", "after"));
  EXPECT_EQ(
      CounterValue(fixture.registry(), "sluice_ingest_utf8_replaced_total", "rpc", "PushBatches"),
      1);
}

TEST(MalformedRequestTest, InvalidUtf8UnderRejectRejectsOnlyItsRecord) {
  FixtureOptions options;
  options.limits.invalid_utf8 = config::InvalidUtf8Policy::kReject;
  OtlpFixture fixture(options);
  otlp_collector::ExportLogsServiceRequest request;
  auto& scope_logs = *request.add_resource_logs()->add_scope_logs();
  for (int i = 0; i < 101; ++i) {
    auto& record = *scope_logs.add_log_records();
    record.mutable_body()->set_string_value(absl::StrCat("r", i));
    auto& attribute = *record.add_attributes();
    attribute.set_key("city");
    attribute.mutable_value()->set_string_value(i == 50 ? "M\xfcnchen" : "Berlin");
  }
  otlp_collector::ExportLogsServiceResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(fixture.stub().Export(&context, request, &response).ok());
  EXPECT_EQ(response.partial_success().rejected_log_records(), 1);
  EXPECT_THAT(response.partial_success().error_message(), HasSubstr("invalid UTF-8"));
  ASSERT_TRUE(fixture.processor().AwaitRecords(100));
  EXPECT_EQ(fixture.processor().records().size(), 100u);
}

}  // namespace
}  // namespace sluice::ingest
