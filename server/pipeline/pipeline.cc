#include "server/pipeline/pipeline.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

struct Pipeline::Lane {
  Destination destination;
  // Declared after the output it writes, so it is closed before the output goes.
  std::unique_ptr<OutputSender> sender;
};

struct Pipeline::Generation {
  explicit Generation(const PipelineConfig& config) : composer(config) {}

  FieldComposer composer;
  hooks::HookChain post_hooks;
  std::vector<std::shared_ptr<Lane>> lanes;
  // One per worker: formatters keep scratch state and are not thread-safe.
  std::vector<std::unique_ptr<RecordFormatter>> formatters;
  // Batches the workers are processing with this generation; under generation_mu_.
  size_t processing = 0;
};

Pipeline::Pipeline(const PipelineConfig& config, std::vector<Destination> destinations,
                   const outputs::EncodingRegistry& encodings, size_t workers, Ledger& ledger,
                   OutputMetrics* metrics)
    : workers_(workers), ledger_(ledger), metrics_(metrics) {
  current_ = NewGeneration(config, hooks::HookChain(), encodings);
  for (size_t i = 0; i < destinations.size(); ++i) {
    auto lane = std::make_shared<Lane>();
    lane->destination = std::move(destinations[i]);
    lane->sender = std::make_unique<OutputSender>(i, *lane->destination.output,
                                                  lane->destination.sender, metrics_);
    current_->lanes.push_back(std::move(lane));
  }
  field_layers_.resize(workers);
}

Pipeline::~Pipeline() {
  // The senders settle their last batches through this object: close them while it lives.
  for (const std::shared_ptr<Lane>& lane : current_->lanes) lane->sender->Close(absl::Now());
}

std::shared_ptr<Pipeline::Generation> Pipeline::NewGeneration(
    const PipelineConfig& config, hooks::HookChain post_hooks,
    const outputs::EncodingRegistry& encodings) const {
  auto generation = std::make_shared<Generation>(config);
  generation->post_hooks = std::move(post_hooks);
  for (size_t i = 0; i < workers_; ++i) {
    generation->formatters.push_back(
        std::make_unique<RecordFormatter>(generation->composer, encodings));
  }
  return generation;
}

void Pipeline::SetPostHooks(hooks::HookChain post_hooks) {
  std::unique_lock lock(generation_mu_);
  current_->post_hooks = std::move(post_hooks);
}

std::shared_ptr<Pipeline::Generation> Pipeline::Current() const {
  std::unique_lock lock(generation_mu_);
  return current_;
}

std::shared_ptr<Pipeline::Generation> Pipeline::Acquire() {
  std::unique_lock lock(generation_mu_);
  ++current_->processing;
  return current_;
}

void Pipeline::Release(Generation& generation) {
  std::unique_lock lock(generation_mu_);
  if (--generation.processing == 0) processed_cv_.notify_all();
}

absl::Status Pipeline::Start() {
  const std::shared_ptr<Generation> generation = Current();
  for (const std::shared_ptr<Lane>& lane : generation->lanes) {
    if (absl::Status started = lane->destination.output->Start(); !started.ok()) {
      return Annotated(started, lane->destination.output->id());
    }
  }
  for (const std::shared_ptr<Lane>& lane : generation->lanes) lane->sender->Start();
  return absl::OkStatus();
}

void Pipeline::Process(size_t worker, RecordBatch& batch) {
  // The whole batch goes through one generation: its post-hooks, its formatter and the
  // outputs it dispatches to belong together.
  const std::shared_ptr<Generation> generation = Acquire();
  struct Releaser {
    Pipeline& pipeline;
    Generation& generation;
    ~Releaser() { pipeline.Release(generation); }
  } releaser{*this, *generation};
  const std::vector<std::shared_ptr<Lane>>& lanes = generation->lanes;
  const size_t dropped_by_hook = generation->post_hooks.Run(batch, &field_layers_[worker]);
  if (dropped_by_hook > 0) ledger_.AddDroppedByHook(dropped_by_hook);
  if (taps_ != nullptr && taps_->active())
    taps_->Offer(batch, field_layers_[worker], generation->composer);
  const size_t batch_bytes = batch.memory_bytes();
  auto dispatched = std::make_unique<DispatchedBatch>(
      std::move(batch), std::move(field_layers_[worker]), *generation->formatters[worker],
      lanes.size(), dropped_by_hook, static_cast<DispatchedBatch::Owner&>(*this));
  field_layers_[worker].clear();
  // The scheduler reports what is left in `batch` as delivered: leave nothing there.
  batch = RecordBatch();
  FormattedBatch& formatted = dispatched->formatted();
  struct Target {
    size_t output;
    size_t records;
    size_t bytes;
  };
  absl::FixedArray<Target, 16> targets(lanes.size());
  // The selections of the outputs that take some records: a record counts once however
  // many outputs it goes to, so the routed count is their union.
  absl::FixedArray<FormattedBatch::Selection, 16> taken(lanes.size());
  size_t target_count = 0;
  for (size_t i = 0; i < lanes.size(); ++i) {
    const Destination& destination = lanes[i]->destination;
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
    lanes[targets[t].output]->sender->Enqueue(handed, targets[t].output, targets[t].records,
                                              targets[t].bytes);
  }
  // While Process runs the scheduler counts the batch as processing, so the senders' share
  // starts now, before the scheduler stops counting it. A batch settled already made the
  // count dip below by as much: the sum stays right at every moment.
  records_in_outputs_.fetch_add(static_cast<int64_t>(routed), std::memory_order_acq_rel);
}

