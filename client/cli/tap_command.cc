#include "client/cli/tap_command.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "client/cli/connection.h"
#include "client/cli/flags.h"
#include "client/cli/usage.h"
#include "grpcpp/grpcpp.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "sluice/level.h"
#include "sluice/v1/admin.grpc.pb.h"

ABSL_FLAG(uint32_t, sample, 0, "tap: print one in this many of the matching records (0: all).");
ABSL_FLAG(std::string, format, "text", "tap: text or json, one record per line.");
ABSL_FLAG(uint64_t, count, 0, "tap: exit after this many records (0: until interrupted).");

namespace sluice::cli {

namespace {

constexpr char kNoticeLogger[] = "sluice.tap";

std::string Rfc3339(uint64_t unix_nanos) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ",
                          absl::FromUnixNanos(static_cast<int64_t>(unix_nanos)),
                          absl::UTCTimeZone());
}

// Control characters as escapes, so that one record stays one line.
void AppendTextEscaped(absl::string_view s, bool quoted, std::string* out) {
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out->append("\\n");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (quoted && (c == '"' || c == '\\')) {
      out->push_back('\\');
      out->push_back(c);
    } else if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(out, "\\x%02x", byte);
    } else {
      out->push_back(c);
    }
  }
}

void AppendTextValue(absl::string_view s, std::string* out) {
  const bool quote = s.empty() || s.find_first_of(" =\"\\") != absl::string_view::npos;
  if (quote) out->push_back('"');
  AppendTextEscaped(s, quote, out);
  if (quote) out->push_back('"');
}

std::string FieldText(const v1::Field& field) {
  switch (field.value_case()) {
    case v1::Field::kStringValue:
      return field.string_value();
    case v1::Field::kIntValue:
      return absl::StrCat(field.int_value());
    case v1::Field::kDoubleValue:
      return absl::StrCat(field.double_value());
    case v1::Field::kBoolValue:
      return field.bool_value() ? "true" : "false";
    case v1::Field::kBytesValue:
      return absl::Base64Escape(field.bytes_value());
    case v1::Field::VALUE_NOT_SET:
      break;
  }
  return "";
}

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteJsonString(absl::string_view s, JsonWriter& writer) {
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Numbers and booleans as JSON's own; a double JSON cannot hold (NaN, infinities) and
// every other value as its text.
void WriteJsonValue(const v1::Field& field, JsonWriter& writer) {
  switch (field.value_case()) {
    case v1::Field::kIntValue:
      writer.Int64(field.int_value());
      return;
    case v1::Field::kBoolValue:
      writer.Bool(field.bool_value());
      return;
    case v1::Field::kDoubleValue:
      if (std::isfinite(field.double_value())) {
        writer.Double(field.double_value());
        return;
      }
      break;
    default:
      break;
  }
  WriteJsonString(FieldText(field), writer);
}

}  // namespace

std::string FormatTapText(const v1::LogRecord& record) {
  std::string line =
      absl::StrCat(Rfc3339(record.time_unix_nano()), " ", ProtoLevelName(record.level()));
  if (!record.logger().empty()) {
    line.push_back(' ');
    AppendTextEscaped(record.logger(), /*quoted=*/false, &line);
    line.push_back(':');
  }
  if (!record.message().empty()) {
    line.push_back(' ');
    AppendTextEscaped(record.message(), /*quoted=*/false, &line);
  }
  if (!record.trace_id().empty()) {
    absl::StrAppend(&line, " trace_id=", absl::BytesToHexString(record.trace_id()));
  }
  if (!record.span_id().empty()) {
    absl::StrAppend(&line, " span_id=", absl::BytesToHexString(record.span_id()));
  }
  for (const v1::Field& field : record.fields()) {
    line.push_back(' ');
    AppendTextEscaped(field.key(), /*quoted=*/false, &line);
    line.push_back('=');
    AppendTextValue(FieldText(field), &line);
  }
  return line;
}

std::string FormatTapJson(const v1::LogRecord& record) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("time");
  WriteJsonString(Rfc3339(record.time_unix_nano()), writer);
  writer.Key("level");
  WriteJsonString(ProtoLevelName(record.level()), writer);
  writer.Key("logger");
  WriteJsonString(record.logger(), writer);
  writer.Key("message");
  WriteJsonString(record.message(), writer);
  if (!record.trace_id().empty()) {
    writer.Key("trace_id");
    WriteJsonString(absl::BytesToHexString(record.trace_id()), writer);
  }
  if (!record.span_id().empty()) {
    writer.Key("span_id");
    WriteJsonString(absl::BytesToHexString(record.span_id()), writer);
  }
  if (record.fields_size() > 0) {
    writer.Key("fields");
    writer.StartObject();
    for (const v1::Field& field : record.fields()) {
      WriteJsonString(field.key(), writer);
      WriteJsonValue(field, writer);
    }
    writer.EndObject();
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

int RunTap(absl::Span<const std::string> args, absl::Span<const std::string> fields) {
  if (!args.empty()) return UsageError(absl::StrCat("tap: unexpected argument \"", args[0], "\""));
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format != "text" && format != "json") {
    return UsageError(absl::StrCat("tap: --format must be text or json, not \"", format, "\""));
  }
  absl::StatusOr<Level> level = ParseLevel(absl::GetFlag(FLAGS_level));
  if (!level.ok()) return UsageError(absl::StrCat("tap: --level: ", level.status().message()));
  v1::TapRequest request;
  request.set_min_level(LevelToProto(*level));
  request.set_logger_prefix(absl::GetFlag(FLAGS_logger));
  request.set_sample_one_in(absl::GetFlag(FLAGS_sample));
  for (const std::string& field : fields) {
    const size_t equals = field.find('=');
    if (equals == std::string::npos || equals == 0) {
      return UsageError(absl::StrCat("tap: --field \"", field, "\" is not key=value"));
    }
    (*request.mutable_match())[field.substr(0, equals)] = field.substr(equals + 1);
  }
  const uint64_t count = absl::GetFlag(FLAGS_count);

  auto stub = v1::AdminService::NewStub(AdminChannel());
  grpc::ClientContext context;
  Authorize(context);
  std::unique_ptr<grpc::ClientReader<v1::LogRecord>> reader = stub->Tap(&context, request);
  v1::LogRecord record;
  uint64_t received = 0;
  while ((count == 0 || received < count) && reader->Read(&record)) {
    const std::string line = format == "json" ? FormatTapJson(record) : FormatTapText(record);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    // The loss notices are the tap's own, not records that flowed.
    if (record.logger() != kNoticeLogger) ++received;
  }
  if (count != 0 && received >= count) {
    context.TryCancel();
    (void)reader->Finish();
    return kExitOk;
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    return CallFailed("tap", static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
  }
  // The server stopped (it ends every tap with OK then): the watch did not run its course.
  absl::FPrintF(stderr, "sluice: tap: the server ended the tap\n");
  return kExitFailure;
}

}  // namespace sluice::cli
