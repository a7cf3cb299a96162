#include "server/config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "yaml-cpp/eventhandler.h"

namespace sluice::config {
namespace {

// Everything below reads a node of the document and writes into the config, returning an
// INVALID_ARGUMENT whose message starts with the key path of the offending value.

absl::Status KeyError(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

// Map keys that are plain identifiers extend the path with a dot; others (logger prefixes
// with dots, field names with spaces) are quoted so the path stays unambiguous.
std::string ChildPath(absl::string_view parent, absl::string_view key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '-';
  });
  if (!plain) return absl::StrCat(parent, "[\"", absl::CEscape(key), "\"]");
  if (parent.empty()) return std::string(key);
  return absl::StrCat(parent, ".", key);
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "an empty value";
    case YAML::NodeType::Scalar:
      return absl::StrCat("\"", absl::CEscape(node.Scalar()), "\"");
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

absl::Status ExpectedError(absl::string_view path, absl::string_view expected,
                           const YAML::Node& node) {
  return KeyError(path, absl::StrCat("expected ", expected, ", got ", Describe(node)));
}

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.'; }

bool IsName(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsNameChar);
}

using EntryHandler = absl::FunctionRef<absl::Status(const std::string& key, const YAML::Node& value,
                                                    const std::string& key_path)>;

// Calls `handle` for each entry of the map at `path`, in file order. An absent or empty
// section is an empty map. `duplicate_what` names what a repeated key is ("key",
// "rule prefix"); yaml-cpp keeps duplicates, so they are caught here.
absl::Status ForEachEntry(const YAML::Node& node, absl::string_view path,
                          absl::string_view duplicate_what, EntryHandler handle) {
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return ExpectedError(path, "a map", node);
  absl::flat_hash_set<std::string> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      return KeyError(path, absl::StrCat("keys must be strings, got ", Describe(entry.first)));
    }
    const std::string& key = entry.first.Scalar();
    const std::string key_path = ChildPath(path, key);
    if (!seen.insert(key).second) {
      return KeyError(key_path, absl::StrCat("duplicate ", duplicate_what));
    }
    if (absl::Status status = handle(key, entry.second, key_path); !status.ok()) return status;
  }
  return absl::OkStatus();
}

// Like ForEachEntry for a section whose keys are fixed: any other key is an error that
// lists the known ones.
absl::Status ForEachKnownKey(const YAML::Node& node, absl::string_view path,
                             std::initializer_list<absl::string_view> known, EntryHandler handle) {
  return ForEachEntry(
      node, path, "key",
      [&](const std::string& key, const YAML::Node& value,
          const std::string& key_path) -> absl::Status {
        if (std::find(known.begin(), known.end(), key) == known.end()) {
          return KeyError(key_path,
                          absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
        }
        return handle(key, value, key_path);
      });
}

absl::Status ReadString(const YAML::Node& node, absl::string_view path, std::string& out) {
  // YAML reads a bare `null` (the output type) as no value at all.
  if (node.IsNull()) {
    return KeyError(path,
                    "expected a string, got an empty value or null (write \"null\" in "
                    "quotes to mean the word)");
  }
  if (!node.IsScalar()) return ExpectedError(path, "a string", node);
  out = node.Scalar();
  return absl::OkStatus();
}

template <typename T>
absl::Status ReadInteger(const YAML::Node& node, absl::string_view path, int64_t min, int64_t max,
                         T& out) {
  int64_t value = 0;
  if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), &value)) {
    return ExpectedError(path, "an integer", node);
  }
  if (value < min || value > max) {
    return KeyError(path, absl::StrCat("must be between ", min, " and ", max, ", got ", value));
  }
  out = static_cast<T>(value);
  return absl::OkStatus();
}

absl::Status ReadDuration(const YAML::Node& node, absl::string_view path, absl::Duration min,
                          absl::Duration max, absl::Duration& out) {
  if (!node.IsScalar()) return ExpectedError(path, "a duration such as \"5ms\" or \"30s\"", node);
  const std::string& text = node.Scalar();
  // absl::ParseDuration takes a bare "0"; refusing every bare number keeps the rule simple:
  // a number without a unit is always a mistake worth pointing out.
  if (double number = 0; absl::SimpleAtod(text, &number)) {
    return KeyError(path, absl::StrCat("\"", text, "\" has no unit; add one, e.g. \"", text,
                                       "s\" or \"", text, "ms\""));
  }
  absl::Duration value;
  if (!absl::ParseDuration(text, &value)) {
    return ExpectedError(path, "a duration such as \"5ms\" or \"30s\"", node);
  }
  if (value < min || value > max) {
    return KeyError(path,
                    absl::StrCat("must be between ", absl::FormatDuration(min), " and ",
                                 absl::FormatDuration(max), ", got ", absl::FormatDuration(value)));
  }
  out = value;
  return absl::OkStatus();
}

