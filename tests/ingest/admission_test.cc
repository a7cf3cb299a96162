#include "server/ingest/admission.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/ingest/ingest_fixture.h"

namespace sluice::ingest {
namespace {

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest() : levels_(config::LevelsConfig{}), metrics_(registry_) {}

  v1::LogRecord* Add(v1::Level level, const std::string& message) {
    v1::LogRecord* record = records_.Add();
    record->set_level(level);
    record->set_logger("demo");
    record->set_message(message);
    return record;
  }

  // The count of records of `reason` in sluice_ingest_records_rejected_total.
  double RejectedMetric(RejectReason reason) {
    for (const prometheus::MetricFamily& family : registry_.Collect()) {
      if (family.name != "sluice_ingest_records_rejected_total") continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        if (metric.label.size() == 1 && metric.label[0].value == RejectReasonName(reason)) {
          return metric.counter.value;
        }
      }
    }
    ADD_FAILURE() << "no series for reason " << RejectReasonName(reason);
    return -1;
  }

  // Admits records_ with limits_ and expects exactly the record "bad" to be rejected for
  // `reason`, the others kept; returns the rejection text.
  std::string ExpectOnlyBadRejected(RejectReason reason) {
    Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPushBatches);
    const AdmissionResult result = admission.Admit(records_, absl::Now());
    EXPECT_EQ(result.rejected, 1u);
    EXPECT_EQ(RejectedMetric(reason), 1.0);
    for (const v1::LogRecord& record : records_) EXPECT_NE(record.message(), "bad");
    EXPECT_EQ(result.admitted, static_cast<uint32_t>(records_.size()));
    EXPECT_EQ(ledger_.Snapshot().rejected, 1u);
    return result.first_rejection;
  }

  static void AddField(v1::LogRecord& record, const std::string& key, const std::string& value) {
    v1::Field* field = record.add_fields();
    field->set_key(key);
    field->set_string_value(value);
  }

  config::IngestConfig limits_;
  prometheus::Registry registry_;
  levels::LevelTable levels_;
  Ledger ledger_;
  IngestMetrics metrics_;
  google::protobuf::RepeatedPtrField<v1::LogRecord> records_;
};

TEST_F(AdmissionTest, TheCallsTenantReplacesEveryTenantFieldAndIsAddedWhereThereIsNone) {
  AddField(*Add(v1::LEVEL_INFO, "forged"), "tenant", "evil");
  v1::LogRecord* typed = Add(v1::LEVEL_INFO, "twice");
  typed->add_fields()->set_key("tenant");
  typed->mutable_fields(0)->set_int_value(7);
  AddField(*typed, "other", "kept");
  AddField(*typed, "tenant", "evil");
  Add(v1::LEVEL_INFO, "none");
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPushBatches);
  admission.SetTenant("acme");
  ASSERT_EQ(admission.Admit(records_, absl::Now()).admitted, 3u);
  for (const v1::LogRecord& record : records_) {
    int tenants = 0;
    for (const v1::Field& field : record.fields()) {
      if (field.key() != "tenant") continue;
      ++tenants;
      EXPECT_EQ(field.string_value(), "acme") << record.message();
    }
    EXPECT_GE(tenants, 1) << record.message();
  }
  EXPECT_EQ(records_[1].fields(1).string_value(), "kept");
  EXPECT_EQ(records_[2].fields_size(), 1);
}

TEST_F(AdmissionTest, WithoutATenantFieldsAreLeftAlone) {
  AddField(*Add(v1::LEVEL_INFO, "own"), "tenant", "mine");
  Add(v1::LEVEL_INFO, "none");
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPushBatches);
  ASSERT_EQ(admission.Admit(records_, absl::Now()).admitted, 2u);
  EXPECT_EQ(records_[0].fields(0).string_value(), "mine");
  EXPECT_EQ(records_[1].fields_size(), 0);
}

