#include "server/pipeline/hooks/drop_hook.h"

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/config/yaml_reader.h"
#include "sluice/level.h"

namespace sluice::pipeline::hooks {
namespace {

struct DropConfig {
  std::optional<Level> level_at_most;
  std::vector<std::string> loggers;
  std::vector<std::pair<std::string, std::string>> equals;
};

const config::KeyTable<DropConfig>& DropKeys() {
  static const auto* const table = new config::KeyTable<DropConfig>{
      config::CustomKey<DropConfig>(
          {.name = "level_at_most",
           .type = "level",
           .default_value = "any level",
           .description = "Drop only records at this level or below."},
          [](const YAML::Node& value, const std::string& path, DropConfig& out) {
            Level level = Level::kTrace;
            if (absl::Status status = config::ReadLevel(value, path, level); !status.ok()) {
              return status;
            }
            out.level_at_most = level;
            return absl::OkStatus();
          }),
      config::StringListKey("loggers", &DropConfig::loggers, false,
                            "Drop only records whose logger is one of these or under one "
                            "(`checkout` covers `checkout.db`)."),
      config::StringMapKey("equals", &DropConfig::equals, false,
                           "Drop only records whose fields have these values (`field: value`); "
                           "a number or boolean field is compared as its YAML text."),
  };
  return *table;
}

bool UnderLogger(absl::string_view logger, absl::string_view prefix) {
  return absl::StartsWith(logger, prefix) &&
         (logger.size() == prefix.size() || logger[prefix.size()] == '.');
}

bool FieldEquals(const v1::Field& field, absl::string_view value) {
  switch (field.value_case()) {
    case v1::Field::kStringValue:
      return field.string_value() == value;
    case v1::Field::kIntValue:
      return absl::StrCat(field.int_value()) == value;
    case v1::Field::kDoubleValue:
      return absl::StrCat(field.double_value()) == value;
    case v1::Field::kBoolValue:
      return value == (field.bool_value() ? "true" : "false");
    default:
      return false;
  }
}

class DropHook final : public Hook {
 public:
  DropHook(std::string id, DropConfig config) : id_(std::move(id)), config_(std::move(config)) {}
  absl::string_view id() const override { return id_; }

  Verdict OnRecord(HookRecord& record) const override {
    const v1::LogRecord& log = record.record();
    if (config_.level_at_most.has_value() && RecordLevel(log) > *config_.level_at_most) {
      return Verdict::kKeep;
    }
    if (!config_.loggers.empty()) {
      bool under = false;
      for (const std::string& prefix : config_.loggers)
        under = under || UnderLogger(log.logger(), prefix);
      if (!under) return Verdict::kKeep;
    }
    for (const auto& [key, value] : config_.equals) {
      // The last field with the key is the one the outputs would see.
      const v1::Field* found = nullptr;
      for (int i = log.fields_size() - 1; i >= 0 && found == nullptr; --i) {
        if (log.fields(i).key() == key) found = &log.fields(i);
      }
      if (found == nullptr || !FieldEquals(*found, value)) return Verdict::kKeep;
    }
    return Verdict::kDrop;
  }

 private:
  const std::string id_;
  const DropConfig config_;
};

}  // namespace

std::vector<config::KeyDoc> DropHookFactory::keys() const { return DropKeys().docs(); }

std::string DropHookFactory::example_config() const {
  return "{type: drop, name: no-debug, level_at_most: debug}";
}

absl::StatusOr<std::unique_ptr<Hook>> DropHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  DropConfig parsed;
  if (absl::Status status = DropKeys().Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  if (!parsed.level_at_most.has_value() && parsed.loggers.empty() && parsed.equals.empty()) {
    return config::KeyError(config_path,
                            "a drop hook needs at least one of `level_at_most`, `loggers`, "
                            "`equals`; without one it would drop every record");
  }
  return std::make_unique<DropHook>(std::move(id), std::move(parsed));
}

}  // namespace sluice::pipeline::hooks
