// PushBatchesReactor: one LogService.PushBatches call — batches in, one PushAck per batch
// out, in order.
//
// Each LogBatch read is admitted (validation, level gate) and handed to the scheduler as
// one RecordBatch. Its ack waits for the stage ingest.ack_on names: queued (the scheduler
// took it), written or flushed (the batch's delivery callback, run by a worker). Acks are
// sent in the order the batches came, so an ack for a later batch waits for the earlier
// ones. The next read starts once the batch is queued: with the batch parked, the reactor
// stops reading and HTTP/2 flow control pushes back on the client. A batch that
// scheduler.overflow: drop_newest drops is acked as dropped, and the call then ends with
// RESOURCE_EXHAUSTED and retry pushback once the earlier acks are out; one that drop_oldest
// evicts is acked as dropped when the eviction is reported, and the call ends the same way
// at its next message, which is not taken. Reading also pauses
// while too many acks are outstanding (a client that does not read its acks is paced the
// same way). A stream that sends nothing for ingest.stream_idle_timeout while the reactor
// waits for it is ended with UNAVAILABLE, once the acks it is owed are written.
//
// Nothing blocks a gRPC thread. The reactor never finishes while a batch is parked or a
// delivery is still to come, and it is deleted only once gRPC (OnDone) and every callback
// that can reach it (resume, delivery, idle alarm) are done with it (ReactorLifetime).
#ifndef SLUICE_SERVER_INGEST_PUSH_BATCHES_REACTOR_H_
#define SLUICE_SERVER_INGEST_PUSH_BATCHES_REACTOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "server/common/delivery.h"
#include "server/common/log_batch_pool.h"
#include "server/ingest/admission.h"
#include "server/ingest/idle_timer.h"
#include "server/ingest/ingest_context.h"
#include "server/ingest/reactor_lifetime.h"
#include "server/ingest/request_decoder.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::ingest {

class PushBatchesReactor : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                           public ReactorLifetime {
 public:
  PushBatchesReactor(IngestContext& context, grpc::CallbackServerContext* call);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  // Acks outstanding (awaiting delivery or waiting to be written) beyond this pause
  // reading until some are sent.
  static constexpr size_t kMaxOutstandingAcks = 64;

  // An ack in the order of its batch, waiting for the batch to reach the ack stage.
  struct AwaitedAck {
    v1::PushAck ack;
    bool settled = false;
  };

  struct Actions {
    grpc::ByteBuffer* read = nullptr;
    const grpc::ByteBuffer* write = nullptr;
    bool finish = false;
  };

  Actions AdvanceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Decodes the message just read into incoming_; a status to end the call with if it
  // cannot be taken (malformed, over a limit).
  grpc::Status DecodeIncomingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SubmitIncomingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts awaiting an ack; returns its ticket for Settle.
  uint64_t AwaitLocked(v1::PushAck ack, bool settled) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Completes the ack of `ticket` and moves settled acks at the front to the write queue.
  void SettleLocked(uint64_t ticket, const Delivery& delivery) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnQueued(uint64_t ticket);
  void OnDelivered(uint64_t ticket, const Delivery& delivery);
  // The idle alarm's callback, which runs OnIdleAlarm.
  std::function<void(bool)> IdleAlarmCallback();
  void OnIdleAlarm(bool fired);
  void Act(Actions actions);

  IngestContext& context_;
  grpc::CallbackServerContext* const call_;
  const uint64_t stream_id_;
  // Held from the constructor: this call counts against the stream limits until deleted.
  StreamSlot slot_;

  std::mutex mu_;
  Admission admission_ ABSL_GUARDED_BY(mu_);
  RequestDecoder decoder_ ABSL_GUARDED_BY(mu_);
  // The outstanding read's target: the message as it came off the wire.
  grpc::ByteBuffer incoming_bytes_;
  // The message decoded into a recycled request message from the pool; it becomes the
  // batch.
  LogBatchPool::Handle incoming_ ABSL_GUARDED_BY(mu_);
  // What decoding it found besides the records (unchecked UTF-8, records refused early).
  DecodeResult incoming_decoded_ ABSL_GUARDED_BY(mu_);
  // Acks of batches not yet at the ack stage, in batch order; awaited_.front() has ticket
  // first_awaited_ticket_.
  std::deque<AwaitedAck> awaited_ ABSL_GUARDED_BY(mu_);
  uint64_t first_awaited_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  // Acks ready to be written; the front one is being written (serialized in
  // write_bytes_) when writing_ is set.
  std::deque<v1::PushAck> acks_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer write_bytes_ ABSL_GUARDED_BY(mu_);
  bool parked_ ABSL_GUARDED_BY(mu_) = false;
  // The client stopped taking acks; later ones are discarded.
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  // drop_oldest evicted one of this call's batches: the next message ends the call.
  bool evicted_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_side_done_ ABSL_GUARDED_BY(mu_) = false;
  // The client sent nothing for stream_idle_timeout: finish although a read is outstanding
  // (it completes with ok == false once the call is finished).
  bool idle_expired_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  IdleTimer idle_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_PUSH_BATCHES_REACTOR_H_