TEST_F(AdmissionTest, KeepsAdmittedRecordsInOrderAndRemovesTheRest) {
  Add(v1::LEVEL_INFO, "a");
  Add(v1::LEVEL_DEBUG, "filtered");
  Add(v1::LEVEL_ERROR, "b");
  Add(static_cast<v1::Level>(42), "rejected");
  Add(v1::LEVEL_WARN, "c");
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPushBatches);
  AdmissionResult result = admission.Admit(records_, absl::Now());

  EXPECT_EQ(result.admitted, 3u);
  EXPECT_EQ(result.filtered, 1u);
  EXPECT_EQ(result.rejected, 1u);
  ASSERT_EQ(records_.size(), 3);
  EXPECT_EQ(records_[0].message(), "a");
  EXPECT_EQ(records_[1].message(), "b");
  EXPECT_EQ(records_[2].message(), "c");
  LedgerCounts counts = ledger_.Snapshot();
  EXPECT_EQ(counts.received, 5u);
  EXPECT_EQ(counts.filtered, 1u);
  EXPECT_EQ(counts.rejected, 1u);
}

TEST_F(AdmissionTest, RejectsMalformedTraceAndSpanIdsNamingTheField) {
  Add(v1::LEVEL_INFO, "bad trace")->set_trace_id("abc");
  Add(v1::LEVEL_INFO, "bad span")->set_span_id("abc");
  v1::LogRecord* good = Add(v1::LEVEL_INFO, "good");
  good->set_trace_id(std::string(16, 'x'));
  good->set_span_id(std::string(8, 'y'));
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPush);
  AdmissionResult result = admission.Admit(records_, absl::Now());

  EXPECT_EQ(result.rejected, 2u);
  EXPECT_THAT(result.first_rejection, ::testing::HasSubstr("trace_id: 3 bytes, expected 16"));
  ASSERT_EQ(records_.size(), 1);
  EXPECT_EQ(records_[0].message(), "good");
}

TEST_F(AdmissionTest, StampsTheReceiveTimeOnlyWhenTheClientSetNone) {
  Add(v1::LEVEL_INFO, "no time");
  Add(v1::LEVEL_INFO, "own time")->set_time_unix_nano(42);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPush);
  admission.Admit(records_, now);
  EXPECT_EQ(records_[0].time_unix_nano(), static_cast<uint64_t>(absl::ToUnixNanos(now)));
  EXPECT_EQ(records_[1].time_unix_nano(), 42u);
}

TEST_F(AdmissionTest, UnspecifiedLevelCountsAsInfo) {
  Add(v1::LEVEL_UNSPECIFIED, "x");
  levels_.SetDefault(Level::kWarn);
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPush);
  EXPECT_EQ(admission.Admit(records_, absl::Now()).filtered, 1u);
}

TEST_F(AdmissionTest, RecordOverMaxRecordBytesIsRejectedNamingTheLimit) {
  limits_.max_record_bytes = 200;
  limits_.max_field_value_bytes = 1000;
  AddField(*Add(v1::LEVEL_INFO, "fits"), "k", std::string(150, 'x'));
  AddField(*Add(v1::LEVEL_INFO, "bad"), "k", std::string(250, 'x'));
  Add(v1::LEVEL_INFO, "after");
  EXPECT_THAT(
      ExpectOnlyBadRejected(RejectReason::kRecordTooLarge),
      ::testing::MatchesRegex("record: 2[0-9][0-9] bytes, over ingest.max_record_bytes \\(200\\)"));
  ASSERT_EQ(records_.size(), 2);
  EXPECT_EQ(records_[1].message(), "after");
}

TEST_F(AdmissionTest, RecordWithMoreThanMaxFieldsPerRecordIsRejected) {
  limits_.max_fields_per_record = 3;
  v1::LogRecord* fits = Add(v1::LEVEL_INFO, "fits");
  v1::LogRecord* bad = Add(v1::LEVEL_INFO, "bad");
  for (int i = 0; i < 3; ++i) AddField(*fits, absl::StrCat("k", i), "v");
  for (int i = 0; i < 4; ++i) AddField(*bad, absl::StrCat("k", i), "v");
  EXPECT_EQ(ExpectOnlyBadRejected(RejectReason::kTooManyFields),
            "fields: 4 fields, over ingest.max_fields_per_record (3)");
}

