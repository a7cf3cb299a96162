// Hook, HookRecord and HookFactory: the interface of the hooks that change or drop records
// on their way to the outputs (DESIGN.md, phases 2 and 3).
//
// A post-hook runs on the scheduler's workers (HookChain, called by the Pipeline before
// formatting), on one record at a time, and never blocks or sleeps: it holds every worker
// it runs on. One instance serves every worker at once, so OnRecord is const and keeps no
// mutable state. Fields a post-hook sets are the post-hook layer, above the application's
// ad-hoc fields in the override order (FieldComposer); fields a pre-hook sets are the
// pre-hook layer, below them. HookRecord keeps the layers apart (FieldLayers).
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
#include "server/common/field_layers.h"
#include "server/config/key_doc.h"
#include "sluice/v1/logs.pb.h"

namespace YAML {
class Node;
}  // namespace YAML

namespace sluice::pipeline::hooks {

// The keys of every hook block that the config module reads (config::HookConfig).
inline constexpr absl::string_view kCommonHookKeys[] = {"type", "name"};

// When a hook type runs.
enum class HookPhase {
  kPre,   // on the ingest RPC, after admission
  kPost,  // on the workers, before formatting
};

// A record as a hook sees it: the record and its field layers. The layer of the running
// phase (pre-hook fields for a pre-hook, post-hook fields for a post-hook) is the last one
// of the record's `fields`; the hook's fields go there.
class HookRecord {
 public:
  // A record arriving at `phase` with `layers`; a pre-hook's record has only the
  // application's fields so far.
  HookRecord(v1::LogRecord& record, HookPhase phase, FieldLayers layers);
  // A record arriving at the post-hooks with only the application's fields.
  explicit HookRecord(v1::LogRecord& record)
      : HookRecord(record, HookPhase::kPost, FieldLayers::AllAdHoc(record.fields_size())) {}

  v1::LogRecord& record() { return record_; }
  const v1::LogRecord& record() const { return record_; }
  // The record's layers as the hooks so far left them.
  FieldLayers layers() const;

  // Sets `key` in the running phase's layer: replaces the field of that layer with that
  // key, or appends one.
  v1::Field& SetField(absl::string_view key);
  // Removes every field, of any layer, for which `remove` is true; the others keep their
  // order and layer.
  void RemoveFieldsIf(absl::FunctionRef<bool(const v1::Field&)> remove);
  // Moves the field at `index` into the running phase's layer under `key`: a renamed
  // field is the hook's doing, so it wins over a field of a weaker layer with `key`.
  void RenameField(int index, absl::string_view key);

 private:
  // Where the running phase's layer begins.
  int own_begin() const { return phase_ == HookPhase::kPre ? adhoc_end_ : pre_end_; }

  v1::LogRecord& record_;
  const HookPhase phase_;
  int adhoc_end_;
  // Meaningful for post-hooks only: under a pre-hook the pre-hook layer runs to the end.
  int pre_end_;
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
