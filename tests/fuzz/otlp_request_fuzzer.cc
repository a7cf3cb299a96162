// Fuzzes an OTLP LogsService.Export request: bytes -> RequestDecoder (the record count and
// expansion checked on the wire, the lenient parse, the mapping of otlp_mapping.h) ->
// Admission -> field composition -> every formatter. Decoding and mapping are the parts
// specific to OTLP; the rest is IngestFuzzEnv.
#include <cstddef>
#include <cstdint>

#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "server/common/record_batch.h"
#include "tests/fuzz/ingest_fuzz_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::fuzz::IngestFuzzEnv& env = sluice::fuzz::IngestFuzzEnv::Get();
  // What OtlpLogsService does with the request of one Export call.
  grpc::Slice slice(data, size);
  grpc::ByteBuffer bytes(&slice, 1);
  sluice::RecordBatch::Records records;
  sluice::ingest::DecodeResult decoded;
  if (!env.decoder().DecodeExport(bytes, records, decoded).ok()) return 0;

  env.Admit(records, sluice::ingest::Rpc::kExport, decoded);
  env.Format(records);
  return 0;
}
