// LogfmtEncoder: the `logfmt` encoding, one line of space-separated key=value pairs per
// record, as Heroku's logfmt and Go's go-logfmt read them.
//
//   time=2026-11-22T10:00:00.123456Z level=info logger=checkout.db msg="slow query"
//   trace_id=4bf9... attempt=7
//
// The record's own keys first, under their configured names (RecordKeys): time, level in
// lower case, logger (left out when empty), message (always present, `""` when empty);
// trace_id and span_id as lower-case hex when set; then the composed fields in their order.
// Ints, bools and doubles are written bare (doubles in their shortest round-trip form, NaN
// and infinities as NaN, +Inf, -Inf), bytes as base64, a field without a value as `key=`
// with nothing after the '='.
//
// Quoting keeps one record per line and every pair unambiguous: a value is quoted when it
// is empty or holds a space, '=', '"', '\\', a control character, DEL or a byte that is
// not UTF-8. Inside quotes '"' and '\\' are backslash-escaped, \n \r \t \b \f have their
// short escapes, the other control characters are \u00XX and each byte that is not UTF-8
// becomes U+FFFD, as JSON strings spell them, so go-logfmt unquotes them back. Keys
// cannot be quoted in logfmt: a space, '=', '"' or control character in a key becomes '_',
// and an empty key is written as `_`.
//
// One instance per worker (EncodingRegistry); not thread-safe. It allocates only while its
// scratch buffer grows.
#ifndef SLUICE_SERVER_OUTPUTS_ENCODERS_LOGFMT_ENCODER_H_
#define SLUICE_SERVER_OUTPUTS_ENCODERS_LOGFMT_ENCODER_H_

#include <string>

#include "server/outputs/encoder.h"
#include "server/outputs/encoders/rfc3339_formatter.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::outputs {

class LogfmtEncoder final : public Encoder {
 public:
  void Append(const ComposedRecord& record, std::string* out) override;

 private:
  void AppendValue(const v1::Field& field, std::string* out);

  Rfc3339Formatter time_;
  // The base64 of a bytes value, reused from record to record.
  std::string scratch_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_ENCODERS_LOGFMT_ENCODER_H_