absl::StatusOr<std::shared_ptr<Pipeline::Generation>> Pipeline::Prepare(
    const PipelineConfig& config, hooks::HookChain post_hooks, std::vector<NextOutput> outputs,
    const outputs::EncodingRegistry& encodings) {
  const std::shared_ptr<Generation> running = Current();
  std::shared_ptr<Generation> next = NewGeneration(config, std::move(post_hooks), encodings);
  std::vector<Lane*> added;
  absl::Status failed;
  for (NextOutput& output : outputs) {
    if (!output.keep.empty()) {
      auto kept = std::find_if(running->lanes.begin(), running->lanes.end(),
                               [&](const std::shared_ptr<Lane>& lane) {
                                 return lane->destination.output->id() == output.keep;
                               });
      if (kept == running->lanes.end()) {
        failed = absl::NotFoundError(absl::StrCat("output ", output.keep, " is not running"));
        break;
      }
      next->lanes.push_back(*kept);
      continue;
    }
    auto lane = std::make_shared<Lane>();
    lane->destination = std::move(output.destination);
    outputs::Output& started = *lane->destination.output;
    if (absl::Status status = started.Start(); !status.ok()) {
      (void)started.Shutdown(absl::Now());
      failed = Annotated(status, started.id());
      break;
    }
    const size_t slot = metrics_ != nullptr ? metrics_->AddOutput(std::string(started.id())) : 0;
    lane->sender =
        std::make_unique<OutputSender>(slot, started, lane->destination.sender, metrics_);
    added.push_back(lane.get());
    next->lanes.push_back(std::move(lane));
  }
  if (!failed.ok()) {
    for (Lane* lane : added) (void)lane->destination.output->Shutdown(absl::Now());
    return failed;
  }
  for (Lane* lane : added) lane->sender->Start();
  return next;
}

absl::Status Pipeline::Swap(std::shared_ptr<Generation> next, absl::Time deadline) {
  std::shared_ptr<Generation> old;
  {
    std::unique_lock lock(generation_mu_);
    old = std::exchange(current_, next);
    // A worker blocked on a leaving output's full buffer is released below, by Close.
    processed_cv_.wait_until(lock, absl::ToChronoTime(deadline),
                             [&] { return old->processing == 0; });
  }
  std::vector<std::string> problems;
  for (const std::shared_ptr<Lane>& lane : old->lanes) {
    if (std::find(next->lanes.begin(), next->lanes.end(), lane) != next->lanes.end()) continue;
    outputs::Output& output = *lane->destination.output;
    // Drain's error says what is still buffered; Close then counts what it gives up on.
    (void)lane->sender->Drain(deadline);
    if (const size_t given_up = lane->sender->Close(deadline); given_up > 0) {
      problems.push_back(absl::StrCat(output.id(), ": ", given_up,
                                      " buffered records not written by the deadline"));
    }
    if (absl::Status closed = output.Shutdown(deadline); !closed.ok()) {
      problems.emplace_back(Annotated(closed, output.id()).message());
    }
  }
  for (const std::shared_ptr<Lane>& lane : next->lanes) {
    if (std::find(old->lanes.begin(), old->lanes.end(), lane) == old->lanes.end()) continue;
    if (absl::Status reopened = lane->destination.output->Reopen(); !reopened.ok()) {
      problems.emplace_back(Annotated(reopened, lane->destination.output->id()).message());
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::DataLossError(absl::StrJoin(problems, "; "));
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
  for (const std::shared_ptr<Lane>& lane : Current()->lanes) {
    absl::Status drained = lane->sender->Drain(deadline);
    if (!drained.ok() && first.ok()) first = drained;
  }
  return first;
}

absl::Status Pipeline::Shutdown(absl::Time deadline) {
  if (shut_down_) return absl::OkStatus();
  shut_down_ = true;
  const std::shared_ptr<Generation> generation = Current();
  std::vector<std::string> problems;
  for (const std::shared_ptr<Lane>& lane : generation->lanes) {
    const size_t given_up = lane->sender->Close(deadline);
    if (given_up > 0) {
      problems.push_back(absl::StrCat(lane->destination.output->id(), ": ", given_up,
                                      " buffered records not written by the deadline"));
    }
  }
  for (const std::shared_ptr<Lane>& lane : generation->lanes) {
    outputs::Output& output = *lane->destination.output;
    absl::Status closed = output.Shutdown(deadline);
    if (!closed.ok()) problems.emplace_back(Annotated(closed, output.id()).message());
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::DataLossError(absl::StrJoin(problems, "; "));
}

std::vector<OutputSenderSnapshot> Pipeline::Snapshot() const {
  const std::shared_ptr<Generation> generation = Current();
  std::vector<OutputSenderSnapshot> snapshots;
  snapshots.reserve(generation->lanes.size());
  for (const std::shared_ptr<Lane>& lane : generation->lanes) {
    snapshots.push_back(lane->sender->Snapshot());
  }
  return snapshots;
}

std::vector<std::pair<std::string, std::optional<outputs::EncodingId>>> Pipeline::OutputEncodings()
    const {
  std::vector<std::pair<std::string, std::optional<outputs::EncodingId>>> encodings;
  for (const std::shared_ptr<Lane>& lane : Current()->lanes) {
    const outputs::Output& output = *lane->destination.output;
    encodings.emplace_back(std::string(output.id()), output.encoding());
  }
  return encodings;
}

absl::Status Pipeline::Reopen() {
  absl::Status first;
  for (const std::shared_ptr<Lane>& lane : Current()->lanes) {
    absl::Status reopened = lane->destination.output->Reopen();
    if (!reopened.ok() && first.ok()) first = Annotated(reopened, lane->destination.output->id());
  }
  return first;
}

}  // namespace sluice::pipeline
