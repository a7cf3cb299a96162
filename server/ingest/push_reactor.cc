#include "server/ingest/push_reactor.h"

#include <utility>

#include "server/ingest/message_codec.h"
#include "server/ingest/unavailable.h"

namespace sluice::ingest {

PushReactor::PushReactor(IngestContext& context, grpc::CallbackServerContext* call,
                         grpc::ByteBuffer* response)
    : context_(context),
      call_(call),
      stream_id_(context.NextStreamId()),
      response_(response),
      admission_(context.config, context.levels, context.ledger, context.metrics, Rpc::kPush),
      decoder_(context.config),
      idle_(context.config.stream_idle_timeout) {
  context_.metrics.StreamOpened(Rpc::kPush);
  if (grpc::Status opened = context_.OpenCall(*call_, Rpc::kPush, slot_); !opened.ok()) {
    {
      std::lock_guard lock(mu_);
      finished_ = true;
    }
    Finish(opened);
    return;
  }
  {
    std::lock_guard lock(mu_);
    reading_ = true;
    if (idle_.enabled()) {
      const absl::Time now = absl::Now();
      idle_.StartWaiting(now);
      idle_.Arm(now, reading_, IdleAlarmCallback());
    }
  }
  StartRead(&incoming_bytes_);
}

std::function<void(bool)> PushReactor::IdleAlarmCallback() {
  return AlarmCallback([this](bool fired) { OnIdleAlarm(fired); });
}

void PushReactor::OnIdleAlarm(bool fired) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    if (!fired || done_ || finished_ || read_side_done_) return;
    if (!idle_.ExpiredElseRearm(absl::Now(), reading_, IdleAlarmCallback())) return;
    idle_expired_ = true;
    read_side_done_ = true;
    context_.metrics.AddIdleClosed(Rpc::kPush);
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushReactor::OnReadDone(bool ok) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    reading_ = false;
    if (!ok || finished_) {
      // A message that raced an idle timeout's Finish is not taken: its summary was sent.
      read_side_done_ = true;
    } else {
      v1::LogRecord* record = pending_.records().Add();
      DecodeResult decoded;
      const absl::Status status = DecodeOrOutOfMemory(
          decoded, [&] { return decoder_.DecodeLogRecord(incoming_bytes_, *record, decoded); });
      incoming_bytes_.Clear();
      if (!status.ok()) {
        // The records before it are taken; this one is not.
        pending_.records().RemoveLast();
        read_side_done_ = true;
        status_ = RefuseRequest(status, decoded, Rpc::kPush, context_.metrics);
      } else {
        pending_utf8_unverified_ |= decoded.utf8_unverified;
        if (!context_.intake.open()) {
          // The record already read is kept; the client learns to stop from the status.
          read_side_done_ = true;
          status_ = DrainingStatus(*call_);
        }
        if (pending_.size() == 1) {
          pending_.set_received_at(absl::Now());
          ArmBatchAlarmLocked();
        }
      }
    }
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushReactor::ArmBatchAlarmLocked() {
  if (alarm_armed_ || context_.config.max_batch_delay <= absl::ZeroDuration()) return;
  alarm_armed_ = true;
  // A fresh alarm per arming: the previous one has fired, and destroying it is safe even
  // while its callback is still returning.
  batch_alarm_ = std::make_unique<grpc::Alarm>();
  batch_alarm_->Set(absl::ToChronoTime(absl::Now() + context_.config.max_batch_delay),
                    AlarmCallback([this](bool fired) { OnBatchAlarm(fired); }));
}

void PushReactor::OnBatchAlarm(bool fired) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    alarm_armed_ = false;
    if (done_) return;
    if (fired && !parked_ && !finished_ && !pending_.empty()) SubmitPendingLocked();
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushReactor::OnQueued(uint32_t accepted) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    parked_ = false;
    summary_.set_accepted(summary_.accepted() + accepted);
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushReactor::OnDelivered(const Delivery& delivery) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    --awaiting_delivery_;
    summary_.set_accepted(summary_.accepted() + delivery.delivered);
    summary_.set_dropped(summary_.dropped() + delivery.dropped);
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushReactor::SubmitPendingLocked() {
  DecodeResult decoded;
  decoded.utf8_unverified = std::exchange(pending_utf8_unverified_, false);
  const AdmissionResult admitted = admission_.Admit(pending_.records(), absl::Now(), decoded);
  summary_.set_received(summary_.received() + admitted.admitted + admitted.filtered +
                        admitted.rejected);
  summary_.set_filtered(summary_.filtered() + admitted.filtered);
  summary_.set_rejected(summary_.rejected() + admitted.rejected);
  if (summary_.rejection().empty() && !admitted.first_rejection.empty()) {
    summary_.set_rejection(admitted.first_rejection);
  }
  RecordBatch batch = std::move(pending_);
  pending_ = RecordBatch();
  if (batch.empty()) return;

  batch.set_stream_id(stream_id_);
  const uint32_t records = static_cast<uint32_t>(batch.size());
  // Accepted records count once queued (ack_on: accepted), else once delivered.
  const bool on_queue = context_.config.ack_on == DeliveryStage::kAccepted;
  if (!on_queue) {
    ++awaiting_delivery_;
    batch.set_delivery(context_.config.ack_on,
                       [this, ref = Ref()](const Delivery& delivery) { OnDelivered(delivery); });
  }
  const uint32_t accepted_when_queued = on_queue ? records : 0;
  switch (context_.scheduler.Submit(std::move(batch), [this, accepted_when_queued, ref = Ref()] {
    OnQueued(accepted_when_queued);
  })) {
    case scheduler::SubmitOutcome::kAccepted:
    case scheduler::SubmitOutcome::kAcceptedEvictedOldest:
      summary_.set_accepted(summary_.accepted() + accepted_when_queued);
      break;
    case scheduler::SubmitOutcome::kDroppedNewest:
      summary_.set_dropped(summary_.dropped() + records);
      if (!on_queue) --awaiting_delivery_;
      break;
    case scheduler::SubmitOutcome::kParked:
      parked_ = true;
      break;
  }
}

PushReactor::Actions PushReactor::AdvanceLocked() {
  Actions actions;
  if (finished_) return actions;
  const bool batch_full = pending_.size() >= context_.config.max_batch_records;
  const bool send_now = read_side_done_ || context_.config.max_batch_delay <= absl::ZeroDuration();
  if (!parked_ && (batch_full || (!pending_.empty() && send_now))) SubmitPendingLocked();
  if (read_side_done_) {
    if (!parked_ && pending_.empty() && awaiting_delivery_ == 0 && (!reading_ || idle_expired_)) {
      finished_ = true;
      actions.finish = true;
    }
    return actions;
  }
  // While a batch is parked, keep reading only until the next one is full.
  if (!reading_ && pending_.size() < context_.config.max_batch_records) {
    reading_ = true;
    if (idle_.enabled()) idle_.StartWaiting(absl::Now());
    actions.read = true;
  }
  return actions;
}

void PushReactor::Act(Actions actions) {
  if (actions.read) StartRead(&incoming_bytes_);
  if (actions.finish) {
    grpc::Status status;
    {
      std::lock_guard lock(mu_);
      status = status_;
      SerializeMessage(summary_, *response_);
    }
    Finish(status);
  }
}

void PushReactor::OnDone() {
  context_.metrics.StreamClosed(Rpc::kPush);
  {
    std::lock_guard lock(mu_);
    done_ = true;
    if (alarm_armed_) batch_alarm_->Cancel();
    idle_.Cancel();
  }
  ReleaseGrpcRef();
}

}  // namespace sluice::ingest
