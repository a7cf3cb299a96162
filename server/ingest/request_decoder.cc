#include "server/ingest/request_decoder.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "server/ingest/otlp_mapping.h"
#include "sluice/v1/wire/logs_wire.pb.h"
#include "sluice/v1/wire/otlp_logs_wire.pb.h"

namespace sluice::ingest {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Protobuf's default recursion limit: a message nested deeper does not parse.
constexpr int kMaxDepth = 100;

// Field numbers the scans look for (logs.proto and the OTLP protos).
constexpr int kLogBatchRecords = 2;
constexpr int kExportResourceLogs = 1;
constexpr int kResourceLogsResource = 1;
constexpr int kResourceLogsScopeLogs = 2;
constexpr int kScopeLogsScope = 1;
constexpr int kScopeLogsLogRecords = 2;

constexpr uint32_t LengthDelimitedTag(int number) {
  return WireFormatLite::MakeTag(number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
}

// A CodedInputStream over a ByteBuffer, limited to the buffer's size so that
// BytesUntilLimit() is always meaningful (the length checks below rely on it).
class WireReader {
 public:
  explicit WireReader(grpc::ByteBuffer& bytes) : reader_(&bytes), in_(&reader_) {
    in_.PushLimit(static_cast<int>(bytes.Length()));
  }
  bool ok() const { return reader_.status().ok(); }
  CodedInputStream& in() { return in_; }

 private:
  grpc::ProtoBufferReader reader_;
  CodedInputStream in_;
};

// Reads the length of a length-delimited field; false when it is truncated or longer than
// what is left of the enclosing message.
bool ReadLength(CodedInputStream& in, uint32_t& length) {
  return in.ReadVarint32(&length) && static_cast<int64_t>(length) <= in.BytesUntilLimit();
}

// Walks one message of `type` up to the current limit, as the parser would, and on the
// first wire-level error sets `error` to where it is and what it is. `path` names the
// message ("records[3].fields[0]"; empty at the top).
bool Walk(CodedInputStream& in, const Descriptor& type, const std::string& path, int depth,
          std::string& error) {
  // How often each repeated field was seen so far, to name elements by index.
  std::vector<std::pair<int, int>> seen;
  while (true) {
    const int position = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) {
      if (in.ConsumedEntireMessage()) return true;
      error = absl::StrCat(path.empty() ? "" : absl::StrCat(path, " "), "at byte ", position,
                           ": invalid or truncated tag");
      return false;
    }
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    const FieldDescriptor* field = type.FindFieldByNumber(number);
    std::string name = absl::StrCat("field ", number);
    if (field != nullptr) {
      name = field->name();
      if (field->is_repeated()) {
        int* count = nullptr;
        for (auto& [seen_number, seen_count] : seen) {
          if (seen_number == number) count = &seen_count;
        }
        if (count == nullptr) count = &seen.emplace_back(number, 0).second;
        absl::StrAppend(&name, "[", (*count)++, "]");
      }
    }
    const std::string element = path.empty() ? name : absl::StrCat(path, ".", name);
    auto fail = [&](absl::string_view what) {
      error = absl::StrCat(element, field != nullptr ? absl::StrCat(" (field ", number, ")") : "",
                           " at byte ", position, ": ", what);
      return false;
    };
    if (number == 0) return fail("field number 0");
    switch (WireFormatLite::GetTagWireType(tag)) {
      case WireFormatLite::WIRETYPE_VARINT: {
        uint64_t value;
        if (!in.ReadVarint64(&value)) return fail("truncated varint");
        break;
      }
      case WireFormatLite::WIRETYPE_FIXED64: {
        uint64_t value;
        if (!in.ReadLittleEndian64(&value)) return fail("truncated fixed64");
        break;
      }
      case WireFormatLite::WIRETYPE_FIXED32: {
        uint32_t value;
        if (!in.ReadLittleEndian32(&value)) return fail("truncated fixed32");
        break;
      }
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
        uint32_t length;
        if (!in.ReadVarint32(&length)) return fail("truncated length");
        if (static_cast<int64_t>(length) > in.BytesUntilLimit()) {
          return fail(
              absl::StrCat(length, " bytes long, ", in.BytesUntilLimit(), " left: truncated"));
        }
        if (field != nullptr && field->type() == FieldDescriptor::TYPE_MESSAGE) {
          if (depth + 1 >= kMaxDepth) return fail("nested too deeply");
          const CodedInputStream::Limit limit = in.PushLimit(static_cast<int>(length));
          if (!Walk(in, *field->message_type(), element, depth + 1, error)) return false;
          in.PopLimit(limit);
        } else if (!in.Skip(static_cast<int>(length))) {
          return fail("truncated");
        }
        break;
      }
      case WireFormatLite::WIRETYPE_START_GROUP:
        if (!WireFormatLite::SkipField(&in, tag)) return fail("truncated or unterminated group");
        break;
      case WireFormatLite::WIRETYPE_END_GROUP:
        return fail("end of a group that was not started");
      default:
        return fail(absl::StrCat("invalid wire type ", WireFormatLite::GetTagWireType(tag)));
    }
  }
}

