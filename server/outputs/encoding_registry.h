// EncodingRegistry: the line encodings this server can produce, each a name, a dense id and
// a factory for its Encoder (encoder.h).
//
// Outputs select an encoding by name when they are created (Find, from their config) and
// then ask each batch for its lines by id (OutputBatch::Lines): lines are formatted once
// per encoding and shared by every output that names it. An output that brings its own
// encoding adds it from its factory (Add, or FindOrAdd for one all outputs of its type
// share), without editing any central file. The built-in encodings, `text` and `json`, are
// in the registry from construction, at the fixed ids kTextEncoding and kJsonEncoding; the
// one list of them is encoders/builtin_encodings.cc.
//
// Who calls it: server/app builds one registry at start-up and hands it to the output
// factories, then to the pipeline, which makes one Encoder per encoding and worker
// (NewEncoder). Every Add happens before the pipeline is built: an id added later is not
// known to it. Not thread-safe; the start-up thread alone uses it. A config reload builds
// its new and changed outputs into a Fork() of the running registry, so that the outputs
// that go on keep their ids.
#ifndef SLUICE_SERVER_OUTPUTS_ENCODING_REGISTRY_H_
#define SLUICE_SERVER_OUTPUTS_ENCODING_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/outputs/encoder.h"

namespace sluice::outputs {

// Names an encoding of one registry: ids count from 0 in the order encodings were added,
// so they index per-encoding tables.
enum class EncodingId : uint16_t {};

inline constexpr EncodingId kTextEncoding{0};
inline constexpr EncodingId kJsonEncoding{1};

inline size_t EncodingIndex(EncodingId id) { return static_cast<size_t>(id); }

// Makes a fresh Encoder: called once per worker. May be called from any thread.
using EncoderFactory = absl::AnyInvocable<std::unique_ptr<Encoder>() const>;

class EncodingRegistry {
 public:
  // Holds the built-in encodings.
  EncodingRegistry();

  EncodingRegistry(const EncodingRegistry&) = delete;
  EncodingRegistry& operator=(const EncodingRegistry&) = delete;

  // Adds encoding `name` (not empty) and returns its id. ALREADY_EXISTS when the name is
  // taken: an encoding that depends on an output's settings is named after the output
  // ("syslog/main"), so two outputs never share it by accident.
  absl::StatusOr<EncodingId> Add(absl::string_view name, EncoderFactory factory);

  // The id of `name`, adding it with `factory` when it is not there yet: for an encoding
  // that depends on nothing but its name, which every output of a type shares.
  absl::StatusOr<EncodingId> FindOrAdd(absl::string_view name, EncoderFactory factory);

  // The id of `name`; INVALID_ARGUMENT listing the known names otherwise, e.g.
  // `unknown encoding "xml" (known: text, json)`. Callers prefix the key path.
  absl::StatusOr<EncodingId> Find(absl::string_view name) const;

  // How many encodings there are; ids are below this.
  size_t size() const { return entries_.size(); }

  // The name of `id`, which must come from this registry.
  absl::string_view name(EncodingId id) const { return entries_[EncodingIndex(id)].name; }

  // A new Encoder for `id`, which must come from this registry.
  std::unique_ptr<Encoder> NewEncoder(EncodingId id) const;

  // A registry with every encoding of this one at the same id, sharing the factories. The
  // encodings `retire` returns true for (never a built-in one) keep their id but lose
  // their name, so that a changed output can add its own encoding of that name again.
  std::unique_ptr<EncodingRegistry> Fork(absl::FunctionRef<bool(EncodingId)> retire) const;

 private:
  struct Entry {
    // Empty once retired by a Fork: Find no longer answers it.
    std::string name;
    std::shared_ptr<const EncoderFactory> factory;
  };

  // In id order; few enough that lookups by name scan.
  std::vector<Entry> entries_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_ENCODING_REGISTRY_H_
