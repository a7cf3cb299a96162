#include "server/ingest/log_service.h"

#include "server/ingest/push_batches_reactor.h"
#include "server/ingest/push_reactor.h"

namespace sluice::ingest {

grpc::ServerReadReactor<grpc::ByteBuffer>* LogService::Push(grpc::CallbackServerContext* call,
                                                            grpc::ByteBuffer* summary) {
  return new PushReactor(context_, call, summary);
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* LogService::PushBatches(
    grpc::CallbackServerContext* call) {
  return new PushBatchesReactor(context_, call);
}

}  // namespace sluice::ingest
