#include "server/config/yaml_reader.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace sluice::config {
namespace {

constexpr absl::string_view kDurationExample = "a duration such as \"5ms\" or \"30s\"";

}  // namespace

std::string DescribeValue(const YAML::Node& node) {
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

absl::Status KeyError(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status ExpectedError(absl::string_view path, absl::string_view expected,
                           const YAML::Node& node) {
  return KeyError(path, absl::StrCat("expected ", expected, ", got ", DescribeValue(node)));
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

std::string ItemPath(absl::string_view parent, size_t index) {
  return absl::StrCat(parent, "[", index, "]");
}

absl::Status ForEachEntry(const YAML::Node& node, absl::string_view path,
                          absl::string_view duplicate_what, const EntryHandler& handle) {
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return ExpectedError(path, "a map", node);
  absl::flat_hash_set<std::string> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      return KeyError(path, absl::StrCat("keys must be strings, got ", DescribeValue(entry.first)));
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

absl::Status ReadInteger(const YAML::Node& node, absl::string_view path, int64_t min, int64_t max,
                         int64_t& out) {
  int64_t value = 0;
  if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), &value)) {
    return ExpectedError(path, "an integer", node);
  }
  if (value < min || value > max) {
    return KeyError(path, absl::StrCat("must be between ", min, " and ", max, ", got ", value));
  }
  out = value;
  return absl::OkStatus();
}

absl::Status ReadDuration(const YAML::Node& node, absl::string_view path, absl::Duration min,
                          absl::Duration max, absl::Duration& out) {
  if (!node.IsScalar()) return ExpectedError(path, kDurationExample, node);
  const std::string& text = node.Scalar();
  // absl::ParseDuration takes a bare "0"; refusing every bare number keeps the rule simple:
  // a number without a unit is always a mistake worth pointing out.
  if (double number = 0; absl::SimpleAtod(text, &number)) {
    return KeyError(path, absl::StrCat("\"", text, "\" has no unit; add one, e.g. \"", text,
                                       "s\" or \"", text, "ms\""));
  }
  absl::Duration value;
  if (!absl::ParseDuration(text, &value)) return ExpectedError(path, kDurationExample, node);
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

absl::Status ReadListenAddress(const YAML::Node& node, absl::string_view path, std::string& out) {
  std::string text;
  if (absl::Status status = ReadString(node, path, text); !status.ok()) return status;
  if (absl::Status status = ValidateListenAddress(text); !status.ok()) {
    return KeyError(path, status.message());
  }
  out = std::move(text);
  return absl::OkStatus();
}

absl::Status ReadKeyword(const YAML::Node& node, absl::string_view path,
                         absl::Span<const absl::string_view> keywords, size_t& index) {
  for (size_t i = 0; i < keywords.size(); ++i) {
    if (node.IsScalar() && node.Scalar() == keywords[i]) {
      index = i;
      return absl::OkStatus();
    }
  }
  return ExpectedError(path, absl::StrCat("one of ", absl::StrJoin(keywords, ", ")), node);
}

std::string DurationText(absl::Duration duration) {
  // FormatDuration writes zero as "0", which this reader refuses.
  if (duration == absl::ZeroDuration()) return "0s";
  return absl::FormatDuration(duration);
}

namespace internal {

absl::Status ReadMap(const YAML::Node& node, absl::string_view path,
                     absl::Span<const absl::string_view> names,
                     absl::Span<const absl::string_view> also_known, bool others_are_read_elsewhere,
                     const std::function<absl::Status(size_t key, const YAML::Node& value,
                                                      const std::string& path)>& read,
                     std::vector<bool>& seen) {
  seen.assign(names.size(), false);
  try {
    return ForEachEntry(
        node, path, "key",
        [&](const std::string& key, const YAML::Node& value,
            const std::string& key_path) -> absl::Status {
          const auto it = std::find(names.begin(), names.end(), key);
          if (it != names.end()) {
            seen[it - names.begin()] = true;
            return read(it - names.begin(), value, key_path);
          }
          if (others_are_read_elsewhere ||
              std::find(also_known.begin(), also_known.end(), key) != also_known.end()) {
            return absl::OkStatus();
          }
          std::vector<absl::string_view> known(also_known.begin(), also_known.end());
          known.insert(known.end(), names.begin(), names.end());
          return KeyError(key_path,
                          absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
        });
  } catch (const YAML::Exception& e) {
    return KeyError(path, e.what());
  }
}

absl::Status MissingRequiredKey(absl::string_view path, absl::string_view key) {
  if (path.empty()) return KeyError(key, "missing required key");
  return KeyError(path, absl::StrCat("missing required key `", key, "`"));
}

}  // namespace internal

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

absl::Status ReadStringList(const YAML::Node& node, absl::string_view path,
                            std::vector<std::string>& out) {
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  if (!node.IsSequence()) return ExpectedError(path, "a sequence of strings", node);
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = ItemPath(path, i);
    std::string item;
    if (absl::Status status = ReadString(node[i], item_path, item); !status.ok()) return status;
    if (item.empty()) return KeyError(item_path, "must not be empty");
    out.push_back(std::move(item));
  }
  return absl::OkStatus();
}

absl::Status ReadStringMap(const YAML::Node& node, absl::string_view path,
                           std::vector<std::pair<std::string, std::string>>& out) {
  return ForEachEntry(node, path, "key",
                      [&out](const std::string& key, const YAML::Node& value,
                             const std::string& key_path) -> absl::Status {
                        if (key.empty()) return KeyError(key_path, "the key must not be empty");
                        std::string text;
                        if (absl::Status status = ReadString(value, key_path, text); !status.ok()) {
                          return status;
                        }
                        out.emplace_back(key, std::move(text));
                        return absl::OkStatus();
                      });
}

}  // namespace sluice::config
