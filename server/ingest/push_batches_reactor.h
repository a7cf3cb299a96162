// PushBatchesReactor: one LogService.PushBatches call — batches in, one PushAck per batch
// out, in order.
//
// Each LogBatch read is admitted (validation, level gate) and handed to the scheduler as
// one RecordBatch. Its ack waits for the stage ingest.ack_on names: queued (the scheduler
// took it), written or flushed (the batch's delivery callback, run by a worker). Acks are
// sent in the order the batches came, so an ack for a later batch waits for the earlier
// ones. The next read starts once the batch is queued: with the batch parked, the reactor
// stops reading and HTTP/2 flow control pushes back on the client. Reading also pauses
// while too many acks are outstanding (a client that does not read its acks is paced the
// same way). Opening checks, the messages refused (drain, overload) and what an overflow
// drop does to the call are IngestCall's (ingest_call.h): a batch drop_newest drops is
// acked as dropped and the call ends with RESOURCE_EXHAUSTED once the earlier acks are out;
// one drop_oldest evicts is acked as dropped when the eviction is reported, and the next
// message is not taken and ends the call the same way. A stream that sends nothing for
// ingest.stream_idle_timeout while the reactor waits for it is ended with UNAVAILABLE,
// once the acks it is owed are written.
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
#include <optional>

#include "absl/base/thread_annotations.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "server/common/delivery.h"
#include "server/common/log_batch_pool.h"
#include "server/ingest/admission.h"
#include "server/ingest/idle_timer.h"
#include "server/ingest/ingest_call.h"
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

  // The call's read side and life, one value changed only under mu_. The write side runs
  // beside it, as a bidi call reads and writes at once: writing_ says one ack is being
  // written.
  //
  //   kPaused   -- fewer than kMaxOutstandingAcks acks outstanding: StartRead -> kReading
  //   kReading  -- message taken, batch queued (or nothing left of it) ------> kPaused
  //   kReading  -- message taken, batch parked -------------------------------> kParked
  //   kParked   -- OnQueued ------------------------------------------------> kPaused
  //   kReading  -- half-close or cancel; message refused (drain, overload,
  //                malformed); batch dropped (drop_newest) ------------------> kEnding
  //   kReading  -- idle for stream_idle_timeout ----------------------------> kEnding
  //   any state before kFinished -- a write failed ------------------------> kClientGone
  //   kEnding, kClientGone -- every owed ack written, every delivery in: Finish -> kFinished
  //   kFinished -- OnDone --------------------------------------------------> kDone
  //
  // Idle ends the stream only from kReading, its read still outstanding; a failed write
  // may come with one too. Finish does not wait for it: the read then completes with
  // ok == false and is not taken, nor is any message read outside kReading.
  enum class State : uint8_t {
    kPaused,      // no read outstanding; one starts when the acks outstanding allow
    kReading,     // a read is outstanding: waiting for the client's next batch
    kParked,      // the last batch is parked with the scheduler; nothing is read
    kEnding,      // nothing more is read; finishes once every ack owed is written
    kClientGone,  // a write failed: nothing more is read or written; finishes once every
                  // delivery is in (they still call back into this reactor)
    kFinished,    // Finish was called
    kDone,        // gRPC is done with the call (OnDone)
  };

  struct Actions {
    grpc::ByteBuffer* read = nullptr;
    const grpc::ByteBuffer* write = nullptr;
    bool finish = false;
  };

  Actions AdvanceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the read side with `status` (kEnding).
  void EndLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Decodes the message just read into incoming_, without mu_; a status to end the call
  // with if it cannot be taken (malformed, over a limit).
  grpc::Status DecodeIncoming();
  void SubmitIncomingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts awaiting an ack; returns its ticket for Settle.
  uint64_t AwaitLocked(v1::PushAck ack, bool settled) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Completes the ack of `ticket` and moves settled acks at the front to the write queue.
  void SettleLocked(uint64_t ticket, const Delivery& delivery) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnQueued(uint64_t ticket, const std::optional<Delivery>& settled);
  void OnDelivered(uint64_t ticket, const Delivery& delivery);
  // The idle alarm's callback, which runs OnIdleAlarm.
  std::function<void(bool)> IdleAlarmCallback();
  void OnIdleAlarm(bool fired);
  void Act(Actions actions);

  const IngestContext& context_;
  const uint64_t stream_id_;

  std::mutex mu_;
  // Opening checks, messages refused, overload: the protocol shared with Push and Export.
  IngestCall call_ ABSL_GUARDED_BY(mu_);
  State state_ ABSL_GUARDED_BY(mu_) = State::kPaused;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  Admission admission_ ABSL_GUARDED_BY(mu_);
  // The decoder and the incoming message belong to the read callback: at most one read
  // is outstanding, and it decodes without mu_ (OnReadDone), then submits under it.
  RequestDecoder decoder_;
  // The outstanding read's target: the message as it came off the wire.
  grpc::ByteBuffer incoming_bytes_;
  // The message decoded into a recycled request message from the pool; it becomes the
  // batch.
  LogBatchPool::Handle incoming_;
  // What decoding it found besides the records (unchecked UTF-8, records refused early).
  DecodeResult incoming_decoded_;
  // Acks of batches not yet at the ack stage, in batch order; awaited_.front() has ticket
  // first_awaited_ticket_.
  std::deque<AwaitedAck> awaited_ ABSL_GUARDED_BY(mu_);
  uint64_t first_awaited_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  // Acks ready to be written; the front one is being written (serialized in
  // write_bytes_) while writing_.
  std::deque<v1::PushAck> acks_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer write_bytes_ ABSL_GUARDED_BY(mu_);
  IdleTimer idle_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_PUSH_BATCHES_REACTOR_H_
