#include "server/outputs/encoding_registry.h"

#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/outputs/encoders/builtin_encodings.h"

namespace sluice::outputs {

EncodingRegistry::EncodingRegistry() { RegisterBuiltinEncodings(*this); }

absl::StatusOr<EncodingId> EncodingRegistry::Add(absl::string_view name, EncoderFactory factory) {
  if (name.empty()) return absl::InvalidArgumentError("an encoding needs a name");
  if (Find(name).ok()) {
    return absl::AlreadyExistsError(absl::StrCat("encoding \"", name, "\" exists already"));
  }
  if (entries_.size() > std::numeric_limits<std::underlying_type_t<EncodingId>>::max()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("no id left for encoding \"", name, "\" after ", entries_.size()));
  }
  entries_.push_back(
      Entry{std::string(name), std::make_shared<const EncoderFactory>(std::move(factory))});
  return static_cast<EncodingId>(entries_.size() - 1);
}

absl::StatusOr<EncodingId> EncodingRegistry::FindOrAdd(absl::string_view name,
                                                       EncoderFactory factory) {
  if (absl::StatusOr<EncodingId> found = Find(name); found.ok()) return found;
  return Add(name, std::move(factory));
}

absl::StatusOr<EncodingId> EncodingRegistry::Find(absl::string_view name) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i].name.empty() && entries_[i].name == name) return static_cast<EncodingId>(i);
  }
  std::vector<absl::string_view> known;
  for (const Entry& entry : entries_) {
    if (!entry.name.empty()) known.push_back(entry.name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown encoding \"", name, "\" (known: ", absl::StrJoin(known, ", "), ")"));
}

std::unique_ptr<Encoder> EncodingRegistry::NewEncoder(EncodingId id) const {
  return (*entries_[EncodingIndex(id)].factory)();
}

std::unique_ptr<EncodingRegistry> EncodingRegistry::Fork(
    absl::FunctionRef<bool(EncodingId)> retire) const {
  auto fork = std::make_unique<EncodingRegistry>();
  const size_t builtins = fork->entries_.size();
  fork->entries_ = entries_;
  for (size_t i = builtins; i < fork->entries_.size(); ++i) {
    if (retire(static_cast<EncodingId>(i))) fork->entries_[i].name.clear();
  }
  return fork;
}

}  // namespace sluice::outputs
