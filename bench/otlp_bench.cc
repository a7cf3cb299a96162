// OTLP micro-benchmarks: what OTLP ingest pays to map an Export request into Sluice records
// (server/ingest/otlp_mapping.h, on the ingest RPC), and what the otlp output's encoding
// pays per record on a worker (server/outputs/otlp/otlp_record_encoder.h), for records
// that came in over OTLP and for native ones. The request looks like an OpenTelemetry SDK's:
// 1,000 records under one resource of six attributes and one scope with a version, each
// record with a 60-byte string body and four attributes of mixed types. Mapping reuses
// one record list, cleared between iterations, as the recycled request pool does.
//
//   build-bench/bin/otlp_bench --benchmark_min_time=1
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "server/common/record_batch.h"
#include "server/ingest/otlp_mapping.h"
#include "server/outputs/otlp/otlp_output.h"
#include "server/outputs/otlp/otlp_record_encoder.h"
#include "server/pipeline/field_composer.h"
#include "server/pipeline/pipeline_config.h"

namespace sluice::bench {
namespace {

namespace otlp_collector = opentelemetry::proto::collector::logs::v1;
namespace otlp_common = opentelemetry::proto::common::v1;

constexpr int kRecords = 1000;

void AddString(google::protobuf::RepeatedPtrField<otlp_common::KeyValue>* attributes,
               const std::string& key, const std::string& value) {
  otlp_common::KeyValue* attribute = attributes->Add();
  attribute->set_key(key);
  attribute->mutable_value()->set_string_value(value);
}

otlp_collector::ExportLogsServiceRequest SdkRequest() {
  otlp_collector::ExportLogsServiceRequest request;
  auto* resource_logs = request.add_resource_logs();
  auto* resource = resource_logs->mutable_resource()->mutable_attributes();
  AddString(resource, "service.name", "checkout");
  AddString(resource, "service.version", "1.42.0");
  AddString(resource, "service.instance.id", "7f3c2a9e-4b1d-4e8a-9c55-2f0d1e6b8a10");
  AddString(resource, "host.name", "node-17.eu-west-1.compute.internal");
  AddString(resource, "k8s.pod.name", "checkout-6d9f7c8b5-x2k4q");
  AddString(resource, "deployment.environment", "production");
  auto* scope_logs = resource_logs->add_scope_logs();
  scope_logs->mutable_scope()->set_name("checkout.payments");
  scope_logs->mutable_scope()->set_version("2.1.0");
  for (int i = 0; i < kRecords; ++i) {
    auto* log = scope_logs->add_log_records();
    log->set_time_unix_nano(1796207400000000000 + static_cast<uint64_t>(i) * 1000);
    log->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO);
    log->set_severity_text("INFO");
    log->mutable_body()->set_string_value(
        absl::StrCat("payment ", i, " authorized for order in 42 ms by the card gateway"));
    AddString(log->mutable_attributes(), "user.id", absl::StrCat("u-", i));
    auto* amount = log->add_attributes();
    amount->set_key("amount_cents");
    amount->mutable_value()->set_int_value(1999 + i);
    auto* ratio = log->add_attributes();
    ratio->set_key("ratio");
    ratio->mutable_value()->set_double_value(0.25);
    auto* retried = log->add_attributes();
    retried->set_key("retried");
    retried->mutable_value()->set_bool_value(i % 7 == 0);
    log->set_trace_id(std::string(16, static_cast<char>(i)));
    log->set_span_id(std::string(8, static_cast<char>(i)));
  }
  return request;
}

void BM_MapExport(benchmark::State& state) {
  const otlp_collector::ExportLogsServiceRequest request = SdkRequest();
  RecordBatch::Records records;
  for (auto _ : state) {
    records.Clear();
    ingest::AppendOtlpRecords(request, records);
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_MapExport);

// Encodes the mapped records as the otlp output's encoding does, with their OTLP origin
// (state.range(0) == 1) or without it, as records sent over PushBatches have none.
void BM_EncodeOtlp(benchmark::State& state) {
  RecordBatch::Records records;
  ingest::AppendOtlpRecords(SdkRequest(), records);
  if (state.range(0) == 0) {
    for (v1::LogRecord& record : records) record.clear_otlp();
  }
  const pipeline::FieldComposer composer{pipeline::PipelineConfig()};
  outputs::OtlpRecordEncoder encoder(outputs::OtlpOutputConfig().resource_keys,
                                     outputs::OtlpFraming::kFrames);
  std::vector<outputs::ComposedField> fields;
  std::string lines;
  for (auto _ : state) {
    lines.clear();
    for (const v1::LogRecord& record : records) {
      encoder.Append(composer.ComposeRecord(record, absl::UnixEpoch(), &fields,
                                            FieldLayers::AllAdHoc(record.fields_size())),
                     &lines);
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_EncodeOtlp)->ArgName("with_origin")->Arg(1)->Arg(0);

}  // namespace
}  // namespace sluice::bench

BENCHMARK_MAIN();
