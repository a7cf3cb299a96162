#include "server/ingest/admission.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/common/utf8.h"

namespace sluice::ingest {
namespace {

constexpr size_t kTraceIdBytes = 16;
constexpr size_t kSpanIdBytes = 8;

// "<what>: invalid UTF-8 at byte N" when `text` is not valid UTF-8, else empty.
std::string Utf8Error(absl::string_view what, absl::string_view text) {
  const size_t valid = ValidUtf8Prefix(text);
  if (valid == text.size()) return std::string();
  return absl::StrCat(what, ": invalid UTF-8 at byte ", valid);
}

}  // namespace

bool Admission::ApplyUtf8Policy(v1::LogRecord& record, bool& replaced, AdmissionResult& result) {
  replaced = false;
  if (limits_.invalid_utf8 == config::InvalidUtf8Policy::kReplace) {
    size_t count = ReplaceInvalidUtf8(*record.mutable_logger()) +
                   ReplaceInvalidUtf8(*record.mutable_message());
    for (v1::Field& field : *record.mutable_fields()) {
      count += ReplaceInvalidUtf8(*field.mutable_key());
      if (field.has_string_value()) count += ReplaceInvalidUtf8(*field.mutable_string_value());
    }
    replaced = count > 0;
    return true;
  }
  std::string why = Utf8Error("logger", record.logger());
  if (why.empty()) why = Utf8Error("message", record.message());
  for (int i = 0; why.empty() && i < record.fields_size(); ++i) {
    const v1::Field& field = record.fields(i);
    why = Utf8Error(absl::StrCat("fields[", i, "].key"), field.key());
    if (why.empty() && field.has_string_value()) {
      why = Utf8Error(absl::StrCat("fields[", i, "] \"", absl::CHexEscape(field.key()), "\""),
                      field.string_value());
    }
  }
  if (why.empty()) return true;
  Reject(RejectReason::kInvalidUtf8, std::move(why), result);
  return false;
}

void Admission::Reject(RejectReason reason, std::string why, AdmissionResult& result) {
  ++rejected_by_reason_[static_cast<size_t>(reason)];
  ++result.rejected;
  if (result.first_rejection.empty()) result.first_rejection = std::move(why);
}

bool Admission::WithinLimits(const v1::LogRecord& record, size_t bytes, AdmissionResult& result) {
  if (bytes > limits_.max_record_bytes) {
    Reject(RejectReason::kRecordTooLarge,
           absl::StrCat("record: ", bytes, " bytes, over ingest.max_record_bytes (",
                        limits_.max_record_bytes, ")"),
           result);
    return false;
  }
  if (const int fields = record.fields_size();
      static_cast<uint32_t>(fields) > limits_.max_fields_per_record) {
    Reject(RejectReason::kTooManyFields,
           absl::StrCat("fields: ", fields, " fields, over ingest.max_fields_per_record (",
                        limits_.max_fields_per_record, ")"),
           result);
    return false;
  }
  for (int i = 0; i < record.fields_size(); ++i) {
    const v1::Field& field = record.fields(i);
    if (field.key().size() > limits_.max_field_key_bytes) {
      Reject(RejectReason::kFieldKeyTooLarge,
             absl::StrCat("fields[", i, "].key: ", field.key().size(),
                          " bytes, over ingest.max_field_key_bytes (", limits_.max_field_key_bytes,
                          ")"),
             result);
      return false;
    }
    size_t value_bytes = 0;
    if (field.has_string_value()) value_bytes = field.string_value().size();
    if (field.has_bytes_value()) value_bytes = field.bytes_value().size();
    if (value_bytes > limits_.max_field_value_bytes) {
      Reject(RejectReason::kFieldValueTooLarge,
             absl::StrCat("fields[", i, "] \"", absl::CHexEscape(field.key()), "\": value of ",
                          value_bytes, " bytes, over ingest.max_field_value_bytes (",
                          limits_.max_field_value_bytes, ")"),
             result);
      return false;
    }
  }
  return true;
}

Admission::Verdict Admission::Check(v1::LogRecord& record, size_t bytes, uint64_t now_nanos,
                                    AdmissionResult& result) {
  const absl::StatusOr<Level> level = LevelFromProto(record.level());
  if (!level.ok()) {
    Reject(RejectReason::kInvalidLevel,
           absl::StrCat("level: ", record.level(), " is not a sluice.v1.Level value"), result);
    return Verdict::kReject;
  }
  if (!record.trace_id().empty() && record.trace_id().size() != kTraceIdBytes) {
    Reject(RejectReason::kInvalidTraceId,
           absl::StrCat("trace_id: ", record.trace_id().size(), " bytes, expected 16"), result);
    return Verdict::kReject;
  }
  if (!record.span_id().empty() && record.span_id().size() != kSpanIdBytes) {
    Reject(RejectReason::kInvalidSpanId,
           absl::StrCat("span_id: ", record.span_id().size(), " bytes, expected 8"), result);
    return Verdict::kReject;
  }
  if (!WithinLimits(record, bytes, result)) return Verdict::kReject;
  if (!gate_.Admits(record.logger(), *level)) {
    ++filtered_by_level_[static_cast<size_t>(*level) - 1];
    ++result.filtered;
    return Verdict::kFilter;
  }
  if (record.time_unix_nano() == 0) record.set_time_unix_nano(now_nanos);
  return Verdict::kAdmit;
}

void Admission::StampTenant(google::protobuf::RepeatedPtrField<v1::LogRecord>& records) const {
  for (v1::LogRecord& record : records) {
    bool found = false;
    // Every field of the key, in every layer: whichever the outputs show is the tenant.
    for (v1::Field& field : *record.mutable_fields()) {
      if (field.key() != "tenant") continue;
      field.set_string_value(tenant_);
      found = true;
    }
    if (!found) {
      v1::Field* field = record.add_fields();
      field->set_key("tenant");
      field->set_string_value(tenant_);
    }
  }
}

void Admission::SetPreHooks(const pipeline::hooks::HookChain& pre_hooks, std::string peer,
                            const pipeline::hooks::CallMetadata& metadata) {
  pre_hooks_ = &pre_hooks;
  peer_ = std::move(peer);
  call_.peer = peer_;
  call_.metadata = &metadata;
}

AdmissionResult Admission::Admit(google::protobuf::RepeatedPtrField<v1::LogRecord>& records,
                                 absl::Time now, std::vector<FieldLayers>* layers) {
  return Admit(records, now, DecodeResult{}, layers);
}

AdmissionResult Admission::Admit(google::protobuf::RepeatedPtrField<v1::LogRecord>& records,
                                 absl::Time now, const DecodeResult& decoded,
                                 std::vector<FieldLayers>* layers) {
  AdmissionResult result;
  // The decoder's refusals come first: they are counted before anything else is looked at.
  if (decoded.refused > 0) {
    rejected_by_reason_[static_cast<size_t>(decoded.refused_reason)] += decoded.refused;
    result.rejected = decoded.refused;
    result.first_rejection = decoded.first_refusal;
  }
  const uint64_t now_nanos = static_cast<uint64_t>(absl::ToUnixNanos(now));
  const int size = records.size();
  uint64_t total_bytes = decoded.refused_bytes;
  int kept = 0;
  // The decoder's wire sizes when it has one per record; protobuf's otherwise.
  const bool wire_sizes = decoded.record_bytes.size() == static_cast<size_t>(size);
  for (int i = 0; i < size; ++i) {
    size_t bytes = wire_sizes ? decoded.record_bytes[i] : records[i].ByteSizeLong();
    total_bytes += bytes;
    if (decoded.utf8_unverified) {
      bool replaced;
      if (!ApplyUtf8Policy(records[i], replaced, result)) continue;
      // Each replaced byte may have grown to three: the limits apply to what is kept.
      if (replaced) {
        ++result.utf8_replaced;
        bytes = records[i].ByteSizeLong();
      }
      if (Check(records[i], bytes, now_nanos, result) != Verdict::kAdmit) continue;
    } else if (Check(records[i], bytes, now_nanos, result) != Verdict::kAdmit) {
      continue;
    }
    if (kept != i) records.SwapElements(kept, i);
    ++kept;
  }
  if (kept != size) records.DeleteSubrange(kept, size - kept);
  result.admitted = static_cast<uint32_t>(kept);
  if (pre_hooks_ != nullptr) {
    if (layers == nullptr) {
      // The pre-hooks' fields would reach the outputs as the application's.
      std::fprintf(stderr, "admission: pre-hooks set but no field layers to fill\n");
      std::abort();
    }
    call_.received_at = now;
    result.dropped_by_hook = static_cast<uint32_t>(pre_hooks_->RunPre(records, call_, layers));
  }
  // After the pre-hooks, so that what they set from the call's metadata is replaced too.
  if (!tenant_.empty()) StampTenant(records);

  const uint64_t received = static_cast<uint64_t>(size) + decoded.refused;
  ledger_.AddReceived(received);
  if (result.dropped_by_hook > 0) ledger_.AddDroppedByHook(result.dropped_by_hook);
  metrics_.AddReceived(rpc_, received, total_bytes);
  if (result.utf8_replaced > 0) metrics_.AddUtf8Replaced(rpc_, result.utf8_replaced);
  if (result.filtered > 0) {
    ledger_.AddFiltered(result.filtered);
    for (size_t i = 0; i < filtered_by_level_.size(); ++i) {
      if (filtered_by_level_[i] == 0) continue;
      metrics_.AddFiltered(static_cast<Level>(i + 1), filtered_by_level_[i]);
      filtered_by_level_[i] = 0;
    }
  }
  if (result.rejected > 0) {
    ledger_.AddRejected(result.rejected);
    for (size_t i = 0; i < rejected_by_reason_.size(); ++i) {
      if (rejected_by_reason_[i] == 0) continue;
      metrics_.AddRejected(static_cast<RejectReason>(i), rejected_by_reason_[i]);
      rejected_by_reason_[i] = 0;
    }
  }
  return result;
}

}  // namespace sluice::ingest
