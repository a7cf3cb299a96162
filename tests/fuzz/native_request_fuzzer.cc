// Fuzzes a native PushBatches message: bytes -> sluice.v1.LogBatch -> Admission ->
// field composition -> every formatter. The decoding is the only part specific to the
// native API; the rest is IngestFuzzEnv.
#include <cstddef>
#include <cstdint>

#include "sluice/v1/logs.pb.h"
#include "tests/fuzz/ingest_fuzz_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::fuzz::IngestFuzzEnv& env = sluice::fuzz::IngestFuzzEnv::Get();
  sluice::v1::LogBatch batch;
  // What the PushBatches reactor does with one message read off the stream.
  if (!batch.ParseFromArray(data, static_cast<int>(size))) return 0;

  env.Admit(*batch.mutable_records(), sluice::ingest::Rpc::kPushBatches);
  env.Format(batch.records());
  return 0;
}
