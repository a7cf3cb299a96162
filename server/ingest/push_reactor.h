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
// The reactor deletes itself in OnDone (or, if the batch alarm is still pending, when the
// alarm's cancellation arrives). It never finishes while a batch is parked or a delivery
// is still to come, so the scheduler's callbacks always find it alive.
#ifndef SLUICE_SERVER_INGEST_PUSH_REACTOR_H_
#define SLUICE_SERVER_INGEST_PUSH_REACTOR_H_

#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "grpcpp/alarm.h"
#include "grpcpp/support/server_callback.h"
#include "server/common/delivery.h"
#include "server/common/record_batch.h"
#include "server/ingest/admission.h"
#include "server/ingest/ingest_context.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::ingest {

class PushReactor : public grpc::ServerReadReactor<v1::LogRecord> {
 public:
  PushReactor(IngestContext& context, grpc::CallbackServerContext* call, v1::PushSummary* summary);

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
  void Act(Actions actions);

  IngestContext& context_;
  grpc::CallbackServerContext* const call_;
  const uint64_t stream_id_;
  // Set once in the constructor: this call counts against ingest.max_concurrent_streams.
  bool counted_ = false;

  std::mutex mu_;
  v1::PushSummary* const summary_ ABSL_GUARDED_BY(mu_);
  Admission admission_ ABSL_GUARDED_BY(mu_);
  v1::LogRecord incoming_;  // owned by the outstanding read
  RecordBatch pending_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<grpc::Alarm> batch_alarm_ ABSL_GUARDED_BY(mu_);
  bool alarm_armed_ ABSL_GUARDED_BY(mu_) = false;
  bool parked_ ABSL_GUARDED_BY(mu_) = false;
  // Batches handed to the scheduler whose delivery has not been reported yet.
  uint32_t awaiting_delivery_ ABSL_GUARDED_BY(mu_) = 0;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool read_side_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_PUSH_REACTOR_H_
