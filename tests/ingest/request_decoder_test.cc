#include "server/ingest/request_decoder.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/support/slice.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "prometheus/registry.h"
#include "server/ingest/admission.h"
#include "server/ingest/otlp_mapping.h"
#include "sluice/v1/wire/logs_wire.pb.h"
#include "sluice/v1/wire/otlp_logs_wire.pb.h"

namespace sluice::ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace otlp_collector = opentelemetry::proto::collector::logs::v1;
namespace wire = v1::wire;
namespace wire_otlp = v1::wire::otlp;

constexpr char kReplacement[] = "\xEF\xBF\xBD";

// `bytes` as gRPC delivers them: in slices, so that parsing crosses slice boundaries.
grpc::ByteBuffer Buffer(const std::string& bytes, size_t slice_bytes = 4096) {
  std::vector<grpc::Slice> slices;
  for (size_t i = 0; i < bytes.size(); i += slice_bytes) {
    slices.emplace_back(bytes.data() + i, std::min(slice_bytes, bytes.size() - i));
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

// Records built with the lenient twin, so that a test can put any bytes in a string.
wire::LogRecord* AddRecord(wire::LogBatch& batch, const std::string& message) {
  wire::LogRecord* record = batch.add_records();
  record->set_level(v1::LEVEL_INFO);
  record->set_logger("demo");
  record->set_message(message);
  wire::Field* field = record->add_fields();
  field->set_key("attempt");
  field->set_int_value(3);
  return record;
}

class RequestDecoderTest : public ::testing::Test {
 protected:
  RequestDecoderTest() : levels_(config::LevelsConfig{}), metrics_(registry_) {}

  AdmissionResult Admit(RecordBatch::Records& records, const DecodeResult& decoded) {
    Admission admission(config_, levels_, ledger_, metrics_, Rpc::kPushBatches);
    return admission.Admit(records, absl::Now(), decoded);
  }

  config::IngestConfig config_;
  prometheus::Registry registry_;
  levels::LevelTable levels_;
  Ledger ledger_;
  IngestMetrics metrics_;
};

TEST_F(RequestDecoderTest, ValidBatchTakesTheStrictPath) {
  v1::LogBatch sent;
  sent.set_sequence(7);
  for (int i = 0; i < 3; ++i) {
    v1::LogRecord* record = sent.add_records();
    record->set_message(absl::StrCat("caf\xC3\xA9 ", i));
    record->add_fields()->set_string_value("\xE2\x82\xAC");
  }
  grpc::ByteBuffer bytes = Buffer(sent.SerializeAsString(), 7);
  v1::LogBatch out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeLogBatch(bytes, out, result).ok());
  EXPECT_FALSE(result.utf8_unverified);
  EXPECT_EQ(result.refused, 0u);
  EXPECT_EQ(out.SerializeAsString(), sent.SerializeAsString());
  std::vector<uint32_t> sizes;
  for (const v1::LogRecord& record : sent.records()) sizes.push_back(record.ByteSizeLong());
  EXPECT_EQ(result.record_bytes, sizes);
}

TEST_F(RequestDecoderTest, RecordSizeLimitAppliesToTheBytesTheClientSent) {
  // The message field twice: the parser keeps the last, so the record is smaller once
  // built than on the wire, and the wire size is what the limit sees.
  wire::LogBatch sent;
  wire::LogRecord* record = AddRecord(sent, std::string(16, 'a'));
  const std::string built_size_record = record->SerializeAsString();
  std::string duplicated = built_size_record;
  duplicated.append("\x22\x10").append(16, 'b');
  std::string batch_bytes;
  batch_bytes.push_back('\x12');
  batch_bytes.push_back(static_cast<char>(duplicated.size()));
  batch_bytes.append(duplicated);
  grpc::ByteBuffer bytes = Buffer(batch_bytes);
  v1::LogBatch out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeLogBatch(bytes, out, result).ok());
  ASSERT_EQ(out.records_size(), 1);
  EXPECT_EQ(out.records(0).message(), std::string(16, 'b'));
  ASSERT_EQ(result.record_bytes.size(), 1u);
  EXPECT_EQ(result.record_bytes[0], duplicated.size());
  EXPECT_LT(out.records(0).ByteSizeLong(), duplicated.size());

  config_.max_record_bytes = duplicated.size() - 1;
  const AdmissionResult admitted = Admit(*out.mutable_records(), result);
  EXPECT_EQ(admitted.rejected, 1u);
  EXPECT_THAT(admitted.first_rejection,
              HasSubstr(absl::StrCat(duplicated.size(), " bytes, over ingest.max_record_bytes")));
}

