// The pre-hooks, which add what the ingest call knows to each record it admitted:
// receive_time, peer, metadata and sequence. Their factories are listed in
// builtin_hooks.cc; docs/CONFIG.md documents their keys from the factories' tables.
//
// They run on the RPC (HookChain::RunPre, from ingest's Admission) and read only the
// record's HookCall, which Admission fills once per call and message: a few field sets per
// record, no allocation beyond the field's strings, no locks. The fields they set are
// pre-hook fields: above pipeline.base_fields, below the application's ad-hoc fields.
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_CALL_HOOKS_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_CALL_HOOKS_H_

#include <memory>
#include <string>
#include <vector>

#include "server/pipeline/hooks/hook.h"

namespace sluice::pipeline::hooks {

// The server's receive time of the record's message, as RFC 3339 or a Unix number.
class ReceiveTimeHookFactory final : public HookFactory {
 public:
  absl::string_view type() const override { return "receive_time"; }
  HookPhase phase() const override { return HookPhase::kPre; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;
};

// The client's address, without gRPC's "ipv4:"/"ipv6:" scheme; the port on request.
class PeerHookFactory final : public HookFactory {
 public:
  absl::string_view type() const override { return "peer"; }
  HookPhase phase() const override { return HookPhase::kPre; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;
};

// Chosen gRPC metadata of the call as string fields, `metadata-key: field`.
class MetadataHookFactory final : public HookFactory {
 public:
  // A longer value is not copied: the hook fails on the record instead.
  static constexpr size_t kMaxValueBytes = 4096;

  absl::string_view type() const override { return "metadata"; }
  HookPhase phase() const override { return HookPhase::kPre; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;
};

// The record's position in its stream (HookCall::sequence), so that a consumer sees gaps.
class SequenceHookFactory final : public HookFactory {
 public:
  absl::string_view type() const override { return "sequence"; }
  HookPhase phase() const override { return HookPhase::kPre; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_CALL_HOOKS_H_
