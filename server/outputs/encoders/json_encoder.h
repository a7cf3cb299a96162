// JsonEncoder: the `json` encoding, one JSON object per line.
//
//   {"time":"2026-11-22T10:00:00.123456Z","level":"INFO","logger":"checkout.db",
//    "message":"message","trace_id":"4bf9...","key":"value","key2":"quoted value"}
//
// The record's own keys first, under their configured names (RecordKeys): time, level,
// logger (left out when empty), message; trace_id and span_id as lower-case hex when set;
// then the composed fields in their order, typed: ints and doubles as numbers, bools,
// bytes as base64 strings, a field without a value as null. Strings that are not valid
// UTF-8 get U+FFFD for each bad byte, so the line is always valid JSON; NaN and
// infinities, which JSON numbers cannot express, are the strings "NaN", "+Inf", "-Inf".
//
// One instance per worker (EncodingRegistry); not thread-safe. It allocates only while its
// buffers grow.
#ifndef SLUICE_SERVER_OUTPUTS_ENCODERS_JSON_ENCODER_H_
#define SLUICE_SERVER_OUTPUTS_ENCODERS_JSON_ENCODER_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "server/outputs/encoder.h"
#include "server/outputs/encoders/rfc3339_formatter.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::outputs {

class JsonEncoder final : public Encoder {
 public:
  JsonEncoder();
  ~JsonEncoder() override;

  void Append(const ComposedRecord& record, std::string* out) override;

 private:
  // RapidJSON's writer and its output stream, kept out of this header.
  struct Writer;

  void WriteString(absl::string_view text, bool is_key);
  void WriteHex(absl::string_view key, absl::string_view bytes);
  void WriteValue(const v1::Field& field);

  Rfc3339Formatter time_;
  // Base64, hex or UTF-8-repaired copies of values, reused from record to record.
  std::string scratch_;
  // A string value or key escaped by hand as a JSON literal (see WriteString).
  std::string literal_;
  std::unique_ptr<Writer> json_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_ENCODERS_JSON_ENCODER_H_
