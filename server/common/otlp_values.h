// OTLP values in Sluice's terms, shared by OTLP ingest (server/ingest/otlp_mapping.h),
// which maps severities and non-string values into records, and the outputs that send
// records back out as OTLP (server/outputs/otlp/), which check that a record still says
// what its OTLP origin said before they restore it.
//
// Stateless; thread-safe.
#ifndef SLUICE_SERVER_COMMON_OTLP_VALUES_H_
#define SLUICE_SERVER_COMMON_OTLP_VALUES_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "sluice/v1/logs.pb.h"
#include "sluice/v1/wire/otlp_logs_wire.pb.h"

namespace sluice {

// The Sluice level of an OTLP severity: severity_number 1–4 TRACE, 5–8 DEBUG, 9–12 INFO,
// 13–16 WARN, 17–20 ERROR, 21–24 FATAL. 0 (unspecified): the level severity_text names
// (ParseLevel's spellings: "info", "WARN", "warning", ...), else INFO. A number outside
// 0–24 is carried over as an invalid level, which Admission rejects.
v1::Level OtlpSeverityToLevel(int severity_number, absl::string_view severity_text);

// `value` as compact JSON: strings quoted, bytes as base64 strings, arrays and kvlists
// nested (a kvlist's repeated key is written as many times as it occurs), no value: null,
// NaN and infinities as the strings "NaN", "+Inf", "-Inf" (as the JSON formatter does).
// The second form reads the lenient twin (strings as unchecked bytes) alike.
std::string OtlpValueToJson(const opentelemetry::proto::common::v1::AnyValue& value);
std::string OtlpValueToJson(const v1::wire::otlp::AnyValue& value);

// Appends `bytes` after their length as a varint32: a key of v1::OtlpOrigin's key lists, a
// part of the otlp output's frames, or (after a tag) a length-delimited protobuf field.
void AppendLengthPrefixed(absl::string_view bytes, std::string* out);

// Reads the length-prefixed part at the front of `*lines` and removes it; nullopt (and
// `*lines` untouched) when `*lines` does not start with a whole part.
std::optional<absl::string_view> NextLengthPrefixed(absl::string_view* lines);

// Whether v1::OtlpOrigin's key list `keys` (AppendLengthPrefixed keys) holds `key`; false
// past a malformed part.
bool HasOtlpKey(absl::string_view keys, absl::string_view key);

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_OTLP_VALUES_H_
