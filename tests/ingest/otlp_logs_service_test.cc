#include "server/ingest/otlp_logs_service.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/ingest/ingest_fixture.h"
#include "tests/test_util/eventually.h"

namespace sluice::ingest {
namespace {

namespace otlp_collector = opentelemetry::proto::collector::logs::v1;
namespace otlp_logs = opentelemetry::proto::logs::v1;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Options = FixtureOptions;
using OtlpFixture = IngestFixture<OtlpLogsService, otlp_collector::LogsService>;

// A request of `count` records "<prefix><i>" at severity `severity`, scope "otel.demo".
otlp_collector::ExportLogsServiceRequest Request(const std::string& prefix, int count,
                                                 int severity = otlp_logs::SEVERITY_NUMBER_INFO) {
  otlp_collector::ExportLogsServiceRequest request;
  otlp_logs::ScopeLogs& scope_logs = *request.add_resource_logs()->add_scope_logs();
  scope_logs.mutable_scope()->set_name("otel.demo");
  for (int i = 0; i < count; ++i) {
    otlp_logs::LogRecord& record = *scope_logs.add_log_records();
    record.set_severity_number(static_cast<otlp_logs::SeverityNumber>(severity));
    record.mutable_body()->set_string_value(absl::StrCat(prefix, i));
  }
  return request;
}

grpc::Status Export(OtlpFixture& fixture, const otlp_collector::ExportLogsServiceRequest& request,
                    otlp_collector::ExportLogsServiceResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  return fixture.stub().Export(&context, request, response);
}

TEST(OtlpLogsServiceTest, ExportedRecordsReachTheProcessorMapped) {
  OtlpFixture fixture(Options{});
  otlp_collector::ExportLogsServiceRequest request;
  otlp_logs::ResourceLogs& resource_logs = *request.add_resource_logs();
  opentelemetry::proto::common::v1::KeyValue& service =
      *resource_logs.mutable_resource()->add_attributes();
  service.set_key("service.name");
  service.mutable_value()->set_string_value("shop");
  otlp_logs::ScopeLogs& scope_logs = *resource_logs.add_scope_logs();
  scope_logs.mutable_scope()->set_name("checkout");
  otlp_logs::LogRecord& record = *scope_logs.add_log_records();
  record.set_severity_number(otlp_logs::SEVERITY_NUMBER_ERROR3);
  record.mutable_body()->set_string_value("payment failed");
  opentelemetry::proto::common::v1::KeyValue& order = *record.add_attributes();
  order.set_key("order");
  order.mutable_value()->set_int_value(42);

  otlp_collector::ExportLogsServiceResponse response;
  ASSERT_TRUE(Export(fixture, request, &response).ok());
  EXPECT_FALSE(response.has_partial_success());

  ASSERT_TRUE(fixture.processor().AwaitRecords(1));
  const v1::LogRecord mapped = fixture.processor().records()[0];
  EXPECT_EQ(mapped.level(), v1::LEVEL_ERROR);
  EXPECT_EQ(mapped.message(), "payment failed");
  EXPECT_EQ(mapped.logger(), "checkout");
  EXPECT_NE(mapped.time_unix_nano(), 0u);  // stamped at receipt
  ASSERT_EQ(mapped.fields_size(), 2);
  EXPECT_EQ(mapped.fields(0).key(), "service.name");
  EXPECT_EQ(mapped.fields(0).string_value(), "shop");
  EXPECT_EQ(mapped.fields(1).key(), "order");
  EXPECT_EQ(mapped.fields(1).int_value(), 42);
  EXPECT_EQ(fixture.ledger().Snapshot().received, 1u);
}

TEST(OtlpLogsServiceTest, InvalidSeverityIsReportedInPartialSuccess) {
  OtlpFixture fixture(Options{});
  otlp_collector::ExportLogsServiceRequest request = Request("r", 3);
  request.mutable_resource_logs(0)
      ->mutable_scope_logs(0)
      ->mutable_log_records(1)
      ->set_severity_number(static_cast<otlp_logs::SeverityNumber>(30));
  otlp_collector::ExportLogsServiceResponse response;
  ASSERT_TRUE(Export(fixture, request, &response).ok());
  EXPECT_EQ(response.partial_success().rejected_log_records(), 1);
  // Exactly the record's rejection text, as docs/ERRORS.md documents it.
  EXPECT_EQ(response.partial_success().error_message(), "level: 30 is not a sluice.v1.Level value");

  ASSERT_TRUE(fixture.processor().AwaitRecords(2));
  std::vector<std::string> messages;
  for (const v1::LogRecord& record : fixture.processor().records()) {
    messages.push_back(record.message());
  }
  EXPECT_THAT(messages, ElementsAre("r0", "r2"));
  EXPECT_EQ(fixture.ledger().Snapshot().rejected, 1u);
}

TEST(OtlpLogsServiceTest, ClosedIntakeRefusesExportWithUnavailable) {
  OtlpFixture fixture(Options{});
  fixture.intake().Close();
  otlp_collector::ExportLogsServiceResponse response;
  EXPECT_EQ(Export(fixture, Request("late", 1), &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(fixture.ledger().Snapshot().received, 0u);
}

TEST(OtlpLogsServiceTest, ExportOverMaxConcurrentStreamsIsRefused) {
  Options options;
  options.limits.max_concurrent_streams = 0;
  OtlpFixture fixture(options);
  otlp_collector::ExportLogsServiceResponse response;
  const grpc::Status status = Export(fixture, Request("r", 1), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("ingest.max_concurrent_streams"));
}

TEST(OtlpLogsServiceTest, ExportDroppedByDropNewestGetsResourceExhaustedAndPushback) {
  Options options;
  options.workers = 1;
  options.channel_capacity = 10;
  options.overflow = scheduler::OverflowPolicy::kDropNewest;
  options.limits.ack_on = DeliveryStage::kAccepted;  // answered once queued
  OtlpFixture fixture(options);
  fixture.processor().Hold();
  otlp_collector::ExportLogsServiceResponse response;
  ASSERT_TRUE(Export(fixture, Request("held", 10), &response).ok());
  ASSERT_TRUE(fixture.processor().AwaitEntered(1));
  ASSERT_TRUE(Export(fixture, Request("queued", 10), &response).ok());
  EXPECT_FALSE(response.has_partial_success());

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  const grpc::Status dropped = fixture.stub().Export(&context, Request("dropped", 10), &response);
  EXPECT_EQ(dropped.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(dropped.error_message(), HasSubstr("drop_newest"));
  const auto& trailers = context.GetServerTrailingMetadata();
  const auto pushback = trailers.find("grpc-retry-pushback-ms");
  ASSERT_NE(pushback, trailers.end());
  EXPECT_EQ(std::string(pushback->second.data(), pushback->second.size()), "500");
  EXPECT_EQ(fixture.ledger().Snapshot().dropped, 10u);
}

TEST(OtlpLogsServiceTest, ParkedExportIsAnsweredOnlyOnceTheWorkerFreesRoom) {
  Options options;
  options.workers = 1;
  options.channel_capacity = 10;
  options.limits.ack_on = DeliveryStage::kAccepted;  // answered once queued
  OtlpFixture fixture(options);
  fixture.processor().Hold();
  otlp_collector::ExportLogsServiceResponse response;
  // The first batch is taken by the (held) worker, the second fills the channel.
  ASSERT_TRUE(Export(fixture, Request("held", 10), &response).ok());
  ASSERT_TRUE(fixture.processor().AwaitEntered(1));
  ASSERT_TRUE(Export(fixture, Request("queued", 10), &response).ok());

  grpc::ClientContext context;
  otlp_collector::ExportLogsServiceRequest request = Request("parked", 10);
  otlp_collector::ExportLogsServiceResponse parked_response;
  std::mutex mu;
  std::condition_variable answered;
  bool done = false;
  grpc::Status status;
  fixture.stub().async()->Export(&context, &request, &parked_response, [&](grpc::Status s) {
    std::lock_guard lock(mu);
    status = std::move(s);
    done = true;
    answered.notify_all();
  });
  ASSERT_TRUE(test_util::Eventually([&] { return fixture.scheduler().parked_streams() == 1; }));
  {
    // Parked: nothing but the worker freeing room can answer the call now.
    std::lock_guard lock(mu);
    EXPECT_FALSE(done);
  }

  fixture.processor().Release();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(answered.wait_for(lock, std::chrono::seconds(30), [&] { return done; }));
  }
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(parked_response.has_partial_success());
  EXPECT_TRUE(fixture.processor().AwaitRecords(30));
}

TEST(OtlpLogsServiceTest, RecordsAnOutputLostAreReportedInPartialSuccess) {
  OtlpFixture fixture(Options{});  // ingest.ack_on defaults to written
  fixture.processor().FailOutputs();
  otlp_collector::ExportLogsServiceResponse response;
  ASSERT_TRUE(Export(fixture, Request("lost", 7), &response).ok());
  EXPECT_EQ(response.partial_success().rejected_log_records(), 7);
  EXPECT_THAT(response.partial_success().error_message(), HasSubstr("output"));
}

TEST(OtlpLogsServiceTest, EachExportCallIsAStreamOfItsOwnForThePreHooks) {
  Options options;
  options.pre_hooks = "[{type: sequence, key: seq}, {type: metadata, keys: {x-tenant: tenant}}]";
  OtlpFixture fixture(options);
  for (const std::string tenant : {"acme", "globex"}) {
    grpc::ClientContext context;
    context.AddMetadata("x-tenant", tenant);
    otlp_collector::ExportLogsServiceResponse response;
    ASSERT_TRUE(fixture.stub().Export(&context, Request(tenant, 2), &response).ok());
  }
  ASSERT_TRUE(fixture.processor().AwaitRecords(4));
  std::vector<std::string> fields;
  for (const v1::LogRecord& record : fixture.processor().records()) {
    std::string text = record.message();
    for (const v1::Field& field : record.fields()) {
      if (field.key() == "seq") absl::StrAppend(&text, " seq=", field.int_value());
      if (field.key() == "tenant") absl::StrAppend(&text, " tenant=", field.string_value());
    }
    fields.push_back(text);
  }
  EXPECT_THAT(fields, ::testing::UnorderedElementsAre(
                          "acme0 seq=1 tenant=acme", "acme1 seq=2 tenant=acme",
                          "globex0 seq=1 tenant=globex", "globex1 seq=2 tenant=globex"));
}

}  // namespace
}  // namespace sluice::ingest
