// ClickHouseRowEncoder: the `clickhouse_row` encoding, one JSONEachRow object per record,
// the rows the clickhouse output (clickhouse_output.h) inserts. Its keys are the columns of
// the documented table, whatever the pipeline's key names:
//
//   {"time":1764669600,"time_ns":1764669600123456789,"level":"INFO","logger":"checkout.db",
//    "message":"paid","trace_id":"4bf9...","span_id":"","fields.key":["user","ms"],
//    "fields.value":["ada","12"]}
//
// `time` is whole seconds for a DateTime column, `time_ns` the full nanoseconds for a
// UInt64 one; both are clamped to what those types hold (times before 1970 become 0, and
// `time` stops at 2106). `level` is the name an Enum8 of the level names takes. trace_id and
// span_id are lower-case hex, empty when unset. The composed fields go in their order into
// the two arrays of a Nested `fields` column, every value as a string: ints and doubles in
// their shortest round-trip form (NaN, +Inf, -Inf), bools as true/false, bytes as base64,
// a field without a value as "". Strings that are not UTF-8 get U+FFFD for each bad byte,
// as in the json encoding.
//
// Made per worker by the EncodingRegistry (the clickhouse factory adds it); not
// thread-safe.
#ifndef SLUICE_SERVER_OUTPUTS_CLICKHOUSE_CLICKHOUSE_ROW_ENCODER_H_
#define SLUICE_SERVER_OUTPUTS_CLICKHOUSE_CLICKHOUSE_ROW_ENCODER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/outputs/encoder.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::outputs {

inline constexpr absl::string_view kClickHouseRowEncoding = "clickhouse_row";

class ClickHouseRowEncoder final : public Encoder {
 public:
  void Append(const ComposedRecord& record, std::string* out) override;

 private:
  // Appends `text` as a JSON string, repairing bytes that are not UTF-8.
  void AppendString(absl::string_view text, std::string* out);
  // Appends the value of `field` as a JSON string.
  void AppendValue(const ComposedField& field, std::string* out);

  // Repaired, base64 or hex copies of values, reused from record to record.
  std::string scratch_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_CLICKHOUSE_CLICKHOUSE_ROW_ENCODER_H_
