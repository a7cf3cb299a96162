// RecordFormatter: turns one record into one output line, text or JSON.
//
//   text: 2026-11-22T10:00:00.123456Z INFO checkout.db: message trace_id=4bf9... key=value
//         key2="quoted value"
//   json: {"time":"2026-11-22T10:00:00.123456Z","level":"INFO","logger":"checkout.db",
//          "message":"message","trace_id":"4bf9...","key":"value","key2":"quoted value"}
//
// Both start with the record's own keys (time, level, logger, message; the logger is left
// out when empty; trace_id and span_id as lower-case hex when set), then the fields of
// FieldComposer in its order. Time is RFC 3339 UTC with microseconds, taken from
// time_unix_nano or, when that is 0, from the batch's receive time. Bytes are base64.
//
// Text escaping keeps one record per line: control characters and bytes that are not
// UTF-8 are written as \n, \r, \t or \xNN. The message, logger and keys are written bare;
// values are quoted ("...", with \" and \\) when empty or containing a space, '=', '"',
// '\\' or an escaped byte. JSON: strings that are not valid UTF-8 get U+FFFD for each bad
// byte, so the line is always valid JSON; NaN and infinities, which JSON numbers cannot
// express, are the strings "NaN", "+Inf", "-Inf".
//
// Hot path: one formatter per worker thread (not thread-safe), reused for every record.
// It appends to the caller's string and otherwise allocates only while its scratch space
// grows; the date and time up to the second are formatted once per second.
#ifndef SLUICE_SERVER_PIPELINE_RECORD_FORMATTER_H_
#define SLUICE_SERVER_PIPELINE_RECORD_FORMATTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/pipeline/field_composer.h"
#include "sluice/level.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::pipeline {

// The level of a record: LEVEL_UNSPECIFIED is INFO. Ingest rejects values outside the
// enum; should one get here anyway it is INFO too.
Level RecordLevel(const v1::LogRecord& record);

class RecordFormatter {
 public:
  // `composer` must outlive the formatter.
  explicit RecordFormatter(const FieldComposer& composer);
  ~RecordFormatter();

  RecordFormatter(const RecordFormatter&) = delete;
  RecordFormatter& operator=(const RecordFormatter&) = delete;

  // Appends the text line of `record`, '\n' included, to `*out`.
  void AppendText(const v1::LogRecord& record, absl::Time received_at, std::string* out);

  // Appends the JSON line of `record`, '\n' included, to `*out`.
  void AppendJson(const v1::LogRecord& record, absl::Time received_at, std::string* out);

 private:
  // RapidJSON's writer and its output stream, kept out of this header.
  struct Json;

  static constexpr size_t kTimeLength = sizeof("2026-11-22T10:00:00.123456Z") - 1;
  static constexpr size_t kSecondLength = sizeof("2026-11-22T10:00:00") - 1;

  // Writes the RFC 3339 time of `record` into `buffer`.
  void FormatTime(const v1::LogRecord& record, absl::Time received_at, char* buffer);
  void AppendTextValue(const v1::Field& field, std::string* out);
  void WriteJsonString(absl::string_view text, bool is_key);
  void WriteJsonHex(absl::string_view key, absl::string_view bytes);
  void WriteJsonValue(const v1::Field& field);

  const FieldComposer& composer_;
  std::vector<ComposedField> fields_;
  // Base64, hex or UTF-8-repaired copies of values, reused from record to record.
  std::string scratch_;
  // A string value or key escaped by hand as a JSON literal (see WriteJsonString).
  std::string literal_;
  std::unique_ptr<Json> json_;
  // The formatted date and time of cached_second_, which records of a batch mostly share.
  int64_t cached_second_;
  char cached_prefix_[kSecondLength];
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_RECORD_FORMATTER_H_
