#include "server/ingest/log_service.h"

#include "server/ingest/push_batches_reactor.h"
#include "server/ingest/push_reactor.h"

namespace sluice::ingest {

grpc::ServerReadReactor<v1::LogRecord>* LogService::Push(grpc::CallbackServerContext* call,
                                                         v1::PushSummary* summary) {
  return new PushReactor(context_, call, summary);
}

grpc::ServerBidiReactor<v1::LogBatch, v1::PushAck>* LogService::PushBatches(
    grpc::CallbackServerContext* call) {
  return new PushBatchesReactor(context_, call);
}

}  // namespace sluice::ingest
