// RawMessage through a real gRPC server: a method registered with RawMessage as its
// request type gets the bytes unparsed, so the decoder, not gRPC, answers a malformed
// request, and the server goes on serving.
#include "server/ingest/raw_message.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/impl/service_type.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "server/ingest/request_decoder.h"
#include "sluice/v1/wire/otlp_logs_wire.pb.h"

namespace sluice::ingest {
namespace {

namespace otlp_collector = opentelemetry::proto::collector::logs::v1;

constexpr char kExport[] = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

// Export registered by hand, as the ingest services register their methods: the reply
// says how many records were decoded, in partial_success.error_message.
class RawExportService : public grpc::Service {
 public:
  explicit RawExportService(const config::IngestConfig& config) : decoder_(config) {
    AddMethod(new grpc::internal::RpcServiceMethod(kExport, grpc::internal::RpcMethod::NORMAL_RPC,
                                                   /*handler=*/nullptr));
    MarkMethodCallback(
        0, new grpc::internal::CallbackUnaryHandler<RawMessage,
                                                    otlp_collector::ExportLogsServiceResponse>(
               [this](grpc::CallbackServerContext* call, const RawMessage* request,
                      otlp_collector::ExportLogsServiceResponse* response) {
                 // A copy of a ByteBuffer shares its slices.
                 grpc::ByteBuffer bytes = request->bytes;
                 RecordBatch::Records records;
                 DecodeResult result;
                 const absl::Status status = decoder_.DecodeExport(bytes, records, result);
                 grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
                 if (!status.ok()) {
                   reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                                std::string(status.message())));
                   return reactor;
                 }
                 response->mutable_partial_success()->set_error_message(
                     std::to_string(records.size()));
                 reactor->Finish(grpc::Status::OK);
                 return reactor;
               }));
  }

 private:
  const RequestDecoder decoder_;
};

class RawMessageServerTest : public ::testing::Test {
 protected:
  RawMessageServerTest() : service_(config_) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    channel_ =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  }
  ~RawMessageServerTest() override { server_->Shutdown(); }

  grpc::Status Export(const std::string& bytes, otlp_collector::ExportLogsServiceResponse& out) {
    grpc::Slice slice(bytes.data(), bytes.size());
    const grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    const grpc::Status status =
        grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
            channel_.get(),
            grpc::internal::RpcMethod(kExport, grpc::internal::RpcMethod::NORMAL_RPC), &context,
            request, &response);
    if (status.ok()) {
      std::string serialized;
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(response.Dump(&slices).ok());
      for (const grpc::Slice& s : slices) {
        serialized.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      EXPECT_TRUE(out.ParseFromString(serialized));
    }
    return status;
  }

  config::IngestConfig config_;
  RawExportService service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(RawMessageServerTest, MalformedRequestGetsInvalidArgumentNamingTheFailureAndServingGoesOn) {
  v1::wire::otlp::ExportLogsServiceRequest request;
  for (int i = 0; i < 3; ++i) {
    request.add_resource_logs()
        ->add_scope_logs()
        ->add_log_records()
        ->mutable_body()
        ->set_string_value(i == 1 ? "caf\xE9" : "fine");
  }
  const std::string valid = request.SerializeAsString();
  otlp_collector::ExportLogsServiceResponse response;

  const grpc::Status malformed = Export(valid.substr(0, valid.size() - 1), response);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(malformed.error_message(),
                               "malformed opentelemetry.proto.collector.logs.v1."
                               "ExportLogsServiceRequest: resource_logs[2] (field 1) at byte "))
      << malformed.error_message();

  // The same server, the whole request, one string of it Latin-1: all three records arrive,
  // where gRPC's own parse would have refused the request.
  const grpc::Status ok = Export(valid, response);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(response.partial_success().error_message(), "3");
}

}  // namespace
}  // namespace sluice::ingest
