#include "server/outputs/otlp/otlp_output.h"

#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/outputs/otlp/otlp_record_encoder.h"
#include "tests/outputs/otlp_receiver.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

absl::StatusOr<OtlpOutputConfig> Parse(const std::string& yaml) {
  return OtlpOutputConfig::Parse(YAML::Load(yaml), "outputs[0]");
}

// A batch of records with a logger and string fields, in the otlp output's encoding.
class EncodedBatch final : public OutputBatch {
 public:
  explicit EncodedBatch(std::vector<std::string> resource_keys = OtlpOutputConfig().resource_keys)
      : encoder_(std::move(resource_keys), OtlpFraming::kFrames) {}

  EncodedBatch& Add(absl::string_view logger, absl::string_view message,
                    std::vector<std::pair<std::string, std::string>> fields = {}) {
    std::vector<v1::Field> values;
    for (const auto& [key, value] : fields) {
      v1::Field& field = values.emplace_back();
      field.set_key(key);
      field.set_string_value(value);
    }
    std::vector<ComposedField> composed;
    for (const v1::Field& field : values) composed.push_back({.key = field.key(), .field = &field});
    static constexpr RecordKeys kKeys = {
        .time = "time", .level = "level", .logger = "logger", .message = "message"};
    encoder_.Append({.time_unix_nanos = 1,
                     .level = Level::kInfo,
                     .logger = logger,
                     .message = message,
                     .keys = &kKeys,
                     .fields = composed},
                    &lines_);
    batch_.records().Add()->set_message(std::string(message));
    return *this;
  }

  const RecordBatch& records() const override { return batch_; }
  bool takes(int) const override { return true; }
  size_t count() const override { return static_cast<size_t>(batch_.records().size()); }
  FieldLayers layers(int index) const override {
    return FieldLayers::AllAdHoc(batch_.records()[index].fields_size());
  }
  absl::string_view Lines(EncodingId) override { return lines_; }

 private:
  OtlpRecordEncoder encoder_;
  RecordBatch batch_;
  std::string lines_;
};

// An otlp output created by its factory, as sluiced creates it, and started.
std::unique_ptr<CreatedOutput> Create(const std::string& yaml) {
  std::unique_ptr<CreatedOutput> created = CreateWithRegistries(OtlpOutputFactory(), yaml);
  if (created->output == nullptr) return nullptr;
  EXPECT_TRUE(created->output->Start().ok());
  return created;
}

std::string Block(const OtlpReceiver& receiver, absl::string_view extra = "") {
  return absl::StrCat("{type: otlp, endpoint: '", receiver.target(), "'", extra, "}");
}

std::vector<std::string> Bodies(const OtlpReceiver::Request& request) {
  std::vector<std::string> bodies;
  for (const auto& resource : request.resource_logs()) {
    for (const auto& scope : resource.scope_logs()) {
      for (const auto& log : scope.log_records()) bodies.push_back(log.body().string_value());
    }
  }
  return bodies;
}

TEST(OtlpOutputConfigTest, NeedsAnEndpointAndDefaultsToGzipAndTenSeconds) {
  EXPECT_THAT(Parse("{type: otlp}").status().message(),
              HasSubstr("outputs[0]: missing required key `endpoint`"));
  absl::StatusOr<OtlpOutputConfig> config = Parse("{type: otlp, endpoint: 'localhost:4317'}");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->compression, OtlpOutputConfig::Compression::kGzip);
  EXPECT_EQ(config->timeout, absl::Seconds(10));
  EXPECT_EQ(config->max_request_bytes, 4128768u);
  EXPECT_THAT(config->resource_keys, ::testing::Contains("service."));
}

TEST(OtlpOutputConfigTest, LowercasesHeaderNamesAndRefusesReservedOnes) {
  absl::StatusOr<OtlpOutputConfig> config =
      Parse("{type: otlp, endpoint: x, headers: {X-Api-Key: abc}}");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->headers, ElementsAre(Pair("x-api-key", "abc")));
  EXPECT_THAT(Parse("{type: otlp, endpoint: x, headers: {grpc-timeout: 1}}").status().message(),
              HasSubstr("outputs[0].headers.grpc-timeout: reserved"));
  EXPECT_THAT(Parse("{type: otlp, endpoint: x, headers: {key-bin: 1}}").status().message(),
              HasSubstr("reserved"));
}

TEST(OtlpOutputConfigTest, ResolvesHeaderValuesFromTheEnvironmentAndFiles) {
  ::setenv("SLUICE_OTLP_TEST_KEY", "from-env", 1);
  EXPECT_EQ(*ResolveHeaderValue("${env:SLUICE_OTLP_TEST_KEY}", "h"), "from-env");
  TempDir dir;
  WriteFile(dir.Path("key"), "from-file\n");
  EXPECT_EQ(*ResolveHeaderValue(absl::StrCat("${file:", dir.Path("key"), "}"), "h"), "from-file");
  EXPECT_EQ(*ResolveHeaderValue("plain", "h"), "plain");
}

