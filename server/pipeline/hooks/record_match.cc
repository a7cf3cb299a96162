#include "server/pipeline/hooks/record_match.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/config/yaml_reader.h"

namespace sluice::pipeline::hooks {
namespace {

bool IsPattern(absl::string_view value) {
  return value.size() >= 2 && value.front() == '/' && value.back() == '/';
}

// The field of `key` the outputs show, or null.
const v1::Field* ShownField(const v1::LogRecord& record, absl::string_view key,
                            FieldLayers layers) {
  const int index = ShownFieldIndex(record, key, layers);
  return index < 0 ? nullptr : &record.fields(index);
}

}  // namespace

bool RecordMatch::FieldCondition::Holds(absl::string_view text) const {
  return regex != nullptr ? RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *regex)
                          : text == value;
}

bool RecordMatch::FieldCondition::Holds(const v1::Field& field) const {
  // A temporary AlphaNum formats a number into its own buffer: no allocation.
  switch (field.value_case()) {
    case v1::Field::kStringValue:
      return Holds(field.string_value());
    case v1::Field::kIntValue:
      return Holds(absl::AlphaNum(field.int_value()).Piece());
    case v1::Field::kDoubleValue:
      return Holds(absl::AlphaNum(field.double_value()).Piece());
    case v1::Field::kBoolValue:
      return Holds(field.bool_value() ? "true" : "false");
    default:
      return false;
  }
}

bool UnderLogger(absl::string_view logger, absl::string_view prefix) {
  return absl::StartsWith(logger, prefix) &&
         (logger.size() == prefix.size() || logger[prefix.size()] == '.');
}

absl::StatusOr<RecordMatch> RecordMatch::Create(std::vector<std::string> loggers,
                                                const FieldValues& match,
                                                absl::string_view match_path,
                                                const FieldValues& equals) {
  RecordMatch result;
  result.loggers_ = std::move(loggers);
  for (const auto& [key, value] : match) {
    FieldCondition condition{.key = key};
    if (IsPattern(value)) {
      RE2::Options options;
      options.set_log_errors(false);
      auto regex = std::make_shared<const RE2>(value.substr(1, value.size() - 2), options);
      if (!regex->ok()) {
        return config::KeyError(
            config::ChildPath(match_path, key),
            absl::StrCat("bad regular expression ", value, ": ", regex->error()));
      }
      condition.regex = std::move(regex);
    } else {
      condition.value = value;
    }
    result.fields_.push_back(std::move(condition));
  }
  for (const auto& [key, value] : equals) {
    result.fields_.push_back(FieldCondition{.key = key, .value = value});
  }
  return result;
}

bool RecordMatch::Matches(const v1::LogRecord& record, FieldLayers layers) const {
  if (!loggers_.empty()) {
    bool under = false;
    for (const std::string& prefix : loggers_) {
      if (UnderLogger(record.logger(), prefix)) {
        under = true;
        break;
      }
    }
    if (!under) return false;
  }
  for (const FieldCondition& condition : fields_) {
    const v1::Field* field = ShownField(record, condition.key, layers);
    if (field == nullptr) return false;
    if (!condition.Holds(*field)) return false;
  }
  return true;
}

}  // namespace sluice::pipeline::hooks
