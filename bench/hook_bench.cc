// Hook micro-benchmarks: what each built-in post-hook, and a typical chain of them
// (add_fields + rename + drop of DEBUG), costs a worker per record, through HookChain as
// the pipeline runs it; and what each pre-hook, and all four, cost the ingest RPC per
// record, through HookChain::RunPre as Admission runs it. Hooks change the batch, so every
// iteration first restores it from a copy; BM_Hooks/none and BM_PreHooks/none are that copy
// alone, to subtract (none_traced and none_json for the cases whose records carry trace ids
// or JSON messages). The records are format_bench's, one in five of them DEBUG.
//
//   build-bench/bin/hook_bench --benchmark_min_time=1
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "bench/bench_records.h"
#include "benchmark/benchmark.h"
#include "server/common/record_batch.h"
#include "server/config/config.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/hook_chain.h"
#include "server/pipeline/hooks/hook_registry.h"

namespace sluice::bench {
namespace {

// The `hooks.post` (or `hooks.pre`) list of `yaml`; aborts on a bad one, which is a bug in
// the benchmark.
pipeline::hooks::HookChain Chain(
    const std::string& yaml, pipeline::hooks::HookPhase phase = pipeline::hooks::HookPhase::kPost) {
  absl::StatusOr<config::Config> parsed = config::ParseConfig(yaml);
  if (!parsed.ok()) std::abort();
  pipeline::hooks::HookRegistry registry;
  pipeline::hooks::RegisterBuiltinHooks(registry);
  auto hooks = registry.CreateAll(
      phase, phase == pipeline::hooks::HookPhase::kPre ? parsed->hooks.pre : parsed->hooks.post);
  if (!hooks.ok()) std::abort();
  return pipeline::hooks::HookChain(std::move(*hooks), nullptr);
}

// Changes the bench records for the hooks that read more than their fields.
using Shape = void (*)(RecordBatch&);

void AsIs(RecordBatch&) {}

// A 16-byte trace id, distinct per record, as a traced service sends.
void WithTraceIds(RecordBatch& batch) {
  uint32_t n = 0;
  for (v1::LogRecord& record : batch.records()) {
    std::string id(16, '\x3c');
    for (int i = 0; i < 4; ++i) id[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
    record.set_trace_id(id);
    ++n;
  }
}

// The message as a JSON logging library writes it: six members, one of them nested.
void WithJsonMessages(RecordBatch& batch) {
  for (v1::LogRecord& record : batch.records()) {
    record.set_message(
        R"({"message":"charged card ending 4242","order_id":981273,"items":3,)"
        R"("total":42.17,"currency":"EUR","customer":{"id":"c-7781","tier":"gold"}})");
  }
}

void BM_Hooks(benchmark::State& state, const std::string& yaml, Shape shape = AsIs) {
  RecordBatch original;
  AppendBenchRecords(original, /*odd_every=*/5, v1::LEVEL_DEBUG);
  shape(original);
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
// Drops every record: what removing records and restoring them costs, for the sample cases,
// which drop nine in ten.
BENCHMARK_CAPTURE(BM_Hooks, drop_all,
                  std::string("hooks: {post: [{type: drop, level_at_most: info}]}"));
BENCHMARK_CAPTURE(BM_Hooks, none_traced, std::string("{}"), WithTraceIds);
BENCHMARK_CAPTURE(BM_Hooks, sample_random,
                  std::string("hooks: {post: [{type: sample, one_in: 10}]}"));
BENCHMARK_CAPTURE(BM_Hooks, sample_by_trace,
                  std::string("hooks: {post: [{type: sample, one_in: 10}]}"), WithTraceIds);
BENCHMARK_CAPTURE(BM_Hooks, none_json, std::string("{}"), WithJsonMessages);
BENCHMARK_CAPTURE(BM_Hooks, parse_json, std::string("hooks: {post: [{type: parse_json}]}"),
                  WithJsonMessages);
BENCHMARK_CAPTURE(BM_Hooks, chain,
                  std::string("hooks: {post: [{type: add_fields, fields: {dc: eu-1, team: pay}}, "
                              "{type: rename, fields: {user: user_id}}, "
                              "{type: drop, level_at_most: debug}]}"));

void BM_PreHooks(benchmark::State& state, const std::string& yaml) {
  RecordBatch original;
  AppendBenchRecords(original, /*odd_every=*/5, v1::LEVEL_DEBUG);
  const pipeline::hooks::HookChain chain = Chain(yaml, pipeline::hooks::HookPhase::kPre);
  // A call as grpc presents one: a few metadata entries besides the chosen one.
  const std::vector<std::pair<std::string, std::string>> entries = {
      {"user-agent", "grpc-c++/1.51.1 grpc-c/29.0.0 (linux; chttp2)"},
      {"x-tenant", "acme"},
      {"x-request-id", "5b1e4c9a"}};
  pipeline::hooks::CallMetadata metadata;
  for (const auto& [key, value] : entries) metadata.emplace(key, value);
  pipeline::hooks::HookCall call;
  call.peer = "ipv4:127.0.0.1:51234";
  call.metadata = &metadata;
  call.received_at = absl::Now();
  RecordBatch batch;
  std::vector<FieldLayers> layers;
  for (auto _ : state) {
    batch.records() = original.records();
    benchmark::DoNotOptimize(chain.RunPre(batch.records(), call, &layers));
  }
  state.SetItemsProcessed(state.iterations() * kBatchRecords);
}

BENCHMARK_CAPTURE(BM_PreHooks, none, std::string("{}"));
BENCHMARK_CAPTURE(BM_PreHooks, receive_time, std::string("hooks: {pre: [{type: receive_time}]}"));
BENCHMARK_CAPTURE(BM_PreHooks, receive_time_unix_nanos,
                  std::string("hooks: {pre: [{type: receive_time, format: unix_nanos}]}"));
BENCHMARK_CAPTURE(BM_PreHooks, peer, std::string("hooks: {pre: [{type: peer}]}"));
BENCHMARK_CAPTURE(BM_PreHooks, metadata,
                  std::string("hooks: {pre: [{type: metadata, keys: {x-tenant: tenant}}]}"));
BENCHMARK_CAPTURE(BM_PreHooks, sequence, std::string("hooks: {pre: [{type: sequence}]}"));
BENCHMARK_CAPTURE(BM_PreHooks, all_four,
                  std::string("hooks: {pre: [{type: receive_time}, {type: peer}, "
                              "{type: metadata, keys: {x-tenant: tenant}}, {type: sequence}]}"));

}  // namespace
}  // namespace sluice::bench

BENCHMARK_MAIN();
