#include "server/outputs/forward/forward_output.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/outputs/next_tier.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<Output>> Create(const std::string& yaml) {
  return CreateFromYaml(ForwardOutputFactory(), yaml);
}

std::string Block(const std::string& target, const std::string& extra = "") {
  return absl::StrCat("{type: forward, name: next, target: '", target, "'", extra, "}");
}

// Nothing listens on port 1 of 127.0.0.1: streams to it fail at once.
constexpr char kNobody[] = "127.0.0.1:1";

TEST(ForwardOutputTest, RecordsAtOrAboveTheLevelReachTheNextTierByTheFlush) {
  NextTier next;
  absl::StatusOr<std::unique_ptr<Output>> output = Create(Block(next.target()));
  ASSERT_TRUE(output.ok()) << output.status();
  ASSERT_TRUE((*output)->Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "kept").Add(Level::kDebug, "below").Add(Level::kError, "also kept");
  ASSERT_TRUE((*output)->Write(batch.RouteAtLeast(Level::kInfo)).ok());
  const absl::Status flushed = (*output)->Flush(absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(flushed.ok()) << flushed;
  // Flush returned once the next tier acked: the records are there, not on their way.
  EXPECT_THAT(next.messages(), ElementsAre("kept", "also kept"));
  EXPECT_TRUE((*output)->Shutdown(absl::Now() + absl::Seconds(30)).ok());
}

// "key=value" per field of `record`, in the order they travelled.
std::vector<std::string> Fields(const v1::LogRecord& record) {
  std::vector<std::string> fields;
  for (const v1::Field& field : record.fields()) {
    fields.push_back(absl::StrCat(field.key(), "=", field.string_value()));
  }
  return fields;
}

// Sends `batch` through a forward output to a fresh next tier; what the tier received.
std::vector<v1::LogRecord> Forward(FakeOutputBatch& batch) {
  NextTier next;
  absl::StatusOr<std::unique_ptr<Output>> output = Create(Block(next.target()));
  EXPECT_TRUE(output.ok()) << output.status();
  if (!output.ok()) return {};
  EXPECT_TRUE((*output)->Start().ok());
  EXPECT_TRUE((*output)->Write(batch).ok());
  const absl::Status flushed = (*output)->Flush(absl::Now() + absl::Seconds(30));
  EXPECT_TRUE(flushed.ok()) << flushed;
  EXPECT_TRUE((*output)->Shutdown(absl::Now() + absl::Seconds(30)).ok());
  return next.records();
}

TEST(ForwardOutputTest, FieldsGoWeakestLayerFirstSoTheNextTierPicksTheSameWinner) {
  FakeOutputBatch batch;
  // Stored as hooks leave them: the application's, then pre-hook, then post-hook fields.
  batch.Add(Level::kInfo, "layered")
      .AddField("tenant", "app")
      .AddField("host", "a1")
      .AddField("tenant", "meta")
      .AddField("region", "eu")
      .AddField("x", "1")
      .SetLayers(FieldLayers{.adhoc_end = 2, .pre_end = 4});
  const std::vector<v1::LogRecord> received = Forward(batch);
  ASSERT_EQ(received.size(), 1u);
  // The next tier takes them all as ad-hoc, the last `tenant` winning: the application's,
  // as FieldComposer decides here.
  EXPECT_THAT(Fields(received[0]),
              ElementsAre("tenant=meta", "region=eu", "tenant=app", "host=a1", "x=1"));
  EXPECT_EQ(received[0].message(), "layered");
}

TEST(ForwardOutputTest, ARecordWithoutLayersIsForwardedUnchanged) {
  FakeOutputBatch batch;
  batch.Add(Level::kWarn, "plain").AddField("tenant", "app").AddField("tenant", "later");
  batch.Add(Level::kInfo, "no fields");
  std::vector<v1::LogRecord> received = Forward(batch);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_THAT(Fields(received[0]), ElementsAre("tenant=app", "tenant=later"));
  for (int i = 0; i < 2; ++i) {
    // The client stamps a record without a time; everything else is as the batch had it.
    EXPECT_NE(received[i].time_unix_nano(), 0u);
    received[i].clear_time_unix_nano();
    EXPECT_EQ(received[i].SerializeAsString(), batch.records().records()[i].SerializeAsString());
  }
}

TEST(ForwardOutputTest, ABatchWithoutRoomIsRefusedWholeWithUnavailable) {
  absl::StatusOr<std::unique_ptr<Output>> output =
      Create(Block(kNobody, ", max_buffered_records: 3"));
  ASSERT_TRUE(output.ok()) << output.status();
  ASSERT_TRUE((*output)->Start().ok());
  FakeOutputBatch two;
  two.Add(Level::kInfo, "a").Add(Level::kInfo, "b");
  ASSERT_TRUE((*output)->Write(two).ok());

  const absl::Status refused = (*output)->Write(two);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("forward/next: 2 records wait for 127.0.0.1:1"));
  EXPECT_THAT(refused.message(), HasSubstr("max_buffered_records 3"));
  // None of the refused batch was taken: there is room for exactly one more record.
  FakeOutputBatch one;
  one.Add(Level::kInfo, "c");
  EXPECT_TRUE((*output)->Write(one).ok());
  EXPECT_EQ((*output)->Write(one).code(), absl::StatusCode::kUnavailable);
}

TEST(ForwardOutputTest, FlushToATierThatIsDownNamesTheOutputAndWhatIsLeft) {
  absl::StatusOr<std::unique_ptr<Output>> output = Create(Block(kNobody));
  ASSERT_TRUE(output.ok()) << output.status();
  ASSERT_TRUE((*output)->Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kWarn, "stuck");
  ASSERT_TRUE((*output)->Write(batch).ok());
  const absl::Status flushed = (*output)->Flush(absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(flushed.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(flushed.message(), HasSubstr("forward/next: flush deadline exceeded: 1 of 1"));
  const absl::Status shut = (*output)->Shutdown(absl::Now() + absl::Milliseconds(100));
  EXPECT_EQ(shut.code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(ForwardOutputTest, BlockErrorsNameTheKey) {
  EXPECT_EQ(Create("{type: forward, name: next}").status().message(),
            "outputs[0]: missing required key `target`");
  EXPECT_THAT(
      std::string(Create(Block(kNobody, ", load_balancing_policy: random")).status().message()),
      HasSubstr("outputs[0].load_balancing_policy: expected one of pick_first, "
                "round_robin"));
  EXPECT_THAT(std::string(Create(Block(kNobody, ", max_buffered_records: 0")).status().message()),
              HasSubstr("outputs[0].max_buffered_records"));
  EXPECT_THAT(std::string(Create(Block(kNobody, ", retries: 3")).status().message()),
              HasSubstr("outputs[0].retries: unknown key"));
}

}  // namespace
}  // namespace sluice::outputs
