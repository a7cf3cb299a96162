// The one YAML reader of Sluice's configuration: a section (of the server's file, or an
// output's block) is a table of keys, each declared once with its name, type, default,
// bounds and a one-line description, in the spirit of Fluent Bit's config map.
//
// Who calls it: server/config reads the server's sections with it; each output factory
// (server/outputs/<type>/) declares its block's table and reads its block with it; the
// reference generator (config_reference.h) renders docs/CONFIG.md's key tables from the
// same tables, so the documentation cannot drift from what is accepted.
//
// One error style: INVALID_ARGUMENT whose message starts with the key path, then ": ",
// then what is wrong ("scheduler.workers: must be between 1 and 256, got 0"). One key-path
// style: keys joined with dots, list items by their index, keys that are not plain
// identifiers quoted ("outputs[1].path", "levels.rules[\"checkout.db\"]"). One duration
// rule: a number with a unit ("0s", "250ms", "1m30s"); a bare number, "0" included, is
// refused with a hint.
//
// A default is the value of the field in a default-constructed section struct, so the
// documented default is the one the code uses. Used at start-up only, from one thread;
// yaml-cpp exceptions do not escape.
#ifndef SLUICE_SERVER_CONFIG_YAML_READER_H_
#define SLUICE_SERVER_CONFIG_YAML_READER_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/config/key_doc.h"
#include "sluice/level.h"
#include "yaml-cpp/yaml.h"

namespace sluice::config {

// What `node` is, for messages: "\"four\"", "a sequence", "an empty value".
std::string DescribeValue(const YAML::Node& node);

// INVALID_ARGUMENT "<path>: <what>".
absl::Status KeyError(absl::string_view path, absl::string_view what);
// "<path>: expected <expected>, got <what node is>".
absl::Status ExpectedError(absl::string_view path, absl::string_view expected,
                           const YAML::Node& node);
// The path of `key` inside the map at `parent` ("" for the document root).
std::string ChildPath(absl::string_view parent, absl::string_view key);
// The path of item `index` of the sequence at `parent`.
std::string ItemPath(absl::string_view parent, size_t index);

// "host:port" with port 0..65535 (0 = any free port); host may be a name, IPv4 or [IPv6].
absl::Status ValidateListenAddress(absl::string_view address);

using EntryHandler = std::function<absl::Status(const std::string& key, const YAML::Node& value,
                                                const std::string& key_path)>;

// Calls `handle` for each entry of the map at `path`, in file order. An absent or empty
// node is an empty map. `duplicate_what` names what a repeated key is ("key", "rule
// prefix"); yaml-cpp keeps duplicates, so they are caught here.
absl::Status ForEachEntry(const YAML::Node& node, absl::string_view path,
                          absl::string_view duplicate_what, const EntryHandler& handle);

// Value readers: each checks the shape and range of `node` and names `path` when it fails.
// ReadString refuses a YAML null (a bare `null` or `~`) with a hint to quote it.
absl::Status ReadString(const YAML::Node& node, absl::string_view path, std::string& out);
absl::Status ReadInteger(const YAML::Node& node, absl::string_view path, int64_t min, int64_t max,
                         int64_t& out);
absl::Status ReadDuration(const YAML::Node& node, absl::string_view path, absl::Duration min,
                          absl::Duration max, absl::Duration& out);
absl::Status ReadLevel(const YAML::Node& node, absl::string_view path, Level& out);
absl::Status ReadListenAddress(const YAML::Node& node, absl::string_view path, std::string& out);
// A sequence of non-empty strings; an absent or empty node is an empty list.
absl::Status ReadStringList(const YAML::Node& node, absl::string_view path,
                            std::vector<std::string>& out);
// A map of strings to strings, in file order; keys are non-empty and not repeated.
absl::Status ReadStringMap(const YAML::Node& node, absl::string_view path,
                           std::vector<std::pair<std::string, std::string>>& out);
// `node` must be one of `keywords`; returns its index.
absl::Status ReadKeyword(const YAML::Node& node, absl::string_view path,
                         absl::Span<const absl::string_view> keywords, size_t& index);

// How a duration is written in the documentation: "5ms", "0s".
std::string DurationText(absl::Duration duration);

// One key of a section `S`: its documentation and how its value lands in an `S`.
template <typename S>
struct Key {
  KeyDoc doc = {};
  bool required = false;
  std::function<absl::Status(const YAML::Node& value, const std::string& path, S& out)> read = {};
};

namespace internal {

// Reads the map at `path`: dispatches each entry to the key of `names` it matches, by
// index; an entry matching none is an error listing `names` and `also_known` (keys other
// code reads from the same block), unless `others_are_read_elsewhere`. `seen[i]` tells
// whether names[i] was present.
absl::Status ReadMap(const YAML::Node& node, absl::string_view path,
                     absl::Span<const absl::string_view> names,
                     absl::Span<const absl::string_view> also_known, bool others_are_read_elsewhere,
                     const std::function<absl::Status(size_t key, const YAML::Node& value,
                                                      const std::string& path)>& read,
                     std::vector<bool>& seen);

absl::Status MissingRequiredKey(absl::string_view path, absl::string_view key);

}  // namespace internal

// The keys of a section `S`, in the order the documentation lists them.
template <typename S>
class KeyTable {
 public:
  KeyTable(std::initializer_list<Key<S>> keys) : keys_(keys) {
    for (const Key<S>& key : keys_) names_.push_back(key.doc.name);
  }

