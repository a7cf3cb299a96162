// The standard gRPC services on a real sluiced: grpc.health.v1.Health follows intake
// (SERVING, NOT_SERVING while drained, SERVING again after Resume), and server reflection
// lists and describes every service on each port, the way grpcurl and
// Kubernetes' gRPC probes use them. Reflection is called through stubs generated from the
// repository's wire-compatible reflection.proto, since Debian ships no C++ client for it.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

using ::grpc::health::v1::HealthCheckResponse;
using ::testing::Contains;
using ::testing::IsSupersetOf;

constexpr absl::Duration kCallDeadline = absl::Seconds(30);

constexpr char kConfig[] = R"(
outputs:
  - { type: "null" }
)";

std::unique_ptr<SluicedProcess> StartServer() {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kConfig);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
}

// Health.Check of `service` on `target`: the status, or UNKNOWN with the call's error
// code in `code`.
HealthCheckResponse::ServingStatus Check(const std::string& target, const std::string& service,
                                         grpc::StatusCode* code = nullptr) {
  auto stub = grpc::health::v1::Health::NewStub(Channel(target));
  grpc::ClientContext context;
  SetDeadline(context);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (code != nullptr) *code = status.error_code();
  if (!status.ok()) return HealthCheckResponse::UNKNOWN;
  return response.status();
}

void Drain(const SluicedProcess& server) {
  auto admin = v1::AdminService::NewStub(Channel(server.admin_target()));
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DrainRequest request;
  request.set_timeout_ms(10000);
  v1::DrainResponse response;
  ASSERT_TRUE(admin->Drain(&context, request, &response).ok());
}

void Resume(const SluicedProcess& server) {
  auto admin = v1::AdminService::NewStub(Channel(server.admin_target()));
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ResumeResponse response;
  ASSERT_TRUE(admin->Resume(&context, {}, &response).ok());
}

// Sends `request` on one ServerReflectionInfo stream and returns the single answer.
grpc::reflection::v1alpha::ServerReflectionResponse Reflect(
    const std::string& target, const grpc::reflection::v1alpha::ServerReflectionRequest& request) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(Channel(target));
  grpc::ClientContext context;
  SetDeadline(context);
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  EXPECT_TRUE(stream->Write(request));
  stream->WritesDone();
  EXPECT_TRUE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

std::vector<std::string> ListServices(const std::string& target) {
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  const auto response = Reflect(target, request);
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  return names;
}

// The FileDescriptorProto of the file defining `symbol`, as grpcurl fetches it.
google::protobuf::FileDescriptorProto FileContaining(const std::string& target,
                                                     const std::string& symbol) {
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_file_containing_symbol(symbol);
  const auto response = Reflect(target, request);
  EXPECT_FALSE(response.has_error_response()) << response.error_response().error_message();
  google::protobuf::FileDescriptorProto file;
  const auto& files = response.file_descriptor_response().file_descriptor_proto();
  if (files.empty()) {
    ADD_FAILURE() << "no file for " << symbol;
    return file;
  }
  EXPECT_TRUE(file.ParseFromString(files[0]));
  return file;
}

std::vector<std::string> MethodsOf(const google::protobuf::FileDescriptorProto& file,
                                   const std::string& service_name) {
  std::vector<std::string> methods;
  for (const auto& service : file.service()) {
    if (service.name() != service_name) continue;
    for (const auto& method : service.method()) methods.push_back(method.name());
  }
  return methods;
}