// INVALID_ARGUMENT for a message that is not a `type`, naming the first error found.
absl::Status Malformed(grpc::ByteBuffer& bytes, const Descriptor& type, DecodeResult& result) {
  result.request_rejection = RequestRejectReason::kMalformed;
  std::string error;
  WireReader reader(bytes);
  if (!reader.ok()) {
    error = "unreadable message buffer";
  } else if (Walk(reader.in(), type, "", 0, error)) {
    // Every field is well-formed on the wire, yet the parser refused it.
    error = "not parsable";
  }
  return absl::InvalidArgumentError(absl::StrCat("malformed ", type.full_name(), ": ", error));
}

// Counts the top-level occurrences of length-delimited field `number`, skipping over
// everything, and appends the length of each of the first `max_lengths` to `lengths`;
// false on a wire-level error.
bool CountTopLevel(grpc::ByteBuffer& bytes, int number, uint64_t& count,
                   std::vector<uint32_t>& lengths, size_t max_lengths) {
  WireReader reader(bytes);
  if (!reader.ok()) return false;
  CodedInputStream& in = reader.in();
  const uint32_t wanted = LengthDelimitedTag(number);
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    if (tag != wanted) {
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      continue;
    }
    uint32_t length;
    if (!in.ReadVarint32(&length) || !in.Skip(static_cast<int>(length))) return false;
    if (++count <= max_lengths) lengths.push_back(length);
  }
}

// What a walk of an Export request's wire bytes found, in mapping order (resources,
// their scopes, their log records, as otlp_mapping.h iterates them).
struct ExportScan {
  uint64_t records = 0;
  // Per log record, for the first max_records + 1 only (beyond that the request is
  // refused by count): its own wire size and its expanded size.
  std::vector<uint32_t> own_bytes;
  std::vector<uint64_t> expanded_bytes;
};

class ExportScanner {
 public:
  ExportScanner(CodedInputStream& in, uint32_t max_records, ExportScan& scan)
      : in_(in), max_records_(max_records), scan_(scan) {}

  bool Request() {
    while (true) {
      const uint32_t tag = in_.ReadTag();
      if (tag == 0) return in_.ConsumedEntireMessage();
      if (tag == LengthDelimitedTag(kExportResourceLogs)) {
        if (!Nested(&ExportScanner::ResourceLogs)) return false;
      } else if (!WireFormatLite::SkipField(&in_, tag)) {
        return false;
      }
    }
  }

 private:
  // Runs `walk` over the length-delimited message that comes next.
  bool Nested(bool (ExportScanner::*walk)()) {
    uint32_t length;
    if (!ReadLength(in_, length)) return false;
    const CodedInputStream::Limit limit = in_.PushLimit(static_cast<int>(length));
    if (!(this->*walk)()) return false;
    in_.PopLimit(limit);
    return true;
  }

  // Skips the length-delimited value that comes next, adding its length to `bytes`.
  bool SkipCounted(uint64_t& bytes) {
    uint32_t length;
    if (!ReadLength(in_, length) || !in_.Skip(static_cast<int>(length))) return false;
    bytes += length;
    return true;
  }

  // The resource may come after its scopes on the wire: its size is added to the records
  // of this ResourceLogs once the whole message is read. Likewise for a scope.
  bool ResourceLogs() {
    const size_t first = scan_.expanded_bytes.size();
    uint64_t resource_bytes = 0;
    while (true) {
      const uint32_t tag = in_.ReadTag();
      if (tag == 0) {
        if (!in_.ConsumedEntireMessage()) return false;
        break;
      }
      if (tag == LengthDelimitedTag(kResourceLogsResource)) {
        if (!SkipCounted(resource_bytes)) return false;
      } else if (tag == LengthDelimitedTag(kResourceLogsScopeLogs)) {
        if (!Nested(&ExportScanner::ScopeLogs)) return false;
      } else if (!WireFormatLite::SkipField(&in_, tag)) {
        return false;
      }
    }
    for (size_t i = first; i < scan_.expanded_bytes.size(); ++i) {
      scan_.expanded_bytes[i] += resource_bytes;
    }
    return true;
  }