  // Reads the map at `path` into `out`: a key absent keeps its value in `out`, an unknown
  // key is an error listing the known ones (`also_known` are keys of the same block that
  // other code reads, such as an output's `type`). An absent or empty node is an empty map.
  absl::Status Read(const YAML::Node& node, absl::string_view path, S& out,
                    absl::Span<const absl::string_view> also_known = {}) const {
    return ReadImpl(node, path, out, also_known, false);
  }

  // Like Read, but keys outside the table are left for whoever reads the rest of the
  // block (the output's factory, for an output block's common keys).
  absl::Status ReadSome(const YAML::Node& node, absl::string_view path, S& out) const {
    return ReadImpl(node, path, out, {}, true);
  }

  std::vector<KeyDoc> docs() const {
    std::vector<KeyDoc> docs;
    for (const Key<S>& key : keys_) docs.push_back(key.doc);
    return docs;
  }

  absl::Span<const absl::string_view> names() const { return names_; }

 private:
  absl::Status ReadImpl(const YAML::Node& node, absl::string_view path, S& out,
                        absl::Span<const absl::string_view> also_known,
                        bool others_are_read_elsewhere) const {
    std::vector<bool> seen;
    absl::Status status = internal::ReadMap(
        node, path, names_, also_known, others_are_read_elsewhere,
        [&](size_t key, const YAML::Node& value, const std::string& key_path) {
          return keys_[key].read(value, key_path, out);
        },
        seen);
    if (!status.ok()) return status;
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i].required && !seen[i]) return internal::MissingRequiredKey(path, names_[i]);
    }
    return absl::OkStatus();
  }

  std::vector<Key<S>> keys_;
  std::vector<absl::string_view> names_;
};

// Binders: one per key type, each pointing at the field of `S` the key fills. The
// documented default comes from `S{}`.

// An integer in [min, max], no unit or suffix.
template <typename S, typename T>
Key<S> IntegerKey(absl::string_view name, T S::*field, int64_t min, int64_t max,
                  absl::string_view description) {
  return {.doc = {.name = std::string(name),
                  .type = "integer",
                  .default_value = absl::StrCat("`", S{}.*field, "`"),
                  .range = absl::StrCat(min, "..", max),
                  .description = std::string(description)},
          .read = [field, min, max](const YAML::Node& value, const std::string& path, S& out) {
            int64_t number = 0;
            if (absl::Status status = ReadInteger(value, path, min, max, number); !status.ok()) {
              return status;
            }
            out.*field = static_cast<T>(number);
            return absl::OkStatus();
          }};
}

template <typename S>
Key<S> DurationKey(absl::string_view name, absl::Duration S::*field, absl::Duration min,
                   absl::Duration max, absl::string_view description) {
  return {.doc = {.name = std::string(name),
                  .type = "duration",
                  .default_value = absl::StrCat("`", DurationText(S{}.*field), "`"),
                  .range = absl::StrCat(DurationText(min), "..", DurationText(max)),
                  .description = std::string(description)},
          .read = [field, min, max](const YAML::Node& value, const std::string& path, S& out) {
            return ReadDuration(value, path, min, max, out.*field);
          }};
}

// What a string key accepts beyond being a string.
enum class StringRule {
  kAny,
  kNonEmpty,
  kRequired,  // must be given, and not empty
};

template <typename S>
Key<S> StringKey(absl::string_view name, std::string S::*field, StringRule rule,
                 absl::string_view description) {
  return {
      .doc = {.name = std::string(name),
              .type = "string",
              .default_value = rule == StringRule::kRequired ? std::string("required")
                                                             : absl::StrCat("`", S{}.*field, "`"),
              .description = std::string(description)},
      .required = rule == StringRule::kRequired,
      .read = [field, rule](const YAML::Node& value, const std::string& path, S& out) {
        if (absl::Status status = ReadString(value, path, out.*field); !status.ok()) {
          return status;
        }
        if (rule != StringRule::kAny && (out.*field).empty()) {
          return KeyError(path, "must not be empty");
        }
        return absl::OkStatus();
      }};
}