TEST_F(AdmissionTest, FieldKeyOverMaxFieldKeyBytesIsRejected) {
  limits_.max_field_key_bytes = 8;
  AddField(*Add(v1::LEVEL_INFO, "fits"), std::string(8, 'k'), "v");
  v1::LogRecord* bad = Add(v1::LEVEL_INFO, "bad");
  AddField(*bad, "short", "v");
  AddField(*bad, std::string(9, 'k'), "v");
  EXPECT_EQ(ExpectOnlyBadRejected(RejectReason::kFieldKeyTooLarge),
            "fields[1].key: 9 bytes, over ingest.max_field_key_bytes (8)");
}

TEST_F(AdmissionTest, StringOrBytesValueOverMaxFieldValueBytesIsRejected) {
  limits_.max_field_value_bytes = 16;
  v1::LogRecord* fits = Add(v1::LEVEL_INFO, "fits");
  AddField(*fits, "s", std::string(16, 'v'));
  fits->add_fields()->set_int_value(1234567890123);
  v1::LogRecord* bad = Add(v1::LEVEL_INFO, "bad");
  v1::Field* field = bad->add_fields();
  field->set_key("blob");
  field->set_bytes_value(std::string(17, '\0'));
  EXPECT_EQ(ExpectOnlyBadRejected(RejectReason::kFieldValueTooLarge),
            "fields[0] \"blob\": value of 17 bytes, over ingest.max_field_value_bytes (16)");
}

TEST_F(AdmissionTest, RecordsWithinEveryDefaultLimitAreAdmitted) {
  v1::LogRecord* record = Add(v1::LEVEL_INFO, std::string(30000, 'm'));
  for (int i = 0; i < 63; ++i) AddField(*record, absl::StrCat("key", i), "value");
  AddField(*record, std::string(128, 'k'), std::string(30000, 'v'));
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPush);
  EXPECT_EQ(admission.Admit(records_, absl::Now()).admitted, 1u);
}

TEST_F(AdmissionTest, CountsTheSerializedBytesOfEveryRecordReceivedAdmittedOrNot) {
  Add(v1::LEVEL_INFO, "kept");
  Add(v1::LEVEL_DEBUG, "filtered, still received");
  Add(static_cast<v1::Level>(42), "rejected, still received");
  uint64_t expected = 0;
  for (const v1::LogRecord& record : records_) expected += record.ByteSizeLong();
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPush);
  admission.Admit(records_, absl::Now());
  double bytes = -1;
  for (const prometheus::MetricFamily& family : registry_.Collect()) {
    if (family.name != "sluice_ingest_bytes_received_total") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      if (metric.label[0].value == "Push") bytes = metric.counter.value;
    }
  }
  EXPECT_EQ(bytes, static_cast<double>(expected));
}

// The value of the series of `family` whose only label has `value`; -1 when there is none.
double CounterValue(prometheus::Registry& registry, const std::string& family_name,
                    const std::string& value) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != family_name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      if (metric.label.size() == 1 && metric.label[0].value == value) return metric.counter.value;
    }
  }
  return -1;
}

DecodeResult Unverified() {
  DecodeResult decoded;
  decoded.utf8_unverified = true;
  return decoded;
}

TEST_F(AdmissionTest, ReplacePolicyRepairsEveryStringOfTheRecordAndCountsItOnce) {
  Add(v1::LEVEL_INFO, "fine");
  v1::LogRecord* bad = Add(v1::LEVEL_INFO, "caf\xE9");
  bad->set_logger("log\xFF");
  AddField(*bad, "k\xE8y", "valu\xE9");
  limits_.invalid_utf8 = config::InvalidUtf8Policy::kReplace;
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPushBatches);
  const AdmissionResult result = admission.Admit(records_, absl::Now(), Unverified());

  EXPECT_EQ(result.admitted, 2u);
  EXPECT_EQ(result.rejected, 0u);
  EXPECT_EQ(result.utf8_replaced, 1u);
  ASSERT_EQ(records_.size(), 2);
  EXPECT_EQ(records_[0].message(), "fine");
  EXPECT_EQ(records_[1].message(), "caf\xEF\xBF\xBD");
  EXPECT_EQ(records_[1].logger(), "log\xEF\xBF\xBD");
  EXPECT_EQ(records_[1].fields(0).key(), "k\xEF\xBF\xBDy");
  EXPECT_EQ(records_[1].fields(0).string_value(), "valu\xEF\xBF\xBD");
  EXPECT_EQ(CounterValue(registry_, "sluice_ingest_utf8_replaced_total", "PushBatches"), 1.0);
}

