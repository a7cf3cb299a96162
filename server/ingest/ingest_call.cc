#include "server/ingest/ingest_call.h"

#include "server/ingest/ack_stage.h"
#include "server/ingest/unavailable.h"

namespace sluice::ingest {

IngestCall::IngestCall(IngestContext& context, grpc::ServerContextBase& call, Rpc rpc)
    : context_(context),
      call_(call),
      rpc_(rpc),
      settles_on_queue_(context.config.ack_on == DeliveryStage::kAccepted),
      refusal_(Open()) {}

grpc::Status IngestCall::Open() {
  context_.metrics.StreamOpened(rpc_);
  // First: a caller without a token learns nothing about the server's state.
  if (context_.authenticator != nullptr) {
    static constexpr const char* kMethods[kRpcCount] = {"Push", "PushBatches", "Export"};
    if (grpc::Status allowed =
            context_.authenticator->Tenant(call_, kMethods[static_cast<size_t>(rpc_)], tenant_);
        !allowed.ok()) {
      return allowed;
    }
  }
  if (!context_.intake.open()) {
    context_.metrics.AddCallRefused(rpc_, CallRefusal::kDraining);
    return DrainingStatus(call_);
  }
  StreamRefusal refusal;
  slot_ = context_.streams->TryOpen(call_.peer(), refusal);
  switch (refusal) {
    case StreamRefusal::kNone:
      return grpc::Status::OK;
    case StreamRefusal::kServerFull:
      context_.metrics.AddCallRefused(rpc_, CallRefusal::kTooManyStreams);
      return TooManyStreamsStatus(call_, context_.config.max_concurrent_streams);
    case StreamRefusal::kPeerFull:
      context_.metrics.AddCallRefused(rpc_, CallRefusal::kTooManyPeerStreams);
      return TooManyPeerStreamsStatus(call_, context_.config.max_streams_per_peer);
  }
  return grpc::Status::OK;
}

grpc::Status IngestCall::TakeMessage() {
  // Not taken, so an at-least-once client sends it again: elsewhere or later (drain), or
  // after the pushback (overload).
  if (!context_.intake.open()) return DrainingStatus(call_);
  if (overflow_ != DropReason::kNone) return Overloaded();
  return grpc::Status::OK;
}

bool IngestCall::Delivered(const Delivery& delivery) {
  if (delivery.dropped == 0 || (delivery.reason != DropReason::kOverflowDropOldest &&
                                delivery.reason != DropReason::kOverflowDropNewest)) {
    return false;
  }
  if (overflow_ == DropReason::kNone) overflow_ = delivery.reason;
  return true;
}

grpc::Status IngestCall::Overloaded() { return OverloadedStatus(call_, DropReasonText(overflow_)); }

Submitted IngestCall::VerdictOf(scheduler::SubmitOutcome outcome, uint32_t records,
                                bool settles_queued) {
  Submitted submitted;
  submitted.delivery_follows = !settles_queued;
  switch (outcome) {
    case scheduler::SubmitOutcome::kAccepted:
    case scheduler::SubmitOutcome::kAcceptedEvictedOldest:
      submitted.verdict = Submitted::Verdict::kQueued;
      if (settles_queued) submitted.settled = Delivery{.delivered = records};
      return submitted;
    case scheduler::SubmitOutcome::kParked:
      submitted.verdict = Submitted::Verdict::kParked;
      return submitted;
    case scheduler::SubmitOutcome::kDroppedNewest:
      break;
  }
  // The batch, and its delivery callback with it, is gone.
  submitted.verdict = Submitted::Verdict::kDropped;
  submitted.settled = Delivery{.dropped = records, .reason = DropReason::kOverflowDropNewest};
  submitted.delivery_follows = false;
  return submitted;
}

}  // namespace sluice::ingest
