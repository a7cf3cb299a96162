#include "server/outputs/output_options.h"

#include <algorithm>
#include <array>

#include "absl/strings/numbers.h"

namespace sluice::outputs {
namespace {

// Read by the config module for every output; a factory never lists them itself.
constexpr std::array<absl::string_view, 3> kCommonKeys = {"type", "name", "level"};

absl::Status KeyError(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::string_view Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "an empty value";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

}  // namespace

absl::StatusOr<OutputOptions> OutputOptions::Create(
    const config::OutputConfig& config, std::initializer_list<absl::string_view> known) {
  const std::string block_path = absl::StrCat("outputs.", config.id());
  const YAML::Node& block = config.options;
  std::vector<std::pair<std::string, YAML::Node>> entries;
  if (!block.IsDefined() || block.IsNull()) return OutputOptions(config.id(), std::move(entries));
  if (!block.IsMap()) {
    return KeyError(block_path, absl::StrCat("expected a map, got ", Describe(block)));
  }
  try {
    for (const auto& entry : block) {
      if (!entry.first.IsScalar()) {
        return KeyError(block_path, "map keys must be strings");
      }
      const std::string& key = entry.first.Scalar();
      const bool is_known =
          std::find(kCommonKeys.begin(), kCommonKeys.end(), key) != kCommonKeys.end() ||
          std::find(known.begin(), known.end(), key) != known.end();
      if (!is_known) {
        return KeyError(
            absl::StrCat(block_path, ".", key),
            absl::StrCat("unknown key (known: ", absl::StrJoin(kCommonKeys, ", "),
                         known.size() == 0 ? "" : ", ", absl::StrJoin(known, ", "), ")"));
      }
      entries.emplace_back(key, entry.second);
    }
  } catch (const YAML::Exception& e) {
    return KeyError(block_path, e.what());
  }
  return OutputOptions(config.id(), std::move(entries));
}

OutputOptions::OutputOptions(std::string id,
                             std::vector<std::pair<std::string, YAML::Node>> entries)
    : id_(std::move(id)), entries_(std::move(entries)) {}

std::string OutputOptions::KeyPath(absl::string_view key) const {
  return absl::StrCat("outputs.", id_, ".", key);
}

const YAML::Node* OutputOptions::Find(absl::string_view key) const {
  for (const auto& [name, node] : entries_) {
    if (name == key) return &node;
  }
  return nullptr;
}

absl::Status OutputOptions::GetScalar(absl::string_view key, std::string* text) const {
  const YAML::Node* node = Find(key);
  if (!node->IsScalar()) {
    return KeyError(KeyPath(key), absl::StrCat("expected a value, got ", Describe(*node)));
  }
  *text = node->Scalar();
  return absl::OkStatus();
}

absl::Status OutputOptions::GetString(absl::string_view key, std::string* value) const {
  if (Find(key) == nullptr) return absl::OkStatus();
  return GetScalar(key, value);
}

absl::Status OutputOptions::GetRequiredString(absl::string_view key, std::string* value) const {
  if (Find(key) == nullptr) return KeyError(KeyPath(key), "required");
  if (absl::Status status = GetScalar(key, value); !status.ok()) return status;
  if (value->empty()) return KeyError(KeyPath(key), "must not be empty");
  return absl::OkStatus();
}

absl::Status OutputOptions::GetUint64(absl::string_view key, uint64_t min, uint64_t max,
                                      uint64_t* value) const {
  if (Find(key) == nullptr) return absl::OkStatus();
  std::string text;
  if (absl::Status status = GetScalar(key, &text); !status.ok()) return status;
  uint64_t parsed = 0;
  if (!absl::SimpleAtoi(text, &parsed) || parsed < min || parsed > max) {
    return KeyError(KeyPath(key), absl::StrCat("must be an integer between ", min, " and ", max,
                                               " (got \"", text, "\")"));
  }
  *value = parsed;
  return absl::OkStatus();
}

absl::Status OutputOptions::GetDuration(absl::string_view key, absl::Duration min,
                                        absl::Duration max, absl::Duration* value) const {
  if (Find(key) == nullptr) return absl::OkStatus();
  std::string text;
  if (absl::Status status = GetScalar(key, &text); !status.ok()) return status;
  absl::Duration parsed;
  if (!absl::ParseDuration(text, &parsed)) {
    return KeyError(KeyPath(key),
                    absl::StrCat("must be a duration such as 500ms or 2s (got \"", text, "\")"));
  }
  if (parsed < min || parsed > max) {
    return KeyError(KeyPath(key),
                    absl::StrCat("must be between ", absl::FormatDuration(min), " and ",
                                 absl::FormatDuration(max), " (got \"", text, "\")"));
  }
  *value = parsed;
  return absl::OkStatus();
}

absl::Status OutputOptions::GetFormat(absl::string_view key, EncodingId* value) const {
  return GetChoice<EncodingId>(key, {{"text", kTextEncoding}, {"json", kJsonEncoding}}, value);
}

}  // namespace sluice::outputs
