// DispatchedBatch: one batch after its worker is done with it (post-hooks, routes, lines
// formatted for every output that takes records of it), on its way through the output
// senders.
//
// The pipeline creates one per batch on the worker, hands it to the OutputSender of every
// output it is routed to, and forgets it. Each sender calls Finish() once, from its own
// thread, when it is done with its part: written (or flushed, for a batch whose sender
// waits for `flushed`), or given up on. The last Finish hands the batch to its Owner (the
// pipeline), which settles the books and the delivery and destroys it. Nothing in the batch
// changes after the worker sealed it, so the senders read it without a lock.
#ifndef SLUICE_SERVER_PIPELINE_DISPATCHED_BATCH_H_
#define SLUICE_SERVER_PIPELINE_DISPATCHED_BATCH_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/fixed_array.h"
#include "server/common/field_layers.h"
#include "server/common/record_batch.h"
#include "server/pipeline/formatted_batch.h"
#include "server/pipeline/record_formatter.h"

namespace sluice::pipeline {

class DispatchedBatch {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // Called once, by whoever finished the batch last, outside any sender's lock.
    virtual void Settle(std::unique_ptr<DispatchedBatch> batch) = 0;
  };

  // `formatter` is the worker's; it is used only until Seal(). `outputs`: how many the
  // pipeline has (the size of the per-output state).
  DispatchedBatch(RecordBatch records, std::vector<FieldLayers> layers, RecordFormatter& formatter,
                  size_t outputs, size_t dropped_by_hook, Owner& owner)
      : records_(std::move(records)),
        layers_(std::move(layers)),
        formatted_(records_, formatter, layers_),
        selections_(outputs),
        failed_(outputs, false),
        dropped_by_hook_(dropped_by_hook),
        owner_(owner) {}

  DispatchedBatch(const DispatchedBatch&) = delete;
  DispatchedBatch& operator=(const DispatchedBatch&) = delete;

  RecordBatch& records() { return records_; }
  FormattedBatch& formatted() { return formatted_; }
  size_t dropped_by_hook() const { return dropped_by_hook_; }

  // On the worker, before Seal: the records `output` takes.
  void Route(size_t output, FormattedBatch::Selection selection) {
    selections_[output] = selection;
  }
  FormattedBatch::Selection selection(size_t output) const { return selections_[output]; }

  // On the worker, last: how many senders will Finish it, and how many records at least
  // one output takes.
  void Seal(size_t senders, size_t routed) {
    formatted_.Seal();
    pending_.store(senders, std::memory_order_relaxed);
    routed_ = routed;
  }
  size_t routed() const { return routed_; }

  // Whether the sender must flush its output before it may Finish the batch as taken.
  bool awaits_flush() const {
    return records_.awaits_delivery() && records_.delivery_stage() == DeliveryStage::kFlushed;
  }

  // `output` is done with the batch: it took its records, or not (`taken` false: they are
  // lost for it). The last call hands the batch to its owner; after it, `this` may be gone.
  void Finish(size_t output, bool taken) {
    if (!taken) failed_[output] = true;
    // acq_rel: the last one sees every other sender's failed_ entry.
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      owner_.Settle(std::unique_ptr<DispatchedBatch>(this));
    }
  }

  // For the owner, settling: how many records at least one output gave up on.
  size_t CountFailed() const {
    absl::FixedArray<FormattedBatch::Selection, 16> failed(selections_.size());
    size_t count = 0;
    for (size_t i = 0; i < selections_.size(); ++i) {
      if (failed_[i]) failed[count++] = selections_[i];
    }
    if (count == 0) return 0;
    return formatted_.CountUnion(absl::MakeConstSpan(failed.data(), count));
  }

 private:
  // Declared before formatted_, which refers to both.
  RecordBatch records_;
  std::vector<FieldLayers> layers_;
  FormattedBatch formatted_;
  absl::FixedArray<FormattedBatch::Selection, 8> selections_;
  // Per output; each entry is written by that output's sender only.
  absl::FixedArray<bool, 8> failed_;
  const size_t dropped_by_hook_;
  size_t routed_ = 0;
  std::atomic<size_t> pending_{0};
  Owner& owner_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_DISPATCHED_BATCH_H_
