// Helpers for the output tests: configs from YAML text, an OutputBatch with fixed lines,
// and temporary directories and files.
#ifndef SLUICE_TESTS_OUTPUTS_OUTPUT_TEST_UTIL_H_
#define SLUICE_TESTS_OUTPUTS_OUTPUT_TEST_UTIL_H_

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/common/field_layers.h"
#include "server/common/record_batch.h"
#include "server/config/config.h"
#include "server/outputs/encoder.h"
#include "server/outputs/output.h"
#include "server/outputs/output_registry.h"
#include "tests/test_util/eventually.h"
#include "yaml-cpp/yaml.h"

namespace sluice::outputs {

// An output block as the config module hands it over for entry `index` of `outputs:`:
// type and name read, options = the whole block.
inline config::OutputConfig OutputConfigFromYaml(const std::string& yaml, size_t index = 0) {
  config::OutputConfig config;
  config.key_path = "outputs[" + std::to_string(index) + "]";
  config.options = YAML::Load(yaml);
  config.type = config.options["type"].as<std::string>();
  config.name = config.options["name"] ? config.options["name"].as<std::string>() : config.type;
  return config;
}

// Creates an output with `factory` from a block, as the registry does for outputs[0].
inline absl::StatusOr<std::unique_ptr<Output>> CreateFromYaml(const OutputFactory& factory,
                                                              const std::string& yaml) {
  config::OutputConfig config = OutputConfigFromYaml(yaml);
  EncodingRegistry encodings;
  OutputContext context{.config_path = config.key_path, .encodings = encodings};
  return factory.Create(config.id(), config.options, context);
}

// An output made by its factory from a block (outputs[0]), with an encoding registry and a
// metrics registry of its own that outlive it: for outputs that add an encoding or
// register metrics. `output` is null, after a test failure, when the factory refused.
struct CreatedOutput {
  EncodingRegistry encodings;
  prometheus::Registry metrics;
  std::unique_ptr<Output> output;
};

inline std::unique_ptr<CreatedOutput> CreateWithRegistries(const OutputFactory& factory,
                                                           const std::string& yaml) {
  auto created = std::make_unique<CreatedOutput>();
  config::OutputConfig config = OutputConfigFromYaml(yaml);
  OutputContext context{.config_path = config.key_path,
                        .encodings = created->encodings,
                        .metrics = &created->metrics};
  absl::StatusOr<std::unique_ptr<Output>> output =
      factory.Create(config.id(), config.options, context);
  EXPECT_TRUE(output.ok()) << output.status();
  if (output.ok()) created->output = *std::move(output);
  return created;
}

// An OutputBatch whose lines are given: "<LEVEL> <text>\n" in text, {"m":"<text>"} in JSON.
// Its records() hold one record per line, with that level and `text` as the message, and
// the fields and layers AddField and SetLayers gave it (all ad-hoc by default); the records
// routed to the output are those at or above RouteAtLeast's level (all by default).
class FakeOutputBatch : public OutputBatch {
 public:
  FakeOutputBatch& Add(Level level, std::string text) {
    v1::LogRecord& record = *batch_.records().Add();
    record.set_level(LevelToProto(level));
    record.set_message(text);
    records_.emplace_back(level, std::move(text));
    layers_.emplace_back();
    return *this;
  }

  // Appends a string field to the last record added; lines do not show it.
  FakeOutputBatch& AddField(const std::string& key, const std::string& value) {
    v1::Field& field = *batch_.records().Mutable(batch_.records().size() - 1)->add_fields();
    field.set_key(key);
    field.set_string_value(value);
    return *this;
  }

  // Where the last record added changes layer, as hooks would have left it.
  FakeOutputBatch& SetLayers(FieldLayers layers) {
    layers_.back() = layers;
    return *this;
  }

  // Lines in encodings other than text and json come from `registry`'s encoders, given
  // each record's level and message: for outputs that bring their own encoding.
  FakeOutputBatch& EncodeWith(const EncodingRegistry& registry) {
    registry_ = &registry;
    return *this;
  }

  FakeOutputBatch& RouteAtLeast(Level min_level) {
    min_level_ = min_level;
    return *this;
  }

  const RecordBatch& records() const override { return batch_; }

  bool takes(int index) const override {
    return records_[static_cast<size_t>(index)].first >= min_level_;
  }

  size_t count() const override {
    size_t count = 0;
    for (const auto& record : records_) count += record.first >= min_level_ ? 1 : 0;
    return count;
  }

  FieldLayers layers(int index) const override {
    const std::optional<FieldLayers>& layers = layers_[static_cast<size_t>(index)];
    return layers.has_value() ? *layers
                              : FieldLayers::AllAdHoc(batch_.records()[index].fields_size());
  }

  absl::string_view Lines(EncodingId encoding) override {
    ++lines_calls_;
    std::string& lines = lines_[{encoding, min_level_}];
    lines.clear();
    std::unique_ptr<Encoder> encoder;
    if (registry_ != nullptr && encoding != kTextEncoding && encoding != kJsonEncoding) {
      encoder = registry_->NewEncoder(encoding);
    }
    static constexpr RecordKeys kKeys = {
        .time = "time", .level = "level", .logger = "logger", .message = "message"};
    for (const auto& [level, text] : records_) {
      if (level < min_level_) continue;
      if (encoder != nullptr) {
        encoder->Append(
            ComposedRecord{.time_unix_nanos = 1, .level = level, .message = text, .keys = &kKeys},
            &lines);
      } else if (encoding == kTextEncoding) {
        lines += std::string(LevelName(level)) + " " + text + "\n";
      } else {
        lines += "{\"m\":\"" + text + "\"}\n";
      }
    }
    return lines;
  }

  int lines_calls() const { return lines_calls_; }

 private:
  RecordBatch batch_;
  std::vector<std::pair<Level, std::string>> records_;
  std::vector<std::optional<FieldLayers>> layers_;
  Level min_level_ = Level::kTrace;
  std::map<std::pair<EncodingId, Level>, std::string> lines_;
  int lines_calls_ = 0;
  const EncodingRegistry* registry_ = nullptr;
};

// A fresh directory under the test's temporary directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "sluice_outputs_XXXXXX";
    path_ = ::mkdtemp(pattern.data());
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed for " << pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  std::string Path(absl::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// `gzipped` inflated with zlib; "<not gzip>" when it is not one whole gzip stream.
inline std::string Gunzip(const std::string& gzipped) {
  z_stream stream{};
  inflateInit2(&stream, 15 + 16);
  std::string out;
  char chunk[4096];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gzipped.data()));
  stream.avail_in = static_cast<uInt>(gzipped.size());
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof(chunk);
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(chunk, sizeof(chunk) - stream.avail_out);
  }
  inflateEnd(&stream);
  return result == Z_STREAM_END ? out : "<not gzip>";
}

// The content of a gzip file; "<not gzip>" when it is missing or not gzip.
inline std::string ReadGzipFile(const std::string& path) { return Gunzip(ReadFile(path)); }

inline void WriteFile(const std::string& path, absl::string_view content) {
  std::ofstream(path, std::ios::binary) << content;
}

// Polls until `path` holds `expected` or 10 seconds pass; returns the last content read.
// A bound, not a timing expectation: the wait normally ends in milliseconds.
inline std::string AwaitFileContent(const std::string& path, absl::string_view expected) {
  std::string content;
  test_util::Eventually(
      [&] {
        content = ReadFile(path);
        return content == expected;
      },
      absl::Seconds(10));
  return content;
}

}  // namespace sluice::outputs

#endif  // SLUICE_TESTS_OUTPUTS_OUTPUT_TEST_UTIL_H_