TEST_F(RequestDecoderTest, EmptyMessagesAreEmptyRequests) {
  grpc::ByteBuffer empty = Buffer("");
  grpc::ByteBuffer none;
  v1::LogBatch batch;
  RecordBatch::Records records;
  DecodeResult result;
  const RequestDecoder decoder(config_);
  EXPECT_TRUE(decoder.DecodeLogBatch(empty, batch, result).ok());
  EXPECT_TRUE(decoder.DecodeLogBatch(none, batch, result).ok());
  EXPECT_TRUE(decoder.DecodeExport(empty, records, result).ok());
  EXPECT_EQ(batch.records_size(), 0);
  EXPECT_EQ(records.size(), 0);
}

TEST_F(RequestDecoderTest, DecodingIntoAReusedMessageReplacesItsRecords) {
  v1::LogBatch sent;
  sent.add_records()->set_message("one");
  grpc::ByteBuffer bytes = Buffer(sent.SerializeAsString());
  v1::LogBatch out;
  out.add_records()->set_message("left over");
  out.add_records()->set_message("from the last batch");
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeLogBatch(bytes, out, result).ok());
  ASSERT_EQ(out.records_size(), 1);
  EXPECT_EQ(out.records(0).message(), "one");
}

TEST_F(RequestDecoderTest, BatchWithOneLatin1RecordDecodesLeniently) {
  wire::LogBatch sent;
  sent.set_sequence(9);
  AddRecord(sent, "first");
  AddRecord(sent, "caf\xE9 au lait");
  AddRecord(sent, "third");
  grpc::ByteBuffer bytes = Buffer(sent.SerializeAsString());
  v1::LogBatch out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeLogBatch(bytes, out, result).ok());
  EXPECT_TRUE(result.utf8_unverified);
  EXPECT_EQ(out.sequence(), 9u);
  ASSERT_EQ(out.records_size(), 3);
  EXPECT_EQ(out.records(1).message(), "caf\xE9 au lait");
  EXPECT_EQ(out.records(1).logger(), "demo");
  ASSERT_EQ(out.records(1).fields_size(), 1);
  EXPECT_EQ(out.records(1).fields(0).key(), "attempt");
  EXPECT_EQ(out.records(1).fields(0).int_value(), 3);
}

TEST_F(RequestDecoderTest, ReplacePolicyChangesOnlyTheLatin1Record) {
  wire::LogBatch sent;
  AddRecord(sent, "first");
  AddRecord(sent, "caf\xE9");
  AddRecord(sent, "third");
  grpc::ByteBuffer bytes = Buffer(sent.SerializeAsString());
  v1::LogBatch out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeLogBatch(bytes, out, result).ok());
  config_.invalid_utf8 = config::InvalidUtf8Policy::kReplace;
  const AdmissionResult admitted = Admit(*out.mutable_records(), result);
  EXPECT_EQ(admitted.admitted, 3u);
  EXPECT_EQ(admitted.utf8_replaced, 1u);
  ASSERT_EQ(out.records_size(), 3);
  EXPECT_EQ(out.records(0).message(), "first");
  EXPECT_EQ(out.records(1).message(), absl::StrCat("caf", kReplacement));
  EXPECT_EQ(out.records(2).message(), "third");
}

TEST_F(RequestDecoderTest, RejectPolicyRejectsOnlyTheLatin1Record) {
  wire::LogBatch sent;
  AddRecord(sent, "first");
  AddRecord(sent, "caf\xE9");
  AddRecord(sent, "third");
  grpc::ByteBuffer bytes = Buffer(sent.SerializeAsString());
  v1::LogBatch out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeLogBatch(bytes, out, result).ok());
  config_.invalid_utf8 = config::InvalidUtf8Policy::kReject;
  const AdmissionResult admitted = Admit(*out.mutable_records(), result);
  EXPECT_EQ(admitted.admitted, 2u);
  EXPECT_EQ(admitted.rejected, 1u);
  EXPECT_EQ(admitted.first_rejection, "message: invalid UTF-8 at byte 3");
  ASSERT_EQ(out.records_size(), 2);
  EXPECT_EQ(out.records(0).message(), "first");
  EXPECT_EQ(out.records(1).message(), "third");
}

