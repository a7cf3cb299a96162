// OtlpReceiver: an OTLP/gRPC logs receiver for the output tests — LogsService/Export on a
// gRPC server of the test's own (127.0.0.1:0, or a server it is registered on, such as
// NextTier's), which keeps every request with its metadata and answers as the test scripts.
#ifndef SLUICE_TESTS_OUTPUTS_OTLP_RECEIVER_H_
#define SLUICE_TESTS_OUTPUTS_OTLP_RECEIVER_H_

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"

namespace sluice::outputs {

class OtlpReceiver final : public opentelemetry::proto::collector::logs::v1::LogsService::Service {
 public:
  using Request = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
  using Response = opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;

  // One answer: a status, and for OK the response (partial_success).
  struct Answer {
    grpc::Status status = grpc::Status::OK;
    Response response;
  };

  // Not listening: for registering on another test server.
  OtlpReceiver() = default;

  // Listens on 127.0.0.1:0 on a server of its own.
  static std::unique_ptr<OtlpReceiver> Listen() {
    auto receiver = std::make_unique<OtlpReceiver>();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &receiver->port_);
    builder.RegisterService(receiver.get());
    receiver->server_ = builder.BuildAndStart();
    return receiver;
  }

  ~OtlpReceiver() override {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    }
  }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }

  // Answers the next Export calls, in order; after them, OK.
  void Script(std::deque<Answer> answers) {
    std::lock_guard lock(mu_);
    answers_ = std::move(answers);
  }

  grpc::Status Export(grpc::ServerContext* context, const Request* request,
                      Response* response) override {
    std::lock_guard lock(mu_);
    requests_.push_back(*request);
    std::multimap<std::string, std::string> metadata;
    for (const auto& [key, value] : context->client_metadata()) {
      metadata.emplace(std::string(key.data(), key.size()),
                       std::string(value.data(), value.size()));
    }
    metadata_.push_back(std::move(metadata));
    if (answers_.empty()) return grpc::Status::OK;
    Answer answer = std::move(answers_.front());
    answers_.pop_front();
    *response = std::move(answer.response);
    return answer.status;
  }

  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  std::vector<std::multimap<std::string, std::string>> metadata() {
    std::lock_guard lock(mu_);
    return metadata_;
  }

  // The log records of every request, in arrival order.
  size_t log_records() {
    std::lock_guard lock(mu_);
    size_t count = 0;
    for (const Request& request : requests_) {
      for (const auto& resource : request.resource_logs()) {
        for (const auto& scope : resource.scope_logs()) count += scope.log_records_size();
      }
    }
    return count;
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  std::deque<Answer> answers_;
  std::vector<Request> requests_;
  std::vector<std::multimap<std::string, std::string>> metadata_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_TESTS_OUTPUTS_OTLP_RECEIVER_H_
