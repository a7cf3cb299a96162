#include "server/pipeline/hooks/field_hooks.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/config/yaml_reader.h"

namespace sluice::pipeline::hooks {
namespace {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

absl::StatusOr<std::unique_ptr<Hook>> NoHook(absl::Status status) { return status; }

struct AddFieldsConfig {
  StringPairs fields;
};

const config::KeyTable<AddFieldsConfig>& AddFieldsKeys() {
  static const auto* const table = new config::KeyTable<AddFieldsConfig>{
      config::StringMapKey("fields", &AddFieldsConfig::fields, true,
                           "Fields to set, `key: value`. A value `${env:NAME}` is the server's "
                           "environment variable NAME, read at start-up (unset: start-up fails)."),
  };
  return *table;
}

class AddFieldsHook final : public Hook {
 public:
  AddFieldsHook(std::string id, StringPairs fields)
      : id_(std::move(id)), fields_(std::move(fields)) {}
  absl::string_view id() const override { return id_; }
  Verdict OnRecord(HookRecord& record) const override {
    for (const auto& [key, value] : fields_) record.SetField(key).set_string_value(value);
    return Verdict::kKeep;
  }

 private:
  const std::string id_;
  const StringPairs fields_;
};

struct RenameConfig {
  StringPairs fields;
};

const config::KeyTable<RenameConfig>& RenameKeys() {
  static const auto* const table = new config::KeyTable<RenameConfig>{
      config::StringMapKey("fields", &RenameConfig::fields, true,
                           "Fields to rename, `from: to`, applied in order; the renamed field "
                           "replaces one already named `to`."),
  };
  return *table;
}

class RenameHook final : public Hook {
 public:
  RenameHook(std::string id, StringPairs renames)
      : id_(std::move(id)), renames_(std::move(renames)) {}
  absl::string_view id() const override { return id_; }
  Verdict OnRecord(HookRecord& record) const override {
    for (const auto& rename : renames_) {
      // Named references, not a structured binding: clang 14 cannot capture one.
      const std::string& from = rename.first;
      const std::string& to = rename.second;
      // The field the outputs would show is renamed; the others with its key lost to it
      // already, and go with it.
      const int shown = ShownFieldIndex(record.record(), from, record.layers());
      if (shown < 0) continue;
      record.RenameField(shown, to);
      record.RemoveFieldsIf([&from](const v1::Field& field) { return field.key() == from; });
    }
    return Verdict::kKeep;
  }

 private:
  const std::string id_;
  const StringPairs renames_;
};

struct SelectFieldsConfig {
  std::vector<std::string> fields;
};

const config::KeyTable<SelectFieldsConfig>& SelectFieldsKeys(bool keep) {
  static const auto* const drop_table = new config::KeyTable<SelectFieldsConfig>{
      config::StringListKey("fields", &SelectFieldsConfig::fields, true,
                            "The keys of the fields to remove."),
  };
  static const auto* const keep_table = new config::KeyTable<SelectFieldsConfig>{
      config::StringListKey("fields", &SelectFieldsConfig::fields, true,
                            "The keys of the fields to keep; every other field is removed."),
  };
  return keep ? *keep_table : *drop_table;
}

class SelectFieldsHook final : public Hook {
 public:
  SelectFieldsHook(std::string id, std::vector<std::string> keys, bool keep)
      : id_(std::move(id)), keys_(std::move(keys)), keep_(keep) {}
  absl::string_view id() const override { return id_; }
  Verdict OnRecord(HookRecord& record) const override {
    record.RemoveFieldsIf([this](const v1::Field& field) {
      const bool listed = std::find(keys_.begin(), keys_.end(), field.key()) != keys_.end();
      return listed != keep_;
    });
    return Verdict::kKeep;
  }

 private:
  const std::string id_;
  const std::vector<std::string> keys_;
  const bool keep_;
};

}  // namespace

std::vector<config::KeyDoc> AddFieldsHookFactory::keys() const { return AddFieldsKeys().docs(); }

std::string AddFieldsHookFactory::example_config() const {
  return "{type: add_fields, name: site, fields: {dc: eu-1, host: \"${env:HOSTNAME}\"}}";
}

absl::StatusOr<std::unique_ptr<Hook>> AddFieldsHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  AddFieldsConfig parsed;
  if (absl::Status status = AddFieldsKeys().Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  for (auto& [key, value] : parsed.fields) {
    absl::string_view name = value;
    if (!absl::ConsumePrefix(&name, "${env:") || !absl::ConsumeSuffix(&name, "}")) continue;
    const std::string variable(name);
    const char* from_environment = std::getenv(variable.c_str());
    if (variable.empty() || from_environment == nullptr) {
      return NoHook(
          config::KeyError(config::ChildPath(config::ChildPath(config_path, "fields"), key),
                           absl::StrCat("environment variable \"", variable, "\" is not set")));
    }
    value = from_environment;
  }
  return std::make_unique<AddFieldsHook>(std::move(id), std::move(parsed.fields));
}

std::vector<config::KeyDoc> RenameHookFactory::keys() const { return RenameKeys().docs(); }

std::string RenameHookFactory::example_config() const {
  return "{type: rename, name: ids, fields: {uid: user_id}}";
}

absl::StatusOr<std::unique_ptr<Hook>> RenameHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  RenameConfig parsed;
  if (absl::Status status = RenameKeys().Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  for (const auto& [from, to] : parsed.fields) {
    const std::string path = config::ChildPath(config::ChildPath(config_path, "fields"), from);
    if (to.empty()) return NoHook(config::KeyError(path, "must not be empty"));
    if (to == from) return NoHook(config::KeyError(path, "renames the field to itself"));
  }
  return std::make_unique<RenameHook>(std::move(id), std::move(parsed.fields));
}

std::vector<config::KeyDoc> SelectFieldsHookFactory::keys() const {
  return SelectFieldsKeys(keep_).docs();
}

std::string SelectFieldsHookFactory::example_config() const {
  return keep_ ? "{type: keep_fields, name: public, fields: [request_id, status]}"
               : "{type: drop_fields, name: secrets, fields: [password, token]}";
}

absl::StatusOr<std::unique_ptr<Hook>> SelectFieldsHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  SelectFieldsConfig parsed;
  if (absl::Status status =
          SelectFieldsKeys(keep_).Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  return std::make_unique<SelectFieldsHook>(std::move(id), std::move(parsed.fields), keep_);
}

}  // namespace sluice::pipeline::hooks
