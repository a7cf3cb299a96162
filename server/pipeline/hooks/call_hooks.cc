#include "server/pipeline/hooks/call_hooks.h"

#include <cstdint>
#include <utility>

#include "absl/container/fixed_array.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/peer_address.h"
#include "server/config/yaml_reader.h"

namespace sluice::pipeline::hooks {
namespace {

absl::StatusOr<std::unique_ptr<Hook>> NoHook(absl::Status status) { return status; }

enum class TimeFormat { kRfc3339, kUnixNanos, kUnixMillis };

struct ReceiveTimeConfig {
  std::string key = "received_at";
  TimeFormat format = TimeFormat::kRfc3339;
};

const config::KeyTable<ReceiveTimeConfig>& ReceiveTimeKeys() {
  static const auto* const table = new config::KeyTable<ReceiveTimeConfig>{
      config::StringKey("key", &ReceiveTimeConfig::key, config::StringRule::kNonEmpty,
                        "The field to set."),
      config::ChoiceKey("format", &ReceiveTimeConfig::format,
                        {{"rfc3339", TimeFormat::kRfc3339},
                         {"unix_nanos", TimeFormat::kUnixNanos},
                         {"unix_millis", TimeFormat::kUnixMillis}},
                        "`rfc3339`: a string, UTC with nanoseconds "
                        "(`2026-11-22T10:00:00.123456789Z`); `unix_nanos`, `unix_millis`: an "
                        "integer field."),
  };
  return *table;
}

// `at` as RFC 3339. The records of a message share their receive time, so the text is
// formatted once per message and thread rather than per record (FormatTime costs ~0.5 µs);
// the cache is the thread's own, so hooks stay free of shared state.
const std::string& Rfc3339(absl::Time at) {
  thread_local absl::Time formatted_at = absl::InfinitePast();
  thread_local std::string text;
  if (at != formatted_at) {
    text = absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", at, absl::UTCTimeZone());
    formatted_at = at;
  }
  return text;
}

class ReceiveTimeHook final : public Hook {
 public:
  ReceiveTimeHook(std::string id, ReceiveTimeConfig config)
      : id_(std::move(id)), config_(std::move(config)) {}
  absl::string_view id() const override { return id_; }
  Verdict OnRecord(HookRecord& record) const override {
    const absl::Time at = record.call()->received_at;
    v1::Field& field = record.SetField(config_.key);
    switch (config_.format) {
      case TimeFormat::kRfc3339:
        field.set_string_value(Rfc3339(at));
        break;
      case TimeFormat::kUnixNanos:
        field.set_int_value(absl::ToUnixNanos(at));
        break;
      case TimeFormat::kUnixMillis:
        field.set_int_value(absl::ToUnixMillis(at));
        break;
    }
    return Verdict::kKeep;
  }

 private:
  const std::string id_;
  const ReceiveTimeConfig config_;
};

struct PeerConfig {
  std::string key = "peer";
  bool with_port = false;
};

const config::KeyTable<PeerConfig>& PeerKeys() {
  static const auto* const table = new config::KeyTable<PeerConfig>{
      config::StringKey("key", &PeerConfig::key, config::StringRule::kNonEmpty,
                        "The field to set."),
      config::ChoiceKey("with_port", &PeerConfig::with_port, {{"false", false}, {"true", true}},
                        "`false`: the client's host, `127.0.0.1` or `[::1]`; `true`: with its "
                        "port, `127.0.0.1:5555`. A peer that is not an IP address (a Unix "
                        "socket) is written as gRPC names it."),
  };
  return *table;
}

class PeerHook final : public Hook {
 public:
  PeerHook(std::string id, PeerConfig config) : id_(std::move(id)), config_(std::move(config)) {}
  absl::string_view id() const override { return id_; }
  Verdict OnRecord(HookRecord& record) const override {
    WritePeerAddress(record.call()->peer, config_.with_port,
                     record.SetField(config_.key).mutable_string_value());
    return Verdict::kKeep;
  }

