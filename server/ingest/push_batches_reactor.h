// PushBatchesReactor: one LogService.PushBatches call — batches in, one PushAck per batch
// out, in order.
//
// Each LogBatch read is admitted (validation, level gate) and handed to the scheduler as
// one RecordBatch; its ack is queued once the scheduler has taken it. The next read starts
// only then: with the batch parked, the reactor stops reading and HTTP/2 flow control
// pushes back on the client. Reading also pauses while too many acks wait to be written
// (a client that does not read its acks is paced the same way). Nothing blocks a gRPC
// thread; the reactor deletes itself in OnDone and never finishes while a batch is parked.
#ifndef SLUICE_SERVER_INGEST_PUSH_BATCHES_REACTOR_H_
#define SLUICE_SERVER_INGEST_PUSH_BATCHES_REACTOR_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "grpcpp/support/server_callback.h"
#include "server/common/log_batch_pool.h"
#include "server/ingest/admission.h"
#include "server/ingest/ingest_context.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::ingest {

class PushBatchesReactor : public grpc::ServerBidiReactor<v1::LogBatch, v1::PushAck> {
 public:
  PushBatchesReactor(IngestContext& context, grpc::CallbackServerContext* call);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  // Acks queued beyond this pause reading until the client takes some.
  static constexpr size_t kMaxQueuedAcks = 64;

  struct Actions {
    v1::LogBatch* read = nullptr;
    const v1::PushAck* write = nullptr;
    bool finish = false;
  };

  Actions AdvanceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SubmitIncomingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnQueued();
  void Act(Actions actions);

  IngestContext& context_;
  grpc::CallbackServerContext* const call_;
  const uint64_t stream_id_;
  // Set once in the constructor: this call counts against ingest.max_concurrent_streams.
  bool counted_ = false;

  std::mutex mu_;
  Admission admission_ ABSL_GUARDED_BY(mu_);
  // The outstanding read's target, from the pool; it becomes the batch.
  LogBatchPool::Handle incoming_ ABSL_GUARDED_BY(mu_);
  // Acks not yet written; the front one is being written when writing_ is set. A deque
  // keeps the front's address stable while more are queued.
  std::deque<v1::PushAck> acks_ ABSL_GUARDED_BY(mu_);
  v1::PushAck parked_ack_ ABSL_GUARDED_BY(mu_);
  bool parked_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_side_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_PUSH_BATCHES_REACTOR_H_