TEST(OtlpOutputConfigTest, AHeaderThatCannotBeResolvedIsAnErrorThatShowsNoValue) {
  ::unsetenv("SLUICE_OTLP_TEST_MISSING");
  absl::StatusOr<std::string> missing =
      ResolveHeaderValue("${env:SLUICE_OTLP_TEST_MISSING}", "outputs[0].headers.x-key");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("outputs[0].headers.x-key: environment variable SLUICE_OTLP_TEST_MISSING"));
  ::setenv("SLUICE_OTLP_TEST_KEY", "secret\x01value", 1);
  absl::StatusOr<std::string> binary =
      ResolveHeaderValue("${env:SLUICE_OTLP_TEST_KEY}", "outputs[0].headers.x-key");
  EXPECT_FALSE(binary.ok());
  EXPECT_THAT(binary.status().message(), ::testing::Not(HasSubstr("secret")));
}

TEST(OtlpOutputTest, GroupsRecordsByResourceAndScopeInOneExport) {
  std::unique_ptr<OtlpReceiver> receiver = OtlpReceiver::Listen();
  std::unique_ptr<CreatedOutput> created = Create(Block(*receiver));
  ASSERT_NE(created, nullptr);
  EncodedBatch batch;
  batch.Add("x", "a1", {{"service.name", "a"}, {"user", "u1"}})
      .Add("y", "a2", {{"service.name", "a"}})
      .Add("x", "b1", {{"service.name", "b"}})
      .Add("x", "a3", {{"service.name", "a"}, {"user", "u3"}});
  ASSERT_TRUE(created->output->Write(batch).ok());

  const std::vector<OtlpReceiver::Request> requests = receiver->requests();
  ASSERT_EQ(requests.size(), 1u);
  const OtlpReceiver::Request& request = requests[0];
  ASSERT_EQ(request.resource_logs_size(), 2);
  const auto& a = request.resource_logs(0);
  EXPECT_EQ(a.resource().attributes(0).value().string_value(), "a");
  ASSERT_EQ(a.scope_logs_size(), 2);
  EXPECT_EQ(a.scope_logs(0).scope().name(), "x");
  ASSERT_EQ(a.scope_logs(0).log_records_size(), 2);
  EXPECT_EQ(a.scope_logs(0).log_records(0).body().string_value(), "a1");
  EXPECT_EQ(a.scope_logs(0).log_records(0).attributes(0).key(), "user");
  EXPECT_EQ(a.scope_logs(0).log_records(1).body().string_value(), "a3");
  EXPECT_EQ(a.scope_logs(1).scope().name(), "y");
  const auto& b = request.resource_logs(1);
  EXPECT_EQ(b.resource().attributes(0).value().string_value(), "b");
  EXPECT_THAT(Bodies(request), ElementsAre("a1", "a3", "a2", "b1"));
}

TEST(OtlpOutputTest, SplitsABatchLargerThanMaxRequestBytesKeepingTheOrder) {
  std::unique_ptr<OtlpReceiver> receiver = OtlpReceiver::Listen();
  std::unique_ptr<CreatedOutput> created = Create(Block(*receiver, ", max_request_bytes: 4096"));
  ASSERT_NE(created, nullptr);
  EncodedBatch batch;
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    expected.push_back(absl::StrCat("record ", i, " ", std::string(200, 'x')));
    batch.Add(i % 2 == 0 ? "even" : "odd", expected.back());
  }
  ASSERT_TRUE(created->output->Write(batch).ok());
  const std::vector<OtlpReceiver::Request> requests = receiver->requests();
  EXPECT_GT(requests.size(), 5u);
  std::vector<std::string> received;
  for (const OtlpReceiver::Request& request : requests) {
    EXPECT_LE(request.ByteSizeLong(), 4096u);
    for (const std::string& body : Bodies(request)) received.push_back(body);
  }
  std::vector<std::string> even;
  std::vector<std::string> odd;
  for (const std::string& body : received) {
    const int i = std::atoi(body.c_str() + 7);
    (i % 2 == 0 ? even : odd).push_back(body);
  }
  ASSERT_EQ(received.size(), 100u);
  for (size_t i = 1; i < even.size(); ++i)
    EXPECT_LT(std::atoi(even[i - 1].c_str() + 7), std::atoi(even[i].c_str() + 7));
  for (size_t i = 1; i < odd.size(); ++i)
    EXPECT_LT(std::atoi(odd[i - 1].c_str() + 7), std::atoi(odd[i].c_str() + 7));
}

