// Pipeline: phases 3 and 4 of a record's life (DESIGN.md), run by the scheduler's workers
// (phase 3) and by one OutputSender per output (phase 4).
//
// For each batch, on its worker: the post-hooks (hooks::HookChain) run first — the records
// they drop leave the batch, counted in the ledger's dropped_by_hook, and the fields they set
// are the post-hook layer of FieldComposer. The live taps get the batch next (TapHub; one
// atomic load while none is open). Then every output's selection is made — its level
// threshold, and its `loggers` and `match` (hooks::RecordMatch) if it has them — and the
// lines of each output's encoding are formatted, once per encoding and selection
// (FormattedBatch). A record no output takes is unrouted: counted (the ledger's unrouted,
// sluice_pipeline_records_unrouted_total), not an error. The batch then goes, as a
// DispatchedBatch, into the buffer of every output that takes some of it; a full buffer holds
// the worker (`block`: the backpressure reaches the clients through the scheduler's
// channels) or drops the batch for that output alone (`drop_newest`). Each sender writes,
// retries and flushes its output on its own thread (output_sender.h), so an output that is
// down or slow does not make the others wait on it.
//
// The books (server/common/ledger.h) are settled once every sender finished the batch: a
// record is written once every output it is routed to took it; a record that any such
// output gave up on is dropped (output_failed), never written, even if other outputs took
// it. Until then its records are in flight (RecordsInOutputs). The per-output counts are in
// OutputMetrics.
//
// Delivery, at the same moment: a batch whose sender waits for `written` is reported once
// every output took it, one that waits for `flushed` once every output flushed it; records
// an output gave up on are reported dropped (output_failed). Records a post-hook dropped,
// and unrouted ones, are reported delivered: they went where the configuration sends them.
// The callback runs on a sender's thread (or on the worker, when no sender has the batch).
//
// Owns the outputs and their senders. Start() before the scheduler starts; Drain() on drain;
// Shutdown() before the scheduler stops (it releases workers waiting for buffer room).
//
// A config reload replaces the set (Prepare, then Swap, on the app's lifecycle thread): the
// post-hooks, the `pipeline` settings and the outputs. What the workers use is one
// immutable generation — the outputs with their senders, the post-hooks, the field composer
// and one formatter per worker — that each worker takes once per batch, so a batch is
// processed and dispatched by one generation alone. Swap publishes the new generation, waits
// until no worker still processes a batch with the old one, then drains the outputs that
// left (their buffer written and flushed) before it closes them; outputs in both sets keep
// their sender and buffer. Every batch settles through the pipeline whichever generation
// dispatched it, so the books balance across a reload.
#ifndef SLUICE_SERVER_PIPELINE_PIPELINE_H_
#define SLUICE_SERVER_PIPELINE_PIPELINE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/ledger.h"
#include "server/outputs/encoding_registry.h"
#include "server/outputs/output.h"
#include "server/pipeline/dispatched_batch.h"
#include "server/pipeline/field_composer.h"
#include "server/pipeline/hooks/hook_chain.h"
#include "server/pipeline/hooks/record_match.h"
#include "server/pipeline/output_metrics.h"
#include "server/pipeline/output_sender.h"
#include "server/pipeline/output_sender_config.h"
#include "server/pipeline/pipeline_config.h"
#include "server/pipeline/record_formatter.h"
#include "server/pipeline/tap_hub.h"
#include "server/scheduler/batch_processor.h"
#include "sluice/level.h"

namespace sluice::pipeline {

class Pipeline : public scheduler::BatchProcessor, private DispatchedBatch::Owner {
 public:
  struct Destination {
    std::unique_ptr<outputs::Output> output;
    // Records below this level skip this output.
    Level min_level = Level::kTrace;
    // Of the others, the output takes those this matches (`loggers`, `match`); by default
    // every one.
    hooks::RecordMatch route;
    OutputSenderConfig sender;
  };

  // One output of a new set (Prepare): the running output with id `keep` goes on as it is,
  // or, when `keep` is empty, `destination` is a new output.
  struct NextOutput {
    std::string keep;
    Destination destination;
  };

  // An output with its sender; one generation or two (across a reload) hold it.
  struct Lane;
  // The set the workers use; opaque outside the pipeline.
  struct Generation;