TEST_F(RequestDecoderTest, PushRecordWithInvalidUtf8DecodesLeniently) {
  wire::LogBatch holder;
  grpc::ByteBuffer bytes = Buffer(AddRecord(holder, "\xFF")->SerializeAsString());
  v1::LogRecord out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeLogRecord(bytes, out, result).ok());
  EXPECT_TRUE(result.utf8_unverified);
  EXPECT_EQ(out.message(), "\xFF");
  EXPECT_EQ(out.logger(), "demo");
}

TEST_F(RequestDecoderTest, TruncatedBatchIsMalformedNamingTheRecordAndItsPosition) {
  v1::LogBatch sent;
  sent.set_sequence(1);  // bytes 0-1
  sent.add_records()->set_message("zero");
  sent.add_records()->set_message("one, cut short");
  const std::string whole = sent.SerializeAsString();
  // records[1] starts after the sequence and records[0] (tag, length, payload).
  const size_t second = 2 + 2 + sent.records(0).ByteSizeLong();
  grpc::ByteBuffer bytes = Buffer(whole.substr(0, whole.size() - 3));
  v1::LogBatch out;
  DecodeResult result;
  const absl::Status status = RequestDecoder(config_).DecodeLogBatch(bytes, out, result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("malformed sluice.v1.LogBatch: records[1] (field 2) at "
                         "byte " +
                         std::to_string(second) + ":"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("truncated"));
  EXPECT_EQ(result.request_rejection, RequestRejectReason::kMalformed);
  EXPECT_EQ(out.records_size(), 0);
}

TEST_F(RequestDecoderTest, MalformedNestedFieldIsNamedByItsPath) {
  // LogBatch { records (2): LogRecord { fields (5): Field { tag 0x0F: field 1, wire type 7 } } }
  grpc::ByteBuffer bytes = Buffer(std::string("\x12\x03\x2a\x01\x0f", 5));
  v1::LogBatch out;
  DecodeResult result;
  const absl::Status status = RequestDecoder(config_).DecodeLogBatch(bytes, out, result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "malformed sluice.v1.LogBatch: records[0].fields[0].key (field 1) at byte 4: invalid "
            "wire type 7");
}

TEST_F(RequestDecoderTest, GarbagePushMessageIsMalformed) {
  grpc::ByteBuffer bytes = Buffer("\xFF\xFF\xFF");
  v1::LogRecord out;
  DecodeResult result;
  const absl::Status status = RequestDecoder(config_).DecodeLogRecord(bytes, out, result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("malformed sluice.v1.LogRecord: "));
}

TEST_F(RequestDecoderTest, TwoMillionEmptyRecordsAreRefusedBeforeAnyIsBuilt) {
  std::string wire_bytes;
  wire_bytes.reserve(4'000'000);
  for (int i = 0; i < 2'000'000; ++i) wire_bytes.append("\x12\x00", 2);
  grpc::ByteBuffer bytes = Buffer(wire_bytes, 1 << 16);
  v1::LogBatch out;
  DecodeResult result;
  const absl::Status status = RequestDecoder(config_).DecodeLogBatch(bytes, out, result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "batch of 2000000 records, over ingest.max_batch_records (8192)");
  EXPECT_EQ(result.request_rejection, RequestRejectReason::kTooManyRecords);
  EXPECT_EQ(out.records_size(), 0);
  // A parse that built the records and cleared them would have kept them for reuse.
  EXPECT_LT(out.SpaceUsedLong(), 1024u);
  // Nor is a size kept for each of the records counted.
  EXPECT_TRUE(result.record_bytes.empty());
  result.Reset();
  EXPECT_LE(result.record_bytes.capacity(), DecodeResult::kKeptRecordSizes);
}

TEST_F(RequestDecoderTest, BatchOfExactlyMaxBatchRecordsIsDecoded) {
  config_.max_batch_records = 100;
  v1::LogBatch sent;
  for (int i = 0; i < 100; ++i) sent.add_records();
  grpc::ByteBuffer bytes = Buffer(sent.SerializeAsString());
  v1::LogBatch out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeLogBatch(bytes, out, result).ok());
  EXPECT_EQ(out.records_size(), 100);
  sent.add_records();
  bytes = Buffer(sent.SerializeAsString());
  EXPECT_EQ(RequestDecoder(config_).DecodeLogBatch(bytes, out, result).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RequestDecoderTest, RefuseRequestCountsTheReasonAndKeepsTheCodeAndMessage) {
  grpc::ByteBuffer bytes = Buffer("\xFF");
  v1::LogBatch out;
  DecodeResult result;
  const absl::Status status = RequestDecoder(config_).DecodeLogBatch(bytes, out, result);
  ASSERT_FALSE(status.ok());
  const grpc::Status refused = RefuseRequest(status, result, Rpc::kPushBatches, metrics_);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(), std::string(status.message()));
  double count = -1;
  for (const prometheus::MetricFamily& family : registry_.Collect()) {
    if (family.name != "sluice_ingest_requests_rejected_total") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      // Labels come sorted by name: reason, rpc.
      if (metric.label[0].value == "malformed" && metric.label[1].value == "PushBatches") {
        count = metric.counter.value;
      }
    }
  }
  EXPECT_EQ(count, 1.0);
  EXPECT_EQ(ledger_.Snapshot().received, 0u);
}