TEST_F(AdmissionTest, RejectPolicyRejectsOnlyTheRecordWithInvalidUtf8NamingTheString) {
  Add(v1::LEVEL_INFO, "a");
  v1::LogRecord* bad = Add(v1::LEVEL_INFO, "bad");
  AddField(*bad, "ok", "fine");
  AddField(*bad, "city", "Z\xFCrich");
  Add(v1::LEVEL_INFO, "b");
  limits_.invalid_utf8 = config::InvalidUtf8Policy::kReject;
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPushBatches);
  const AdmissionResult result = admission.Admit(records_, absl::Now(), Unverified());

  EXPECT_EQ(result.admitted, 2u);
  EXPECT_EQ(result.rejected, 1u);
  EXPECT_EQ(result.first_rejection, "fields[1] \"city\": invalid UTF-8 at byte 1");
  ASSERT_EQ(records_.size(), 2);
  EXPECT_EQ(records_[0].message(), "a");
  EXPECT_EQ(records_[1].message(), "b");
  EXPECT_EQ(RejectedMetric(RejectReason::kInvalidUtf8), 1.0);
  EXPECT_EQ(ledger_.Snapshot().rejected, 1u);
}

TEST_F(AdmissionTest, StringsAreNotCheckedWhenTheDecoderVerifiedThem) {
  // A strict parse already refused invalid UTF-8; Admission does not pay for it again.
  Add(v1::LEVEL_INFO, "caf\xE9");
  limits_.invalid_utf8 = config::InvalidUtf8Policy::kReject;
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPush);
  EXPECT_EQ(admission.Admit(records_, absl::Now(), DecodeResult{}).admitted, 1u);
}

TEST_F(AdmissionTest, ReplacedRecordsAreHeldToTheSizeLimitsAfterReplacement) {
  // 40 invalid bytes become 120: over a 100-byte limit only once replaced.
  Add(v1::LEVEL_INFO, std::string(40, '\xE9'));
  limits_.max_record_bytes = 100;
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPush);
  const AdmissionResult result = admission.Admit(records_, absl::Now(), Unverified());
  EXPECT_EQ(result.rejected, 1u);
  EXPECT_EQ(RejectedMetric(RejectReason::kRecordTooLarge), 1.0);
}

TEST_F(AdmissionTest, RecordsTheDecoderRefusedCountAsReceivedAndRejected) {
  const size_t kept_bytes = Add(v1::LEVEL_INFO, "kept")->ByteSizeLong();
  DecodeResult decoded;
  decoded.refused = 3;
  decoded.refused_reason = RejectReason::kRecordTooLarge;
  decoded.refused_bytes = 1000;
  decoded.first_refusal = "log record 0: too big";
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kExport);
  const AdmissionResult result = admission.Admit(records_, absl::Now(), decoded);

  EXPECT_EQ(result.admitted, 1u);
  EXPECT_EQ(result.rejected, 3u);
  EXPECT_EQ(result.first_rejection, "log record 0: too big");
  EXPECT_EQ(RejectedMetric(RejectReason::kRecordTooLarge), 3.0);
  const LedgerCounts counts = ledger_.Snapshot();
  EXPECT_EQ(counts.received, 4u);
  EXPECT_EQ(counts.rejected, 3u);
  EXPECT_EQ(CounterValue(registry_, "sluice_ingest_records_received_total", "Export"), 4.0);
  EXPECT_EQ(CounterValue(registry_, "sluice_ingest_bytes_received_total", "Export"),
            static_cast<double>(1000 + kept_bytes));
}

// The int_value of the field `key` of `record`, -1 when it has none.
int64_t IntField(const v1::LogRecord& record, const std::string& key) {
  for (const v1::Field& field : record.fields()) {
    if (field.key() == key) return field.int_value();
  }
  return -1;
}

TEST_F(AdmissionTest, WithoutPreHooksTheLayersStayEmpty) {
  AddField(*Add(v1::LEVEL_INFO, "a"), "app", "1");
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPush);
  std::vector<FieldLayers> layers;
  admission.Admit(records_, absl::Now(), &layers);
  EXPECT_TRUE(layers.empty());
  EXPECT_EQ(records_[0].fields_size(), 1);
}

