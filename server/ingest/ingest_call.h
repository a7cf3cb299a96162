// IngestCall: the protocol every ingest call follows — LogService.Push, LogService.PushBatches
// and OTLP LogsService.Export — kept in one place so that the three open, take messages and
// answer overload alike. Each reactor holds one as a member (PushReactor,
// PushBatchesReactor, the Export reactor in otlp_logs_service.cc).
//
// Opening. The constructor counts the call in sluice_ingest_streams_active{rpc} and runs the
// opening checks: a valid token when ingest.tokens_file is set (else UNAUTHENTICATED, counted
// in sluice_auth_failures_total; tenant() is then the token's tenant), intake open (else
// UNAVAILABLE, retry pushback), a stream slot free under ingest.max_concurrent_streams and
// ingest.max_streams_per_peer (else RESOURCE_EXHAUSTED, retry pushback); a refusal is counted in
// sluice_ingest_calls_refused_total and refusal() is the status to finish with at once. The slot is
// given back when the IngestCall is destroyed, that is with its reactor, however the call ended;
// the gauge counts the call out at Done(), from the reactor's OnDone.
//
// Messages. A streaming call asks Read() about each message it read: a message is not
// taken once intake closed (UNAVAILABLE) or once an overflow policy dropped records of the
// call (RESOURCE_EXHAUSTED, below); the call then ends with that status.
//
// Batches and overload. Submit() hands a batch to the scheduler and maps the scheduler's
// SubmitOutcome to what every call does with it:
//   kAccepted, kAcceptedEvictedOldest  kQueued: under ingest.ack_on: accepted the batch's
//                                      records are accepted now (`settled`), else when its
//                                      delivery is reported.
//   kParked                            kParked: `on_queued` runs once the scheduler queued
//                                      it; the call hands over nothing more meanwhile.
//   kDroppedNewest                     kDropped (drop_newest): the records are dropped now
//                                      (`settled`). The call takes no further record and
//                                      ends with Overloaded() once the answers it owes for
//                                      earlier batches are out.
// A delivery report of records drop_oldest evicted before the ack stage (Delivered()) is
// the same overload found later: the records count as dropped in the call's answer, the
// next message is not taken and ends the call with Overloaded(); a unary call (Export) ends
// at once. Overloaded() is RESOURCE_EXHAUSTED with grpc-retry-pushback-ms and RetryInfo
// (unavailable.h): the client backs off, then resends what was not acknowledged.
// docs/ERRORS.md gives each RPC's answer.
//
// Thread safety: after construction, used under the reactor's own lock. Submit's callbacks
// run on scheduler workers, never inline.
#ifndef SLUICE_SERVER_INGEST_INGEST_CALL_H_
#define SLUICE_SERVER_INGEST_INGEST_CALL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "server/common/delivery.h"
#include "server/common/record_batch.h"
#include "server/ingest/ingest_context.h"
#include "server/ingest/ingest_metrics.h"
#include "server/scheduler/scheduler.h"

namespace sluice::ingest {

// What a submitted batch means for its call.
struct Submitted {
  enum class Verdict {
    kQueued,   // the scheduler took it
    kParked,   // held until a worker frees room; `on_queued` reports
    kDropped,  // drop_newest dropped it: the call ends with Overloaded()
  };
  Verdict verdict = Verdict::kQueued;
  // How far the batch got, when that is known already: queued under ack_on: accepted, or
  // dropped. Otherwise `on_queued` (parked) or the delivery callback reports it.
  std::optional<Delivery> settled;
  // The delivery callback will report how far the batch got (ack_on written or flushed).
  bool delivery_follows = false;
};

class IngestCall {
 public:
  IngestCall(IngestContext& context, grpc::ServerContextBase& call, Rpc rpc);
  IngestCall(const IngestCall&) = delete;
  IngestCall& operator=(const IngestCall&) = delete;

  // gRPC is done with the call (the reactor's OnDone): it no longer counts as active. Not
  // left to the destructor: an alarm's cancelled callback may delete the reactor after the
  // server, and the metrics with it, are gone.
  void Done() { context_.metrics.StreamClosed(rpc_); }

