// PushReactor: one LogService.Push call — a client stream of single records.
//
// Records are gathered into a micro-batch of at most ingest.max_batch_records; a batch
// goes to the scheduler when it is full, when ingest.max_batch_delay has passed since its
// first record (a grpc::Alarm), or when the client half-closes. At most one batch is with
// the scheduler at a time: while it is parked the reactor keeps reading into the next
// batch, and once that one is full too it stops reading — gRPC then stops granting HTTP/2
// window and the client's writes slow down. Nothing here ever blocks a gRPC thread.
//
// The summary is sent once the client half-closed and every batch reached the stage
// ingest.ack_on names; its `accepted` counts the records that reached it. Opening checks,
// the messages refused (drain, overload) and what an overflow drop does to the call are
// IngestCall's (ingest_call.h): a batch drop_newest drops counts as dropped and ends the
// call at once, one drop_oldest evicts counts as dropped when the eviction is reported and
// the next record is not taken and ends the call; either way with RESOURCE_EXHAUSTED and
// retry pushback. A call that ends with a status other than OK still reports what it
// took: its PushSummary travels as a detail of the status (grpc-status-details-bin), since
// gRPC sends no response message with such a status.
//
// A stream that sends nothing for ingest.stream_idle_timeout while the reactor waits for
// it is ended once its batches reached the ack stage: OK, with the summary of what it
// sent.
//
// The reactor never finishes while a batch is parked or a delivery is still to come, and
// it is deleted only once gRPC (OnDone) and every callback that can reach it (resume,
// delivery, batch and idle alarms) are done with it (ReactorLifetime).
#ifndef SLUICE_SERVER_INGEST_PUSH_REACTOR_H_
#define SLUICE_SERVER_INGEST_PUSH_REACTOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "grpcpp/alarm.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "server/common/delivery.h"
#include "server/common/record_batch.h"
#include "server/ingest/admission.h"
#include "server/ingest/idle_timer.h"
#include "server/ingest/ingest_call.h"
#include "server/ingest/ingest_context.h"
#include "server/ingest/reactor_lifetime.h"
#include "server/ingest/request_decoder.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::ingest {

class PushReactor : public grpc::ServerReadReactor<grpc::ByteBuffer>, public ReactorLifetime {
 public:
  // `response` receives the serialized PushSummary when the call finishes.
  PushReactor(IngestContext& context, grpc::CallbackServerContext* call,
              grpc::ByteBuffer* response);

  void OnReadDone(bool ok) override;
  void OnDone() override;

 private:
  // The call's read side and life, one value changed only under mu_. Beside it, parked_:
  // the batch handed over last is parked with the scheduler, and reading goes on into the
  // next one until that is full.
  //
  //   kPaused   -- the batch being gathered has room: StartRead ---------------> kReading
  //   kReading  -- record taken --------------------------------------------> kPaused
  //   kReading  -- half-close or cancel; record refused (drain, overload,
  //                malformed) ----------------------------------------------> kEnding
  //   kReading  -- idle for stream_idle_timeout ------------------------------> kEnding
  //   kReading, kPaused -- a batch dropped (drop_newest) -------------------> kEnding
  //   kEnding   -- what was gathered handed over, nothing parked or awaiting
  //                delivery: Finish --------------------------------------------> kFinished
  //   kFinished -- OnDone ----------------------------------------------------> kDone
  //
  // kEnding may be entered with a read outstanding (idle; a drop on the batch alarm).
  // Finish does not wait for it: the read then completes with ok == false, and no record
  // read outside kReading is taken.
  enum class State : uint8_t {
    kPaused,    // no read outstanding; one starts while the batch being gathered has room
    kReading,   // a read is outstanding: waiting for the client's next record
    kEnding,    // nothing more is read; finishes once every batch reached the ack stage
    kFinished,  // Finish was called
    kDone,      // gRPC is done with the call (OnDone)
  };

  // What to do once the lock is released: gRPC calls are not made under our lock, since
  // a reaction may run inline.
  struct Actions {
    bool read = false;
    bool finish = false;
  };

  // Decides the next step after any change of state.
  Actions AdvanceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the read side (kEnding) with `status`, unless it ended with an error already.
  void EndLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Decodes the record just read into pending_; a status to end the call with if it
  // cannot be taken.
  grpc::Status DecodeIncomingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Admits the pending batch and hands it to the scheduler (possibly parking it).
  void SubmitPendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmBatchAlarmLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnBatchAlarm(bool fired);
  // A parked batch was queued, with what that settled.
  void OnQueued(const std::optional<Delivery>& settled);
  void OnDelivered(const Delivery& delivery);
  // Adds how far a batch got to the summary.
  void CountLocked(const Delivery& delivery) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The idle alarm's callback, which runs OnIdleAlarm.
  std::function<void(bool)> IdleAlarmCallback();
  void OnIdleAlarm(bool fired);
  void Act(Actions actions);

  const IngestContext& context_;
  const uint64_t stream_id_;

  std::mutex mu_;
  // Opening checks, messages refused, overload: the protocol shared with PushBatches and
  // Export.
  IngestCall call_ ABSL_GUARDED_BY(mu_);
  State state_ ABSL_GUARDED_BY(mu_) = State::kPaused;
  bool parked_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ByteBuffer* const response_;
  v1::PushSummary summary_ ABSL_GUARDED_BY(mu_);
  Admission admission_ ABSL_GUARDED_BY(mu_);
  RequestDecoder decoder_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer incoming_bytes_;  // owned by the outstanding read
  RecordBatch pending_ ABSL_GUARDED_BY(mu_);
  // A record of pending_ was decoded without its UTF-8 checked: admission checks them.
  bool pending_utf8_unverified_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<grpc::Alarm> batch_alarm_ ABSL_GUARDED_BY(mu_);
  bool alarm_armed_ ABSL_GUARDED_BY(mu_) = false;
  // Batches handed to the scheduler whose delivery has not been reported yet.
  uint32_t awaiting_delivery_ ABSL_GUARDED_BY(mu_) = 0;
  IdleTimer idle_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_PUSH_REACTOR_H_
