#include "server/pipeline/hooks/drop_hook.h"

#include <optional>
#include <utility>

#include "server/config/yaml_reader.h"
#include "server/pipeline/hooks/record_match.h"
#include "sluice/level.h"

namespace sluice::pipeline::hooks {
namespace {

struct DropConfig {
  std::optional<Level> level_at_most;
  std::vector<std::string> loggers;
  RecordMatch::FieldValues equals;
  RecordMatch::FieldValues match;
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
      config::StringMapKey("match", &DropConfig::match, false,
                           "Drop only records whose fields match (`field: value` or "
                           "`field: /regex/`, the regex found anywhere in the value), as an "
                           "output's `match` does; unlike `equals`, a value between slashes is "
                           "a pattern."),
  };
  return *table;
}

class DropHook final : public Hook {
 public:
  DropHook(std::string id, std::optional<Level> level_at_most, RecordMatch match)
      : id_(std::move(id)), level_at_most_(level_at_most), match_(std::move(match)) {}
  absl::string_view id() const override { return id_; }

  Verdict OnRecord(HookRecord& record) const override {
    const v1::LogRecord& log = record.record();
    if (level_at_most_.has_value() && RecordLevel(log) > *level_at_most_) return Verdict::kKeep;
    return match_.Matches(log, record.layers()) ? Verdict::kDrop : Verdict::kKeep;
  }

 private:
  const std::string id_;
  const std::optional<Level> level_at_most_;
  const RecordMatch match_;
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
  absl::StatusOr<RecordMatch> match =
      RecordMatch::Create(std::move(parsed.loggers), parsed.match,
                          config::ChildPath(config_path, "match"), parsed.equals);
  if (!match.ok()) return match.status();
  if (!parsed.level_at_most.has_value() && match->empty()) {
    return config::KeyError(config_path,
                            "a drop hook needs at least one of `level_at_most`, `loggers`, "
                            "`equals`, `match`; without one it would drop every record");
  }
  return std::make_unique<DropHook>(std::move(id), parsed.level_at_most, *std::move(match));
}

}  // namespace sluice::pipeline::hooks
