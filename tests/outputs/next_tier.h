// NextTier: a Sluice ingest listener for the output tests — a LogService on 127.0.0.1:0
// that acks every PushBatches batch and keeps its records, with an OTLP LogsService beside
// it as on sluiced's ingest port. The forward and otlp outputs send to it, and the
// conformance suite offers it to every output as ${SLUICE_TARGET}.
#ifndef SLUICE_TESTS_OUTPUTS_NEXT_TIER_H_
#define SLUICE_TESTS_OUTPUTS_NEXT_TIER_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "tests/outputs/otlp_receiver.h"

namespace sluice::outputs {

class NextTier final : public v1::LogService::Service {
 public:
  NextTier() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    builder.RegisterService(&otlp_);
    server_ = builder.BuildAndStart();
  }
  ~NextTier() override {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }

  grpc::Status PushBatches(grpc::ServerContext*,
                           grpc::ServerReaderWriter<v1::PushAck, v1::LogBatch>* stream) override {
    v1::LogBatch batch;
    while (stream->Read(&batch)) {
      {
        std::lock_guard lock(mu_);
        for (const v1::LogRecord& record : batch.records()) records_.push_back(record);
      }
      v1::PushAck ack;
      ack.set_sequence(batch.sequence());
      ack.set_accepted(static_cast<uint32_t>(batch.records_size()));
      ack.set_stage(v1::ACK_STAGE_WRITTEN);
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

  OtlpReceiver& otlp() { return otlp_; }

  std::vector<v1::LogRecord> records() {
    std::lock_guard lock(mu_);
    return records_;
  }

  std::vector<std::string> messages() {
    std::lock_guard lock(mu_);
    std::vector<std::string> messages;
    for (const v1::LogRecord& record : records_) messages.push_back(record.message());
    return messages;
  }

 private:
  int port_ = 0;
  OtlpReceiver otlp_;
  // Declared after otlp_, so it is shut down before the service goes.
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  std::vector<v1::LogRecord> records_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_TESTS_OUTPUTS_NEXT_TIER_H_
