#include "sluice/level.h"

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(LevelTest, ParsesEveryKeywordInAnyCase) {
  for (Level level : kAllLevels) {
    EXPECT_EQ(*ParseLevel(LevelKeyword(level)), level);
    EXPECT_EQ(*ParseLevel(LevelName(level)), level);
  }
  EXPECT_EQ(*ParseLevel("Warning"), Level::kWarn);
}

TEST(LevelTest, RejectsUnknownNamesWithTheAcceptedSpellings) {
  absl::StatusOr<Level> level = ParseLevel("verbose");
  ASSERT_FALSE(level.ok());
  EXPECT_EQ(level.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(level.status().message().find("trace, debug, info"), std::string::npos);
}

TEST(LevelTest, UnspecifiedProtoLevelMeansInfoAndOutOfRangeIsRejected) {
  EXPECT_EQ(*LevelFromProto(v1::LEVEL_UNSPECIFIED), Level::kInfo);
  EXPECT_EQ(*LevelFromProto(v1::LEVEL_ERROR), Level::kError);
  EXPECT_FALSE(LevelFromProto(42).ok());
  EXPECT_FALSE(LevelFromProto(-1).ok());
}

TEST(LevelTest, OrderFollowsSeverity) {
  EXPECT_LT(Level::kTrace, Level::kDebug);
  EXPECT_LT(Level::kWarn, Level::kError);
  EXPECT_LT(Level::kError, Level::kFatal);
}

TEST(LevelTest, LoggerPrefixesAreDottedNamesWithoutEmptySegments) {
  EXPECT_TRUE(ValidateLoggerPrefix("checkout").ok());
  EXPECT_TRUE(ValidateLoggerPrefix("a-b_c.D9").ok());
  for (const char* prefix : {"", ".a", "a.", "a..b", "a b", "a/b"}) {
    absl::Status status = ValidateLoggerPrefix(prefix);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << prefix;
    EXPECT_EQ(status.message().find("a logger prefix must"), 0u) << prefix;
  }
}

}  // namespace
}  // namespace sluice