  // `ledger` and `metrics` (nullable) must outlive the pipeline. `encodings` is the
  // registry the outputs took their encodings from; each worker gets an encoder of each.
  Pipeline(const PipelineConfig& config, std::vector<Destination> destinations,
           const outputs::EncodingRegistry& encodings, size_t workers, Ledger& ledger,
           OutputMetrics* metrics);
  // Closes the senders (deadline now) if Shutdown did not.
  ~Pipeline() override;

  // The post-hooks every batch runs through; none by default. Before the workers start.
  void SetPostHooks(hooks::HookChain post_hooks);
  // The live taps, offered every batch after the post-hooks; none by default. `taps` must
  // outlive the pipeline. Before the workers start.
  void SetTaps(TapHub* taps) { taps_ = taps; }

  // Starts every output, then the senders; the first error is returned naming the output.
  absl::Status Start();

  void Process(size_t worker, RecordBatch& batch) override;

  // Builds the next generation: starts its new outputs and their senders (`encodings` is
  // the registry they took their encodings from, a Fork of the running one). The first
  // output that does not start refuses the whole set, naming it; the outputs started are
  // shut down again and nothing running changed. NOT_FOUND when a kept id is not running.
  // Then Swap it in, or drop it (its new outputs are shut down). Lifecycle thread.
  absl::StatusOr<std::shared_ptr<Generation>> Prepare(const PipelineConfig& config,
                                                      hooks::HookChain post_hooks,
                                                      std::vector<NextOutput> outputs,
                                                      const outputs::EncodingRegistry& encodings);
  // Makes `next` the set new batches go to, waits (until `deadline`) for the workers to
  // finish the batches they process with the old set, then drains, closes and shuts down
  // every output of the old set that `next` does not keep, and reopens the kept ones.
  // Records a leaving output could not write by `deadline` are given up on (counted as
  // dropped, reason shutdown) and named in the error, as are reopen errors; the swap has
  // happened either way. Lifecycle thread, while the pipeline runs.
  absl::Status Swap(std::shared_ptr<Generation> next, absl::Time deadline);

  // Waits for every output's buffer to empty, then flushes the outputs, all by `deadline`;
  // the first error is returned, the others still drain.
  absl::Status Drain(absl::Time deadline);
  // Closes the senders — what is buffered is still written until `deadline`, then given up
  // on (reason shutdown) — and shuts every output down (flushing). Every problem is in the
  // error, with the records each output could not write. Safe twice.
  absl::Status Shutdown(absl::Time deadline);
  // Reopens every output's destination (Output::Reopen; SIGHUP); the first error is
  // returned naming the output, the others still reopen. Safe from any thread while the
  // workers write: each output serializes it with its writes.
  absl::Status Reopen();

  // Records handed to the senders whose batch is not settled yet, minus those of batches
  // the senders settled while their worker still processes them (which the scheduler
  // counts until Process returns): added to the scheduler's count, the ledger's in_flight.
  // Any thread.
  int64_t RecordsInOutputs() const { return records_in_outputs_.load(std::memory_order_acquire); }

  // Each output's buffer and health, in configuration order. Any thread.
  std::vector<OutputSenderSnapshot> Snapshot() const;

  // Each running output's id and the encoding it asks for, in configuration order: what a
  // reload's EncodingRegistry::Fork must keep. Any thread.
  std::vector<std::pair<std::string, std::optional<outputs::EncodingId>>> OutputEncodings() const;

 private:
  void Settle(std::unique_ptr<DispatchedBatch> batch) override;
  // The current generation, counted as processing until Release.
  std::shared_ptr<Generation> Acquire();
  void Release(Generation& generation);
  std::shared_ptr<Generation> Current() const;
  std::shared_ptr<Generation> NewGeneration(const PipelineConfig& config,
                                            hooks::HookChain post_hooks,
                                            const outputs::EncodingRegistry& encodings) const;

  const size_t workers_;
  TapHub* taps_ = nullptr;
  // Per worker: HookChain::Run's account of each record's field layers.
  std::vector<std::vector<FieldLayers>> field_layers_;
  Ledger& ledger_;
  OutputMetrics* const metrics_;
  std::atomic<int64_t> records_in_outputs_{0};
  bool shut_down_ = false;

  // std::mutex (see output_sender.h). Guards current_ and every generation's count of
  // batches in processing.
  mutable std::mutex generation_mu_;
  std::condition_variable processed_cv_;
  std::shared_ptr<Generation> current_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_PIPELINE_H_
