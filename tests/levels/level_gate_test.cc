#include "server/levels/level_gate.h"

#include "gtest/gtest.h"

namespace sluice::levels {
namespace {

TEST(LevelGateTest, AdmitsRecordsAtOrAboveTheThreshold) {
  LevelTable table(config::LevelsConfig{});
  LevelGate gate(table);
  EXPECT_FALSE(gate.Admits("demo", Level::kDebug));
  EXPECT_TRUE(gate.Admits("demo", Level::kInfo));
  EXPECT_TRUE(gate.Admits("demo", Level::kFatal));
}

TEST(LevelGateTest, SeesALevelChangeOnTheNextRecord) {
  LevelTable table(config::LevelsConfig{});
  LevelGate gate(table);
  EXPECT_FALSE(gate.Admits("checkout.db", Level::kDebug));
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::ZeroDuration(), absl::Now()).ok());
  EXPECT_TRUE(gate.Admits("checkout.db", Level::kDebug));
  table.SetDefault(Level::kError);
  EXPECT_FALSE(gate.Admits("other", Level::kWarn));
  EXPECT_TRUE(gate.Admits("checkout.db", Level::kDebug));
}

TEST(LevelGateTest, SwitchingLoggersUsesEachLoggersRule) {
  config::LevelsConfig config;
  config.rules = {{"noisy", Level::kError}};
  LevelTable table(config);
  LevelGate gate(table);
  EXPECT_FALSE(gate.Admits("noisy", Level::kWarn));
  EXPECT_TRUE(gate.Admits("quiet", Level::kWarn));
  EXPECT_FALSE(gate.Admits("noisy.sub", Level::kWarn));
}

TEST(LevelGateTest, ASetRuleAdmitsOnlyItsLevels) {
  config::LevelsConfig config;
  config.rules.push_back(
      {.logger_prefix = "checkout", .enabled_levels = {Level::kError, Level::kDebug}});
  LevelTable table(config);
  LevelGate gate(table);
  EXPECT_TRUE(gate.Admits("checkout.db", Level::kDebug));
  EXPECT_FALSE(gate.Admits("checkout.db", Level::kInfo));
  EXPECT_FALSE(gate.Admits("checkout.db", Level::kWarn));
  EXPECT_TRUE(gate.Admits("checkout.db", Level::kError));
  EXPECT_FALSE(gate.Admits("checkout.db", Level::kFatal));
  EXPECT_TRUE(gate.Admits("other", Level::kFatal));
}

}  // namespace
}  // namespace sluice::levels