// An Export request with one resource and one scope.
class ExportBuilder {
 public:
  ExportBuilder() {
    resource_logs_ = request_.add_resource_logs();
    scope_logs_ = resource_logs_->add_scope_logs();
    scope_logs_->mutable_scope()->set_name("checkout");
  }
  wire_otlp::ResourceLogs& resource_logs() { return *resource_logs_; }
  wire_otlp::LogRecord& AddRecord(const std::string& body) {
    wire_otlp::LogRecord& record = *scope_logs_->add_log_records();
    record.set_severity_number(9);
    record.mutable_body()->set_string_value(body);
    return record;
  }
  void AddResourceAttribute(const std::string& key, const std::string& value) {
    wire_otlp::KeyValue& attribute = *resource_logs_->mutable_resource()->add_attributes();
    attribute.set_key(key);
    attribute.mutable_value()->set_string_value(value);
  }
  std::string Serialize() const { return request_.SerializeAsString(); }

 private:
  wire_otlp::ExportLogsServiceRequest request_;
  wire_otlp::ResourceLogs* resource_logs_;
  wire_otlp::ScopeLogs* scope_logs_;
};

TEST_F(RequestDecoderTest, ValidExportMapsAsAppendOtlpRecordsDoes) {
  ExportBuilder builder;
  builder.AddResourceAttribute("service.name", "shop");
  for (int i = 0; i < 3; ++i) {
    wire_otlp::KeyValue& attribute = *builder.AddRecord(absl::StrCat("m", i)).add_attributes();
    attribute.set_key("list");
    attribute.mutable_value()->mutable_array_value()->add_values()->set_int_value(i);
  }
  const std::string serialized = builder.Serialize();
  otlp_collector::ExportLogsServiceRequest strict;
  ASSERT_TRUE(strict.ParseFromString(serialized));
  RecordBatch::Records expected;
  AppendOtlpRecords(strict, expected);

  grpc::ByteBuffer bytes = Buffer(serialized, 5);
  RecordBatch::Records out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeExport(bytes, out, result).ok());
  EXPECT_TRUE(result.utf8_unverified);
  ASSERT_EQ(out.size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].SerializeAsString(), expected[i].SerializeAsString()) << i;
  }
}

TEST_F(RequestDecoderTest, ExportWithOneInvalidUtf8AttributeIn101RecordsKeepsTheOther100) {
  ExportBuilder builder;
  for (int i = 0; i < 101; ++i) {
    wire_otlp::KeyValue& attribute = *builder.AddRecord(absl::StrCat("m", i)).add_attributes();
    attribute.set_key("city");
    attribute.mutable_value()->set_string_value(i == 50 ? "Z\xFCrich" : "Zurich");
  }
  grpc::ByteBuffer bytes = Buffer(builder.Serialize());
  RecordBatch::Records out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeExport(bytes, out, result).ok());
  ASSERT_EQ(out.size(), 101);

  config_.invalid_utf8 = config::InvalidUtf8Policy::kReject;
  const AdmissionResult admitted = Admit(out, result);
  EXPECT_EQ(admitted.admitted, 100u);
  EXPECT_EQ(admitted.rejected, 1u);
  for (const v1::LogRecord& record : out) EXPECT_NE(record.message(), "m50");
}

