// IngestFuzzEnv: what the two request fuzzers (native LogBatch, OTLP export) share once the
// bytes are decoded into records — the server's phase 2 and phase 3 on those records,
// without gRPC, the scheduler or any output:
//
//   Admit()   ingest::Admission with the default ingest limits and a level table with a
//             prefix rule, so validation, the limits and the level gate all run;
//   Format()  for every admitted record: FieldComposer with base fields (one of them
//             named like a record key) and each built-in encoding, text and JSON.
//
// Format() also checks the formatters' promises that fuzzed strings could break, and
// aborts (a fuzzer finding) when one does not hold: a text line is one line, a JSON line
// parses as JSON with valid UTF-8.
//
// One environment per fuzzer process (Get()), built on first use and never destroyed, so
// each input costs only its own work. libFuzzer runs inputs on one thread.
#ifndef SLUICE_TESTS_FUZZ_INGEST_FUZZ_ENV_H_
#define SLUICE_TESTS_FUZZ_INGEST_FUZZ_ENV_H_

#include <string>

#include "absl/time/time.h"
#include "prometheus/registry.h"
#include "server/common/ledger.h"
#include "server/common/record_batch.h"
#include "server/config/config.h"
#include "server/ingest/admission.h"
#include "server/ingest/ingest_metrics.h"
#include "server/ingest/request_decoder.h"
#include "server/levels/level_table.h"
#include "server/outputs/encoding_registry.h"
#include "server/pipeline/field_composer.h"
#include "server/pipeline/pipeline_config.h"
#include "server/pipeline/record_formatter.h"

namespace sluice::fuzz {

class IngestFuzzEnv {
 public:
  // Call before decoding the input: the first call also silences protobuf's parse-error log.
  static IngestFuzzEnv& Get();

  // Decodes requests as the ingest reactors do, with the default ingest limits.
  const ingest::RequestDecoder& decoder() const { return decoder_; }

  // Runs Admission over `records` (in place) as the ingest call `rpc` would, after
  // `decoded` (what decoding them found).
  ingest::AdmissionResult Admit(RecordBatch::Records& records, ingest::Rpc rpc,
                                const ingest::DecodeResult& decoded);

  // Formats each record of `records` in every encoding; aborts on a broken promise.
  void Format(const RecordBatch::Records& records);

 private:
  IngestFuzzEnv();

  // A fixed receive time, so that a crash reproduces from its input alone.
  const absl::Time now_ = absl::FromUnixSeconds(1795000000);
  config::IngestConfig limits_;
  ingest::RequestDecoder decoder_{limits_};
  pipeline::PipelineConfig pipeline_;
  prometheus::Registry registry_;
  levels::LevelTable levels_;
  Ledger ledger_;
  ingest::IngestMetrics metrics_;
  pipeline::FieldComposer composer_;
  outputs::EncodingRegistry encodings_;
  pipeline::RecordFormatter formatter_;
  std::string line_;
};

}  // namespace sluice::fuzz

#endif  // SLUICE_TESTS_FUZZ_INGEST_FUZZ_ENV_H_