absl::Status ReadLevel(const YAML::Node& node, absl::string_view path, Level& out) {
  std::string text;
  if (absl::Status status = ReadString(node, path, text); !status.ok()) return status;
  absl::StatusOr<Level> level = ParseLevel(text);
  if (!level.ok()) return KeyError(path, level.status().message());
  out = *level;
  return absl::OkStatus();
}

absl::Status ReadListen(const YAML::Node& node, absl::string_view path, std::string& out) {
  std::string text;
  if (absl::Status status = ReadString(node, path, text); !status.ok()) return status;
  if (absl::Status status = ValidateListenAddress(text); !status.ok()) {
    return KeyError(path, status.message());
  }
  out = std::move(text);
  return absl::OkStatus();
}

// Maps a keyword to an enum value; `choices` is in the order the error message lists them.
template <typename Enum>
absl::Status ReadKeyword(const YAML::Node& node, absl::string_view path,
                         std::initializer_list<std::pair<absl::string_view, Enum>> choices,
                         Enum& out) {
  std::vector<absl::string_view> keywords;
  for (const auto& [keyword, value] : choices) {
    if (node.IsScalar() && node.Scalar() == keyword) {
      out = value;
      return absl::OkStatus();
    }
    keywords.push_back(keyword);
  }
  return ExpectedError(path, absl::StrCat("one of ", absl::StrJoin(keywords, ", ")), node);
}

absl::Status ParseIngest(const YAML::Node& node, IngestConfig& out) {
  constexpr int64_t kMaxMessageBytes = 64 * 1024 * 1024;
  return ForEachKnownKey(
      node, "ingest",
      {"listen", "max_batch_records", "max_batch_delay", "max_message_bytes", "max_record_bytes",
       "max_fields_per_record", "max_field_key_bytes", "max_field_value_bytes",
       "max_concurrent_streams", "ack_on", "max_connection_age", "max_connection_age_grace",
       "max_streams_per_peer", "stream_idle_timeout", "max_connection_idle", "invalid_utf8"},
      [&](const std::string& key, const YAML::Node& value,
          const std::string& path) -> absl::Status {
        if (key == "listen") return ReadListen(value, path, out.listen);
        if (key == "max_batch_records")
          return ReadInteger(value, path, 1, 65536, out.max_batch_records);
        if (key == "max_batch_delay") {
          return ReadDuration(value, path, absl::ZeroDuration(), absl::Seconds(10),
                              out.max_batch_delay);
        }
        if (key == "max_message_bytes") {
          return ReadInteger(value, path, 1024, kMaxMessageBytes, out.max_message_bytes);
        }
        if (key == "max_record_bytes") {
          return ReadInteger(value, path, 64, kMaxMessageBytes, out.max_record_bytes);
        }
        if (key == "max_fields_per_record") {
          return ReadInteger(value, path, 0, 65536, out.max_fields_per_record);
        }
        if (key == "max_field_key_bytes") {
          return ReadInteger(value, path, 1, 65536, out.max_field_key_bytes);
        }
        if (key == "max_field_value_bytes") {
          return ReadInteger(value, path, 1, kMaxMessageBytes, out.max_field_value_bytes);
        }
        if (key == "max_concurrent_streams") {
          return ReadInteger(value, path, 1, 1048576, out.max_concurrent_streams);
        }
        if (key == "max_connection_age") {
          return ReadDuration(value, path, absl::ZeroDuration(), absl::Hours(24),
                              out.max_connection_age);
        }
        if (key == "max_connection_age_grace") {
          return ReadDuration(value, path, absl::ZeroDuration(), absl::Hours(24),
                              out.max_connection_age_grace);
        }
        if (key == "max_streams_per_peer") {
          return ReadInteger(value, path, 1, 1048576, out.max_streams_per_peer);
        }
        if (key == "stream_idle_timeout") {
          return ReadDuration(value, path, absl::ZeroDuration(), absl::Hours(24),
                              out.stream_idle_timeout);
        }
        if (key == "max_connection_idle") {
          return ReadDuration(value, path, absl::ZeroDuration(), absl::Hours(24),
                              out.max_connection_idle);
        }
        if (key == "invalid_utf8") {
          return ReadKeyword(
              value, path,
              {{"replace", InvalidUtf8Policy::kReplace}, {"reject", InvalidUtf8Policy::kReject}},
              out.invalid_utf8);
        }
        return ReadKeyword(value, path,
                           {{"accepted", DeliveryStage::kAccepted},
                            {"written", DeliveryStage::kWritten},
                            {"flushed", DeliveryStage::kFlushed}},
                           out.ack_on);
      });
}

