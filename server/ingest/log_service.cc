#include "server/ingest/log_service.h"

#include "server/ingest/push_batches_reactor.h"
#include "server/ingest/push_reactor.h"

namespace sluice::ingest {

grpc::ServerReadReactor<v1::LogRecord>* LogService::Push(grpc::CallbackServerContext*,
                                                         v1::PushSummary* summary) {
  return new PushReactor(context_, summary);
}

grpc::ServerBidiReactor<v1::LogBatch, v1::PushAck>* LogService::PushBatches(
    grpc::CallbackServerContext*) {
  return new PushBatchesReactor(context_);
}

}  // namespace sluice::ingest
