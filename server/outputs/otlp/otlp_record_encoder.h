// OtlpRecordEncoder: the OTLP output's encoding. Turns each composed record into one OTLP
// LogRecord, with the resource and the instrumentation scope it belongs to, so that the
// output's sender only groups ready bytes into ExportLogsServiceRequests.
//
// Who calls it: pipeline::RecordFormatter on the worker threads, like every Encoder
// (encoder.h); the otlp output registers it under its own id, because it depends on the
// output's `resource_keys`. OtlpOutput reads the frames back with NextOtlpFrame().
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
// Text that is not UTF-8 has each bad byte replaced by U+FFFD, as OTLP's strings must be.
//
// A frame is three length-prefixed parts (varint32 lengths): the serialized Resource, the
// scope name, the serialized LogRecord.
#ifndef SLUICE_SERVER_OUTPUTS_OTLP_OTLP_RECORD_ENCODER_H_
#define SLUICE_SERVER_OUTPUTS_OTLP_OTLP_RECORD_ENCODER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "server/outputs/encoder.h"

namespace sluice::outputs {

// One record as the encoder framed it; views into the lines.
struct OtlpFrame {
  absl::string_view resource;  // a serialized opentelemetry.proto.resource.v1.Resource
  absl::string_view scope_name;
  absl::string_view log_record;  // a serialized opentelemetry.proto.logs.v1.LogRecord
};

// Reads the frame at the front of `*lines` and removes it; nullopt when `*lines` is empty or
// does not start with a whole frame.
std::optional<OtlpFrame> NextOtlpFrame(absl::string_view* lines);

// Appends `bytes` after their length as a varint32: a part of a frame, or (after a tag) a
// length-delimited protobuf field.
void AppendLengthPrefixed(absl::string_view bytes, std::string* out);

// Whether a field with `key` goes to the resource under `resource_keys` (see the top).
bool IsResourceKey(absl::string_view key, const std::vector<std::string>& resource_keys);

class OtlpRecordEncoder final : public Encoder {
 public:
  explicit OtlpRecordEncoder(std::vector<std::string> resource_keys);

  void Append(const ComposedRecord& record, std::string* out) override;

 private:
  const std::vector<std::string> resource_keys_;
  // Reused for every record, so their memory is allocated once.
  opentelemetry::proto::logs::v1::LogRecord log_record_;
  opentelemetry::proto::resource::v1::Resource resource_;
  std::string scratch_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_OTLP_OTLP_RECORD_ENCODER_H_
