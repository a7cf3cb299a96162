#include "server/levels/level_collector.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace sluice::levels {
namespace {

TEST(LevelCollectorTest, ExportsTheDefaultAndEveryRule) {
  config::LevelsConfig config;
  config.default_level = Level::kWarn;
  config.rules = {{"checkout", Level::kDebug}};
  LevelTable table(config);
  LevelCollector collector(table);
  const std::string text = prometheus::TextSerializer().Serialize(collector.Collect());
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_level_threshold{logger=\"\"} 4"));
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_level_threshold{logger=\"checkout\"} 2"));
}

TEST(LevelCollectorTest, ASetOfLevelsShowsItsLowestLevel) {
  config::LevelsConfig config;
  config.rules.push_back(
      {.logger_prefix = "audit", .enabled_levels = {Level::kError, Level::kDebug}});
  LevelTable table(config);
  LevelCollector collector(table);
  const std::string text = prometheus::TextSerializer().Serialize(collector.Collect());
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_level_threshold{logger=\"audit\"} 2"));
}

}  // namespace
}  // namespace sluice::levels
