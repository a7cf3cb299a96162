#include "server/pipeline/hooks/hook_chain.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/container/fixed_array.h"

namespace sluice::pipeline::hooks {

HookChain::HookChain(std::vector<std::unique_ptr<Hook>> hooks, prometheus::Registry* registry) {
  prometheus::Family<prometheus::Counter>* dropped = nullptr;
  prometheus::Family<prometheus::Counter>* failed = nullptr;
  if (registry != nullptr) {
    dropped = &prometheus::BuildCounter()
                   .Name("sluice_hook_records_dropped_total")
                   .Help("Records a hook dropped")
                   .Register(*registry);
    failed = &prometheus::BuildCounter()
                  .Name("sluice_hook_errors_total")
                  .Help("Records a hook failed on; they went on unchanged")
                  .Register(*registry);
  }
  for (std::unique_ptr<Hook>& hook : hooks) {
    Entry entry;
    if (registry != nullptr) {
      const std::string id(hook->id());
      entry.dropped = &dropped->Add({{"hook", id}});
      entry.failed = &failed->Add({{"hook", id}});
    }
    entry.hook = std::move(hook);
    hooks_.push_back(std::move(entry));
  }
}

size_t HookChain::Run(RecordBatch& batch, std::vector<FieldLayers>* layers) const {
  layers->clear();
  if (hooks_.empty() || batch.empty()) {
    layers->swap(batch.field_layers());
    return 0;
  }
  return RunHooks(batch.records(), HookPhase::kPost, batch.field_layers(), nullptr, layers);
}

size_t HookChain::RunPre(RecordBatch::Records& records, HookCall& call,
                         std::vector<FieldLayers>* layers) const {
  layers->clear();
  if (hooks_.empty() || records.empty()) return 0;
  static const std::vector<FieldLayers> kAllAdHoc;
  return RunHooks(records, HookPhase::kPre, kAllAdHoc, &call, layers);
}

size_t HookChain::RunHooks(RecordBatch::Records& records, HookPhase phase,
                           const std::vector<FieldLayers>& arrived, HookCall* call,
                           std::vector<FieldLayers>* layers) const {
  if (!arrived.empty() && arrived.size() != static_cast<size_t>(records.size())) {
    // Layers that belong to other records would put fields into the wrong layers silently.
    std::fprintf(stderr, "hook chain: %zu field layers for %d records\n", arrived.size(),
                 records.size());
    std::abort();
  }
  // Per hook: records dropped, records failed.
  absl::FixedArray<uint64_t, 16> counts(2 * hooks_.size(), 0);
  int kept = 0;
  for (int i = 0; i < records.size(); ++i) {
    if (call != nullptr) ++call->sequence;
    HookRecord record(records[i], phase,
                      arrived.empty() ? FieldLayers::AllAdHoc(records[i].fields_size())
                                      : arrived[static_cast<size_t>(i)],
                      call);
    bool dropped = false;
    for (size_t h = 0; h < hooks_.size() && !dropped; ++h) {
      switch (hooks_[h].hook->OnRecord(record)) {
        case Hook::Verdict::kKeep:
          break;
        case Hook::Verdict::kDrop:
          ++counts[2 * h];
          dropped = true;
          break;
        case Hook::Verdict::kFailed:
          ++counts[2 * h + 1];
          break;
      }
    }
    if (dropped) continue;
    layers->push_back(record.layers());
    if (kept != i) records.SwapElements(kept, i);
    ++kept;
  }
  const size_t removed = static_cast<size_t>(records.size() - kept);
  if (removed > 0) records.DeleteSubrange(kept, records.size() - kept);
  for (size_t h = 0; h < hooks_.size(); ++h) {
    if (hooks_[h].dropped == nullptr) continue;
    if (counts[2 * h] > 0) hooks_[h].dropped->Increment(static_cast<double>(counts[2 * h]));
    if (counts[2 * h + 1] > 0) hooks_[h].failed->Increment(static_cast<double>(counts[2 * h + 1]));
  }
  return removed;
}

}  // namespace sluice::pipeline::hooks
