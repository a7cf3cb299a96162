#include "server/ingest/push_batches_reactor.h"

#include <utility>

#include "server/ingest/unavailable.h"

namespace sluice::ingest {

PushBatchesReactor::PushBatchesReactor(IngestContext& context, grpc::CallbackServerContext* call)
    : context_(context),
      call_(call),
      stream_id_(context.NextStreamId()),
      admission_(context.config, context.levels, context.ledger, context.metrics,
                 Rpc::kPushBatches) {
  context_.metrics.StreamOpened(Rpc::kPushBatches);
  Actions actions;
  {
    std::lock_guard lock(mu_);
    if (!context_.intake.open()) {
      read_side_done_ = true;
      status_ = DrainingStatus(*call_);
    } else if (!context_.TryOpenStream()) {
      read_side_done_ = true;
      status_ = TooManyStreamsStatus(*call_, context_.config.max_concurrent_streams);
    } else {
      counted_ = true;
    }
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushBatchesReactor::OnReadDone(bool ok) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    reading_ = false;
    if (!ok) {
      read_side_done_ = true;
    } else if (!context_.intake.open()) {
      // Not acked, so an at-least-once client sends this batch again elsewhere or later.
      read_side_done_ = true;
      status_ = DrainingStatus(*call_);
    } else {
      SubmitIncomingLocked();
    }
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushBatchesReactor::SubmitIncomingLocked() {
  const absl::Time now = absl::Now();
  const AdmissionResult admitted = admission_.Admit(*incoming_->mutable_records(), now);
  v1::PushAck ack;
  ack.set_sequence(incoming_->sequence());
  ack.set_filtered(admitted.filtered);
  ack.set_rejected(admitted.rejected);
  ack.set_rejection(admitted.first_rejection);

  RecordBatch batch = RecordBatch::FromRequest(std::move(incoming_));
  batch.set_stream_id(stream_id_);
  batch.set_received_at(now);
  if (batch.empty()) {
    acks_.push_back(std::move(ack));
    return;
  }
  const uint32_t records = static_cast<uint32_t>(batch.size());
  switch (context_.scheduler.Submit(std::move(batch), [this] { OnQueued(); })) {
    case scheduler::SubmitOutcome::kAccepted:
    case scheduler::SubmitOutcome::kAcceptedEvictedOldest:
      ack.set_accepted(records);
      acks_.push_back(std::move(ack));
      break;
    case scheduler::SubmitOutcome::kDroppedNewest:
      ack.set_dropped(records);
      acks_.push_back(std::move(ack));
      break;
    case scheduler::SubmitOutcome::kParked:
      ack.set_accepted(records);
      parked_ack_ = std::move(ack);
      parked_ = true;
      break;
  }
}

void PushBatchesReactor::OnQueued() {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    parked_ = false;
    acks_.push_back(std::move(parked_ack_));
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushBatchesReactor::OnWriteDone(bool ok) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    acks_.pop_front();
    if (!ok) {
      // The client is gone; what it did not see acked it will resend.
      acks_.clear();
      read_side_done_ = true;
    }
    actions = AdvanceLocked();
  }
  Act(actions);
}

PushBatchesReactor::Actions PushBatchesReactor::AdvanceLocked() {
  Actions actions;
  if (finished_) return actions;
  if (!writing_ && !acks_.empty()) {
    writing_ = true;
    actions.write = &acks_.front();
  }
  if (read_side_done_) {
    if (!parked_ && !writing_ && acks_.empty() && !reading_) {
      finished_ = true;
      actions.finish = true;
    }
    return actions;
  }
  if (!reading_ && !parked_ && acks_.size() < kMaxQueuedAcks) {
    reading_ = true;
    // Each request is parsed into a recycled message, which becomes its batch.
    incoming_ = LogBatchPool::Shared().Get();
    actions.read = incoming_.get();
  }
  return actions;
}

void PushBatchesReactor::Act(Actions actions) {
  if (actions.write != nullptr) StartWrite(actions.write);
  if (actions.read != nullptr) StartRead(actions.read);
  if (actions.finish) {
    grpc::Status status;
    {
      std::lock_guard lock(mu_);
      status = status_;
    }
    Finish(status);
  }
}

void PushBatchesReactor::OnDone() {
  context_.metrics.StreamClosed(Rpc::kPushBatches);
  if (counted_) context_.CloseStream();
  delete this;
}

}  // namespace sluice::ingest
