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
  EXPECT_EQ(table.Snapshot()->FilterFor("anything").threshold(), Level::kWarn);
  EXPECT_EQ(table.Snapshot()->FilterFor("").threshold(), Level::kWarn);
}

TEST(LevelTableTest, PrefixMatchesWholeNameSegmentsOnly) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kDebug}}));
  auto snapshot = table.Snapshot();
  EXPECT_EQ(snapshot->FilterFor("checkout").threshold(), Level::kDebug);
  EXPECT_EQ(snapshot->FilterFor("checkout.db").threshold(), Level::kDebug);
  EXPECT_EQ(snapshot->FilterFor("checkouts").threshold(), Level::kInfo);
  EXPECT_EQ(snapshot->FilterFor("web.checkout").threshold(), Level::kInfo);
}

TEST(LevelTableTest, LongestPrefixWins) {
  LevelTable table(Levels(Level::kInfo, {{"checkout.db.pool", Level::kError},
                                         {"checkout", Level::kDebug},
                                         {"checkout.db", Level::kWarn}}));
  auto snapshot = table.Snapshot();
  EXPECT_EQ(snapshot->FilterFor("checkout.api").threshold(), Level::kDebug);
  EXPECT_EQ(snapshot->FilterFor("checkout.db").threshold(), Level::kWarn);
  EXPECT_EQ(snapshot->FilterFor("checkout.db.query").threshold(), Level::kWarn);
  EXPECT_EQ(snapshot->FilterFor("checkout.db.pool.conn").threshold(), Level::kError);
}

TEST(LevelTableTest, ChangesPublishANewSnapshotAndBumpTheVersion) {
  LevelTable table(Levels(Level::kInfo));
  auto before = table.Snapshot();
  const uint64_t version = table.version();
  ASSERT_TRUE(table.SetRule("payments", Level::kTrace, absl::ZeroDuration(), absl::Now()).ok());
  EXPECT_GT(table.version(), version);
  EXPECT_EQ(before->FilterFor("payments").threshold(), Level::kInfo);  // old snapshots stay valid
  EXPECT_EQ(table.Snapshot()->FilterFor("payments").threshold(), Level::kTrace);

  table.SetDefault(Level::kError);
  EXPECT_EQ(table.Snapshot()->FilterFor("other").threshold(), Level::kError);
  EXPECT_EQ(table.Snapshot()->FilterFor("payments").threshold(), Level::kTrace);
}

TEST(LevelTableTest, SetRuleReplacesAnExistingRule) {
  LevelTable table(Levels(Level::kInfo, {{"a", Level::kDebug}}));
  ASSERT_TRUE(table.SetRule("a", Level::kError, absl::ZeroDuration(), absl::Now()).ok());
  EXPECT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->FilterFor("a").threshold(), Level::kError);
}

TEST(LevelTableTest, RemoveRuleRevertsToTheDefaultAndUnknownPrefixIsNotFound) {
  LevelTable table(Levels(Level::kInfo, {{"a", Level::kDebug}}));
  ASSERT_TRUE(table.RemoveRule("a").ok());
  EXPECT_EQ(table.Snapshot()->FilterFor("a").threshold(), Level::kInfo);
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
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout.db").threshold(), Level::kDebug);

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(9)), now + absl::Minutes(10));
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout.db").threshold(), Level::kDebug);

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(10)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout.db").threshold(), Level::kWarn);
}

TEST(LevelTableTest, TtlRuleOverAConfiguredRuleRevertsToItWhenItExpires) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Seconds(1), now).ok());
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kDebug);
  ASSERT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->rules()[0].expires_at, now + absl::Seconds(1));

  EXPECT_EQ(table.ExpireDue(now + absl::Seconds(1)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kWarn);
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout.db").threshold(), Level::kWarn);
  ASSERT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->rules()[0].filter.threshold(), Level::kWarn);
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
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout.db").threshold(), Level::kWarn);
  EXPECT_EQ(table.RemoveRule("checkout.db").code(), absl::StatusCode::kNotFound);
}

TEST(LevelTableTest, ANewerShorterOverlayRevertsToTheOlderOneStillInForce) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Minutes(10), now).ok());
  ASSERT_TRUE(table.SetRule("checkout", Level::kTrace, absl::Minutes(1), now).ok());
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kTrace);

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(1)), now + absl::Minutes(10));
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kDebug);
  ASSERT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->rules()[0].expires_at, now + absl::Minutes(10));

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(10)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kWarn);
}