TEST(OtlpOutputTest, SendsTheConfiguredHeaders) {
  ::setenv("SLUICE_OTLP_TEST_KEY", "k-123", 1);
  std::unique_ptr<OtlpReceiver> receiver = OtlpReceiver::Listen();
  std::unique_ptr<CreatedOutput> created =
      Create(Block(*receiver, ", headers: {X-Api-Key: '${env:SLUICE_OTLP_TEST_KEY}', team: logs}"));
  ASSERT_NE(created, nullptr);
  EncodedBatch batch;
  batch.Add("x", "m");
  ASSERT_TRUE(created->output->Write(batch).ok());
  const auto metadata = receiver->metadata();
  ASSERT_EQ(metadata.size(), 1u);
  EXPECT_THAT(metadata[0], ::testing::Contains(Pair("x-api-key", "k-123")));
  EXPECT_THAT(metadata[0], ::testing::Contains(Pair("team", "logs")));
}

grpc::Status WithRetryInfo(grpc::StatusCode code, absl::Duration delay) {
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(absl::ToInt64Seconds(delay));
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.add_details()->PackFrom(retry);
  return grpc::Status(code, "slow down", details.SerializeAsString());
}

OtlpReceiver::Answer Fail(grpc::Status status) {
  OtlpReceiver::Answer answer;
  answer.status = std::move(status);
  return answer;
}

TEST(OtlpOutputTest, MapsTheReceiversCodesAsTheOtlpSpecificationSays) {
  std::unique_ptr<OtlpReceiver> receiver = OtlpReceiver::Listen();
  receiver->Script({
      Fail(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")),
      Fail(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "full")),
      Fail(WithRetryInfo(grpc::StatusCode::RESOURCE_EXHAUSTED, absl::Seconds(7))),
      Fail(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad")),
      Fail(grpc::Status(grpc::StatusCode::DATA_LOSS, "lost")),
  });
  std::unique_ptr<CreatedOutput> created = Create(Block(*receiver));
  ASSERT_NE(created, nullptr);
  const auto write = [&] {
    EncodedBatch batch;
    batch.Add("x", "m");
    return created->output->Write(batch);
  };
  const absl::Status unavailable = write();
  EXPECT_EQ(unavailable.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(unavailable.message(), HasSubstr("UNAVAILABLE: down"));
  EXPECT_EQ(RetryDelayOf(unavailable), std::nullopt);
  const absl::Status exhausted = write();
  EXPECT_EQ(exhausted.code(), absl::StatusCode::kResourceExhausted) << "no RetryInfo: permanent";
  const absl::Status paced = write();
  EXPECT_EQ(paced.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(RetryDelayOf(paced), absl::Seconds(7));
  EXPECT_EQ(write().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(write().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(write().ok());
}

TEST(OtlpOutputTest, ARefusedPartCountsAsRejectedAndIsNotRetried) {
  std::unique_ptr<OtlpReceiver> receiver = OtlpReceiver::Listen();
  OtlpReceiver::Answer partial;
  partial.response.mutable_partial_success()->set_rejected_log_records(2);
  partial.response.mutable_partial_success()->set_error_message("2 records too old");
  receiver->Script({partial});
  std::unique_ptr<CreatedOutput> created = Create(Block(*receiver));
  ASSERT_NE(created, nullptr);
  EncodedBatch batch;
  batch.Add("x", "1").Add("x", "2").Add("x", "3");
  EXPECT_TRUE(created->output->Write(batch).ok());
  EXPECT_EQ(receiver->requests().size(), 1u);
  double rejected = -1;
  for (const prometheus::MetricFamily& family : created->metrics.Collect()) {
    if (family.name == "sluice_output_otlp_rejected_records_total") {
      rejected = family.metric.at(0).counter.value;
    }
  }
  EXPECT_EQ(rejected, 2);
}

TEST(OtlpOutputTest, AReceiverThatIsNotUpIsTransientAndStartStillSucceeds) {
  std::string target;
  {
    std::unique_ptr<OtlpReceiver> gone = OtlpReceiver::Listen();
    target = gone->target();
  }
  std::unique_ptr<CreatedOutput> created =
      Create(absl::StrCat("{type: otlp, endpoint: '", target, "', timeout: 2s}"));
  ASSERT_NE(created, nullptr);
  EncodedBatch batch;
  batch.Add("x", "m");
  const absl::Status status = created->output->Write(batch);
  EXPECT_TRUE(status.code() == absl::StatusCode::kUnavailable) << status;
}

}  // namespace
}  // namespace sluice::outputs