  bool ScopeLogs() {
    const size_t first = scan_.expanded_bytes.size();
    uint64_t scope_bytes = 0;
    while (true) {
      const uint32_t tag = in_.ReadTag();
      if (tag == 0) {
        if (!in_.ConsumedEntireMessage()) return false;
        break;
      }
      if (tag == LengthDelimitedTag(kScopeLogsScope)) {
        if (!SkipCounted(scope_bytes)) return false;
      } else if (tag == LengthDelimitedTag(kScopeLogsLogRecords)) {
        uint64_t record_bytes = 0;
        if (!SkipCounted(record_bytes)) return false;
        ++scan_.records;
        if (scan_.own_bytes.size() <= max_records_) {
          scan_.own_bytes.push_back(static_cast<uint32_t>(record_bytes));
          scan_.expanded_bytes.push_back(record_bytes);
        }
      } else if (!WireFormatLite::SkipField(&in_, tag)) {
        return false;
      }
    }
    for (size_t i = first; i < scan_.expanded_bytes.size(); ++i) {
      scan_.expanded_bytes[i] += scope_bytes;
    }
    return true;
  }

  CodedInputStream& in_;
  const uint32_t max_records_;
  ExportScan& scan_;
};

// Moves a leniently parsed record into the strict type; the accessors match, and string
// buffers change hands without a copy.
void MoveRecord(v1::wire::LogRecord& in, v1::LogRecord& out) {
  out.set_time_unix_nano(in.time_unix_nano());
  out.set_level(static_cast<v1::Level>(in.level()));
  out.mutable_logger()->swap(*in.mutable_logger());
  out.mutable_message()->swap(*in.mutable_message());
  out.mutable_trace_id()->swap(*in.mutable_trace_id());
  out.mutable_span_id()->swap(*in.mutable_span_id());
  out.mutable_fields()->Reserve(in.fields_size());
  for (v1::wire::Field& from : *in.mutable_fields()) {
    v1::Field& to = *out.add_fields();
    to.mutable_key()->swap(*from.mutable_key());
    switch (from.value_case()) {
      case v1::wire::Field::kStringValue:
        to.mutable_string_value()->swap(*from.mutable_string_value());
        break;
      case v1::wire::Field::kIntValue:
        to.set_int_value(from.int_value());
        break;
      case v1::wire::Field::kDoubleValue:
        to.set_double_value(from.double_value());
        break;
      case v1::wire::Field::kBoolValue:
        to.set_bool_value(from.bool_value());
        break;
      case v1::wire::Field::kBytesValue:
        to.mutable_bytes_value()->swap(*from.mutable_bytes_value());
        break;
      case v1::wire::Field::VALUE_NOT_SET:
        break;
    }
  }
  // Every text of OtlpOrigin is bytes, so only malformed bytes fail here; they cost the
  // record its origin, not the record.
  if (!in.otlp().empty() && !out.mutable_otlp()->ParseFromString(in.otlp())) out.clear_otlp();
}

// gRPC hands over a valid buffer even for an empty message; a default-constructed one
// (no buffer at all) is read as empty too rather than as unreadable.
void EnsureValid(grpc::ByteBuffer& bytes) {
  if (!bytes.Valid()) bytes = grpc::ByteBuffer(nullptr, 0);
}

template <typename Message>
bool Parse(grpc::ByteBuffer& bytes, Message& message) {
  grpc::ProtoBufferReader reader(&bytes);
  return reader.status().ok() && message.ParseFromZeroCopyStream(&reader);
}

}  // namespace