absl::Status ParseListenOnly(const YAML::Node& node, absl::string_view section,
                             std::string& listen) {
  return ForEachKnownKey(node, section, {"listen"},
                         [&](const std::string&, const YAML::Node& value, const std::string& path) {
                           return ReadListen(value, path, listen);
                         });
}

absl::Status ParseScheduler(const YAML::Node& node, SchedulerConfig& out) {
  return ForEachKnownKey(
      node, "scheduler",
      {"workers", "channel_capacity", "channel_capacity_bytes", "overflow", "dispatch"},
      [&](const std::string& key, const YAML::Node& value,
          const std::string& path) -> absl::Status {
        if (key == "workers") return ReadInteger(value, path, 1, 256, out.workers);
        if (key == "channel_capacity") {
          return ReadInteger(value, path, 1, int64_t{1} << 24, out.channel_capacity);
        }
        if (key == "channel_capacity_bytes") {
          return ReadInteger(value, path, int64_t{64} * 1024, int64_t{1} << 40,
                             out.channel_capacity_bytes);
        }
        if (key == "overflow") {
          return ReadKeyword(value, path,
                             {{"block", OverflowPolicy::kBlock},
                              {"drop_newest", OverflowPolicy::kDropNewest},
                              {"drop_oldest", OverflowPolicy::kDropOldest}},
                             out.overflow);
        }
        return ReadKeyword(value, path,
                           {{"round_robin", DispatchPolicy::kRoundRobin},
                            {"stream_affinity", DispatchPolicy::kStreamAffinity}},
                           out.dispatch);
      });
}

absl::Status ParseLevelRules(const YAML::Node& node, std::vector<LevelRuleConfig>& out) {
  return ForEachEntry(node, "levels.rules", "rule prefix",
                      [&](const std::string& prefix, const YAML::Node& value,
                          const std::string& path) -> absl::Status {
                        if (absl::Status valid = ValidateLoggerPrefix(prefix); !valid.ok()) {
                          return KeyError(path, valid.message());
                        }
                        LevelRuleConfig rule{.logger_prefix = prefix};
                        if (absl::Status status = ReadLevel(value, path, rule.level); !status.ok())
                          return status;
                        out.push_back(std::move(rule));
                        return absl::OkStatus();
                      });
}

absl::Status ParseLevels(const YAML::Node& node, LevelsConfig& out) {
  return ForEachKnownKey(node, "levels", {"default", "rules"},
                         [&](const std::string& key, const YAML::Node& value,
                             const std::string& path) -> absl::Status {
                           if (key == "default") return ReadLevel(value, path, out.default_level);
                           return ParseLevelRules(value, out.rules);
                         });
}

absl::Status ParseBaseFields(const YAML::Node& node,
                             std::vector<std::pair<std::string, std::string>>& out) {
  return ForEachEntry(node, "pipeline.base_fields", "field",
                      [&](const std::string& name, const YAML::Node& value,
                          const std::string& path) -> absl::Status {
                        if (name.empty()) return KeyError(path, "a field name must not be empty");
                        if (!value.IsScalar()) return ExpectedError(path, "a scalar value", value);
                        out.emplace_back(name, value.Scalar());
                        return absl::OkStatus();
                      });
}

