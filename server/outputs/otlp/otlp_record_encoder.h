// OtlpRecordEncoder: the OTLP output's encoding. Turns each composed record into one OTLP
// LogRecord, with the resource and the instrumentation scope it belongs to, so that the
// output's sender only groups ready bytes into ExportLogsServiceRequests.
//
// Who calls it: pipeline::RecordFormatter on the worker threads, like every Encoder
// (encoder.h); the otlp output registers it under its own id, because it depends on the
// output's `resource_keys`, and the kafka output under another for `encoding: otlp_proto`.
// They read the frames back with NextOtlpFrame().
//
// A record becomes (the inverse of Sluice's OTLP ingest mapping, server/ingest/otlp_mapping.h):
//   time_unix_nano   the record's time (the receive time when it had none)
//   severity_number  TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21
//   severity_text    "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"
//   body             the message, as a string
//   trace_id, span_id  as they are
//   scope name       the logger
//   resource         the composed fields whose key is one of `resource_keys`, or starts with
//                    one that ends in '.' ("service." takes "service.name")
//   attributes       the other composed fields (base fields and the hooks' included), typed:
//                    strings, ints, doubles, bools and bytes keep their type, a field
//                    without a value becomes an attribute without one
// A record that came in over OTLP (ComposedRecord::otlp) goes out as it came instead:
//   - the application's fields whose keys were its resource's attributes go to the
//     resource, those that were its scope's to the scope, the others to the record
//     (`resource_keys` still places base and hook fields);
//   - the resource's and scope's schema URLs, the scope's version, flags and
//     observed_time_unix_nano as they were, and time_unix_nano 0 if it was unset;
//   - severity_number and severity_text as sent, unless the record's level has changed
//     since (a hook), which takes the canonical pair above;
//   - a body that was not a string, unless the message is no longer its JSON; no body for
//     an empty message.
// Text that is not UTF-8 has each bad byte replaced by U+FFFD, as OTLP's strings must be.
//
// Framing kFrames (the otlp output): a record is a frame of three length-prefixed parts
// (varint32 lengths): a serialized ResourceLogs with its resource and schema URL but no
// scope_logs, a serialized ScopeLogs with its scope and schema URL but no log_records, and
// the serialized LogRecord. Records with equal first parts share a ResourceLogs; appending
// fields 2 to the first two parts completes them. Framing kRequests (Kafka's messages): a
// record is one length-prefixed part, a serialized ExportLogsServiceRequest (the wire form
// of OTLP's LogsData too) that holds the record with its resource and scope.
#ifndef SLUICE_SERVER_OUTPUTS_OTLP_OTLP_RECORD_ENCODER_H_
#define SLUICE_SERVER_OUTPUTS_OTLP_OTLP_RECORD_ENCODER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "server/common/otlp_values.h"
#include "server/outputs/encoder.h"

namespace sluice::outputs {

// One record as the encoder framed it; views into the lines.
struct OtlpFrame {
  absl::string_view resource_logs;  // a ResourceLogs without scope_logs
  absl::string_view scope_logs;     // a ScopeLogs without log_records
  absl::string_view log_record;     // an opentelemetry.proto.logs.v1.LogRecord
};

// Reads the frame at the front of `*lines` and removes it; nullopt when `*lines` is empty or
// does not start with a whole frame.
std::optional<OtlpFrame> NextOtlpFrame(absl::string_view* lines);

// The tags of the length-delimited fields 1 and 2, all the OTLP messages built from frames use.
inline constexpr char kOtlpField1Tag = 0x0A;
inline constexpr char kOtlpField2Tag = 0x12;

// Appends the length-delimited protobuf field `tag` (a one-byte tag) holding `bytes`.
void AppendLengthDelimited(char tag, absl::string_view bytes, std::string* out);

// Whether a field with `key` goes to the resource under `resource_keys` (see the top).
bool IsResourceKey(absl::string_view key, const std::vector<std::string>& resource_keys);

enum class OtlpFraming { kFrames, kRequests };

class OtlpRecordEncoder final : public Encoder {
 public:
  OtlpRecordEncoder(std::vector<std::string> resource_keys, OtlpFraming framing);

  void Append(const ComposedRecord& record, std::string* out) override;

 private:
  const std::vector<std::string> resource_keys_;
  const OtlpFraming framing_;
  // Reused for every record, so their memory is allocated once.
  opentelemetry::proto::logs::v1::LogRecord log_record_;
  opentelemetry::proto::logs::v1::ResourceLogs resource_logs_;
  opentelemetry::proto::logs::v1::ScopeLogs scope_logs_;
  opentelemetry::proto::common::v1::AnyValue body_;
  std::string scratch_;
  std::string scope_part_;
  std::string resource_part_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_OTLP_OTLP_RECORD_ENCODER_H_
