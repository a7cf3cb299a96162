// The phase 2 and 3 pipeline shared by the request fuzzers; see ingest_fuzz_env.h.
#include "tests/fuzz/ingest_fuzz_env.h"

#include <cstdio>
#include <cstdlib>

#include "google/protobuf/stubs/logging.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace sluice::fuzz {
namespace {

config::LevelsConfig FuzzLevels() {
  config::LevelsConfig levels;
  // TRACE by default so that most records reach the formatters; one prefix rule so that
  // the gate's lookup runs as well.
  levels.default_level = Level::kTrace;
  levels.rules.push_back({"checkout", Level::kWarn});
  return levels;
}

pipeline::PipelineConfig FuzzPipeline() {
  pipeline::PipelineConfig pipeline;
  // "message" is a record key: the composer must drop it. "env" is what ad-hoc fields
  // override in the seeds.
  pipeline.base_fields = {{"service", "sluice"}, {"env", "fuzz"}, {"message", "base"}};
  return pipeline;
}

// Prints what broke and the line, then aborts so libFuzzer saves the input.
[[noreturn]] void Broken(const char* what, const std::string& line) {
  std::fprintf(stderr, "%s: %s\n", what, line.c_str());
  std::abort();
}

}  // namespace

IngestFuzzEnv& IngestFuzzEnv::Get() {
  static IngestFuzzEnv* env = new IngestFuzzEnv();
  return *env;
}

IngestFuzzEnv::IngestFuzzEnv()
    : pipeline_(FuzzPipeline()),
      levels_(FuzzLevels()),
      metrics_(registry_),
      composer_(pipeline_),
      formatter_(composer_, encodings_) {
  // Most mutated inputs have strings that are not UTF-8, and protobuf logs an error for
  // each before refusing the message: noise that would bury a finding's report.
  google::protobuf::SetLogHandler(nullptr);
}

ingest::AdmissionResult IngestFuzzEnv::Admit(RecordBatch::Records& records, ingest::Rpc rpc,
                                             const ingest::DecodeResult& decoded) {
  ingest::Admission admission(limits_, levels_, ledger_, metrics_, rpc);
  return admission.Admit(records, now_, decoded);
}

void IngestFuzzEnv::Format(const RecordBatch::Records& records) {
  for (const v1::LogRecord& record : records) {
    line_.clear();
    formatter_.Append(outputs::kTextEncoding, record, now_, &line_);
    if (line_.empty() || line_.find('\n') != line_.size() - 1) {
      Broken("text line is not exactly one line", line_);
    }

    line_.clear();
    formatter_.Append(outputs::kJsonEncoding, record, now_, &line_);
    if (line_.empty() || line_.back() != '\n') Broken("JSON line does not end in \\n", line_);
    rapidjson::Document document;
    document.Parse<rapidjson::kParseValidateEncodingFlag>(line_.data(), line_.size() - 1);
    if (document.HasParseError())
      Broken(rapidjson::GetParseError_En(document.GetParseError()), line_);
    if (!document.IsObject()) Broken("JSON line is not an object", line_);
  }
}

}  // namespace sluice::fuzz