TEST_F(RequestDecoderTest, ExportWithAnInvalidUtf8AttributeIsRepairedUnderReplace) {
  ExportBuilder builder;
  for (int i = 0; i < 101; ++i) {
    wire_otlp::KeyValue& attribute = *builder.AddRecord(absl::StrCat("m", i)).add_attributes();
    attribute.set_key("city");
    attribute.mutable_value()->set_string_value(i == 50 ? "Z\xFCrich" : "Zurich");
  }
  grpc::ByteBuffer bytes = Buffer(builder.Serialize());
  RecordBatch::Records out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeExport(bytes, out, result).ok());
  config_.invalid_utf8 = config::InvalidUtf8Policy::kReplace;
  const AdmissionResult admitted = Admit(out, result);
  EXPECT_EQ(admitted.admitted, 101u);
  EXPECT_EQ(admitted.utf8_replaced, 1u);
  EXPECT_EQ(out[50].fields(0).string_value(), absl::StrCat("Z", kReplacement, "rich"));
}

// The amplification attack: one 120 KB resource attribute that the mapping would copy
// into each of 10,000 tiny records.
std::string AmplifyingExport(size_t attribute_bytes, int records) {
  ExportBuilder builder;
  builder.AddResourceAttribute("blob", std::string(attribute_bytes, 'x'));
  for (int i = 0; i < records; ++i) builder.AddRecord("m");
  return builder.Serialize();
}