// A listen address, "host:port".
template <typename S>
Key<S> AddressKey(absl::string_view name, std::string S::*field, absl::string_view description) {
  return {.doc = {.name = std::string(name),
                  .type = "address",
                  .default_value = absl::StrCat("`\"", S{}.*field, "\"`"),
                  .description = std::string(description)},
          .read = [field](const YAML::Node& value, const std::string& path, S& out) {
            return ReadListenAddress(value, path, out.*field);
          }};
}

template <typename S>
Key<S> LevelKey(absl::string_view name, Level S::*field, absl::string_view description) {
  return {.doc = {.name = std::string(name),
                  .type = "level",
                  .default_value = absl::StrCat("`", LevelKeyword(S{}.*field), "`"),
                  .description = std::string(description)},
          .read = [field](const YAML::Node& value, const std::string& path, S& out) {
            return ReadLevel(value, path, out.*field);
          }};
}

// One of a few keywords, each naming a value of `T` (usually an enum); `choices` is in
// the order the documentation and the error message list them.
template <typename S, typename T>
Key<S> ChoiceKey(absl::string_view name, T S::*field,
                 std::vector<std::pair<absl::string_view, T>> choices,
                 absl::string_view description) {
  std::vector<absl::string_view> keywords;
  std::string type;
  std::string default_value;
  const T default_choice = S{}.*field;
  for (const auto& [keyword, choice] : choices) {
    keywords.push_back(keyword);
    absl::StrAppend(&type, type.empty() ? "" : " \\| ", "`", keyword, "`");
    if (choice == default_choice) default_value = absl::StrCat("`", keyword, "`");
  }
  return {.doc = {.name = std::string(name),
                  .type = std::move(type),
                  .default_value = std::move(default_value),
                  .description = std::string(description)},
          .read = [field, keywords = std::move(keywords), choices = std::move(choices)](
                      const YAML::Node& value, const std::string& path, S& out) {
            size_t index = 0;
            if (absl::Status status = ReadKeyword(value, path, keywords, index); !status.ok()) {
              return status;
            }
            out.*field = choices[index].second;
            return absl::OkStatus();
          }};
}

// A list of non-empty strings (`[a, b]`); `required` keys must be given and not empty.
template <typename S>
Key<S> StringListKey(absl::string_view name, std::vector<std::string> S::*field, bool required,
                     absl::string_view description) {
  return {.doc = {.name = std::string(name),
                  .type = "list of strings",
                  .default_value = required ? "required" : "`[]`",
                  .description = std::string(description)},
          .required = required,
          .read = [field, required](const YAML::Node& value, const std::string& path, S& out) {
            (out.*field).clear();
            if (absl::Status status = ReadStringList(value, path, out.*field); !status.ok()) {
              return status;
            }
            if (required && (out.*field).empty()) return KeyError(path, "must not be empty");
            return absl::OkStatus();
          }};
}

// A map of strings (`{a: x, b: y}`), in file order; `required` keys must be given and not
// empty.
template <typename S>
Key<S> StringMapKey(absl::string_view name,
                    std::vector<std::pair<std::string, std::string>> S::*field, bool required,
                    absl::string_view description) {
  return {.doc = {.name = std::string(name),
                  .type = "map of strings",
                  .default_value = required ? "required" : "`{}`",
                  .description = std::string(description)},
          .required = required,
          .read = [field, required](const YAML::Node& value, const std::string& path, S& out) {
            (out.*field).clear();
            if (absl::Status status = ReadStringMap(value, path, out.*field); !status.ok()) {
              return status;
            }
            if (required && (out.*field).empty()) return KeyError(path, "must not be empty");
            return absl::OkStatus();
          }};
}

// A key with its own reader, for values no binder above fits (maps such as levels.rules).
template <typename S>
Key<S> CustomKey(KeyDoc doc,
                 std::function<absl::Status(const YAML::Node&, const std::string&, S&)> read) {
  return {.doc = std::move(doc), .read = std::move(read)};
}

// Changes what the documentation gives as the default, for a default that depends on
// other keys ("the type").
template <typename S>
Key<S> WithDefaultText(Key<S> key, absl::string_view default_value) {
  key.doc.default_value = std::string(default_value);
  return key;
}

}  // namespace sluice::config

#endif  // SLUICE_SERVER_CONFIG_YAML_READER_H_
