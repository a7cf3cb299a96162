#include "server/ingest/push_batches_reactor.h"

#include <utility>

#include "server/ingest/ack_stage.h"
#include "server/ingest/message_codec.h"
#include "server/ingest/unavailable.h"

namespace sluice::ingest {

PushBatchesReactor::PushBatchesReactor(IngestContext& context, grpc::CallbackServerContext* call)
    : context_(context),
      call_(call),
      stream_id_(context.NextStreamId()),
      admission_(context.config, context.levels, context.ledger, context.metrics,
                 Rpc::kPushBatches),
      decoder_(context.config),
      idle_(context.config.stream_idle_timeout) {
  context_.metrics.StreamOpened(Rpc::kPushBatches);
  Actions actions;
  {
    std::lock_guard lock(mu_);
    if (grpc::Status opened = context_.OpenCall(*call_, Rpc::kPushBatches, slot_); !opened.ok()) {
      read_side_done_ = true;
      status_ = std::move(opened);
    } else if (idle_.enabled()) {
      idle_.Arm(absl::Now(), reading_, IdleAlarmCallback());
    }
    actions = AdvanceLocked();
  }
  Act(actions);
}

std::function<void(bool)> PushBatchesReactor::IdleAlarmCallback() {
  return AlarmCallback([this](bool fired) { OnIdleAlarm(fired); });
}

void PushBatchesReactor::OnIdleAlarm(bool fired) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    if (!fired || done_ || finished_ || read_side_done_) return;
    if (!idle_.ExpiredElseRearm(absl::Now(), reading_, IdleAlarmCallback())) return;
    idle_expired_ = true;
    read_side_done_ = true;
    status_ = IdleStatus(idle_.timeout());
    context_.metrics.AddIdleClosed(Rpc::kPushBatches);
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushBatchesReactor::OnReadDone(bool ok) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    reading_ = false;
    if (!ok || finished_) {
      // A message that raced an idle timeout's Finish is not taken (nor acked).
      read_side_done_ = true;
    } else if (!context_.intake.open()) {
      // Not acked, so an at-least-once client sends this batch again elsewhere or later.
      read_side_done_ = true;
      status_ = DrainingStatus(*call_);
    } else if (evicted_) {
      // drop_oldest evicted a batch of this call: like a dropped newest batch, that tells
      // the client to back off. This batch is not taken, so it is resent after the pushback.
      read_side_done_ = true;
      status_ = OverloadedStatus(*call_, DropReasonText(DropReason::kOverflowDropOldest));
    } else if (grpc::Status decoded = DecodeIncomingLocked(); !decoded.ok()) {
      // The acks of the batches before it are still sent; this one is not taken.
      read_side_done_ = true;
      status_ = std::move(decoded);
    } else {
      SubmitIncomingLocked();
    }
    actions = AdvanceLocked();
  }
  Act(actions);
}

grpc::Status PushBatchesReactor::DecodeIncomingLocked() {
  // Each request is decoded into a recycled message, which becomes its batch.
  incoming_ = LogBatchPool::Shared().Get();
  const absl::Status status = DecodeOrOutOfMemory(incoming_decoded_, [&] {
    return decoder_.DecodeLogBatch(incoming_bytes_, *incoming_, incoming_decoded_);
  });
  incoming_bytes_.Clear();
  if (!status.ok()) {
    incoming_.reset();
    return RefuseRequest(status, incoming_decoded_, Rpc::kPushBatches, context_.metrics);
  }
  return grpc::Status::OK;
}

