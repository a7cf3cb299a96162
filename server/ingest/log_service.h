// LogService: the sluice.v1.LogService ingest RPCs on gRPC's callback API.
//
// Each call gets its own reactor (PushReactor, PushBatchesReactor), which owns the call's
// state and deletes itself when the call is done. Registered on the ingest port by
// server/app; `context` must outlive the gRPC server.
#ifndef SLUICE_SERVER_INGEST_LOG_SERVICE_H_
#define SLUICE_SERVER_INGEST_LOG_SERVICE_H_

#include "server/ingest/ingest_context.h"
#include "sluice/v1/logs.grpc.pb.h"

namespace sluice::ingest {

class LogService final : public v1::LogService::CallbackService {
 public:
  explicit LogService(IngestContext& context) : context_(context) {}

  grpc::ServerReadReactor<v1::LogRecord>* Push(grpc::CallbackServerContext* context,
                                               v1::PushSummary* summary) override;
  grpc::ServerBidiReactor<v1::LogBatch, v1::PushAck>* PushBatches(
      grpc::CallbackServerContext* context) override;

 private:
  IngestContext& context_;
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_LOG_SERVICE_H_
