#include "server/ingest/push_reactor.h"

#include <utility>

#include "server/ingest/message_codec.h"
#include "server/ingest/unavailable.h"

namespace sluice::ingest {

PushReactor::PushReactor(IngestContext& context, grpc::CallbackServerContext* call,
                         grpc::ByteBuffer* response)
    : context_(context),
      stream_id_(context.NextStreamId()),
      call_(context, *call, Rpc::kPush),
      response_(response),
      admission_(context.config, context.levels, context.ledger, context.metrics, Rpc::kPush),
      decoder_(context.config),
      idle_(context.config.stream_idle_timeout) {
  grpc::Status refusal;
  {
    std::lock_guard lock(mu_);
    refusal = call_.refusal();
    if (!refusal.ok()) {
      state_ = State::kFinished;
    } else {
      state_ = State::kReading;
      admission_.SetTenant(call_.tenant());
      if (const pipeline::hooks::HookChain* pre_hooks = context.pre_hooks.load();
          pre_hooks != nullptr) {
        admission_.SetPreHooks(*pre_hooks, call->peer(), call->client_metadata());
      }
      if (idle_.enabled()) {
        const absl::Time now = absl::Now();
        idle_.StartWaiting(now);
        idle_.Arm(now, /*waiting=*/true, IdleAlarmCallback());
      }
    }
  }
  // Refused before anything was read: there is no summary to report.
  if (!refusal.ok()) {
    Finish(refusal);
    return;
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
    if (!fired || (state_ != State::kReading && state_ != State::kPaused)) return;
    if (!idle_.ExpiredElseRearm(absl::Now(), state_ == State::kReading, IdleAlarmCallback())) {
      return;
    }
    // OK: a status other than OK would tell the client that something went wrong.
    EndLocked(grpc::Status::OK);
    call_.IdleClosed();
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushReactor::EndLocked(grpc::Status status) {
  // The first reason the call ends is the one reported.
  if (state_ != State::kEnding || status_.ok()) status_ = std::move(status);
  state_ = State::kEnding;
}

void PushReactor::OnReadDone(bool ok) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kReading) {
      // The call ended while the read was outstanding (idle, a dropped batch): the record
      // is not taken.
    } else if (std::optional<grpc::Status> end =
                   call_.Read(ok, [this] { return DecodeIncomingLocked(); })) {
      // What was taken before it is still answered.
      EndLocked(*std::move(end));
    } else {
      state_ = State::kPaused;
      if (pending_.size() == 1) {
        pending_.set_received_at(absl::Now());
        ArmBatchAlarmLocked();
      }
    }
    actions = AdvanceLocked();
  }
  Act(actions);
}

grpc::Status PushReactor::DecodeIncomingLocked() {
  v1::LogRecord* record = pending_.records().Add();
  DecodeResult decoded;
  const absl::Status status = DecodeOrOutOfMemory(
      decoded, [&] { return decoder_.DecodeLogRecord(incoming_bytes_, *record, decoded); });
  incoming_bytes_.Clear();
  if (!status.ok()) {
    pending_.records().RemoveLast();
    return RefuseRequest(status, decoded, Rpc::kPush, context_.metrics);
  }
  pending_utf8_unverified_ |= decoded.utf8_unverified;
  return grpc::Status::OK;
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
    if (state_ == State::kFinished || state_ == State::kDone) return;
    if (fired && !parked_ && !pending_.empty()) SubmitPendingLocked();
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushReactor::OnQueued(const std::optional<Delivery>& settled) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    parked_ = false;
    if (settled) CountLocked(*settled);
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushReactor::OnDelivered(const Delivery& delivery) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    --awaiting_delivery_;
    // An eviction (drop_oldest) makes IngestCall refuse the next record.
    call_.Delivered(delivery);
    CountLocked(delivery);
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushReactor::CountLocked(const Delivery& delivery) {
  summary_.set_accepted(summary_.accepted() + delivery.delivered);
  summary_.set_dropped(summary_.dropped() + delivery.dropped);
}

void PushReactor::SubmitPendingLocked() {
  DecodeResult decoded;
  decoded.utf8_unverified = std::exchange(pending_utf8_unverified_, false);
  const AdmissionResult admitted =
      admission_.Admit(pending_.records(), absl::Now(), decoded, &pending_.field_layers());
  summary_.set_received(summary_.received() + admitted.admitted + admitted.filtered +
                        admitted.rejected);
  summary_.set_filtered(summary_.filtered() + admitted.filtered);
  summary_.set_rejected(summary_.rejected() + admitted.rejected);
  if (summary_.rejection().empty() && !admitted.first_rejection.empty()) {
    summary_.set_rejection(admitted.first_rejection);
  }
  // What a pre-hook dropped counts as delivered, as a post-hook's drops do.
  if (admitted.dropped_by_hook > 0) CountLocked(Delivery{.delivered = admitted.dropped_by_hook});
  RecordBatch batch = std::move(pending_);
  pending_ = RecordBatch();
  if (batch.empty()) return;

  batch.set_stream_id(stream_id_);
  const Submitted submitted = call_.Submit(
      std::move(batch),
      [this, ref = Ref()](const std::optional<Delivery>& settled) { OnQueued(settled); },
      [this, ref = Ref()](const Delivery& delivery) { OnDelivered(delivery); });
  if (submitted.delivery_follows) ++awaiting_delivery_;
  if (submitted.settled) CountLocked(*submitted.settled);
  switch (submitted.verdict) {
    case Submitted::Verdict::kQueued:
      break;
    case Submitted::Verdict::kParked:
      parked_ = true;
      break;
    case Submitted::Verdict::kDropped:
      // At once, even with a read outstanding: nothing the client sends from now on is
      // taken, and it learns to back off from the status, its summary attached.
      EndLocked(call_.Overloaded());
      break;
  }
}

PushReactor::Actions PushReactor::AdvanceLocked() {
  Actions actions;
  if (state_ == State::kFinished || state_ == State::kDone) return actions;
  const bool batch_full = pending_.size() >= context_.config.max_batch_records;
  const bool send_now =
      state_ == State::kEnding || context_.config.max_batch_delay <= absl::ZeroDuration();
  if (!parked_ && (batch_full || (!pending_.empty() && send_now))) SubmitPendingLocked();
  if (state_ == State::kEnding) {
    if (!parked_ && pending_.empty() && awaiting_delivery_ == 0) {
      state_ = State::kFinished;
      actions.finish = true;
    }
    return actions;
  }
  // While a batch is parked, keep reading only until the next one is full.
  if (state_ == State::kPaused && pending_.size() < context_.config.max_batch_records) {
    state_ = State::kReading;
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
      SerializeMessage(summary_, *response_);
      status = status_.ok() ? status_ : WithDetail(status_, summary_);
    }
    Finish(status);
  }
}

void PushReactor::OnDone() {
  {
    std::lock_guard lock(mu_);
    call_.Done();
    state_ = State::kDone;
    if (alarm_armed_) batch_alarm_->Cancel();
    idle_.Cancel();
  }
  ReleaseGrpcRef();
}

}  // namespace sluice::ingest