TEST_F(AdmissionTest, PreHooksNumberOnlyAdmittedRecordsAcrossMessagesAndSetTheirLayers) {
  std::unique_ptr<pipeline::hooks::HookChain> chain =
      PreHookChain("[{type: sequence}, {type: peer}]", nullptr);
  const pipeline::hooks::CallMetadata metadata;
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPushBatches);
  admission.SetPreHooks(*chain, "ipv4:10.0.0.7:5555", metadata);

  AddField(*Add(v1::LEVEL_INFO, "a"), "app", "1");
  Add(v1::LEVEL_DEBUG, "filtered");
  Add(static_cast<v1::Level>(42), "rejected");
  Add(v1::LEVEL_WARN, "b");
  std::vector<FieldLayers> layers;
  AdmissionResult result = admission.Admit(records_, absl::Now(), &layers);
  EXPECT_EQ(result.admitted, 2u);
  EXPECT_EQ(result.dropped_by_hook, 0u);
  ASSERT_EQ(records_.size(), 2);
  EXPECT_EQ(IntField(records_[0], "sequence"), 1);
  EXPECT_EQ(IntField(records_[1], "sequence"), 2);
  EXPECT_EQ(records_[0].fields(2).string_value(), "10.0.0.7");
  EXPECT_THAT(layers, ::testing::ElementsAre(FieldLayers{.adhoc_end = 1, .pre_end = 3},
                                             FieldLayers{.adhoc_end = 0, .pre_end = 2}));

  // The stream's next message goes on counting.
  records_.Clear();
  Add(static_cast<v1::Level>(42), "rejected");
  Add(v1::LEVEL_INFO, "c");
  admission.Admit(records_, absl::Now(), &layers);
  ASSERT_EQ(records_.size(), 1);
  EXPECT_EQ(IntField(records_[0], "sequence"), 3);
  EXPECT_THAT(layers, ::testing::ElementsAre(FieldLayers{.adhoc_end = 0, .pre_end = 2}));

  // Another stream has its own count.
  Admission other(limits_, levels_, ledger_, metrics_, Rpc::kPushBatches);
  other.SetPreHooks(*chain, "ipv4:10.0.0.8:5555", metadata);
  records_.Clear();
  Add(v1::LEVEL_INFO, "first of the other stream");
  other.Admit(records_, absl::Now(), &layers);
  EXPECT_EQ(IntField(records_[0], "sequence"), 1);
}

// Drops every record; a pre-hook type Sluice does not ship, for the books.
class DropAllHook final : public pipeline::hooks::Hook {
 public:
  absl::string_view id() const override { return "drop_all/x"; }
  Verdict OnRecord(pipeline::hooks::HookRecord&) const override { return Verdict::kDrop; }
};

TEST_F(AdmissionTest, RecordsAPreHookDropsLeaveTheBatchAndCountAsDroppedByHook) {
  std::vector<std::unique_ptr<pipeline::hooks::Hook>> hooks;
  hooks.push_back(std::make_unique<DropAllHook>());
  pipeline::hooks::HookChain chain(std::move(hooks), nullptr);
  const pipeline::hooks::CallMetadata metadata;
  Admission admission(limits_, levels_, ledger_, metrics_, Rpc::kPush);
  admission.SetPreHooks(chain, "ipv4:10.0.0.7:5555", metadata);
  Add(v1::LEVEL_INFO, "a");
  Add(v1::LEVEL_DEBUG, "filtered");
  Add(v1::LEVEL_INFO, "b");
  std::vector<FieldLayers> layers;
  const AdmissionResult result = admission.Admit(records_, absl::Now(), &layers);
  EXPECT_EQ(result.admitted, 2u);
  EXPECT_EQ(result.dropped_by_hook, 2u);
  EXPECT_TRUE(records_.empty());
  EXPECT_TRUE(layers.empty());
  const LedgerCounts counts = ledger_.Snapshot();
  EXPECT_EQ(counts.received, 3u);
  EXPECT_EQ(counts.filtered, 1u);
  EXPECT_EQ(counts.dropped_by_hook, 2u);
}

}  // namespace
}  // namespace sluice::ingest
