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
