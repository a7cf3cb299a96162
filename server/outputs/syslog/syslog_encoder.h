// SyslogEncoder: the encoding of a syslog output, one RFC 5424 message per record, each
// framed by octet counting (RFC 6587 §3.4.1): "LEN SP SYSLOG-MSG", no terminator.
//
//   133 <134>1 2026-11-22T10:00:00.123456Z web-1 sluiced - checkout.db
//   [fields@32473 order="42" note="a \"quoted\\ value\]"] payment accepted
//   (one line, broken here)
//
// The frame is what TCP sends as is; UDP sends the SYSLOG-MSG after the prefix, one
// datagram each. Frames are self-delimiting, so a message may hold any byte, '\n'
// included, and the output never scans for line ends.
//
// The parts of SYSLOG-MSG:
//   PRI        facility * 8 + severity; severity from the level: TRACE and DEBUG 7 (debug),
//              INFO 6 (informational), WARN 4 (warning), ERROR 3 (error), FATAL 2 (critical).
//   VERSION    1.
//   TIMESTAMP  the record's time, RFC 3339 UTC with microseconds (Rfc3339Formatter).
//   HOSTNAME, APP-NAME  from the output's config, already checked to be printable ASCII.
//   PROCID     "-": the record's process is not known here.
//   MSGID      the logger, each byte outside printable ASCII (33..126) replaced by '_' and
//              cut to 32 bytes; "-" when the record has none.
//   STRUCTURED-DATA  one SD-ELEMENT with SD-ID kSdId holding trace_id and span_id (hex,
//              when set) and the composed fields, in that order; "-" when there are none.
//              A PARAM-NAME keeps printable ASCII except '=', ' ', ']' and '"', the rest
//              replaced by '_', cut to 32 bytes; an empty key is left out. A PARAM-VALUE
//              escapes '"', '\' and ']' with '\' (§6.3.3); bytes that are not UTF-8
//              become U+FFFD. Typed values are spelled as in the text encoding (integers,
//              shortest round-trip doubles, NaN/+Inf/-Inf, true/false, bytes as base64).
//   MSG        the message as it is, without a BOM (MSG-ANY: most receivers print a BOM
//              as garbage); left out with its space when empty.
//
// With a max_message_bytes (the UDP transport), a SYSLOG-MSG longer than that is cut: the
// MSG first, at a UTF-8 boundary; if the header and STRUCTURED-DATA alone do not fit, the
// STRUCTURED-DATA becomes "-" too. Each cut record counts once in `truncated`, since a
// record is encoded once however often its batch is retried.
//
// Who calls it: the pipeline's RecordFormatter, on a worker thread, through the encoding
// the syslog output adds at creation (EncodingRegistry). One instance per worker; not
// thread-safe. The settings it shares are immutable.
#ifndef SLUICE_SERVER_OUTPUTS_SYSLOG_SYSLOG_ENCODER_H_
#define SLUICE_SERVER_OUTPUTS_SYSLOG_SYSLOG_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "server/outputs/encoder.h"
#include "server/outputs/encoders/rfc3339_formatter.h"
#include "sluice/level.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::outputs {

// The SD-ID of the element the fields go in: a name of our own with an enterprise number
// that is not an IANA-registered SD-ID (RFC 5424 §7.2.2 reserves the ones without '@').
inline constexpr absl::string_view kSyslogSdId = "fields@32473";

// The most bytes of a PARAM-NAME, an SD-NAME (RFC 5424 §6.3.3) and of a MSGID.
inline constexpr size_t kSyslogNameMax = 32;

// RFC 5424 severities.
int SyslogSeverity(Level level);

struct SyslogFormat {
  int facility = 16;  // local0
  std::string hostname = "-";
  std::string app_name = "sluiced";
  // 0: no limit (TCP).
  size_t max_message_bytes = 0;
  // Called once per truncated record; may be empty. Must be thread-safe.
  std::function<void()> on_truncated;
};

class SyslogEncoder final : public Encoder {
 public:
  explicit SyslogEncoder(std::shared_ptr<const SyslogFormat> format) : format_(std::move(format)) {}

  void Append(const ComposedRecord& record, std::string* out) override;

 private:
  void AppendValue(const v1::Field& field, std::string* out);

  const std::shared_ptr<const SyslogFormat> format_;
  Rfc3339Formatter time_;
  // The SYSLOG-MSG before its length goes in front, and a typed value's spelling.
  std::string message_;
  std::string value_;
};

// Splits the frame at the front of `*frames` off: returns its SYSLOG-MSG and removes the
// frame from `*frames`. Returns false (leaving `*frames` as it is) when it does not start
// with a whole frame.
bool NextSyslogFrame(absl::string_view* frames, absl::string_view* message);

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_SYSLOG_SYSLOG_ENCODER_H_
