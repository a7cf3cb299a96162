#include "server/ingest/admission.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

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

  prometheus::Registry registry_;
  admin::LevelTable levels_;
  Ledger ledger_;
  IngestMetrics metrics_;
  google::protobuf::RepeatedPtrField<v1::LogRecord> records_;
};

TEST_F(AdmissionTest, KeepsAdmittedRecordsInOrderAndRemovesTheRest) {
  Add(v1::LEVEL_INFO, "a");
  Add(v1::LEVEL_DEBUG, "filtered");
  Add(v1::LEVEL_ERROR, "b");
  Add(static_cast<v1::Level>(42), "rejected");
  Add(v1::LEVEL_WARN, "c");
  Admission admission(levels_, ledger_, metrics_, Rpc::kPushBatches);
  AdmissionResult result = admission.Admit(records_, 100, absl::Now());

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
  Admission admission(levels_, ledger_, metrics_, Rpc::kPush);
  AdmissionResult result = admission.Admit(records_, 100, absl::Now());

  EXPECT_EQ(result.rejected, 2u);
  EXPECT_THAT(result.first_rejection, ::testing::HasSubstr("trace_id: 3 bytes, expected 16"));
  ASSERT_EQ(records_.size(), 1);
  EXPECT_EQ(records_[0].message(), "good");
}

TEST_F(AdmissionTest, StampsTheReceiveTimeOnlyWhenTheClientSetNone) {
  Add(v1::LEVEL_INFO, "no time");
  Add(v1::LEVEL_INFO, "own time")->set_time_unix_nano(42);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  Admission admission(levels_, ledger_, metrics_, Rpc::kPush);
  admission.Admit(records_, 100, now);
  EXPECT_EQ(records_[0].time_unix_nano(), static_cast<uint64_t>(absl::ToUnixNanos(now)));
  EXPECT_EQ(records_[1].time_unix_nano(), 42u);
}

TEST_F(AdmissionTest, UnspecifiedLevelCountsAsInfo) {
  Add(v1::LEVEL_UNSPECIFIED, "x");
  levels_.SetDefault(Level::kWarn);
  Admission admission(levels_, ledger_, metrics_, Rpc::kPush);
  EXPECT_EQ(admission.Admit(records_, 10, absl::Now()).filtered, 1u);
}

}  // namespace
}  // namespace sluice::ingest
