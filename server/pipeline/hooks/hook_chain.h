// HookChain: the configured hooks of one phase, run in the listed order over every record
// of a batch: the post-hooks (`hooks.post`) on the worker, before the batch is formatted
// (Run, called by the Pipeline); the pre-hooks (`hooks.pre`) on the ingest RPC, over the
// records Admission admitted (RunPre).
//
// A record a hook drops goes no further (the later hooks do not see it) and is removed
// from the batch; it is counted in sluice_hook_records_dropped_total{hook} and, by the
// pipeline, in the ledger's dropped_by_hook. A hook that fails on a record is counted in
// sluice_hook_errors_total{hook} and the record goes on to the next hook as it was.
//
// Both chains count in the same two families (one registration each: prometheus-cpp's
// registry returns the family already registered under the name). Called from every worker
// and every RPC at once: Run and RunPre are const, keep no mutable state and allocate
// nothing past the caller's vector; counters are added once per batch.
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_HOOK_CHAIN_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_HOOK_CHAIN_H_

#include <memory>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "server/common/record_batch.h"
#include "server/pipeline/hooks/hook.h"

namespace sluice::pipeline::hooks {

class HookChain {
 public:
  // An empty chain.
  HookChain() = default;
  // `registry` (nullable) gets the hooks' counters and must outlive the chain.
  HookChain(std::vector<std::unique_ptr<Hook>> hooks, prometheus::Registry* registry);

  bool empty() const { return hooks_.empty(); }

  // Runs the hooks over `batch`, removes the records they drop and returns how many those
  // were. `*layers` gets the field layers of each kept record in order, for
  // FormattedBatch: the batch's own (RecordBatch::field_layers, which it takes) as the
  // hooks changed them. With no post-hooks and a batch without layers, left empty: every
  // field of every record is ad-hoc.
  size_t Run(RecordBatch& batch, std::vector<FieldLayers>* layers) const;

  // Runs the pre-hooks over `records`, all of them admitted and with only the
  // application's fields, removes the records they drop and returns how many those were.
  // Each record, dropped or not, takes the next `call.sequence` number before the hooks see
  // it. `*layers` gets the field layers of each kept record in order, for
  // RecordBatch::field_layers.
  size_t RunPre(RecordBatch::Records& records, HookCall& call,
                std::vector<FieldLayers>* layers) const;

 private:
  struct Entry {
    std::unique_ptr<Hook> hook;
    prometheus::Counter* dropped = nullptr;
    prometheus::Counter* failed = nullptr;
  };

  // The loop of Run and RunPre: `arrived` is the records' layers (empty: all ad-hoc),
  // `call` non-null for pre-hooks only.
  size_t RunHooks(RecordBatch::Records& records, HookPhase phase,
                  const std::vector<FieldLayers>& arrived, HookCall* call,
                  std::vector<FieldLayers>* layers) const;

  std::vector<Entry> hooks_;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_HOOK_CHAIN_H_