TEST(LevelTableTest, AnOverlayThatExpiresWhileCoveredNeverAppliesAgain) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Minutes(1), now).ok());
  ASSERT_TRUE(table.SetRule("checkout", Level::kTrace, absl::Minutes(10), now).ok());

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(1)), now + absl::Minutes(10));
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kTrace);

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(10)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kWarn);
}

TEST(LevelTableTest, APermanentSetReplacesTheOverlayAndTheRuleBeneathIt) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Minutes(10), now).ok());
  ASSERT_TRUE(table.SetRule("checkout", Level::kError, absl::ZeroDuration(), now).ok());
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kError);
  ASSERT_EQ(table.Snapshot()->rules().size(), 1u);
  EXPECT_EQ(table.Snapshot()->rules()[0].expires_at, absl::InfiniteFuture());

  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(10)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kError);
}

TEST(LevelTableTest, RemoveRuleDropsTheOverlaysWithTheRule) {
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kWarn}}));
  const absl::Time now = absl::FromUnixSeconds(1000);
  ASSERT_TRUE(table.SetRule("checkout", Level::kDebug, absl::Minutes(10), now).ok());
  ASSERT_TRUE(table.RemoveRule("checkout").ok());
  EXPECT_TRUE(table.Snapshot()->rules().empty());
  EXPECT_EQ(table.ExpireDue(now + absl::Minutes(10)), absl::InfiniteFuture());
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kInfo);
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

