// Admission: phase 2 of a record's life (DESIGN.md), run synchronously on the ingest RPC.
//
// For each record: validate it (level value, trace/span id lengths, the ingest.max_* record
// limits: serialized size, number of fields, key and value sizes), stamp the receive time
// when the client set none, and apply the level gate. Refused records are taken out of the
// batch in place (the order of the others is kept) and counted — rejected by reason,
// filtered by level — in the ledger and the ingest metrics. Only cheap checks belong here;
// the expensive work happens on the workers.
//
// One Admission per stream, used by one thread at a time (the stream's reactor holds its
// lock). Pre-hooks (peer address, tenant, sequence numbers) will run here too.
#ifndef SLUICE_SERVER_INGEST_ADMISSION_H_
#define SLUICE_SERVER_INGEST_ADMISSION_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/admin/level_gate.h"
#include "server/common/ledger.h"
#include "server/config/config.h"
#include "server/ingest/ingest_metrics.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::ingest {

// What Admit did to one batch.
struct AdmissionResult {
  uint32_t admitted = 0;
  uint32_t filtered = 0;
  uint32_t rejected = 0;
  // Why the first refused record was refused; empty when none was.
  std::string first_rejection;
};

class Admission {
 public:
  // `limits` (the record limits of the ingest config) must outlive the Admission.
  Admission(const config::IngestConfig& limits, const admin::LevelTable& levels, Ledger& ledger,
            IngestMetrics& metrics, Rpc rpc)
      : limits_(limits), gate_(levels), ledger_(ledger), metrics_(metrics), rpc_(rpc) {}

  // Admits the records of `records` in place. Each record's serialized size is computed
  // once, here: for the max_record_bytes limit and for sluice_ingest_bytes_received_total.
  AdmissionResult Admit(google::protobuf::RepeatedPtrField<v1::LogRecord>& records, absl::Time now);

 private:
  enum class Verdict { kAdmit, kFilter, kReject };
  Verdict Check(v1::LogRecord& record, size_t bytes, uint64_t now_nanos, AdmissionResult& result);
  // True when `record` (of `bytes` serialized) is within every size limit; otherwise
  // rejects it.
  bool WithinLimits(const v1::LogRecord& record, size_t bytes, AdmissionResult& result);
  void Reject(RejectReason reason, std::string why, AdmissionResult& result);

  const config::IngestConfig& limits_;
  admin::LevelGate gate_;
  Ledger& ledger_;
  IngestMetrics& metrics_;
  const Rpc rpc_;
  std::array<uint32_t, 6> filtered_by_level_{};
  std::array<uint32_t, kRejectReasonCount> rejected_by_reason_{};
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_ADMISSION_H_
