// LogService: the sluice.v1.LogService ingest RPCs on gRPC's callback API.
//
// Each call gets its own reactor (PushReactor, PushBatchesReactor), which owns the call's
// state and is deleted once gRPC and every callback that can reach it are done with it. Registered
// on the ingest port by server/app; `context` must outlive the gRPC server.
#ifndef SLUICE_SERVER_INGEST_LOG_SERVICE_H_
#define SLUICE_SERVER_INGEST_LOG_SERVICE_H_

#include "server/ingest/ingest_context.h"
#include "sluice/v1/logs.grpc.pb.h"

namespace sluice::ingest {

// Raw methods: requests are decoded by Sluice (request_decoder.h), not by gRPC's generated
// code, so that a message that fails to parse ends its call with INVALID_ARGUMENT rather
// than gRPC's OK, and string fields that are not UTF-8 cost only their record.
class LogService final
    : public v1::LogService::WithRawCallbackMethod_Push<
          v1::LogService::WithRawCallbackMethod_PushBatches<v1::LogService::Service>> {
 public:
  explicit LogService(IngestContext& context) : context_(context) {}

  grpc::ServerReadReactor<grpc::ByteBuffer>* Push(grpc::CallbackServerContext* context,
                                                  grpc::ByteBuffer* summary) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* PushBatches(
      grpc::CallbackServerContext* context) override;

 private:
  IngestContext& context_;
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_LOG_SERVICE_H_
