// Pipeline: phases 3 and 4 of a record's life (DESIGN.md), run by the scheduler's workers.
//
// For each batch: select for every output the records routed to it — its level threshold,
// and its `loggers` and `match` (hooks::RecordMatch) if it has them — and hand each output
// that takes some a view of its records (FormattedBatch, which formats lines once per
// encoding and selection; fields composed in the override order by FieldComposer). A record
// no output takes is unrouted: counted (the ledger's unrouted,
// sluice_pipeline_records_unrouted_total), not an error. A transient write error
// (UNAVAILABLE, DEADLINE_EXCEEDED) is retried with exponential backoff on the worker —
// which is backpressure: that worker's channel fills while it waits. After the last attempt,
// or on any other error, the batch is dropped for that output and counted; the other
// outputs are not affected. The post-hooks (hooks::HookChain) run first, before
// formatting: the records they drop leave the batch, counted in the ledger's
// dropped_by_hook, and the fields they set are the post-hook layer of FieldComposer.
//
// The books (server/common/ledger.h): a record is written once every output it is routed to
// took it; a record that any such output gave up on is dropped (output_failed), never
// written, even if other outputs took it; a record routed nowhere is unrouted. The
// per-output counts are in OutputMetrics.
//
// Delivery: a batch whose sender waits for `written` is reported once every output took
// it (records an output dropped are reported dropped). One that waits for `flushed` is
// held by its worker until the outputs are flushed: when the worker runs out of work
// (OnIdle) or holds kMaxBatchesAwaitingFlush batches, whichever comes first, so one flush
// covers many batches under load, and an idle server acks at once. If that flush fails,
// the records written for it are reported dropped (output_failed). Records a post-hook
// dropped, and unrouted ones, are reported delivered, flush or no flush: they went where
// the configuration sends them.
//
// Owns the outputs. Start() before the scheduler starts; Flush() on drain; Shutdown() after
// the scheduler stopped.
#ifndef SLUICE_SERVER_PIPELINE_PIPELINE_H_
#define SLUICE_SERVER_PIPELINE_PIPELINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/ledger.h"
#include "server/outputs/encoding_registry.h"
#include "server/outputs/output.h"
#include "server/pipeline/field_composer.h"
#include "server/pipeline/hooks/hook_chain.h"
#include "server/pipeline/hooks/record_match.h"
#include "server/pipeline/output_metrics.h"
#include "server/pipeline/pipeline_config.h"
#include "server/pipeline/record_formatter.h"
#include "server/scheduler/batch_processor.h"
#include "sluice/level.h"

namespace sluice::pipeline {

struct RetryPolicy {
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(10);
  absl::Duration max_backoff = absl::Seconds(1);
};

class Pipeline : public scheduler::BatchProcessor {
 public:
  struct Destination {
    std::unique_ptr<outputs::Output> output;
    // Records below this level skip this output.
    Level min_level = Level::kTrace;
    // Of the others, the output takes those this matches (`loggers`, `match`); by default
    // every one.
    hooks::RecordMatch route;
  };

  // `ledger` and `metrics` (nullable) must outlive the pipeline. `encodings` is the
  // registry the outputs took their encodings from; each worker gets an encoder of each.
  Pipeline(const PipelineConfig& config, std::vector<Destination> destinations,
           const outputs::EncodingRegistry& encodings, size_t workers, Ledger& ledger,
           OutputMetrics* metrics, RetryPolicy retry = {});

  // The post-hooks every batch runs through; none by default. Before the workers start.
  void SetPostHooks(hooks::HookChain post_hooks) { post_hooks_ = std::move(post_hooks); }

  // Starts every output; the first error is returned naming the output.
  absl::Status Start();

  void Process(size_t worker, RecordBatch& batch) override;
  void OnIdle(size_t worker) override;

  // Flushes every output; the first error is returned, the others still flush.
  absl::Status Flush(absl::Time deadline);
  // Shuts every output down (flushing). Safe twice.
  absl::Status Shutdown(absl::Time deadline);
  // Reopens every output's destination (Output::Reopen; SIGHUP); the first error is
  // returned naming the output, the others still reopen. Safe from any thread while the
  // workers write: each output serializes it with its writes.
  absl::Status Reopen();

 private:
  static constexpr size_t kMaxBatchesAwaitingFlush = 64;
  // How long one flush for `flushed` deliveries may take before it counts as failed.
  static constexpr absl::Duration kDeliveryFlushTimeout = absl::Seconds(5);

  struct AwaitingFlush {
    DeliveryCallback on_delivered;
    Delivery delivery;
    // How many of delivery.delivered a hook dropped or no output took: they stay delivered
    // whatever the flush does, as they never depended on it.
    uint32_t settled = 0;
  };

  // Whether the output took its records of the batch, retrying transient errors.
  bool WriteWithRetry(size_t index, outputs::OutputBatch& batch);
  // Flushes the outputs and reports the worker's batches awaiting that flush.
  void SettleFlushes(size_t worker);

  FieldComposer composer_;
  hooks::HookChain post_hooks_;
  std::vector<Destination> destinations_;
  // One formatter per worker: formatters keep scratch state and are not thread-safe.
  std::vector<std::unique_ptr<RecordFormatter>> formatters_;
  // Per worker, touched only by that worker's thread.
  std::vector<std::vector<AwaitingFlush>> awaiting_flush_;
  // Per worker: HookChain::Run's account of each record's field layers.
  std::vector<std::vector<FieldLayers>> field_layers_;
  Ledger& ledger_;
  OutputMetrics* const metrics_;
  const RetryPolicy retry_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_PIPELINE_H_