  // OK when the call was let in; else the status to finish it with at once.
  const grpc::Status& refusal() const { return refusal_; }

  // What a streaming call does with the message a read brought (`ok` as OnReadDone has
  // it): nullopt to take it; else the status to end the call with, the message not taken.
  // OK when the client half-closed or went away; the refusal when intake closed or an
  // overflow drop came first (the message is then not even decoded); else the status
  // `decode()` refused the message with (malformed, over a limit).
  template <typename Decode>
  std::optional<grpc::Status> Read(bool ok, Decode decode);
  // Read() without the decoding, for a call that decodes the message after releasing its
  // lock: nullopt to decode and take it.
  std::optional<grpc::Status> Take(bool ok);

  // Hands `batch` to the scheduler. Under ack_on written or flushed, `on_delivered(const
  // Delivery&)` is attached to the batch (the reactor passes it to Delivered() first).
  // When parked, `on_queued(std::optional<Delivery> settled)` runs once the batch is queued,
  // with what the queueing settled (under ack_on: accepted, every record). Both callbacks
  // keep their reactor alive (ReactorRef) and run on a scheduler worker.
  template <typename OnQueued, typename OnDelivered>
  Submitted Submit(RecordBatch&& batch, OnQueued on_queued, OnDelivered on_delivered);

  // Notes a delivery report; true when an overflow policy dropped the records (the call
  // then ends with Overloaded()).
  bool Delivered(const Delivery& delivery);

  // The status that ends a call once an overflow policy dropped records of it.
  grpc::Status Overloaded();

  // The call was ended for sending nothing for ingest.stream_idle_timeout; counted.
  void IdleClosed() { context_.metrics.AddIdleClosed(rpc_); }

  grpc::ServerContextBase& call() { return call_; }

  // The tenant of the call's token; empty without ingest.tokens_file.
  const std::string& tenant() const { return tenant_; }

 private:
  // OK to take a message; else the status that refuses it.
  grpc::Status TakeMessage();
  static Submitted VerdictOf(scheduler::SubmitOutcome outcome, uint32_t records,
                             bool settles_queued);
  grpc::Status Open();

  IngestContext& context_;
  grpc::ServerContextBase& call_;
  const Rpc rpc_;
  // Whether a batch's answer is complete once it is queued (ack_on: accepted).
  const bool settles_on_queue_;
  StreamSlot slot_;
  // Before refusal_: Open() sets it.
  std::string tenant_;
  const grpc::Status refusal_;
  // The first overflow drop of this call's records, kNone while there was none.
  DropReason overflow_ = DropReason::kNone;
};

inline std::optional<grpc::Status> IngestCall::Take(bool ok) {
  if (!ok) return grpc::Status::OK;
  if (grpc::Status taken = TakeMessage(); !taken.ok()) return taken;
  return std::nullopt;
}

template <typename Decode>
std::optional<grpc::Status> IngestCall::Read(bool ok, Decode decode) {
  if (std::optional<grpc::Status> refused = Take(ok)) return refused;
  if (grpc::Status decoded = decode(); !decoded.ok()) return decoded;
  return std::nullopt;
}

template <typename OnQueued, typename OnDelivered>
Submitted IngestCall::Submit(RecordBatch&& batch, OnQueued on_queued, OnDelivered on_delivered) {
  const auto records = static_cast<uint32_t>(batch.size());
  const bool settles_queued = settles_on_queue_;
  if (!settles_queued) batch.set_delivery(context_.config.ack_on, std::move(on_delivered));
  Submitted submitted =
      VerdictOf(context_.scheduler.Submit(
                    std::move(batch),
                    [on_queued = std::move(on_queued), records, settles_queued]() mutable {
                      std::optional<Delivery> settled;
                      if (settles_queued) settled = Delivery{.delivered = records};
                      on_queued(settled);
                    }),
                records, settles_queued);
  if (submitted.verdict == Submitted::Verdict::kDropped)
    overflow_ = DropReason::kOverflowDropNewest;
  return submitted;
}

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_INGEST_CALL_H_
