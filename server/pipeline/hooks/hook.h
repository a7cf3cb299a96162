// Hook, HookRecord and HookFactory: the interface of the hooks that change or drop records
// on their way to the outputs (DESIGN.md, phases 2 and 3).
//
// A post-hook runs on the scheduler's workers (HookChain, called by the Pipeline before
// formatting), on one record at a time, and never blocks or sleeps: it holds every worker
// it runs on. One instance serves every worker at once, so OnRecord is const and keeps no
// mutable state. Fields a post-hook sets are the post-hook layer, above the application's
// ad-hoc fields in the override order (FieldComposer); HookRecord keeps the two apart.
//
// A factory per type reads the hook's block with the config's YAML reader and a table of its
// keys, like the output factories (server/outputs/output_registry.h); builtin_hooks.cc
// lists them. The hook registry (hook_registry.h) calls Create at start-up.
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_HOOK_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_HOOK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/key_doc.h"
#include "sluice/v1/logs.pb.h"

namespace YAML {
class Node;
}  // namespace YAML

namespace sluice::pipeline::hooks {

// The keys of every hook block that the config module reads (config::HookConfig).
inline constexpr absl::string_view kCommonHookKeys[] = {"type", "name"};

// A record as a post-hook sees it: the record, whose fields [0, adhoc_fields()) are the
// application's and the rest the post-hook layer.
class HookRecord {
 public:
  explicit HookRecord(v1::LogRecord& record)
      : record_(record), adhoc_fields_(record.fields_size()) {}

  v1::LogRecord& record() { return record_; }
  const v1::LogRecord& record() const { return record_; }
  int adhoc_fields() const { return adhoc_fields_; }

  // Sets `key` in the post-hook layer: replaces the post-hook field with that key, or
  // appends one.
  v1::Field& SetPostField(absl::string_view key);
  // Removes every field, of either layer, for which `remove` is true; the others keep their
  // order and layer.
  void RemoveFieldsIf(absl::FunctionRef<bool(const v1::Field&)> remove);
  // Moves the field at `index` into the post-hook layer under `key`: a renamed field is a
  // post-hook's doing, so it wins over a field that already has `key`.
  void RenameField(int index, absl::string_view key);

 private:
  v1::LogRecord& record_;
  int adhoc_fields_;
};

class Hook {
 public:
  enum class Verdict {
    kKeep,
    kDrop,
    // The hook could not handle this record and left it as it was; the record goes on.
    kFailed,
  };

  virtual ~Hook() = default;
  // "type/name", the label of the hook's metrics.
  virtual absl::string_view id() const = 0;
  virtual Verdict OnRecord(HookRecord& record) const = 0;
};

// When a hook type runs.
enum class HookPhase {
  kPre,   // on the ingest RPC, before the level gate
  kPost,  // on the workers, before formatting
};

// Creates hooks of one type. Stateless; the registry owns it.
class HookFactory {
 public:
  virtual ~HookFactory() = default;

  // The `type:` value this factory answers to, e.g. "add_fields".
  virtual absl::string_view type() const = 0;
  virtual HookPhase phase() const = 0;
  // The keys of this type's block besides kCommonHookKeys.
  virtual std::vector<config::KeyDoc> keys() const = 0;
  // A minimal block that creates a working hook, as YAML text.
  virtual std::string example_config() const = 0;
  // Validates `config` (the whole block, common keys included; errors name keys from
  // `config_path`) and builds a hook with id `id`.
  virtual absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                                       const std::string& config_path) const = 0;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_HOOK_H_