 private:
  const std::string id_;
  const PeerConfig config_;
};

using StringPairs = std::vector<std::pair<std::string, std::string>>;

struct MetadataConfig {
  StringPairs keys;
};

const config::KeyTable<MetadataConfig>& MetadataKeys() {
  static const auto* const table = new config::KeyTable<MetadataConfig>{
      config::StringMapKey(
          "keys", &MetadataConfig::keys, true,
          "The metadata to copy, `metadata-key: field`. Keys are lowercase, as gRPC sends them; "
          "binary (`-bin`) keys are refused. A key the call lacks sets nothing; of a repeated "
          "key the first value is copied. A value that is not printable ASCII or is over "
          "4096 bytes is not copied: the hook fails on the record, which goes on."),
  };
  return *table;
}

// True when every byte of `value` is printable ASCII, as gRPC's non-binary metadata is.
bool PrintableAscii(grpc::string_ref value) {
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

class MetadataHook final : public Hook {
 public:
  MetadataHook(std::string id, StringPairs keys) : id_(std::move(id)), keys_(std::move(keys)) {}
  absl::string_view id() const override { return id_; }
  Verdict OnRecord(HookRecord& record) const override {
    const CallMetadata& metadata = *record.call()->metadata;
    // The first value of each key (lower_bound: find may return any of a repeated key's).
    absl::FixedArray<const grpc::string_ref*, 8> values(keys_.size(), nullptr);
    for (size_t i = 0; i < keys_.size(); ++i) {
      const grpc::string_ref key(keys_[i].first);
      auto it = metadata.lower_bound(key);
      if (it == metadata.end() || it->first != key) continue;
      // Every value is checked before any is set: a failed record is left as it came.
      if (it->second.size() > MetadataHookFactory::kMaxValueBytes || !PrintableAscii(it->second)) {
        return Verdict::kFailed;
      }
      values[i] = &it->second;
    }
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (values[i] == nullptr) continue;
      record.SetField(keys_[i].second).set_string_value(values[i]->data(), values[i]->size());
    }
    return Verdict::kKeep;
  }

 private:
  const std::string id_;
  // metadata key, field key
  const StringPairs keys_;
};

struct SequenceConfig {
  std::string key = "sequence";
};

const config::KeyTable<SequenceConfig>& SequenceKeys() {
  static const auto* const table = new config::KeyTable<SequenceConfig>{
      config::StringKey("key", &SequenceConfig::key, config::StringRule::kNonEmpty,
                        "The field to set, an integer: 1 for the first record of a stream that "
                        "passed admission, then 2, 3, ... (per call for OTLP Export)."),
  };
  return *table;
}

class SequenceHook final : public Hook {
 public:
  SequenceHook(std::string id, std::string key) : id_(std::move(id)), key_(std::move(key)) {}
  absl::string_view id() const override { return id_; }
  Verdict OnRecord(HookRecord& record) const override {
    record.SetField(key_).set_int_value(static_cast<int64_t>(record.call()->sequence));
    return Verdict::kKeep;
  }

 private:
  const std::string id_;
  const std::string key_;
};

}  // namespace

std::vector<config::KeyDoc> ReceiveTimeHookFactory::keys() const {
  return ReceiveTimeKeys().docs();
}

std::string ReceiveTimeHookFactory::example_config() const {
  return "{type: receive_time, name: ingest, format: unix_millis}";
}

absl::StatusOr<std::unique_ptr<Hook>> ReceiveTimeHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  ReceiveTimeConfig parsed;
  if (absl::Status status = ReceiveTimeKeys().Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  return std::make_unique<ReceiveTimeHook>(std::move(id), std::move(parsed));
}

std::vector<config::KeyDoc> PeerHookFactory::keys() const { return PeerKeys().docs(); }

std::string PeerHookFactory::example_config() const {
  return "{type: peer, name: client, key: client_ip}";
}

absl::StatusOr<std::unique_ptr<Hook>> PeerHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  PeerConfig parsed;
  if (absl::Status status = PeerKeys().Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  return std::make_unique<PeerHook>(std::move(id), std::move(parsed));
}

std::vector<config::KeyDoc> MetadataHookFactory::keys() const { return MetadataKeys().docs(); }

std::string MetadataHookFactory::example_config() const {
  return "{type: metadata, name: tenant, keys: {x-tenant: tenant}}";
}

absl::StatusOr<std::unique_ptr<Hook>> MetadataHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  MetadataConfig parsed;
  if (absl::Status status = MetadataKeys().Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  for (const auto& [key, field] : parsed.keys) {
    const std::string path = config::ChildPath(config::ChildPath(config_path, "keys"), key);
    if (absl::AsciiStrToLower(key) != key) {
      return NoHook(config::KeyError(
          path, "metadata keys are lowercase (gRPC lowercases them); write the key in lowercase"));
    }
    if (absl::EndsWith(key, "-bin")) {
      return NoHook(config::KeyError(path, "binary (-bin) metadata cannot be copied into a field"));
    }
    if (field.empty()) return NoHook(config::KeyError(path, "must not be empty"));
  }
  return std::make_unique<MetadataHook>(std::move(id), std::move(parsed.keys));
}

std::vector<config::KeyDoc> SequenceHookFactory::keys() const { return SequenceKeys().docs(); }

std::string SequenceHookFactory::example_config() const { return "{type: sequence, name: gaps}"; }

absl::StatusOr<std::unique_ptr<Hook>> SequenceHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  SequenceConfig parsed;
  if (absl::Status status = SequenceKeys().Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  return std::make_unique<SequenceHook>(std::move(id), std::move(parsed.key));
}

}  // namespace sluice::pipeline::hooks
