// HookChain: the configured post-hooks (`hooks.post`), run in the listed order over every
// record of a batch on the worker, before the batch is formatted.
//
// A record a hook drops goes no further (the later hooks do not see it) and is removed
// from the batch; it is counted in sluice_hook_records_dropped_total{hook} and, by the
// pipeline, in the ledger's dropped_by_hook. A hook that fails on a record is counted in
// sluice_hook_errors_total{hook} and the record goes on to the next hook as it was.
//
// Called by the Pipeline from every worker at once: Run is const and allocates nothing
// past the caller's vector; counters are added once per batch.
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
  // hooks changed them. Left empty when every field of every record is ad-hoc.
  size_t Run(RecordBatch& batch, std::vector<FieldLayers>* layers) const;

 private:
  struct Entry {
    std::unique_ptr<Hook> hook;
    prometheus::Counter* dropped = nullptr;
    prometheus::Counter* failed = nullptr;
  };

  std::vector<Entry> hooks_;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_HOOK_CHAIN_H_
