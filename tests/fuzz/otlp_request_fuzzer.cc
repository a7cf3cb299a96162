// Fuzzes an OTLP LogsService.Export request: bytes -> ExportLogsServiceRequest ->
// AppendOtlpRecords -> Admission -> field composition -> every formatter. Decoding and
// mapping are the parts specific to OTLP; the rest is IngestFuzzEnv.
#include <cstddef>
#include <cstdint>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "server/common/record_batch.h"
#include "server/ingest/otlp_mapping.h"
#include "tests/fuzz/ingest_fuzz_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::fuzz::IngestFuzzEnv& env = sluice::fuzz::IngestFuzzEnv::Get();
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest request;
  // What OtlpLogsService does with the request of one Export call.
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;

  sluice::RecordBatch::Records records;
  sluice::ingest::AppendOtlpRecords(request, records);
  env.Admit(records, sluice::ingest::Rpc::kExport);
  env.Format(records);
  return 0;
}
