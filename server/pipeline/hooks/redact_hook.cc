#include "server/pipeline/hooks/redact_hook.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "re2/re2.h"
#include "server/config/yaml_reader.h"

namespace sluice::pipeline::hooks {
namespace {

// The name in `fields` that stands for the record's message.
constexpr absl::string_view kMessage = "message";

struct RedactConfig {
  std::vector<std::string> fields;
  std::vector<std::string> patterns;
  std::string replacement = "[REDACTED]";
};

const config::KeyTable<RedactConfig>& RedactKeys() {
  static const auto* const table = new config::KeyTable<RedactConfig>{
      config::StringListKey("fields", &RedactConfig::fields, true,
                            "The string fields to redact; `message` is the record's message."),
      config::StringListKey("patterns", &RedactConfig::patterns, true,
                            "RE2 regular expressions; every match is replaced, pattern by "
                            "pattern in order."),
      config::StringKey("replacement", &RedactConfig::replacement, config::StringRule::kAny,
                        "What replaces a match, taken literally."),
  };
  return *table;
}

class RedactHook final : public Hook {
 public:
  // `any_pattern` matches wherever one of `patterns` does; null when there is one pattern.
  RedactHook(std::string id, std::vector<std::string> fields,
             std::vector<std::unique_ptr<RE2>> patterns, std::unique_ptr<RE2> any_pattern,
             std::string rewrite)
      : id_(std::move(id)),
        fields_(std::move(fields)),
        redact_message_(std::find(fields_.begin(), fields_.end(), kMessage) != fields_.end()),
        patterns_(std::move(patterns)),
        any_pattern_(std::move(any_pattern)),
        rewrite_(std::move(rewrite)) {}

  absl::string_view id() const override { return id_; }

  Verdict OnRecord(HookRecord& record) const override {
    v1::LogRecord& log = record.record();
    if (redact_message_) Redact(*log.mutable_message());
    for (v1::Field& field : *log.mutable_fields()) {
      if (field.value_case() != v1::Field::kStringValue) continue;
      if (std::find(fields_.begin(), fields_.end(), field.key()) == fields_.end()) continue;
      Redact(*field.mutable_string_value());
    }
    return Verdict::kKeep;
  }

 private:
  void Redact(std::string& text) const {
    // Most text holds nothing to redact: one scan for all the patterns finds that, where
    // the patterns one by one would scan it once each.
    if (any_pattern_ != nullptr && !RE2::PartialMatch(text, *any_pattern_)) return;
    for (const std::unique_ptr<RE2>& pattern : patterns_) {
      RE2::GlobalReplace(&text, *pattern, rewrite_);
    }
  }

  const std::string id_;
  const std::vector<std::string> fields_;
  const bool redact_message_;
  const std::vector<std::unique_ptr<RE2>> patterns_;
  const std::unique_ptr<RE2> any_pattern_;
  // The replacement with RE2's rewrite escapes (`\1`) neutralized.
  const std::string rewrite_;
};

}  // namespace

std::vector<config::KeyDoc> RedactHookFactory::keys() const { return RedactKeys().docs(); }

std::string RedactHookFactory::example_config() const {
  return "{type: redact, name: cards, fields: [message], patterns: "
         "['\\d{4}-\\d{4}-\\d{4}-\\d{4}'], "
         "replacement: \"[REDACTED]\"}";
}

absl::StatusOr<std::unique_ptr<Hook>> RedactHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  RedactConfig parsed;
  if (absl::Status status = RedactKeys().Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  std::vector<std::unique_ptr<RE2>> patterns;
  RE2::Options options;
  options.set_log_errors(false);
  for (size_t i = 0; i < parsed.patterns.size(); ++i) {
    auto pattern = std::make_unique<RE2>(parsed.patterns[i], options);
    if (!pattern->ok()) {
      return config::KeyError(config::ItemPath(config::ChildPath(config_path, "patterns"), i),
                              absl::StrCat("not a valid RE2 expression: ", pattern->error()));
    }
    patterns.push_back(std::move(pattern));
  }
  // The alternation of every pattern, each in a group of its own so that its flags and
  // anchors stay its own. It only decides whether there is anything to replace; the
  // replacing is still pattern by pattern in order. Should it not compile (RE2's memory
  // budget), every text is scanned pattern by pattern.
  std::unique_ptr<RE2> any_pattern;
  if (patterns.size() > 1) {
    std::vector<std::string> groups;
    for (const std::string& pattern : parsed.patterns)
      groups.push_back(absl::StrCat("(?:", pattern, ")"));
    RE2::Options any_options = options;
    any_options.set_never_capture(true);
    any_pattern = std::make_unique<RE2>(absl::StrJoin(groups, "|"), any_options);
    if (!any_pattern->ok()) any_pattern.reset();
  }
  std::string rewrite = absl::StrReplaceAll(parsed.replacement, {{"\\", "\\\\"}});
  return std::make_unique<RedactHook>(std::move(id), std::move(parsed.fields), std::move(patterns),
                                      std::move(any_pattern), std::move(rewrite));
}

}  // namespace sluice::pipeline::hooks
