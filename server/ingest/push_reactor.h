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
// ingest.ack_on names; its `accepted` counts the records that reached it.
//
// A stream that sends nothing for ingest.stream_idle_timeout while the reactor waits for
// it is ended once its batches reached the ack stage: OK, with the summary of what it
// sent (a status other than OK would withhold the summary from the client).
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

#include "absl/base/thread_annotations.h"
#include "grpcpp/alarm.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "server/common/delivery.h"
#include "server/common/record_batch.h"
#include "server/ingest/admission.h"
#include "server/ingest/idle_timer.h"
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
  // What to do once the lock is released: gRPC calls are not made under our lock, since
  // a reaction may run inline.
  struct Actions {
    bool read = false;
    bool finish = false;
  };

  // Decides the next step after any change of state.
  Actions AdvanceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Admits the pending batch and hands it to the scheduler (possibly parking it).
  void SubmitPendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmBatchAlarmLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnBatchAlarm(bool fired);
  // A parked batch was queued; `accepted` records count as accepted now.
  void OnQueued(uint32_t accepted);
  void OnDelivered(const Delivery& delivery);
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
  bool parked_ ABSL_GUARDED_BY(mu_) = false;
  // Batches handed to the scheduler whose delivery has not been reported yet.
  uint32_t awaiting_delivery_ ABSL_GUARDED_BY(mu_) = 0;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
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

#endif  // SLUICE_SERVER_INGEST_PUSH_REACTOR_H_