absl::Status RequestDecoder::DecodeLogBatch(grpc::ByteBuffer& bytes, v1::LogBatch& out,
                                            DecodeResult& result) const {
  result.Reset();
  EnsureValid(bytes);
  out.Clear();
  uint64_t records = 0;
  if (!CountTopLevel(bytes, kLogBatchRecords, records, result.record_bytes,
                     config_.max_batch_records)) {
    result.record_bytes.clear();
    return Malformed(bytes, *v1::LogBatch::descriptor(), result);
  }
  if (records > config_.max_batch_records) {
    result.record_bytes.clear();
    result.request_rejection = RequestRejectReason::kTooManyRecords;
    return absl::InvalidArgumentError(absl::StrCat("batch of ", records,
                                                   " records, over ingest.max_batch_records (",
                                                   config_.max_batch_records, ")"));
  }
  if (Parse(bytes, out)) return absl::OkStatus();
  // Most likely invalid UTF-8 in a string: read the strings as bytes instead.
  out.Clear();
  v1::wire::LogBatch lenient;
  if (!Parse(bytes, lenient)) return Malformed(bytes, *v1::LogBatch::descriptor(), result);
  out.set_sequence(lenient.sequence());
  out.mutable_records()->Reserve(lenient.records_size());
  for (v1::wire::LogRecord& record : *lenient.mutable_records()) {
    MoveRecord(record, *out.add_records());
  }
  result.utf8_unverified = true;
  return absl::OkStatus();
}

absl::Status RequestDecoder::DecodeLogRecord(grpc::ByteBuffer& bytes, v1::LogRecord& out,
                                             DecodeResult& result) const {
  result = DecodeResult{};
  EnsureValid(bytes);
  if (Parse(bytes, out)) return absl::OkStatus();
  out.Clear();
  v1::wire::LogRecord lenient;
  if (!Parse(bytes, lenient)) return Malformed(bytes, *v1::LogRecord::descriptor(), result);
  MoveRecord(lenient, out);
  result.utf8_unverified = true;
  return absl::OkStatus();
}

absl::Status RequestDecoder::DecodeExport(grpc::ByteBuffer& bytes, RecordBatch::Records& out,
                                          DecodeResult& result) const {
  using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
  result = DecodeResult{};
  EnsureValid(bytes);
  ExportScan scan;
  {
    WireReader reader(bytes);
    if (!reader.ok() || !ExportScanner(reader.in(), config_.max_batch_records, scan).Request()) {
      return Malformed(bytes, *ExportLogsServiceRequest::descriptor(), result);
    }
  }
  if (scan.records > config_.max_batch_records) {
    result.request_rejection = RequestRejectReason::kTooManyRecords;
    return absl::InvalidArgumentError(absl::StrCat("export of ", scan.records,
                                                   " log records, over ingest.max_batch_records (",
                                                   config_.max_batch_records, ")"));
  }
  std::vector<bool> refused(scan.expanded_bytes.size());
  uint64_t expanded = 0;
  for (size_t i = 0; i < scan.expanded_bytes.size(); ++i) {
    if (scan.expanded_bytes[i] <= config_.max_record_bytes) {
      expanded += scan.expanded_bytes[i];
      continue;
    }
    refused[i] = true;
    ++result.refused;
    result.refused_bytes += scan.own_bytes[i];
    if (result.first_refusal.empty()) {
      result.first_refusal =
          absl::StrCat("log record ", i, ": ", scan.expanded_bytes[i],
                       " bytes with its resource and scope, over ingest.max_record_bytes (",
                       config_.max_record_bytes, ")");
    }
  }
  if (expanded > max_export_expanded_bytes()) {
    result = DecodeResult{};
    result.request_rejection = RequestRejectReason::kTooLarge;
    return absl::InvalidArgumentError(
        absl::StrCat("export of ", scan.records, " log records expands to ", expanded,
                     " bytes with their resources and scopes, over ", kExportExpansionFactor,
                     " x ingest.max_message_bytes (", max_export_expanded_bytes(), ")"));
  }
  // Parsed on an arena: one allocation block for the whole request instead of one per
  // record and string, all freed at once when the records are built.
  google::protobuf::Arena arena;
  auto* request =
      google::protobuf::Arena::CreateMessage<v1::wire::otlp::ExportLogsServiceRequest>(&arena);
  if (!Parse(bytes, *request)) {
    result = DecodeResult{};
    return Malformed(bytes, *ExportLogsServiceRequest::descriptor(), result);
  }
  AppendOtlpRecords(*request, refused, out);
  result.utf8_unverified = true;
  return absl::OkStatus();
}

grpc::Status RefuseRequest(const absl::Status& status, const DecodeResult& result, Rpc rpc,
                           IngestMetrics& metrics) {
  metrics.AddRequestRejected(rpc, result.request_rejection);
  // absl::StatusCode and grpc::StatusCode share their numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace sluice::ingest
