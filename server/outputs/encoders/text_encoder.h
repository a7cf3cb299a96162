// TextEncoder: the `text` encoding, one human-readable line per record.
//
//   2026-11-22T10:00:00.123456Z INFO checkout.db: message trace_id=4bf9... key=value
//   key2="quoted value"
//
// Time (Rfc3339Formatter), level name, the logger followed by ':' (left out when empty),
// the message (left out when empty), trace_id and span_id as lower-case hex when set, then
// the composed fields as key=value. The record keys' configured names (RecordKeys) do not
// appear: the positions say what is what. Bytes are base64; doubles are written in their
// shortest round-trip form, NaN and infinities as NaN, +Inf, -Inf.
//
// Escaping keeps one record per line: control characters and bytes that are not UTF-8 are
// written as \n, \r, \t or \xNN. The message, logger and keys are written bare; values are
// quoted ("...", with \" and \\) when empty or containing a space, '=', '"', '\\' or an
// escaped byte.
//
// One instance per worker (EncodingRegistry); not thread-safe.
#ifndef SLUICE_SERVER_OUTPUTS_ENCODERS_TEXT_ENCODER_H_
#define SLUICE_SERVER_OUTPUTS_ENCODERS_TEXT_ENCODER_H_

#include <string>

#include "server/outputs/encoder.h"
#include "server/outputs/encoders/rfc3339_formatter.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::outputs {

class TextEncoder final : public Encoder {
 public:
  void Append(const ComposedRecord& record, std::string* out) override;

 private:
  void AppendValue(const v1::Field& field, std::string* out);

  Rfc3339Formatter time_;
  // The base64 of a bytes value, reused from record to record.
  std::string scratch_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_ENCODERS_TEXT_ENCODER_H_