TEST_F(RequestDecoderTest, AmplifyingExportIsRefusedByCountUnderTheDefaults) {
  grpc::ByteBuffer bytes = Buffer(AmplifyingExport(120 * 1024, 10'000));
  RecordBatch::Records out;
  DecodeResult result;
  const absl::Status status = RequestDecoder(config_).DecodeExport(bytes, out, result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "export of 10000 log records, over ingest.max_batch_records (8192)");
  EXPECT_EQ(result.request_rejection, RequestRejectReason::kTooManyRecords);
  EXPECT_EQ(out.size(), 0);
}

TEST_F(RequestDecoderTest, RecordsExpandingPastMaxRecordBytesAreRefusedWithoutBeingBuilt) {
  config_.max_batch_records = 16384;
  const std::string serialized = AmplifyingExport(120 * 1024, 10'000);
  // About 210 KB on the wire; built as mapped, the records would take over 1 GB.
  EXPECT_LT(serialized.size(), 256u * 1024);
  grpc::ByteBuffer bytes = Buffer(serialized);
  RecordBatch::Records out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeExport(bytes, out, result).ok());
  EXPECT_EQ(out.size(), 0);
  EXPECT_EQ(result.refused, 10'000u);
  EXPECT_EQ(result.refused_reason, RejectReason::kRecordTooLarge);
  EXPECT_THAT(result.first_refusal, StartsWith("log record 0: "));
  EXPECT_THAT(result.first_refusal, HasSubstr("over ingest.max_record_bytes (65536)"));

  // Admission counts them, and the books balance.
  const AdmissionResult admitted = Admit(out, result);
  EXPECT_EQ(admitted.admitted, 0u);
  EXPECT_EQ(admitted.rejected, 10'000u);
  const LedgerCounts counts = ledger_.Snapshot();
  EXPECT_EQ(counts.received, 10'000u);
  EXPECT_EQ(counts.rejected, 10'000u);
}

TEST_F(RequestDecoderTest, ExportExpandingPastItsBoundIsRefusedWhole) {
  // Each record expands to about 20 KB, within max_record_bytes; 4,000 of them to 80 MB,
  // over 16 x 4 MiB.
  grpc::ByteBuffer bytes = Buffer(AmplifyingExport(20 * 1024, 4000));
  RecordBatch::Records out;
  DecodeResult result;
  const absl::Status status = RequestDecoder(config_).DecodeExport(bytes, out, result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("export of 4000 log records expands to "));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("over 16 x ingest.max_message_bytes (67108864)"));
  EXPECT_EQ(result.request_rejection, RequestRejectReason::kTooLarge);
  EXPECT_EQ(result.refused, 0u);
  EXPECT_EQ(out.size(), 0);
}

TEST_F(RequestDecoderTest, ExportWithinItsBoundIsBuilt) {
  // 100 records of about 20 KB each: 2 MB expanded.
  grpc::ByteBuffer bytes = Buffer(AmplifyingExport(20 * 1024, 100));
  RecordBatch::Records out;
  DecodeResult result;
  ASSERT_TRUE(RequestDecoder(config_).DecodeExport(bytes, out, result).ok());
  EXPECT_EQ(out.size(), 100);
  EXPECT_EQ(result.refused, 0u);
}

TEST_F(RequestDecoderTest, TruncatedExportIsMalformedNamingTheNestedRecord) {
  ExportBuilder builder;
  builder.AddRecord("one");
  builder.AddRecord("two");
  const std::string whole = builder.Serialize();
  grpc::ByteBuffer bytes = Buffer(whole.substr(0, whole.size() - 2));
  RecordBatch::Records out;
  DecodeResult result;
  const absl::Status status = RequestDecoder(config_).DecodeExport(bytes, out, result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(status.message()),
      StartsWith("malformed opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest: "
                 "resource_logs[0] (field 1) at byte 0: "));
  EXPECT_EQ(result.request_rejection, RequestRejectReason::kMalformed);
  EXPECT_EQ(out.size(), 0);
}

// Every truncation and many corruptions of a valid message: each decodes, or is refused
// as malformed with the error located (the walk finds what the parser refused).
std::vector<std::string> Damaged(const std::string& valid) {
  std::vector<std::string> damaged;
  for (size_t size = 0; size < valid.size(); ++size) damaged.push_back(valid.substr(0, size));
  for (size_t i = 0; i < valid.size(); ++i) {
    for (const char byte : {'\x00', '\x07', '\x80', '\xFF'}) {
      std::string corrupted = valid;
      corrupted[i] = byte;
      damaged.push_back(std::move(corrupted));
    }
  }
  return damaged;
}

void ExpectDecodedOrLocated(const absl::Status& status, const std::string& type) {
  if (status.ok()) return;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("malformed " + type + ": "));
  EXPECT_THAT(std::string(status.message()), HasSubstr(" at byte "));
}

TEST_F(RequestDecoderTest, DamagedBatchesDecodeOrAreMalformedWithTheErrorLocated) {
  wire::LogBatch sent;
  sent.set_sequence(300);
  wire::LogRecord* record = AddRecord(sent, "caf\xE9");
  record->set_time_unix_nano(1700000000000000000);
  record->set_trace_id(std::string(16, 't'));
  record->add_fields()->set_double_value(1.5);
  record->add_fields()->set_bool_value(true);
  record->add_fields()->set_bytes_value("\x01\x02");
  AddRecord(sent, "second");
  const RequestDecoder decoder(config_);
  for (const std::string& bytes : Damaged(sent.SerializeAsString())) {
    grpc::ByteBuffer buffer = Buffer(bytes, 3);
    v1::LogBatch out;
    DecodeResult result;
    ExpectDecodedOrLocated(decoder.DecodeLogBatch(buffer, out, result), "sluice.v1.LogBatch");
    if (HasFailure()) {
      FAIL() << "for bytes " << absl::CHexEscape(bytes);
    }
  }
}

TEST_F(RequestDecoderTest, DamagedExportsDecodeOrAreMalformedWithTheErrorLocated) {
  ExportBuilder builder;
  builder.AddResourceAttribute("service.name", "shop");
  wire_otlp::LogRecord& record = builder.AddRecord("body");
  record.set_time_unix_nano(1700000000000000000);
  record.set_flags(1);
  wire_otlp::KeyValue& attribute = *record.add_attributes();
  attribute.set_key("nested");
  attribute.mutable_value()->mutable_kvlist_value()->add_values()->set_key("k");
  builder.AddRecord("two");
  const RequestDecoder decoder(config_);
  for (const std::string& bytes : Damaged(builder.Serialize())) {
    grpc::ByteBuffer buffer = Buffer(bytes, 3);
    RecordBatch::Records out;
    DecodeResult result;
    const absl::Status status = decoder.DecodeExport(buffer, out, result);
    ExpectDecodedOrLocated(status,
                           "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest");
    if (!status.ok()) {
      EXPECT_EQ(out.size(), 0);
    }
    if (HasFailure()) {
      FAIL() << "for bytes " << absl::CHexEscape(bytes);
    }
  }
}

}  // namespace
}  // namespace sluice::ingest
