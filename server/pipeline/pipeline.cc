#include "server/pipeline/pipeline.h"

#include <algorithm>
#include <utility>

#include "absl/container/fixed_array.h"
#include "absl/strings/str_cat.h"
#include "server/pipeline/formatted_batch.h"

namespace sluice::pipeline {
namespace {

bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

absl::Status Annotated(const absl::Status& status, absl::string_view output_id) {
  return absl::Status(status.code(), absl::StrCat(output_id, ": ", status.message()));
}

}  // namespace

Pipeline::Pipeline(const PipelineConfig& config, std::vector<Destination> destinations,
                   const outputs::EncodingRegistry& encodings, size_t workers, Ledger& ledger,
                   OutputMetrics* metrics, RetryPolicy retry)
    : composer_(config),
      destinations_(std::move(destinations)),
      ledger_(ledger),
      metrics_(metrics),
      retry_(retry) {
  for (size_t i = 0; i < workers; ++i) {
    formatters_.push_back(std::make_unique<RecordFormatter>(composer_, encodings));
  }
  awaiting_flush_.resize(workers);
  field_layers_.resize(workers);
}

absl::Status Pipeline::Start() {
  for (Destination& destination : destinations_) {
    if (absl::Status started = destination.output->Start(); !started.ok()) {
      return Annotated(started, destination.output->id());
    }
  }
  return absl::OkStatus();
}

void Pipeline::Process(size_t worker, RecordBatch& batch) {
  const size_t dropped_by_hook = post_hooks_.Run(batch, &field_layers_[worker]);
  if (dropped_by_hook > 0) ledger_.AddDroppedByHook(dropped_by_hook);
  FormattedBatch formatted(batch, *formatters_[worker], field_layers_[worker]);
  // The selections of the outputs that took some records, and of those that failed: a
  // record counts once however many outputs it went to, so outcomes are unions.
  absl::FixedArray<FormattedBatch::Selection, 16> taken(destinations_.size());
  absl::FixedArray<FormattedBatch::Selection, 16> failed(destinations_.size());
  size_t taken_count = 0;
  size_t failed_count = 0;
  for (size_t i = 0; i < destinations_.size(); ++i) {
    const Destination& destination = destinations_[i];
    const FormattedBatch::Selection selection =
        formatted.Select(destination.min_level, destination.route);
    FormattedBatch::View view(formatted, selection);
    if (view.count() == 0) continue;
    taken[taken_count++] = selection;
    if (!WriteWithRetry(i, view)) failed[failed_count++] = selection;
  }
  const size_t routed = formatted.CountUnion(absl::MakeConstSpan(taken.data(), taken_count));
  const size_t undelivered =
      failed_count == 0 ? 0
                        : formatted.CountUnion(absl::MakeConstSpan(failed.data(), failed_count));
  const size_t unrouted = batch.size() - routed;
  ledger_.AddWritten(routed - undelivered);
  if (undelivered > 0) ledger_.AddOutputFailed(undelivered);
  if (unrouted > 0) {
    ledger_.AddUnrouted(unrouted);
    if (metrics_ != nullptr) metrics_->OnUnrouted(unrouted);
  }
  if (metrics_ != nullptr) metrics_->OnBatchDone(absl::Now() - batch.received_at());
  if (!batch.awaits_delivery()) return;

  const Delivery delivery{
      .delivered = static_cast<uint32_t>(batch.size() - undelivered + dropped_by_hook),
      .dropped = static_cast<uint32_t>(undelivered),
      .reason = undelivered > 0 ? DropReason::kOutputFailed : DropReason::kNone};
  if (batch.delivery_stage() != DeliveryStage::kFlushed) {
    batch.Deliver(delivery);
    return;
  }
  std::vector<AwaitingFlush>& awaiting = awaiting_flush_[worker];
  awaiting.push_back(AwaitingFlush{batch.TakeDeliveryCallback(), delivery,
                                   static_cast<uint32_t>(unrouted + dropped_by_hook)});
  if (awaiting.size() >= kMaxBatchesAwaitingFlush) SettleFlushes(worker);
}

void Pipeline::OnIdle(size_t worker) {
  if (!awaiting_flush_[worker].empty()) SettleFlushes(worker);
}

void Pipeline::SettleFlushes(size_t worker) {
  const bool flushed = Flush(absl::Now() + kDeliveryFlushTimeout).ok();
  std::vector<AwaitingFlush> awaiting = std::move(awaiting_flush_[worker]);
  awaiting_flush_[worker].clear();
  for (AwaitingFlush& entry : awaiting) {
    Delivery delivery = entry.delivery;
    const uint32_t depends_on_flush = delivery.delivered - entry.settled;
    if (!flushed && depends_on_flush > 0) {
      // Which records of a failed flush reached the destination is unknown, so none is
      // claimed: the sender hears of a possible loss rather than of safety.
      delivery.dropped += depends_on_flush;
      delivery.delivered = entry.settled;
      delivery.reason = DropReason::kOutputFailed;
    }
    std::move(entry.on_delivered)(delivery);
  }
}

bool Pipeline::WriteWithRetry(size_t index, outputs::OutputBatch& batch) {
  Destination& destination = destinations_[index];
  const size_t records = batch.count();
  absl::Duration backoff = retry_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    const absl::Time start = absl::Now();
    const absl::Status status = destination.output->Write(batch);
    if (status.ok()) {
      if (metrics_ != nullptr) metrics_->OnWritten(index, records, absl::Now() - start);
      return true;
    }
    if (metrics_ != nullptr) metrics_->OnFailedAttempt(index, records);
    const bool transient = IsTransient(status);
    if (!transient || attempt >= retry_.max_attempts) {
      if (metrics_ != nullptr) {
        metrics_->OnDropped(
            index,
            transient ? OutputDropReason::kRetriesExhausted : OutputDropReason::kPermanentError,
            records);
      }
      return false;
    }
    // The worker waits on purpose: its channel filling up is how the slowdown reaches
    // the clients.
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, retry_.max_backoff);
  }
}

absl::Status Pipeline::Flush(absl::Time deadline) {
  absl::Status first;
  for (Destination& destination : destinations_) {
    absl::Status flushed = destination.output->Flush(deadline);
    if (!flushed.ok() && first.ok()) first = Annotated(flushed, destination.output->id());
  }
  return first;
}

absl::Status Pipeline::Shutdown(absl::Time deadline) {
  absl::Status first;
  for (Destination& destination : destinations_) {
    absl::Status closed = destination.output->Shutdown(deadline);
    if (!closed.ok() && first.ok()) first = Annotated(closed, destination.output->id());
  }
  return first;
}

absl::Status Pipeline::Reopen() {
  absl::Status first;
  for (Destination& destination : destinations_) {
    absl::Status reopened = destination.output->Reopen();
    if (!reopened.ok() && first.ok()) first = Annotated(reopened, destination.output->id());
  }
  return first;
}

}  // namespace sluice::pipeline
