#include "server/pipeline/pipeline.h"

#include <algorithm>
#include <utility>

#include "absl/container/fixed_array.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/pipeline/formatted_batch.h"

namespace sluice::pipeline {
namespace {

// The error with the output's id in front, unless the output put it there already.
absl::Status Annotated(const absl::Status& status, absl::string_view output_id) {
  if (absl::StartsWith(status.message(), output_id)) return status;
  return absl::Status(status.code(), absl::StrCat(output_id, ": ", status.message()));
}

}  // namespace

Pipeline::Pipeline(const PipelineConfig& config, std::vector<Destination> destinations,
                   const outputs::EncodingRegistry& encodings, size_t workers, Ledger& ledger,
                   OutputMetrics* metrics)
    : composer_(config),
      destinations_(std::move(destinations)),
      ledger_(ledger),
      metrics_(metrics) {
  for (size_t i = 0; i < destinations_.size(); ++i) {
    senders_.push_back(std::make_unique<OutputSender>(i, *destinations_[i].output,
                                                      destinations_[i].sender, metrics_));
  }
  for (size_t i = 0; i < workers; ++i) {
    formatters_.push_back(std::make_unique<RecordFormatter>(composer_, encodings));
  }
  field_layers_.resize(workers);
}

Pipeline::~Pipeline() {
  // The senders settle their last batches through this object: close them while it lives.
  for (std::unique_ptr<OutputSender>& sender : senders_) sender->Close(absl::Now());
}

absl::Status Pipeline::Start() {
  for (Destination& destination : destinations_) {
    if (absl::Status started = destination.output->Start(); !started.ok()) {
      return Annotated(started, destination.output->id());
    }
  }
  for (std::unique_ptr<OutputSender>& sender : senders_) sender->Start();
  return absl::OkStatus();
}

void Pipeline::Process(size_t worker, RecordBatch& batch) {
  const size_t dropped_by_hook = post_hooks_.Run(batch, &field_layers_[worker]);
  if (dropped_by_hook > 0) ledger_.AddDroppedByHook(dropped_by_hook);
  if (taps_ != nullptr && taps_->active()) taps_->Offer(batch, field_layers_[worker], composer_);
  const size_t batch_bytes = batch.memory_bytes();
  auto dispatched = std::make_unique<DispatchedBatch>(
      std::move(batch), std::move(field_layers_[worker]), *formatters_[worker],
      destinations_.size(), dropped_by_hook, static_cast<DispatchedBatch::Owner&>(*this));
  field_layers_[worker].clear();
  // The scheduler reports what is left in `batch` as delivered: leave nothing there.
  batch = RecordBatch();
  FormattedBatch& formatted = dispatched->formatted();
  struct Target {
    size_t output;
    size_t records;
    size_t bytes;
  };
  absl::FixedArray<Target, 16> targets(destinations_.size());
  // The selections of the outputs that take some records: a record counts once however
  // many outputs it goes to, so the routed count is their union.
  absl::FixedArray<FormattedBatch::Selection, 16> taken(destinations_.size());
  size_t target_count = 0;
  for (size_t i = 0; i < destinations_.size(); ++i) {
    const Destination& destination = destinations_[i];
    const FormattedBatch::Selection selection =
        formatted.Select(destination.min_level, destination.route);
    const size_t records = formatted.Count(selection);
    if (records == 0) continue;
    size_t bytes = batch_bytes;
    if (const std::optional<outputs::EncodingId> encoding = destination.output->encoding()) {
      bytes += formatted.Lines(*encoding, selection).size();
    }
    dispatched->Route(i, selection);
    taken[target_count] = selection;
    targets[target_count++] = Target{i, records, bytes};
  }
  const size_t routed = formatted.CountUnion(absl::MakeConstSpan(taken.data(), target_count));
  const size_t unrouted = dispatched->records().size() - routed;
  if (unrouted > 0) {
    ledger_.AddUnrouted(unrouted);
    if (metrics_ != nullptr) metrics_->OnUnrouted(unrouted);
  }
  dispatched->Seal(target_count, routed);
  if (target_count == 0) {
    Settle(std::move(dispatched));
    return;
  }
  // From the first Enqueue on, the senders own the batch: the last one to finish it
  // settles and destroys it, possibly before this loop ends.
  DispatchedBatch& handed = *dispatched.release();
  for (size_t t = 0; t < target_count; ++t) {
    senders_[targets[t].output]->Enqueue(handed, targets[t].records, targets[t].bytes);
  }
  // While Process runs the scheduler counts the batch as processing, so the senders' share
  // starts now, before the scheduler stops counting it. A batch settled already made the
  // count dip below by as much: the sum stays right at every moment.
  records_in_outputs_.fetch_add(static_cast<int64_t>(routed), std::memory_order_acq_rel);
}

void Pipeline::Settle(std::unique_ptr<DispatchedBatch> batch) {
  const size_t routed = batch->routed();
  const size_t undelivered = batch->CountFailed();
  ledger_.AddWritten(routed - undelivered);
  if (undelivered > 0) ledger_.AddOutputFailed(undelivered);
  if (routed > 0) {
    records_in_outputs_.fetch_sub(static_cast<int64_t>(routed), std::memory_order_acq_rel);
  }
  RecordBatch& records = batch->records();
  if (metrics_ != nullptr) metrics_->OnBatchDone(absl::Now() - records.received_at());
  if (!records.awaits_delivery()) return;
  records.Deliver(Delivery{
      .delivered = static_cast<uint32_t>(records.size() - undelivered + batch->dropped_by_hook()),
      .dropped = static_cast<uint32_t>(undelivered),
      .reason = undelivered > 0 ? DropReason::kOutputFailed : DropReason::kNone});
}

absl::Status Pipeline::Drain(absl::Time deadline) {
  absl::Status first;
  for (std::unique_ptr<OutputSender>& sender : senders_) {
    absl::Status drained = sender->Drain(deadline);
    if (!drained.ok() && first.ok()) first = drained;
  }
  return first;
}

absl::Status Pipeline::Shutdown(absl::Time deadline) {
  if (shut_down_) return absl::OkStatus();
  shut_down_ = true;
  std::vector<std::string> problems;
  for (size_t i = 0; i < senders_.size(); ++i) {
    const size_t given_up = senders_[i]->Close(deadline);
    if (given_up > 0) {
      problems.push_back(absl::StrCat(destinations_[i].output->id(), ": ", given_up,
                                      " buffered records not written by the deadline"));
    }
  }
  for (Destination& destination : destinations_) {
    absl::Status closed = destination.output->Shutdown(deadline);
    if (!closed.ok()) problems.emplace_back(Annotated(closed, destination.output->id()).message());
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::DataLossError(absl::StrJoin(problems, "; "));
}

std::vector<OutputSenderSnapshot> Pipeline::Snapshot() const {
  std::vector<OutputSenderSnapshot> snapshots;
  snapshots.reserve(senders_.size());
  for (const std::unique_ptr<OutputSender>& sender : senders_) {
    snapshots.push_back(sender->Snapshot());
  }
  return snapshots;
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
