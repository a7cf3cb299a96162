#include "server/outputs/otlp/otlp_record_encoder.h"

#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "server/common/otlp_values.h"
#include "server/common/utf8.h"

namespace sluice::outputs {
namespace {

using ::opentelemetry::proto::common::v1::AnyValue;
using ::opentelemetry::proto::common::v1::KeyValue;
using ::opentelemetry::proto::logs::v1::SeverityNumber;

struct Severity {
  SeverityNumber number;
  const char* text;
};

Severity SeverityOf(Level level) {
  switch (level) {
    case Level::kTrace:
      return {opentelemetry::proto::logs::v1::SEVERITY_NUMBER_TRACE, "TRACE"};
    case Level::kDebug:
      return {opentelemetry::proto::logs::v1::SEVERITY_NUMBER_DEBUG, "DEBUG"};
    case Level::kInfo:
      return {opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO, "INFO"};
    case Level::kWarn:
      return {opentelemetry::proto::logs::v1::SEVERITY_NUMBER_WARN, "WARN"};
    case Level::kError:
      return {opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR, "ERROR"};
    case Level::kFatal:
      return {opentelemetry::proto::logs::v1::SEVERITY_NUMBER_FATAL, "FATAL"};
  }
  return {opentelemetry::proto::logs::v1::SEVERITY_NUMBER_UNSPECIFIED, ""};
}

// Sets a proto string to `text`, with U+FFFD for bytes that are not UTF-8.
void SetUtf8(absl::string_view text, std::string* out) {
  out->assign(text.data(), text.size());
  if (!IsValidUtf8(text)) ReplaceInvalidUtf8(*out);
}

void SetValue(const ComposedField& field, AnyValue* value) {
  if (field.field == nullptr) {
    SetUtf8(field.text, value->mutable_string_value());
    return;
  }
  switch (field.field->value_case()) {
    case v1::Field::kStringValue:
      SetUtf8(field.field->string_value(), value->mutable_string_value());
      break;
    case v1::Field::kIntValue:
      value->set_int_value(field.field->int_value());
      break;
    case v1::Field::kDoubleValue:
      value->set_double_value(field.field->double_value());
      break;
    case v1::Field::kBoolValue:
      value->set_bool_value(field.field->bool_value());
      break;
    case v1::Field::kBytesValue:
      value->set_bytes_value(field.field->bytes_value());
      break;
    case v1::Field::VALUE_NOT_SET:
      break;
  }
}

void AddAttribute(const ComposedField& field,
                  google::protobuf::RepeatedPtrField<KeyValue>* attributes) {
  KeyValue* attribute = attributes->Add();
  SetUtf8(field.key, attribute->mutable_key());
  if (field.field == nullptr || field.field->value_case() != v1::Field::VALUE_NOT_SET) {
    SetValue(field, attribute->mutable_value());
  }
}

}  // namespace

std::optional<OtlpFrame> NextOtlpFrame(absl::string_view* lines) {
  absl::string_view rest = *lines;
  const std::optional<absl::string_view> resource = NextLengthPrefixed(&rest);
  if (!resource.has_value()) return std::nullopt;
  const std::optional<absl::string_view> scope = NextLengthPrefixed(&rest);
  if (!scope.has_value()) return std::nullopt;
  const std::optional<absl::string_view> log_record = NextLengthPrefixed(&rest);
  if (!log_record.has_value()) return std::nullopt;
  *lines = rest;
  return OtlpFrame{.resource_logs = *resource, .scope_logs = *scope, .log_record = *log_record};
}

void AppendLengthDelimited(char tag, absl::string_view bytes, std::string* out) {
  out->push_back(tag);
  AppendLengthPrefixed(bytes, out);
}

bool IsResourceKey(absl::string_view key, const std::vector<std::string>& resource_keys) {
  for (const std::string& resource_key : resource_keys) {
    if (absl::EndsWith(resource_key, ".") ? absl::StartsWith(key, resource_key)
                                          : key == resource_key) {
      return true;
    }
  }
  return false;
}

OtlpRecordEncoder::OtlpRecordEncoder(std::vector<std::string> resource_keys, OtlpFraming framing)
    : resource_keys_(std::move(resource_keys)), framing_(framing) {}

void OtlpRecordEncoder::Append(const ComposedRecord& record, std::string* out) {
  const v1::OtlpOrigin* origin = record.otlp;
  log_record_.Clear();
  resource_logs_.Clear();
  scope_logs_.Clear();
  auto* resource = resource_logs_.mutable_resource()->mutable_attributes();
  auto* scope = scope_logs_.mutable_scope();
  const auto time = static_cast<uint64_t>(record.time_unix_nanos);
  if (origin == nullptr) {
    log_record_.set_time_unix_nano(time);
  } else {
    // An unset time became the observed time, or the receive time, which observed means.
    if (!origin->time_unset()) log_record_.set_time_unix_nano(time);
    log_record_.set_observed_time_unix_nano(origin->time_unset() &&
                                                    origin->observed_time_unix_nano() == 0
                                                ? time
                                                : origin->observed_time_unix_nano());
    log_record_.set_flags(origin->flags());
    SetUtf8(origin->resource_schema_url(), resource_logs_.mutable_schema_url());
    SetUtf8(origin->scope_version(), scope->mutable_version());
    SetUtf8(origin->scope_schema_url(), scope_logs_.mutable_schema_url());
  }
  bool severity_as_sent = false;
  if (origin != nullptr) {
    const absl::StatusOr<Level> sent =
        LevelFromProto(OtlpSeverityToLevel(origin->severity_number(), origin->severity_text()));
    severity_as_sent = sent.ok() && *sent == record.level;
  }
  if (severity_as_sent) {
    log_record_.set_severity_number(
        static_cast<opentelemetry::proto::logs::v1::SeverityNumber>(origin->severity_number()));
    if (origin->severity_text_is_level_name()) {
      log_record_.set_severity_text(std::string(LevelName(record.level)));
    } else {
      SetUtf8(origin->severity_text(), log_record_.mutable_severity_text());
    }
  } else {
    const Severity severity = SeverityOf(record.level);
    log_record_.set_severity_number(severity.number);
    log_record_.set_severity_text(severity.text);
  }
  // A body restored only while the message is still its JSON: a hook may have rewritten it.
  if (origin != nullptr && !origin->body().empty() && body_.ParseFromString(origin->body()) &&
      OtlpValueToJson(body_) == record.message) {
    log_record_.mutable_body()->Swap(&body_);
  } else if (origin != nullptr && record.message.empty()) {
    // OTLP ingest cannot tell an empty string body from none; none is what both mean.
  } else {
    SetUtf8(record.message, log_record_.mutable_body()->mutable_string_value());
  }
  if (!record.trace_id.empty())
    log_record_.set_trace_id(record.trace_id.data(), record.trace_id.size());
  if (!record.span_id.empty())
    log_record_.set_span_id(record.span_id.data(), record.span_id.size());
  for (const ComposedField& field : record.fields) {
    google::protobuf::RepeatedPtrField<KeyValue>* attributes = log_record_.mutable_attributes();
    if (origin != nullptr && HasOtlpKey(origin->resource_keys(), field.key)) {
      attributes = resource;
    } else if (origin != nullptr && HasOtlpKey(origin->scope_keys(), field.key)) {
      attributes = scope->mutable_attributes();
    } else if ((origin == nullptr || field.layer != Layer::kAdHoc) &&
               IsResourceKey(field.key, resource_keys_)) {
      attributes = resource;
    }
    AddAttribute(field, attributes);
  }
  SetUtf8(record.logger, scope->mutable_name());

  if (framing_ == OtlpFraming::kFrames) {
    resource_logs_.SerializeToString(&scratch_);
    AppendLengthPrefixed(scratch_, out);
    scope_logs_.SerializeToString(&scratch_);
    AppendLengthPrefixed(scratch_, out);
    log_record_.SerializeToString(&scratch_);
    AppendLengthPrefixed(scratch_, out);
    return;
  }
  log_record_.SerializeToString(&scratch_);
  scope_logs_.SerializeToString(&scope_part_);
  AppendLengthDelimited(kOtlpField2Tag, scratch_, &scope_part_);
  resource_logs_.SerializeToString(&resource_part_);
  AppendLengthDelimited(kOtlpField2Tag, scope_part_, &resource_part_);
  scratch_.clear();
  AppendLengthDelimited(kOtlpField1Tag, resource_part_, &scratch_);
  AppendLengthPrefixed(scratch_, out);
}

}  // namespace sluice::outputs
