#include "server/levels/level_table.h"

#include "gtest/gtest.h"

namespace sluice::levels {
namespace {

config::LevelsConfig Levels(Level default_level, std::vector<config::LevelRuleConfig> rules = {}) {
  config::LevelsConfig config;
  config.default_level = default_level;
  config.rules = std::move(rules);
  return config;
}

TEST(LevelTableTest, LoggersWithoutARuleGetTheDefault) {
  LevelTable table(Levels(Level::kWarn));
  EXPECT_EQ(table.Snapshot()->ThresholdFor("anything"), Level::kWarn);
  EXPECT_EQ(table.Snapshot()->ThresholdFor(""), Level::kWarn);
}

TEST(LevelTableTest, PrefixMatchesWholeNameSegmentsOnly) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kDebug}}));
  auto snapshot = table.Snapshot();
  EXPECT_EQ(snapshot->ThresholdFor("checkout"), Level::kDebug);
  EXPECT_EQ(snapshot->ThresholdFor("checkout.db"), Level::kDebug);
  EXPECT_EQ(snapshot->ThresholdFor("checkouts"), Level::kInfo);
  EXPECT_EQ(snapshot->ThresholdFor("web.checkout"), Level::kInfo);
}

TEST(LevelTableTest, LongestPrefixWins) {
  LevelTable table(Levels(Level::kInfo, {{"checkout.db.pool", Level::kError},
                                         {"checkout", Level::kDebug},
                                         {"checkout.db", Level::kWarn}}));
  auto snapshot = table.Snapshot();
  EXPECT_EQ(snapshot->ThresholdFor("checkout.api"), Level::kDebug);
  EXPECT_EQ(snapshot->ThresholdFor("checkout.db"), Level::kWarn);
  EXPECT_EQ(snapshot->ThresholdFor("checkout.db.query"), Level::kWarn);
  EXPECT_EQ(snapshot->ThresholdFor("checkout.db.pool.conn"), Level::kError);
}

TEST(LevelTableTest, ChangesPublishANewSnapshotAndBumpTheVersion) {
  LevelTable table(Levels(Level::kInfo));
  auto before = table.Snapshot();
  const uint64_t version = table.version();
  ASSERT_TRUE(table.SetRule("payments", Level::kTrace, absl::ZeroDuration(), absl::Now()).ok());
  EXPECT_GT(table.version(), version);
  EXPECT_EQ(before->ThresholdFor("payments"), Level::kInfo);  // old snapshots stay valid
  EXPECT_EQ(table.Snapshot()->ThresholdFor("payments"), Level::kTrace);

  table.SetDefault(Level::kError);
  EXPECT_EQ(table.Snapshot()->ThresholdFor("other"), Level::kError);
  EXPECT_EQ(table.Snapshot()->ThresholdFor("payments"), Level::kTrace);
}

TEST(LevelTableTest, SetRuleReplacesAnExistingRule) {
  LevelTable table(Levels(Level::kInfo, {{"a", Level::kDebug}}));
  ASSERT_TRUE(table.SetRule("a", Level::kError, absl::ZeroDuration(), absl::Now()).ok());
  EXPECT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->ThresholdFor("a"), Level::kError);
}

TEST(LevelTableTest, RemoveRuleRevertsToTheDefaultAndUnknownPrefixIsNotFound) {
  LevelTable table(Levels(Level::kInfo, {{"a", Level::kDebug}}));
  ASSERT_TRUE(table.RemoveRule("a").ok());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("a"), Level::kInfo);
  EXPECT_EQ(table.RemoveRule("a").code(), absl::StatusCode::kNotFound);
}

TEST(LevelTableTest, MalformedPrefixesAreRejected) {
  LevelTable table(Levels(Level::kInfo));
  for (const char* prefix : {"", ".a", "a.", "a..b", "a b", "a/b"}) {
    EXPECT_EQ(table.SetRule(prefix, Level::kDebug, absl::ZeroDuration(), absl::Now()).code(),
              absl::StatusCode::kInvalidArgument)
        << prefix;
  }
}

TEST(LevelTableTest, RuleWithTtlExpiresAndTheNextRuleAppliesAgain) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout.db", Level::kDebug, absl::Minutes(10), now).ok());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout.db"), Level::kDebug);

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(9)), now + absl::Minutes(10));
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout.db"), Level::kDebug);

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(10)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout.db"), Level::kWarn);
}

TEST(LevelTableTest, TtlRuleOverAConfiguredRuleRevertsToItWhenItExpires) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Seconds(1), now).ok());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kDebug);
  ASSERT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->rules()[0].expires_at, now + absl::Seconds(1));

  EXPECT_EQ(table.ExpireDue(now + absl::Seconds(1)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kWarn);
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout.db"), Level::kWarn);
  ASSERT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->rules()[0].level, Level::kWarn);
  EXPECT_EQ(table.Snapshot()->rules()[0].expires_at, absl::InfiniteFuture());
}