void PushBatchesReactor::SubmitIncomingLocked() {
  const absl::Time now = absl::Now();
  const AdmissionResult admitted =
      admission_.Admit(*incoming_->mutable_records(), now, incoming_decoded_);
  const DeliveryStage stage = context_.config.ack_on;
  v1::PushAck ack;
  ack.set_sequence(incoming_->sequence());
  ack.set_filtered(admitted.filtered);
  ack.set_rejected(admitted.rejected);
  ack.set_rejection(admitted.first_rejection);
  ack.set_stage(AckStageOf(stage));

  RecordBatch batch = RecordBatch::FromRequest(std::move(incoming_));
  batch.set_stream_id(stream_id_);
  batch.set_received_at(now);
  if (batch.empty()) {
    AwaitLocked(std::move(ack), /*settled=*/true);
    return;
  }
  const uint32_t records = static_cast<uint32_t>(batch.size());
  const bool on_queue = stage == DeliveryStage::kAccepted;
  if (on_queue) ack.set_accepted(records);
  const uint64_t ticket = AwaitLocked(std::move(ack), /*settled=*/false);
  if (!on_queue) {
    batch.set_delivery(stage, [this, ticket, ref = Ref()](const Delivery& delivery) {
      OnDelivered(ticket, delivery);
    });
  }
  switch (context_.scheduler.Submit(std::move(batch),
                                    [this, ticket, ref = Ref()] { OnQueued(ticket); })) {
    case scheduler::SubmitOutcome::kAccepted:
    case scheduler::SubmitOutcome::kAcceptedEvictedOldest:
      if (on_queue) SettleLocked(ticket, Delivery{.delivered = records});
      break;
    case scheduler::SubmitOutcome::kDroppedNewest:
      SettleLocked(ticket, Delivery{.dropped = records, .reason = DropReason::kOverflowDropNewest});
      // The ack says what was dropped; the status tells the client to back off before it
      // sends more. Nothing more is read: what the client sent after this batch it resends.
      read_side_done_ = true;
      status_ = OverloadedStatus(*call_, DropReasonText(DropReason::kOverflowDropNewest));
      break;
    case scheduler::SubmitOutcome::kParked:
      parked_ = true;
      break;
  }
}

uint64_t PushBatchesReactor::AwaitLocked(v1::PushAck ack, bool settled) {
  const uint64_t ticket = first_awaited_ticket_ + awaited_.size();
  awaited_.push_back(AwaitedAck{std::move(ack), settled});
  if (settled) SettleLocked(ticket, Delivery{});
  return ticket;
}

void PushBatchesReactor::SettleLocked(uint64_t ticket, const Delivery& delivery) {
  AwaitedAck& awaited = awaited_[ticket - first_awaited_ticket_];
  awaited.settled = true;
  if (delivery.delivered > 0) awaited.ack.set_accepted(delivery.delivered);
  if (delivery.dropped > 0) {
    if (delivery.reason == DropReason::kOverflowDropOldest) evicted_ = true;
    awaited.ack.set_accepted(delivery.delivered);
    awaited.ack.set_dropped(delivery.dropped);
    awaited.ack.set_drop_reason(DropReasonOf(delivery.reason));
  }
  while (!awaited_.empty() && awaited_.front().settled) {
    if (!write_failed_) acks_.push_back(std::move(awaited_.front().ack));
    awaited_.pop_front();
    ++first_awaited_ticket_;
  }
}

void PushBatchesReactor::OnQueued(uint64_t ticket) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    parked_ = false;
    if (context_.config.ack_on == DeliveryStage::kAccepted) {
      const uint32_t records = awaited_[ticket - first_awaited_ticket_].ack.accepted();
      SettleLocked(ticket, Delivery{.delivered = records});
    }
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushBatchesReactor::OnDelivered(uint64_t ticket, const Delivery& delivery) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    SettleLocked(ticket, delivery);
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
      // The client is gone; what it did not see acked it will resend. Deliveries still
      // to come are awaited (they call back into this reactor) but not written.
      acks_.clear();
      write_failed_ = true;
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
    SerializeMessage(acks_.front(), write_bytes_);
    actions.write = &write_bytes_;
  }
  if (read_side_done_) {
    if (!parked_ && !writing_ && acks_.empty() && awaited_.empty() &&
        (!reading_ || idle_expired_)) {
      finished_ = true;
      actions.finish = true;
    }
    return actions;
  }
  if (!reading_ && !parked_ && acks_.size() + awaited_.size() < kMaxOutstandingAcks) {
    reading_ = true;
    if (idle_.enabled()) idle_.StartWaiting(absl::Now());
    actions.read = &incoming_bytes_;
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
  {
    std::lock_guard lock(mu_);
    done_ = true;
    idle_.Cancel();
  }
  ReleaseGrpcRef();
}

}  // namespace sluice::ingest
