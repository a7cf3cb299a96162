// OutputOptions: typed, validated reads of one output's YAML block, for output factories.
//
// The config module parses `type`, `name` and `level` of every block in `outputs:` and
// hands the whole block to the factory of `type` (config::OutputConfig::options). The
// factory declares the keys it knows; Create() rejects any other key, and each getter
// checks the shape and range of its value. Every error is INVALID_ARGUMENT starting with
// the key path, e.g. "outputs.file/main.buffer_bytes: must be between 0 and 67108864".
//
// Used at start-up only, from one thread. yaml-cpp exceptions do not escape.
#ifndef SLUICE_SERVER_OUTPUTS_OUTPUT_OPTIONS_H_
#define SLUICE_SERVER_OUTPUTS_OUTPUT_OPTIONS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "server/outputs/encoding_registry.h"
#include "yaml-cpp/yaml.h"

namespace sluice::outputs {

class OutputOptions {
 public:
  // Fails when the block is not a map or holds a key outside `known`; `type`, `name` and
  // `level` are always allowed (the config module already read them). An absent block is
  // an empty one, so every key takes its default.
  static absl::StatusOr<OutputOptions> Create(const config::OutputConfig& config,
                                              std::initializer_list<absl::string_view> known);

  // "outputs.<type>/<name>.<key>": how errors (and factories) name a key.
  std::string KeyPath(absl::string_view key) const;

  // The getters leave `*value` untouched when `key` is absent, so callers initialise it
  // with the default.
  absl::Status GetString(absl::string_view key, std::string* value) const;
  // Like GetString, but an absent or empty value is an error.
  absl::Status GetRequiredString(absl::string_view key, std::string* value) const;
  // A non-negative integer within [min, max].
  absl::Status GetUint64(absl::string_view key, uint64_t min, uint64_t max, uint64_t* value) const;
  // An absl::ParseDuration string ("250ms", "1s", "1m") within [min, max].
  absl::Status GetDuration(absl::string_view key, absl::Duration min, absl::Duration max,
                           absl::Duration* value) const;
  // `text` or `json`: the built-in encodings, kTextEncoding and kJsonEncoding.
  absl::Status GetFormat(absl::string_view key, EncodingId* value) const;

  // One of the spellings in `choices`; the error lists them all.
  template <typename T>
  absl::Status GetChoice(absl::string_view key,
                         std::initializer_list<std::pair<absl::string_view, T>> choices,
                         T* value) const {
    if (Find(key) == nullptr) return absl::OkStatus();
    std::string text;
    if (absl::Status status = GetScalar(key, &text); !status.ok()) return status;
    for (const auto& [spelling, choice] : choices) {
      if (text == spelling) {
        *value = choice;
        return absl::OkStatus();
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(
        KeyPath(key), ": must be one of ",
        absl::StrJoin(choices, ", ",
                      [](std::string* out, const std::pair<absl::string_view, T>& choice) {
                        absl::StrAppend(out, choice.first);
                      }),
        " (got \"", text, "\")"));
  }

 private:
  OutputOptions(std::string id, std::vector<std::pair<std::string, YAML::Node>> entries);

  const YAML::Node* Find(absl::string_view key) const;
  // The scalar text of `key`, which must be present, or an error naming what was found.
  absl::Status GetScalar(absl::string_view key, std::string* text) const;

  std::string id_;
  // The block's entries in file order; blocks are small, so lookups scan.
  std::vector<std::pair<std::string, YAML::Node>> entries_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_OUTPUT_OPTIONS_H_
