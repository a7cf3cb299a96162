#include "server/app/grpc_log.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// A clock that moves only when the test says so.
class FakeClock {
 public:
  absl::Time Now() const { return now_; }
  void Advance(absl::Duration by) { now_ += by; }
  std::function<absl::Time()> AsFunction() {
    return [this] { return now_; };
  }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

GrpcLogLimiter::Options ThreePerTenSeconds() {
  return {.max_lines = 3, .window = absl::Seconds(10)};
}

TEST(GrpcLogLimiterTest, PrintsTheFirstLinesOfASiteInAWindow) {
  FakeClock clock;
  GrpcLogLimiter limiter(ThreePerTenSeconds(), clock.AsFunction());
  EXPECT_THAT(limiter.Admit("a.cc:1", "one"), ElementsAre("one"));
  EXPECT_THAT(limiter.Admit("a.cc:1", "two"), ElementsAre("two"));
  EXPECT_THAT(limiter.Admit("a.cc:1", "three"), ElementsAre("three"));
}

TEST(GrpcLogLimiterTest, SuppressesLinesBeyondTheLimitUntilTheWindowEnds) {
  FakeClock clock;
  GrpcLogLimiter limiter(ThreePerTenSeconds(), clock.AsFunction());
  for (int i = 0; i < 3; ++i) limiter.Admit("a.cc:1", "line");
  EXPECT_THAT(limiter.Admit("a.cc:1", "four"), IsEmpty());
  clock.Advance(absl::Seconds(9));
  EXPECT_THAT(limiter.Admit("a.cc:1", "five"), IsEmpty());
}

TEST(GrpcLogLimiterTest, TheNextWindowStartsWithASummaryOfWhatWasSuppressed) {
  FakeClock clock;
  GrpcLogLimiter limiter(ThreePerTenSeconds(), clock.AsFunction());
  for (int i = 0; i < 500; ++i) limiter.Admit("a.cc:1", "line");
  clock.Advance(absl::Seconds(10));
  const std::vector<std::string> lines = limiter.Admit("a.cc:1", "again");
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_THAT(lines[0], HasSubstr("suppressed 497 more lines from a.cc:1"));
  EXPECT_EQ(lines[1], "again");
}

TEST(GrpcLogLimiterTest, CountsEachCallSiteOnItsOwn) {
  FakeClock clock;
  GrpcLogLimiter limiter(ThreePerTenSeconds(), clock.AsFunction());
  for (int i = 0; i < 10; ++i) limiter.Admit("noisy.cc:7", "noise");
  EXPECT_THAT(limiter.Admit("quiet.cc:9", "rare"), ElementsAre("rare"));
}

TEST(GrpcLogLimiterTest, ASiteThatWentQuietReportsItsSuppressedLinesWhenTheWindowEnds) {
  FakeClock clock;
  GrpcLogLimiter limiter(ThreePerTenSeconds(), clock.AsFunction());
  for (int i = 0; i < 4; ++i) limiter.Admit("a.cc:1", "line");
  limiter.Admit("b.cc:2", "only one");
  EXPECT_THAT(limiter.TakeExpiredSummaries(), IsEmpty()) << "the window is not over yet";
  clock.Advance(absl::Seconds(10));
  const std::vector<std::string> summaries = limiter.TakeExpiredSummaries();
  ASSERT_THAT(summaries, SizeIs(1)) << "b.cc:2 suppressed nothing";
  EXPECT_THAT(summaries[0], HasSubstr("suppressed 1 more line from a.cc:1"));
  EXPECT_THAT(limiter.TakeExpiredSummaries(), IsEmpty()) << "each summary is given once";
  EXPECT_THAT(limiter.Admit("a.cc:1", "fresh"), ElementsAre("fresh"));
}

}  // namespace
}  // namespace sluice::app
