// Admission: phase 2 of a record's life (DESIGN.md), run synchronously on the ingest RPC.
//
// For each record: validate it (level value, trace/span id lengths, the ingest.max_* record
// limits: serialized size, number of fields, key and value sizes), stamp the receive time
// when the client set none, and apply the level gate. Refused records are taken out of the
// batch in place (the order of the others is kept) and counted — rejected by reason,
// filtered by level — in the ledger and the ingest metrics. Only cheap checks belong here;
// the expensive work happens on the workers.
//
// Records decoded by a RequestDecoder (request_decoder.h) come with a DecodeResult: when
// it says their strings are unverified, each record's logger, message, field keys and
// string values are checked for UTF-8 first and ingest.invalid_utf8 applied to that
// record alone (replace: each invalid sequence becomes U+FFFD, counted in
// sluice_ingest_utf8_replaced_total; reject: reason invalid_utf8). Records the decoder
// refused before building them count as received and rejected here, so the books balance.
//
// Then the pre-hooks (`hooks.pre`, when configured: SetPreHooks) run over the admitted
// records, on the RPC: each record takes the stream's next sequence number (so only
// admitted records are numbered, and a gap a consumer sees is a loss after admission or a
// record a post-hook dropped), the hooks set its pre-hook fields, and the field layers of
// the records go to the batch (RecordBatch::field_layers). Records a pre-hook drops leave
// the batch, count in the ledger's dropped_by_hook and are answered as delivered, like
// those a post-hook drops. Without pre-hooks none of this costs anything.
//
// One Admission per stream, used by one thread at a time (the stream's reactor holds its
// lock).
#ifndef SLUICE_SERVER_INGEST_ADMISSION_H_
#define SLUICE_SERVER_INGEST_ADMISSION_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/common/field_layers.h"
#include "server/common/ledger.h"
#include "server/config/config.h"
#include "server/ingest/ingest_metrics.h"
#include "server/ingest/request_decoder.h"
#include "server/levels/level_gate.h"
#include "server/pipeline/hooks/hook_chain.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::ingest {

// What Admit did to one batch.
struct AdmissionResult {
  uint32_t admitted = 0;
  uint32_t filtered = 0;
  // Includes the records the decoder refused before building them.
  uint32_t rejected = 0;
  // Records with at least one invalid UTF-8 sequence replaced (admitted or not).
  uint32_t utf8_replaced = 0;
  // Of the admitted records, those a pre-hook dropped: no longer in the batch, answered
  // as delivered.
  uint32_t dropped_by_hook = 0;
  // Why the first refused record was refused; empty when none was.
  std::string first_rejection;
};

class Admission {
 public:
  // `limits` (the record limits of the ingest config) must outlive the Admission.
  Admission(const config::IngestConfig& limits, const levels::LevelTable& levels, Ledger& ledger,
            IngestMetrics& metrics, Rpc rpc)
      : limits_(limits), gate_(levels), ledger_(ledger), metrics_(metrics), rpc_(rpc) {}
  // Not copyable: the pre-hooks' HookCall views the Admission's own copy of the peer.
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // Runs `pre_hooks` (which must outlive the Admission) over the records admitted from
  // now on. `peer` is the call's grpc::ServerContextBase::peer(), `metadata` its client
  // metadata, valid while the call lasts.
  void SetPreHooks(const pipeline::hooks::HookChain& pre_hooks, std::string peer,
                   const pipeline::hooks::CallMetadata& metadata);

  // Every record admitted from now on carries `tenant` as its only `tenant` field: fields
  // of that key the client or a pre-hook set get its value, and a record without one gets
  // one. Set once per call, from its token (ingest.tokens_file); empty: nothing changes.
  void SetTenant(std::string tenant) { tenant_ = std::move(tenant); }

  // Admits the records of `records` in place. Each record's serialized size is computed
  // once, here: for the max_record_bytes limit and for sluice_ingest_bytes_received_total.
  // The strings of `records` must be valid UTF-8 (a strict parse checked them). With
  // pre-hooks, `*layers` (required then; nullable without) gets the field layers of each admitted
  // record, in order; it is left empty otherwise.
  AdmissionResult Admit(google::protobuf::RepeatedPtrField<v1::LogRecord>& records, absl::Time now,
                        std::vector<FieldLayers>* layers = nullptr);
  // Admits records a RequestDecoder decoded, as `decoded` describes them: checks their
  // strings when they are unverified, and counts the records it refused.
  AdmissionResult Admit(google::protobuf::RepeatedPtrField<v1::LogRecord>& records, absl::Time now,
                        const DecodeResult& decoded, std::vector<FieldLayers>* layers = nullptr);

 private:
  enum class Verdict { kAdmit, kFilter, kReject };
  Verdict Check(v1::LogRecord& record, size_t bytes, uint64_t now_nanos, AdmissionResult& result);
  // True when `record` (of `bytes` serialized) is within every size limit; otherwise
  // rejects it.
  bool WithinLimits(const v1::LogRecord& record, size_t bytes, AdmissionResult& result);
  void Reject(RejectReason reason, std::string why, AdmissionResult& result);
  void StampTenant(google::protobuf::RepeatedPtrField<v1::LogRecord>& records) const;
  // Applies ingest.invalid_utf8 to the strings of `record`; false when it rejected the
  // record, else `replaced` says whether any string changed.
  bool ApplyUtf8Policy(v1::LogRecord& record, bool& replaced, AdmissionResult& result);

  const config::IngestConfig& limits_;
  levels::LevelGate gate_;
  Ledger& ledger_;
  IngestMetrics& metrics_;
  const Rpc rpc_;
  const pipeline::hooks::HookChain* pre_hooks_ = nullptr;
  // HookCall::peer views it.
  std::string peer_;
  std::string tenant_;
  // The stream's call as the pre-hooks see it; its sequence runs across messages.
  pipeline::hooks::HookCall call_;
  std::array<uint32_t, 6> filtered_by_level_{};
  std::array<uint32_t, kRejectReasonCount> rejected_by_reason_{};
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_ADMISSION_H_