TEST(LevelTableTest, TtlRuleOnAPrefixWithoutARuleLeavesNoRuleWhenItExpires) {
  LevelTable table(Levels(Level::kError, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout.db", Level::kDebug, absl::Seconds(1), now).ok());
  EXPECT_EQ(table.Snapshot()->rules().size(), 2u);

  table.ExpireDue(now + absl::Seconds(1));
  ASSERT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->rules()[0].logger_prefix, "checkout");
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout.db"), Level::kWarn);
  EXPECT_EQ(table.RemoveRule("checkout.db").code(), absl::StatusCode::kNotFound);
}

TEST(LevelTableTest, ANewerShorterOverlayRevertsToTheOlderOneStillInForce) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Minutes(10), now).ok());
  ASSERT_TRUE(table.SetRule("checkout", Level::kTrace, absl::Minutes(1), now).ok());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kTrace);

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(1)), now + absl::Minutes(10));
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kDebug);
  ASSERT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->rules()[0].expires_at, now + absl::Minutes(10));

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(10)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kWarn);
}

TEST(LevelTableTest, AnOverlayThatExpiresWhileCoveredNeverAppliesAgain) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Minutes(1), now).ok());
  ASSERT_TRUE(table.SetRule("checkout", Level::kTrace, absl::Minutes(10), now).ok());

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(1)), now + absl::Minutes(10));
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kTrace);

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(10)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kWarn);
}

TEST(LevelTableTest, APermanentSetReplacesTheOverlayAndTheRuleBeneathIt) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Minutes(10), now).ok());
  ASSERT_TRUE(table.SetRule("checkout", Level::kError, absl::ZeroDuration(), now).ok());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kError);
  ASSERT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->rules()[0].expires_at, absl::InfiniteFuture());

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(10)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kError);
}

TEST(LevelTableTest, RemoveRuleDropsTheOverlaysWithTheRule) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Minutes(10), now).ok());
  ASSERT_TRUE(table.RemoveRule("checkout").ok());
  EXPECT_TRUE(table.Snapshot()->rules().empty());
  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(10)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kInfo);
}

TEST(LevelTableTest, ExpireDueWithNothingDuePublishesNothing) {
  LevelTable table(Levels(Level::kInfo));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Minutes(10), now).ok());
  const uint64_t version = table.version();
  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(5)), now + absl::Minutes(10));
  EXPECT_EQ(table.version(), version);
}

TEST(LevelTableTest, NegativeTtlIsRejected) {
  LevelTable table(Levels(Level::kInfo));
  EXPECT_EQ(table.SetRule("checkout", Level::kDebug, -absl::Seconds(1), absl::Now()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(table.Snapshot()->rules().empty());
}

TEST(LevelTableTest, ReplaceConfigRulesSwapsTheFilesRulesAndKeepsTheOperators) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kDebug}, {"db", Level::kWarn}}));
  const absl::Time now = absl::Now();
  ASSERT_TRUE(table.SetRule("payments", Level::kTrace, absl::ZeroDuration(), now).ok());
  ASSERT_TRUE(table.SetRule("db", Level::kError, absl::ZeroDuration(), now).ok());
  ASSERT_TRUE(table.SetRule("checkout", Level::kTrace, absl::Minutes(5), now).ok());
  const uint64_t version = table.version();

  table.ReplaceConfigRules(Levels(Level::kWarn, {{"search", Level::kDebug}, {"db", Level::kInfo}}));

  EXPECT_GT(table.version(), version);
  auto snapshot = table.Snapshot();
  EXPECT_EQ(snapshot->default_level(), Level::kWarn);
  EXPECT_EQ(snapshot->ThresholdFor("search"), Level::kDebug);    // the file's new rule
  EXPECT_EQ(snapshot->ThresholdFor("payments"), Level::kTrace);  // SetRule's stays
  EXPECT_EQ(snapshot->ThresholdFor("db"), Level::kError);        // SetRule's beats the file
  EXPECT_EQ(snapshot->ThresholdFor("checkout"), Level::kTrace);  // the overlay stays
  // The file's "checkout" rule is gone: when the overlay expires, the default applies.
  table.ExpireDue(now + absl::Minutes(6));
  EXPECT_EQ(table.Snapshot()->ThresholdFor("checkout"), Level::kWarn);
}

TEST(LevelTableTest, ReplaceConfigRulesLeavesADefaultSetByTheOperator) {
  LevelTable table(Levels(Level::kInfo));
  table.SetDefault(Level::kError);
  table.ReplaceConfigRules(Levels(Level::kDebug));
  EXPECT_EQ(table.Snapshot()->default_level(), Level::kError);
}

}  // namespace
}  // namespace sluice::levels
