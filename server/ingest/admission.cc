#include "server/ingest/admission.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sluice::ingest {
namespace {

constexpr size_t kTraceIdBytes = 16;
constexpr size_t kSpanIdBytes = 8;

}  // namespace

void Admission::Reject(RejectReason reason, std::string why, AdmissionResult& result) {
  ++rejected_by_reason_[static_cast<size_t>(reason)];
  ++result.rejected;
  if (result.first_rejection.empty()) result.first_rejection = std::move(why);
}

Admission::Verdict Admission::Check(v1::LogRecord& record, uint64_t now_nanos,
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
  if (!gate_.Admits(record.logger(), *level)) {
    ++filtered_by_level_[static_cast<size_t>(*level) - 1];
    ++result.filtered;
    return Verdict::kFilter;
  }
  if (record.time_unix_nano() == 0) record.set_time_unix_nano(now_nanos);
  return Verdict::kAdmit;
}

AdmissionResult Admission::Admit(google::protobuf::RepeatedPtrField<v1::LogRecord>& records,
                                 uint64_t bytes, absl::Time now) {
  AdmissionResult result;
  const uint64_t now_nanos = static_cast<uint64_t>(absl::ToUnixNanos(now));
  const int size = records.size();
  int kept = 0;
  for (int i = 0; i < size; ++i) {
    if (Check(records[i], now_nanos, result) != Verdict::kAdmit) continue;
    if (kept != i) records.SwapElements(kept, i);
    ++kept;
  }
  if (kept != size) records.DeleteSubrange(kept, size - kept);
  result.admitted = static_cast<uint32_t>(kept);

  ledger_.AddReceived(static_cast<uint64_t>(size));
  metrics_.AddReceived(rpc_, static_cast<uint64_t>(size), bytes);
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