TEST(StandardServicesTest, IngestHealthIsServingUntilADrainAndAgainAfterResume) {
  std::unique_ptr<SluicedProcess> server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string ingest = server->ingest_target();
  EXPECT_EQ(Check(ingest, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(ingest, "sluice.v1.LogService"), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(ingest, "opentelemetry.proto.collector.logs.v1.LogsService"),
            HealthCheckResponse::SERVING);

  Drain(*server);
  EXPECT_EQ(Check(ingest, ""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check(ingest, "sluice.v1.LogService"), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check(ingest, "opentelemetry.proto.collector.logs.v1.LogsService"),
            HealthCheckResponse::NOT_SERVING);

  Resume(*server);
  EXPECT_EQ(Check(ingest, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(ingest, "sluice.v1.LogService"), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(ingest, "opentelemetry.proto.collector.logs.v1.LogsService"),
            HealthCheckResponse::SERVING);
}

// Sends three batches of `records` records of `message` on one stream to a server whose one
// worker is held by a slow output: the first batch occupies the worker, the second fills
// the channel, the third is parked. Ingest health must say NOT_SERVING meanwhile.
void ExpectNotServingWhileTheChannelIsFull(const std::string& config, int records,
                                           const std::string& message) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(config);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string ingest = (*server)->ingest_target();
  EXPECT_EQ(Check(ingest, ""), HealthCheckResponse::SERVING);

  auto stub = v1::LogService::NewStub(Channel(ingest));
  grpc::ClientContext context;
  SetDeadline(context);
  auto stream = stub->PushBatches(&context);
  for (uint64_t sequence = 1; sequence <= 3; ++sequence) {
    v1::LogBatch batch;
    batch.set_sequence(sequence);
    for (int i = 0; i < records; ++i) batch.add_records()->set_message(message);
    ASSERT_TRUE(stream->Write(batch));
  }
  EXPECT_TRUE(Await(
      [&] { return Check(ingest, "sluice.v1.LogService") == HealthCheckResponse::NOT_SERVING; }));

  stream->WritesDone();
  v1::PushAck ack;
  int acks = 0;
  while (stream->Read(&ack)) ++acks;
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(acks, 3);
  EXPECT_TRUE(Await([&] { return Check(ingest, "") == HealthCheckResponse::SERVING; }));
}

TEST(StandardServicesTest, IngestHealthIsNotServingWhileEveryChannelIsFull) {
  // Room for one batch of 10 records.
  ExpectNotServingWhileTheChannelIsFull(R"(
scheduler: { workers: 1, channel_capacity: 10 }
outputs:
  - { type: "null", write_latency: 2s, buffer: { max_records: 1 } }
)",
                                        10, "x");
}

TEST(StandardServicesTest, IngestHealthIsNotServingWhileEveryChannelIsFullByBytes) {
  // Room for 1,000 records but only 64 KiB: one batch of three 30 KB records fills it.
  ExpectNotServingWhileTheChannelIsFull(R"(
scheduler: { workers: 1, channel_capacity: 1000, channel_capacity_bytes: 65536 }
outputs:
  - { type: "null", write_latency: 2s, buffer: { max_records: 1 } }
)",
                                        3, std::string(30000, 'x'));
}

TEST(StandardServicesTest, AdminHealthStaysServingWhileTheServerDrains) {
  std::unique_ptr<SluicedProcess> server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string admin = server->admin_target();
  EXPECT_EQ(Check(admin, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(admin, "sluice.v1.AdminService"), HealthCheckResponse::SERVING);
  Drain(*server);
  EXPECT_EQ(Check(admin, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(admin, "sluice.v1.AdminService"), HealthCheckResponse::SERVING);
}

TEST(StandardServicesTest, HealthOfAServiceNotOnThePortIsNotFound) {
  std::unique_ptr<SluicedProcess> server = StartServer();
  ASSERT_NE(server, nullptr);
  grpc::StatusCode code = grpc::StatusCode::OK;
  Check(server->ingest_target(), "sluice.v1.AdminService", &code);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
}

TEST(StandardServicesTest, ReflectionListsTheServicesOfEachPort) {
  std::unique_ptr<SluicedProcess> server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(
      ListServices(server->ingest_target()),
      IsSupersetOf({"sluice.v1.LogService", "opentelemetry.proto.collector.logs.v1.LogsService",
                    "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}));
  EXPECT_THAT(ListServices(server->admin_target()),
              IsSupersetOf({"sluice.v1.AdminService", "grpc.health.v1.Health",
                            "grpc.reflection.v1alpha.ServerReflection"}));
  EXPECT_THAT(ListServices(server->ingest_target()),
              ::testing::Not(Contains("sluice.v1.AdminService")));
}

TEST(StandardServicesTest, ReflectionDescribesEveryServiceWithItsMethods) {
  std::unique_ptr<SluicedProcess> server = StartServer();
  ASSERT_NE(server, nullptr);
  const google::protobuf::FileDescriptorProto logs =
      FileContaining(server->ingest_target(), "sluice.v1.LogService");
  EXPECT_EQ(logs.name(), "sluice/v1/logs.proto");
  EXPECT_THAT(MethodsOf(logs, "LogService"), ::testing::ElementsAre("Push", "PushBatches"));

  const google::protobuf::FileDescriptorProto admin =
      FileContaining(server->admin_target(), "sluice.v1.AdminService");
  EXPECT_THAT(MethodsOf(admin, "AdminService"), IsSupersetOf({"Drain", "Resume", "Shutdown"}));

  const google::protobuf::FileDescriptorProto health =
      FileContaining(server->ingest_target(), "grpc.health.v1.Health");
  EXPECT_THAT(MethodsOf(health, "Health"), ::testing::ElementsAre("Check", "Watch"));
}

}  // namespace
}  // namespace sluice::e2e
