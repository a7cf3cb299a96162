#include "server/ingest/push_batches_reactor.h"

#include <utility>
#include <vector>

#include "server/ingest/ack_stage.h"
#include "server/ingest/message_codec.h"
#include "server/ingest/unavailable.h"

namespace sluice::ingest {

PushBatchesReactor::PushBatchesReactor(IngestContext& context, grpc::CallbackServerContext* call)
    : context_(context),
      stream_id_(context.NextStreamId()),
      call_(context, *call, Rpc::kPushBatches),
      admission_(context.config, context.levels, context.ledger, context.metrics,
                 Rpc::kPushBatches),
      decoder_(context.config),
      idle_(context.config.stream_idle_timeout) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    if (!call_.refusal().ok()) {
      EndLocked(call_.refusal());
    } else {
      admission_.SetTenant(call_.tenant());
      if (const pipeline::hooks::HookChain* pre_hooks = context.pre_hooks.load();
          pre_hooks != nullptr) {
        admission_.SetPreHooks(*pre_hooks, call->peer(), call->client_metadata());
      }
      if (idle_.enabled()) idle_.Arm(absl::Now(), /*waiting=*/false, IdleAlarmCallback());
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
    const bool reads =
        state_ == State::kReading || state_ == State::kPaused || state_ == State::kParked;
    if (!fired || !reads) return;
    if (!idle_.ExpiredElseRearm(absl::Now(), state_ == State::kReading, IdleAlarmCallback())) {
      return;
    }
    EndLocked(IdleStatus(idle_.timeout()));
    call_.IdleClosed();
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushBatchesReactor::EndLocked(grpc::Status status) {
  state_ = State::kEnding;
  status_ = std::move(status);
}

void PushBatchesReactor::OnReadDone(bool ok) {
  Actions actions;
  bool decode = false;
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kReading) {
      // The call ended while the read was outstanding (idle, a failed write): the message
      // is not taken, nor acked.
    } else if (std::optional<grpc::Status> end = call_.Take(ok)) {
      // What was taken before it is still answered.
      EndLocked(*std::move(end));
    } else {
      decode = true;
    }
    if (!decode) actions = AdvanceLocked();
  }
  if (!decode) {
    Act(actions);
    return;
  }
  // Parsed without the lock, so that a worker settling an earlier batch of this call does
  // not wait for a whole request to be parsed. Only this callback touches the incoming
  // message and the decoder, and while the state stays kReading no other read starts.
  grpc::Status decoded = DecodeIncoming();
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kReading) {
      // The call ended while the message was parsed: it is not taken, nor acked.
      incoming_.reset();
    } else if (!decoded.ok()) {
      EndLocked(std::move(decoded));
    } else {
      SubmitIncomingLocked();
    }
    actions = AdvanceLocked();
  }
  Act(actions);
}

grpc::Status PushBatchesReactor::DecodeIncoming() {
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
  std::vector<FieldLayers> layers;
  const AdmissionResult admitted =
      admission_.Admit(*incoming_->mutable_records(), now, incoming_decoded_, &layers);
  v1::PushAck ack;
  ack.set_sequence(incoming_->sequence());
  ack.set_filtered(admitted.filtered);
  ack.set_rejected(admitted.rejected);
  ack.set_rejection(admitted.first_rejection);
  ack.set_stage(AckStageOf(context_.config.ack_on));
  // What a pre-hook dropped counts as delivered, as a post-hook's drops do; the delivery
  // adds the rest.
  ack.set_accepted(admitted.dropped_by_hook);

  RecordBatch batch = RecordBatch::FromRequest(std::move(incoming_));
  batch.set_stream_id(stream_id_);
  batch.set_received_at(now);
  batch.field_layers() = std::move(layers);
  state_ = State::kPaused;
  if (batch.empty()) {
    AwaitLocked(std::move(ack), /*settled=*/true);
    return;
  }
  const uint64_t ticket = AwaitLocked(std::move(ack), /*settled=*/false);
  const Submitted submitted = call_.Submit(
      std::move(batch),
      [this, ticket, ref = Ref()](const std::optional<Delivery>& settled) {
        OnQueued(ticket, settled);
      },
      [this, ticket, ref = Ref()](const Delivery& delivery) { OnDelivered(ticket, delivery); });
  if (submitted.settled) SettleLocked(ticket, *submitted.settled);
  switch (submitted.verdict) {
    case Submitted::Verdict::kQueued:
      break;
    case Submitted::Verdict::kParked:
      state_ = State::kParked;
      break;
    case Submitted::Verdict::kDropped:
      // The ack says what was dropped; the status tells the client to back off before it
      // sends more. Nothing more is read: what the client sent after this batch it resends.
      EndLocked(call_.Overloaded());
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
  awaited.ack.set_accepted(awaited.ack.accepted() + delivery.delivered);
  if (delivery.dropped > 0) {
    awaited.ack.set_dropped(delivery.dropped);
    awaited.ack.set_drop_reason(DropReasonOf(delivery.reason));
  }
  while (!awaited_.empty() && awaited_.front().settled) {
    if (state_ != State::kClientGone) acks_.push_back(std::move(awaited_.front().ack));
    awaited_.pop_front();
    ++first_awaited_ticket_;
  }
}

void PushBatchesReactor::OnQueued(uint64_t ticket, const std::optional<Delivery>& settled) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kParked) state_ = State::kPaused;
    if (settled) SettleLocked(ticket, *settled);
    actions = AdvanceLocked();
  }
  Act(actions);
}

void PushBatchesReactor::OnDelivered(uint64_t ticket, const Delivery& delivery) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    // An eviction (drop_oldest) makes IngestCall refuse the next message.
    call_.Delivered(delivery);
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
      state_ = State::kClientGone;
    }
    actions = AdvanceLocked();
  }
  Act(actions);
}

PushBatchesReactor::Actions PushBatchesReactor::AdvanceLocked() {
  Actions actions;
  if (state_ == State::kFinished || state_ == State::kDone) return actions;
  if (!writing_ && !acks_.empty()) {
    writing_ = true;
    SerializeMessage(acks_.front(), write_bytes_);
    actions.write = &write_bytes_;
  }
  switch (state_) {
    case State::kPaused:
      if (acks_.size() + awaited_.size() < kMaxOutstandingAcks) {
        state_ = State::kReading;
        if (idle_.enabled()) idle_.StartWaiting(absl::Now());
        actions.read = &incoming_bytes_;
      }
      break;
    case State::kEnding:
    case State::kClientGone:
      if (!writing_ && acks_.empty() && awaited_.empty()) {
        state_ = State::kFinished;
        actions.finish = true;
      }
      break;
    case State::kReading:
    case State::kParked:
    case State::kFinished:
    case State::kDone:
      break;
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
  {
    std::lock_guard lock(mu_);
    call_.Done();
    state_ = State::kDone;
    idle_.Cancel();
  }
  ReleaseGrpcRef();
}

}  // namespace sluice::ingest