TEST(LevelTableTest, ASetOfLevelsAdmitsExactlyThoseLevels) {
  LevelTable table(Levels(Level::kInfo));
  ASSERT_TRUE(table
                  .SetRule("checkout", *LevelFilter::Only({Level::kError, Level::kDebug}),
                           absl::ZeroDuration(), absl::Now())
                  .ok());
  const LevelFilter filter = table.Snapshot()->FilterFor("checkout.db");
  EXPECT_EQ(filter.threshold(), std::nullopt);
  EXPECT_EQ(filter.levels(), (std::vector<Level>{Level::kDebug, Level::kError}));
  EXPECT_EQ(filter.lowest(), Level::kDebug);
  EXPECT_TRUE(filter.Admits(Level::kDebug));
  EXPECT_TRUE(filter.Admits(Level::kError));
  EXPECT_FALSE(filter.Admits(Level::kTrace));
  EXPECT_FALSE(filter.Admits(Level::kInfo));
  EXPECT_FALSE(filter.Admits(Level::kFatal));
  EXPECT_FALSE(filter.Admits(static_cast<Level>(200)));
  EXPECT_EQ(LevelFilter::Only({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LevelTableTest, ConfigRulesMayBeSetsOfLevels) {
  config::LevelsConfig config = Levels(Level::kInfo);
  config.rules.push_back({.logger_prefix = "audit", .enabled_levels = {Level::kWarn}});
  LevelTable table(config);
  EXPECT_EQ(table.Snapshot()->FilterFor("audit").levels(), std::vector<Level>{Level::kWarn});
}

TEST(LevelTableTest, RulesRememberTheirSourceAndWhenTheyWereSet) {
  const absl::Time start = absl::FromUnixSeconds(1000);
  LevelTable table(Levels(Level::kInfo, {{"checkout", Level::kDebug}}), start);
  const absl::Time later = start + absl::Minutes(3);
  ASSERT_TRUE(table.SetRule("payments", Level::kTrace, absl::Minutes(10), later).ok());
  table.SetDefault(Level::kWarn, later);
  auto snapshot = table.Snapshot();
  ASSERT_EQ(snapshot->rules().size(), 2u);
  const LevelRule& checkout = snapshot->rules()[0];
  EXPECT_EQ(checkout.source, RuleSource::kConfig);
  EXPECT_EQ(checkout.set_at, start);
  EXPECT_EQ(checkout.expires_at, absl::InfiniteFuture());
  const LevelRule& payments = snapshot->rules()[1];
  EXPECT_EQ(payments.source, RuleSource::kAdmin);
  EXPECT_EQ(payments.set_at, later);
  EXPECT_EQ(payments.expires_at, later + absl::Minutes(10));
  EXPECT_EQ(snapshot->default_source(), RuleSource::kAdmin);
  EXPECT_EQ(snapshot->default_set_at(), later);
}

TEST(LevelTableTest, ANewPrefixBeyondMaxRulesIsRefusedNamingTheLimit) {
  config::LevelsConfig config = Levels(Level::kInfo, {{"a", Level::kDebug}});
  config.max_rules = 2;
  LevelTable table(config);
  ASSERT_TRUE(table.SetRule("b", Level::kDebug, absl::ZeroDuration(), absl::Now()).ok());
  const absl::Status refused = table.SetRule("c", Level::kDebug, absl::ZeroDuration(), absl::Now());
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("levels.max_rules (2)"), absl::string_view::npos) << refused;
  // Changing a prefix the table holds needs no room.
  EXPECT_TRUE(table.SetRule("a", Level::kError, absl::Minutes(1), absl::Now()).ok());
  EXPECT_EQ(table.Snapshot()->rules().size(), 2u);
}

TEST(LevelTableTest, APrefixLongerThanMaxPrefixBytesIsRefusedNamingTheLimit) {
  config::LevelsConfig config = Levels(Level::kInfo);
  config.max_prefix_bytes = 8;
  LevelTable table(config);
  EXPECT_TRUE(table.SetRule("abcdefgh", Level::kDebug, absl::ZeroDuration(), absl::Now()).ok());
  const absl::Status refused =
      table.SetRule("abcdefghi", Level::kDebug, absl::ZeroDuration(), absl::Now());
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("levels.max_prefix_bytes (8)"), absl::string_view::npos)
      << refused;
}

TEST(LevelTableTest, AReloadReplacesTheFilesRulesAndKeepsTheOperators) {
  const absl::Time start = absl::FromUnixSeconds(1000);
  LevelTable table(
      Levels(Level::kInfo,
             {{"checkout", Level::kDebug}, {"payments", Level::kWarn}, {"shared", Level::kWarn}}),
      start);
  ASSERT_TRUE(table.SetRule("shared", Level::kTrace, absl::ZeroDuration(), start).ok());
  ASSERT_TRUE(table.SetRule("payments", Level::kTrace, absl::Minutes(10), start).ok());

  const absl::Time reload = start + absl::Minutes(1);
  table.ReplaceConfigRules(
      Levels(Level::kWarn,
             {{"payments", Level::kError}, {"shared", Level::kFatal}, {"search", Level::kDebug}}),
      reload);
  auto snapshot = table.Snapshot();
  EXPECT_EQ(snapshot->default_level(), Level::kWarn);
  EXPECT_EQ(snapshot->default_set_at(), reload);
  // Gone from the file: gone from the table.
  EXPECT_EQ(snapshot->FilterFor("checkout").threshold(), Level::kWarn);
  EXPECT_EQ(snapshot->FilterFor("search").threshold(), Level::kDebug);
  // The operator's permanent rule stays; so does the overlay, over the file's new rule.
  EXPECT_EQ(snapshot->FilterFor("shared").threshold(), Level::kTrace);
  EXPECT_EQ(snapshot->FilterFor("payments").threshold(), Level::kTrace);
  table.ExpireDue(start + absl::Minutes(10));
  EXPECT_EQ(table.Snapshot()->FilterFor("payments").threshold(), Level::kError);
}

TEST(LevelTableTest, AReloadKeepsADefaultTheOperatorSet) {
  LevelTable table(Levels(Level::kInfo));
  table.SetDefault(Level::kDebug);
  table.ReplaceConfigRules(Levels(Level::kError), absl::Now());
  EXPECT_EQ(table.Snapshot()->default_level(), Level::kDebug);
  EXPECT_EQ(table.Snapshot()->default_source(), RuleSource::kAdmin);
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
  EXPECT_EQ(snapshot->FilterFor("search").threshold(), Level::kDebug);    // the file's new rule
  EXPECT_EQ(snapshot->FilterFor("payments").threshold(), Level::kTrace);  // SetRule's stays
  EXPECT_EQ(snapshot->FilterFor("db").threshold(), Level::kError);  // SetRule's beats the file
  EXPECT_EQ(snapshot->FilterFor("checkout").threshold(), Level::kTrace);  // the overlay stays
  // The file's "checkout" rule is gone: when the overlay expires, the default applies.
  table.ExpireDue(now + absl::Minutes(6));
  EXPECT_EQ(table.Snapshot()->FilterFor("checkout").threshold(), Level::kWarn);
}

TEST(LevelTableTest, ReplaceConfigRulesLeavesADefaultSetByTheOperator) {
  LevelTable table(Levels(Level::kInfo));
  table.SetDefault(Level::kError);
  table.ReplaceConfigRules(Levels(Level::kDebug));
  EXPECT_EQ(table.Snapshot()->default_level(), Level::kError);
}

}  // namespace
}  // namespace sluice::levels
