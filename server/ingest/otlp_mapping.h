// OtlpMapping: how an OTLP logs export request (opentelemetry.proto.collector.logs.v1)
// becomes Sluice records. Called by OtlpLogsService on the ingest RPC, before Admission,
// so OTLP records are validated, gated and counted exactly like native ones.
//
// Per OTLP LogRecord, one sluice.v1.LogRecord:
//   level    severity_number 1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–20 ERROR,
//            21–24 FATAL. 0 (unspecified): the level severity_text names (ParseLevel's
//            spellings: "info", "WARN", "warning", ...), else INFO. A number outside 0–24
//            is carried over as an invalid level, so Admission rejects the record
//            (reason invalid_level) and the exporter sees it in partial_success.
//   message  a string body as is; any other body as JSON (bytes base64, kvlists as
//            objects); no body: empty.
//   time     time_unix_nano, else observed_time_unix_nano, else 0 (Admission stamps it).
//   logger   the instrumentation scope's name; empty without a scope.
//   trace_id, span_id  copied; Admission checks their lengths.
//   fields   resource attributes, then scope attributes, then the record's attributes: a
//            key set again later overrides the earlier value in place (the record wins
//            over its scope, the scope over its resource), so each key appears once, at
//            its first position. Strings, ints, doubles, bools and bytes keep their type;
//            arrays and kvlists become JSON strings; an attribute without a value becomes
//            a field without a value. Attributes with an empty key are skipped.
//   otlp     (v1::OtlpOrigin) what the fields above cannot hold, so that an OTLP output
//            sends the record on as it came: which fields were the resource's attributes
//            and which the scope's, the resource's and scope's schema URLs, the scope's
//            version, severity_number and severity_text as sent, a body that was not a
//            string, flags, observed_time_unix_nano, and whether time_unix_nano was unset.
// The dropped-attribute counts are not mapped.
//
// Stateless; thread-safe.
#ifndef SLUICE_SERVER_INGEST_OTLP_MAPPING_H_
#define SLUICE_SERVER_INGEST_OTLP_MAPPING_H_

#include <vector>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "server/common/otlp_values.h"
#include "server/common/record_batch.h"
#include "sluice/v1/logs.pb.h"
#include "sluice/v1/wire/otlp_logs_wire.pb.h"

namespace sluice::ingest {

// Appends one record per OTLP log record of `request` to `records`, in request order.
void AppendOtlpRecords(
    const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& request,
    RecordBatch::Records& records);

// The same mapping for a request parsed leniently (sluice.v1.wire.otlp: strings as
// unchecked bytes, which the records keep: Admission checks them). The log record at
// index i of the request (counted across resources and scopes, in request order) is
// skipped when skip[i] is set: RequestDecoder refused it before it was built.
void AppendOtlpRecords(const v1::wire::otlp::ExportLogsServiceRequest& request,
                       const std::vector<bool>& skip, RecordBatch::Records& records);

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_OTLP_MAPPING_H_
