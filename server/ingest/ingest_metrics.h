// IngestMetrics: what ingest counts, registered once at start-up with every label set.
//
//   sluice_ingest_records_received_total{rpc}     records read off the wire
//   sluice_ingest_bytes_received_total{rpc}       their serialized size
//   sluice_ingest_records_rejected_total{reason}  invalid records refused (the stream goes on)
//   sluice_ingest_utf8_replaced_total{rpc}        records whose invalid UTF-8 was replaced
//   sluice_ingest_requests_rejected_total{rpc,reason}  whole messages refused by the decoder
//   sluice_ingest_records_filtered_total{level}   records below their logger's threshold
//   sluice_ingest_streams_active{rpc}             ingest calls open now
//   sluice_ingest_calls_refused_total{rpc,reason} calls refused at their start
//   sluice_ingest_streams_idle_closed_total{rpc}  streams ended by stream_idle_timeout
//
// Reactors add per batch, not per record (see Admission), so the hot path touches these
// atomics a few times per batch.
#ifndef SLUICE_SERVER_INGEST_INGEST_METRICS_H_
#define SLUICE_SERVER_INGEST_INGEST_METRICS_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "sluice/level.h"

namespace sluice::ingest {

// The ingest calls: LogService.Push, LogService.PushBatches and OTLP LogsService.Export.
enum class Rpc : uint8_t { kPush = 0, kPushBatches = 1, kExport = 2 };
inline constexpr size_t kRpcCount = 3;

// Why a record was refused; the `reason` label. kRecordTooLarge .. kFieldValueTooLarge are
// the ingest.max_* limits; kInvalidUtf8 is ingest.invalid_utf8: reject.
enum class RejectReason : uint8_t {
  kInvalidLevel = 0,
  kInvalidTraceId,
  kInvalidSpanId,
  kRecordTooLarge,
  kTooManyFields,
  kFieldKeyTooLarge,
  kFieldValueTooLarge,
  kInvalidUtf8,
};
inline constexpr size_t kRejectReasonCount = 8;
const char* RejectReasonName(RejectReason reason);

// Why a whole call was refused at its start; the `reason` label.
enum class CallRefusal : uint8_t {
  kDraining = 0,        // intake closed (drain, shutdown)
  kTooManyStreams,      // ingest.max_concurrent_streams
  kTooManyPeerStreams,  // ingest.max_streams_per_peer
};
inline constexpr size_t kCallRefusalCount = 3;

// Why a whole request message was refused (INVALID_ARGUMENT or RESOURCE_EXHAUSTED, see
// request_decoder.h); the `reason` label of sluice_ingest_requests_rejected_total.
enum class RequestRejectReason : uint8_t {
  kMalformed = 0,   // not a parsable message of the call's request type
  kTooManyRecords,  // over ingest.max_batch_records
  kTooLarge,        // OTLP: records would expand past the bound on what a request may cost
};
inline constexpr size_t kRequestRejectReasonCount = 3;
const char* RequestRejectReasonName(RequestRejectReason reason);

class IngestMetrics {
 public:
  explicit IngestMetrics(prometheus::Registry& registry);

  void AddReceived(Rpc rpc, uint64_t records, uint64_t bytes) {
    received_[Index(rpc)]->Increment(static_cast<double>(records));
    bytes_[Index(rpc)]->Increment(static_cast<double>(bytes));
  }
  void AddRejected(RejectReason reason, uint64_t records) {
    rejected_[static_cast<size_t>(reason)]->Increment(static_cast<double>(records));
  }
  // Records of `rpc` with at least one invalid UTF-8 sequence replaced by U+FFFD.
  void AddUtf8Replaced(Rpc rpc, uint64_t records) {
    utf8_replaced_[Index(rpc)]->Increment(static_cast<double>(records));
  }
  // One request message of `rpc` refused whole.
  void AddRequestRejected(Rpc rpc, RequestRejectReason reason) {
    requests_rejected_[Index(rpc)][static_cast<size_t>(reason)]->Increment();
  }
  void AddFiltered(Level level, uint64_t records) {
    filtered_[static_cast<size_t>(level) - 1]->Increment(static_cast<double>(records));
  }
  void StreamOpened(Rpc rpc) { active_[Index(rpc)]->Increment(); }
  void StreamClosed(Rpc rpc) { active_[Index(rpc)]->Decrement(); }
  void AddCallRefused(Rpc rpc, CallRefusal reason) {
    refused_[Index(rpc)][static_cast<size_t>(reason)]->Increment();
  }
  void AddIdleClosed(Rpc rpc) { idle_closed_[Index(rpc)]->Increment(); }

 private:
  static size_t Index(Rpc rpc) { return static_cast<size_t>(rpc); }

  std::array<prometheus::Counter*, kRpcCount> received_;
  std::array<prometheus::Counter*, kRpcCount> bytes_;
  std::array<prometheus::Counter*, kRejectReasonCount> rejected_;
  std::array<prometheus::Counter*, 6> filtered_;
  std::array<prometheus::Counter*, kRpcCount> utf8_replaced_;
  std::array<std::array<prometheus::Counter*, kRequestRejectReasonCount>, kRpcCount>
      requests_rejected_;
  std::array<prometheus::Gauge*, kRpcCount> active_;
  std::array<std::array<prometheus::Counter*, kCallRefusalCount>, kRpcCount> refused_;
  std::array<prometheus::Counter*, kRpcCount> idle_closed_;
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_INGEST_METRICS_H_
