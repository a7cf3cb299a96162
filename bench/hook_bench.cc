// Post-hook micro-benchmarks: what each built-in post-hook, and a typical chain of them
// (add_fields + rename + drop of DEBUG), costs a worker per record, through HookChain as
// the pipeline runs it. Hooks change the batch, so every iteration first restores it from a
// copy; BM_Hooks/none is that copy alone, to subtract. The records are format_bench's, one
// in five of them DEBUG.
//
//   build-bench/bin/hook_bench --benchmark_min_time=1
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_records.h"
#include "benchmark/benchmark.h"
#include "server/common/record_batch.h"
#include "server/config/config.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/hook_chain.h"

namespace sluice::bench {
namespace {

// The `hooks.post` list of `yaml`; aborts on a bad one, which is a bug in the benchmark.
pipeline::hooks::HookChain Chain(const std::string& yaml) {
  absl::StatusOr<config::Config> parsed = config::ParseConfig(yaml);
  if (!parsed.ok()) std::abort();
  pipeline::hooks::HookRegistry registry;
  pipeline::hooks::RegisterBuiltinHooks(registry);
  auto hooks = registry.CreateAll(pipeline::hooks::HookPhase::kPost, parsed->hooks.post);
  if (!hooks.ok()) std::abort();
  return pipeline::hooks::HookChain(std::move(*hooks), nullptr);
}

void BM_Hooks(benchmark::State& state, const std::string& yaml) {
  RecordBatch original;
  AppendBenchRecords(original, /*odd_every=*/5, v1::LEVEL_DEBUG);
  const pipeline::hooks::HookChain chain = Chain(yaml);
  RecordBatch batch;
  std::vector<FieldLayers> layers;
  for (auto _ : state) {
    batch.records() = original.records();
    benchmark::DoNotOptimize(chain.Run(batch, &layers));
  }
  state.SetItemsProcessed(state.iterations() * kBatchRecords);
}

BENCHMARK_CAPTURE(BM_Hooks, none, std::string("{}"));
BENCHMARK_CAPTURE(
    BM_Hooks, add_fields,
    std::string("hooks: {post: [{type: add_fields, fields: {dc: eu-1, team: pay}}]}"));
BENCHMARK_CAPTURE(BM_Hooks, rename,
                  std::string("hooks: {post: [{type: rename, fields: {user: user_id}}]}"));
BENCHMARK_CAPTURE(BM_Hooks, drop_fields,
                  std::string("hooks: {post: [{type: drop_fields, fields: [retried]}]}"));
BENCHMARK_CAPTURE(BM_Hooks, keep_fields,
                  std::string("hooks: {post: [{type: keep_fields, fields: [user, attempt]}]}"));
BENCHMARK_CAPTURE(BM_Hooks, drop_debug,
                  std::string("hooks: {post: [{type: drop, level_at_most: debug}]}"));
BENCHMARK_CAPTURE(BM_Hooks, redact,
                  std::string("hooks: {post: [{type: redact, fields: [message, user], patterns: "
                              "['\\d{4}-\\d{4}-\\d{4}-\\d{4}', "
                              "'[a-z]+@[a-z]+\\.[a-z]+']}]}"));
BENCHMARK_CAPTURE(BM_Hooks, chain,
                  std::string("hooks: {post: [{type: add_fields, fields: {dc: eu-1, team: pay}}, "
                              "{type: rename, fields: {user: user_id}}, "
                              "{type: drop, level_at_most: debug}]}"));

}  // namespace
}  // namespace sluice::bench

BENCHMARK_MAIN();
