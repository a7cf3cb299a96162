// Fuzzes a native PushBatches message: bytes -> RequestDecoder (the record count on the
// wire, the strict parse, the lenient one for invalid UTF-8) -> Admission -> field
// composition -> every formatter. The decoding is the only part specific to the native
// API; the rest is IngestFuzzEnv.
#include <cstddef>
#include <cstdint>

#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "sluice/v1/logs.pb.h"
#include "tests/fuzz/ingest_fuzz_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::fuzz::IngestFuzzEnv& env = sluice::fuzz::IngestFuzzEnv::Get();
  // What the PushBatches reactor does with one message read off the stream.
  grpc::Slice slice(data, size);
  grpc::ByteBuffer bytes(&slice, 1);
  sluice::v1::LogBatch batch;
  sluice::ingest::DecodeResult decoded;
  if (!env.decoder().DecodeLogBatch(bytes, batch, decoded).ok()) return 0;

  env.Admit(*batch.mutable_records(), sluice::ingest::Rpc::kPushBatches, decoded);
  env.Format(batch.records());
  return 0;
}