absl::Status ParsePipeline(const YAML::Node& node, PipelineConfig& out) {
  absl::Status status = ForEachKnownKey(
      node, "pipeline", {"base_fields", "time_key", "level_key", "logger_key", "message_key"},
      [&](const std::string& key, const YAML::Node& value,
          const std::string& path) -> absl::Status {
        if (key == "base_fields") return ParseBaseFields(value, out.base_fields);
        std::string* target = key == "time_key"     ? &out.time_key
                              : key == "level_key"  ? &out.level_key
                              : key == "logger_key" ? &out.logger_key
                                                    : &out.message_key;
        if (absl::Status read = ReadString(value, path, *target); !read.ok()) return read;
        if (target->empty()) return KeyError(path, "must not be empty");
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  // Two attributes under one key would overwrite each other in every structured output.
  const std::pair<absl::string_view, const std::string*> keys[] = {
      {"time_key", &out.time_key},
      {"level_key", &out.level_key},
      {"logger_key", &out.logger_key},
      {"message_key", &out.message_key}};
  for (size_t i = 0; i < std::size(keys); ++i) {
    for (size_t j = i + 1; j < std::size(keys); ++j) {
      if (*keys[i].second == *keys[j].second) {
        return absl::InvalidArgumentError(absl::StrCat("pipeline.", keys[i].first, " and pipeline.",
                                                       keys[j].first, " are both \"",
                                                       *keys[i].second, "\"; they must differ"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ReadOutputName(const YAML::Node& node, absl::string_view path, std::string& out) {
  if (absl::Status status = ReadString(node, path, out); !status.ok()) return status;
  if (!IsName(out)) {
    return KeyError(path, absl::StrCat("\"", absl::CEscape(out),
                                       "\" must be non-empty and made of letters, digits, '_', "
                                       "'-' and '.'"));
  }
  return absl::OkStatus();
}

absl::Status ParseOutput(const YAML::Node& node, const std::string& path, OutputConfig& out) {
  if (!node.IsMap()) return ExpectedError(path, "a map with at least a `type` key", node);
  bool has_type = false;
  bool has_name = false;
  // The output's own keys are left for its factory, which sees the whole block.
  absl::Status status = ForEachEntry(node, path, "key",
                                     [&](const std::string& key, const YAML::Node& value,
                                         const std::string& key_path) -> absl::Status {
                                       if (key == "type") {
                                         has_type = true;
                                         return ReadOutputName(value, key_path, out.type);
                                       }
                                       if (key == "name") {
                                         has_name = true;
                                         return ReadOutputName(value, key_path, out.name);
                                       }
                                       if (key == "level")
                                         return ReadLevel(value, key_path, out.level);
                                       return absl::OkStatus();
                                     });
  if (!status.ok()) return status;
  if (!has_type) return KeyError(path, "missing required key `type`");
  if (!has_name) out.name = out.type;
  out.options = node;
  return absl::OkStatus();
}

absl::Status ParseOutputs(const YAML::Node& node, std::vector<OutputConfig>& out) {
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  if (!node.IsSequence()) return ExpectedError("outputs", "a sequence of output blocks", node);
  std::set<std::string> ids;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = absl::StrCat("outputs[", i, "]");
    OutputConfig output;
    if (absl::Status status = ParseOutput(node[i], path, output); !status.ok()) return status;
    if (!ids.insert(output.id()).second) {
      return KeyError(path, absl::StrCat("duplicate output id \"", output.id(),
                                         "\"; give one of them a distinct `name`"));
    }
    out.push_back(std::move(output));
  }
  return absl::OkStatus();
}

// `document_prefix` starts the errors about the document as a whole (syntax, shape), which
// have no key path to start with.
absl::Status ParseRoot(const YAML::Node& root, absl::string_view document_prefix, Config& config) {
  if (root.IsNull()) return absl::OkStatus();
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(
        document_prefix, "the document must be a map of sections, got ", Describe(root)));
  }
  absl::Status status = ForEachKnownKey(
      root, "",
      {"ingest", "admin", "metrics", "scheduler", "levels", "pipeline", "outputs", "shutdown"},
      [&](const std::string& key, const YAML::Node& value, const std::string&) -> absl::Status {
        if (key == "ingest") return ParseIngest(value, config.ingest);
        if (key == "admin") return ParseListenOnly(value, "admin", config.admin.listen);
        if (key == "metrics") return ParseListenOnly(value, "metrics", config.metrics.listen);
        if (key == "scheduler") return ParseScheduler(value, config.scheduler);
        if (key == "levels") return ParseLevels(value, config.levels);
        if (key == "pipeline") return ParsePipeline(value, config.pipeline);
        if (key == "outputs") return ParseOutputs(value, config.outputs);
        return ForEachKnownKey(
            value, "shutdown", {"drain_timeout"},
            [&](const std::string&, const YAML::Node& timeout, const std::string& path) {
              return ReadDuration(timeout, path, absl::ZeroDuration(), absl::Hours(1),
                                  config.shutdown.drain_timeout);
            });
      });
  if (!status.ok()) return status;
  if (config.ingest.max_streams_per_peer > config.ingest.max_concurrent_streams) {
    config.ingest.max_streams_per_peer = config.ingest.max_concurrent_streams;
  }
  return absl::OkStatus();
}

// Records where each document of a YAML stream starts; ignores everything else.
class DocumentStarts final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts_.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  const std::vector<YAML::Mark>& starts() const { return starts_; }

 private:
  std::vector<YAML::Mark> starts_;
};

// The number of documents in `text`. Not YAML::LoadAll: yaml-cpp 0.7 (Debian 12) hands back
// an empty document without consuming a token it cannot start a node with (a leading ','),
// and LoadAll asks again forever, keeping every one until memory runs out
// (jbeder/yaml-cpp#1040). A document that starts where the previous one started is that
// token: a syntax error, thrown like yaml-cpp's own.
size_t CountDocuments(const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStarts documents;
  while (parser.HandleNextDocument(documents)) {
    const std::vector<YAML::Mark>& starts = documents.starts();
    if (starts.size() >= 2 && starts.back().pos == starts[starts.size() - 2].pos) {
      throw YAML::ParserException(starts.back(), "unexpected token where a value should start");
    }
  }
  return documents.starts().size();
}

// yaml-cpp reports syntax errors by exception; this is the edge where they become statuses.
absl::StatusOr<Config> Parse(absl::string_view yaml_text, absl::string_view document_prefix) {
  Config config;
  try {
    const std::string text(yaml_text);
    const size_t documents = CountDocuments(text);
    if (documents > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          document_prefix, "expected one YAML document, found ", documents, " (separated by ---)"));
    }
    if (documents == 0) return config;
    absl::Status status = ParseRoot(YAML::Load(text), document_prefix, config);
    if (!status.ok()) return status;
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return absl::InvalidArgumentError(absl::StrCat(document_prefix, e.msg));
    return absl::InvalidArgumentError(absl::StrCat(document_prefix, "line ", e.mark.line + 1,
                                                   ", column ", e.mark.column + 1, ": ", e.msg));
  }
  return config;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(absl::string_view yaml_text) {
  return Parse(yaml_text, "config: ");
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::ErrnoToStatus(errno, path);
  std::string text;
  char buffer[64 * 1024];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, read);
  const int read_errno = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (read_errno != 0) return absl::ErrnoToStatus(read_errno, path);

  absl::StatusOr<Config> config = Parse(text, "");
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

absl::Status ApplyOverrides(const Overrides& overrides, Config& config) {
  const std::tuple<absl::string_view, const std::optional<std::string>&, std::string&> flags[] = {
      {"--ingest_listen", overrides.ingest_listen, config.ingest.listen},
      {"--admin_listen", overrides.admin_listen, config.admin.listen},
      {"--metrics_listen", overrides.metrics_listen, config.metrics.listen},
  };
  // All flags are checked before any is applied, so a failed call leaves `config` as it was.
  for (const auto& [flag, value, target] : flags) {
    if (!value.has_value()) continue;
    if (absl::Status status = ValidateListenAddress(*value); !status.ok()) {
      return KeyError(flag, status.message());
    }
  }
  for (const auto& [flag, value, target] : flags) {
    if (value.has_value()) target = *value;
  }
  return absl::OkStatus();
}

absl::Status ValidateListenAddress(absl::string_view address) {
  const auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", absl::CEscape(address), "\" is not a listen address: ", why,
        " (expected host:port, e.g. \"0.0.0.0:4317\", \"localhost:0\", \"[::1]:4317\")"));
  };
  absl::string_view host;
  absl::string_view port;
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find(']');
    if (close == absl::string_view::npos) return invalid("missing ']' after the IPv6 address");
    host = address.substr(1, close - 1);
    absl::string_view rest = address.substr(close + 1);
    if (!absl::ConsumePrefix(&rest, ":")) return invalid("missing ':port' after ']'");
    port = rest;
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return invalid("missing ':port'");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (absl::StrContains(host, ':')) return invalid("an IPv6 address must be in brackets");
  }
  if (host.empty()) return invalid("the host is empty");
  if (std::any_of(host.begin(), host.end(), [](char c) {
        return absl::ascii_isspace(c) || absl::ascii_iscntrl(c) || c == '[' || c == ']';
      })) {
    return invalid("the host contains a space, a control character or a bracket");
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), absl::ascii_isdigit)) {
    return invalid("the port must be a number from 0 to 65535");
  }
  uint32_t number = 0;
  if (!absl::SimpleAtoi(port, &number) || number > 65535) {
    return invalid("the port must be a number from 0 to 65535");
  }
  return absl::OkStatus();
}

}  // namespace sluice::config
