#include "server/ingest/ingest_metrics.h"

#include <string>

namespace sluice::ingest {
namespace {

constexpr const char* kRpcNames[kRpcCount] = {"Push", "PushBatches", "Export"};
constexpr const char* kCallRefusalNames[kCallRefusalCount] = {"draining", "too_many_streams",
                                                              "too_many_peer_streams"};

}  // namespace

const char* RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kInvalidLevel:
      return "invalid_level";
    case RejectReason::kInvalidTraceId:
      return "invalid_trace_id";
    case RejectReason::kInvalidSpanId:
      return "invalid_span_id";
    case RejectReason::kRecordTooLarge:
      return "record_too_large";
    case RejectReason::kTooManyFields:
      return "too_many_fields";
    case RejectReason::kFieldKeyTooLarge:
      return "field_key_too_large";
    case RejectReason::kFieldValueTooLarge:
      return "field_value_too_large";
    case RejectReason::kInvalidUtf8:
      return "invalid_utf8";
  }
  return "unknown";
}

const char* RequestRejectReasonName(RequestRejectReason reason) {
  switch (reason) {
    case RequestRejectReason::kMalformed:
      return "malformed";
    case RequestRejectReason::kTooManyRecords:
      return "too_many_records";
    case RequestRejectReason::kTooLarge:
      return "too_large";
  }
  return "unknown";
}

IngestMetrics::IngestMetrics(prometheus::Registry& registry) {
  auto& received = prometheus::BuildCounter()
                       .Name("sluice_ingest_records_received_total")
                       .Help("Records read from ingest calls")
                       .Register(registry);
  auto& bytes = prometheus::BuildCounter()
                    .Name("sluice_ingest_bytes_received_total")
                    .Help("Serialized bytes of the records read from ingest calls")
                    .Register(registry);
  auto& active = prometheus::BuildGauge()
                     .Name("sluice_ingest_streams_active")
                     .Help("Ingest calls open now")
                     .Register(registry);
  for (size_t i = 0; i < kRpcCount; ++i) {
    received_[i] = &received.Add({{"rpc", kRpcNames[i]}});
    bytes_[i] = &bytes.Add({{"rpc", kRpcNames[i]}});
    active_[i] = &active.Add({{"rpc", kRpcNames[i]}});
  }
  auto& rejected = prometheus::BuildCounter()
                       .Name("sluice_ingest_records_rejected_total")
                       .Help("Invalid records refused at ingest, by reason")
                       .Register(registry);
  for (size_t i = 0; i < kRejectReasonCount; ++i) {
    rejected_[i] = &rejected.Add({{"reason", RejectReasonName(static_cast<RejectReason>(i))}});
  }
  auto& utf8_replaced = prometheus::BuildCounter()
                            .Name("sluice_ingest_utf8_replaced_total")
                            .Help("Records whose invalid UTF-8 was replaced with U+FFFD")
                            .Register(registry);
  auto& requests_rejected = prometheus::BuildCounter()
                                .Name("sluice_ingest_requests_rejected_total")
                                .Help("Ingest request messages refused whole, by reason")
                                .Register(registry);
  for (size_t i = 0; i < kRpcCount; ++i) {
    utf8_replaced_[i] = &utf8_replaced.Add({{"rpc", kRpcNames[i]}});
    for (size_t j = 0; j < kRequestRejectReasonCount; ++j) {
      requests_rejected_[i][j] = &requests_rejected.Add(
          {{"rpc", kRpcNames[i]},
           {"reason", RequestRejectReasonName(static_cast<RequestRejectReason>(j))}});
    }
  }
  auto& filtered = prometheus::BuildCounter()
                       .Name("sluice_ingest_records_filtered_total")
                       .Help("Records below the level threshold of their logger, by level")
                       .Register(registry);
  for (Level level : kAllLevels) {
    filtered_[static_cast<size_t>(level) - 1] =
        &filtered.Add({{"level", std::string(LevelName(level))}});
  }
  auto& refused = prometheus::BuildCounter()
                      .Name("sluice_ingest_calls_refused_total")
                      .Help("Ingest calls refused at their start, by reason")
                      .Register(registry);
  auto& idle_closed = prometheus::BuildCounter()
                          .Name("sluice_ingest_streams_idle_closed_total")
                          .Help("Ingest streams ended after ingest.stream_idle_timeout")
                          .Register(registry);
  for (size_t i = 0; i < kRpcCount; ++i) {
    for (size_t j = 0; j < kCallRefusalCount; ++j) {
      refused_[i][j] = &refused.Add({{"rpc", kRpcNames[i]}, {"reason", kCallRefusalNames[j]}});
    }
    idle_closed_[i] = &idle_closed.Add({{"rpc", kRpcNames[i]}});
  }
}

}  // namespace sluice::ingest
