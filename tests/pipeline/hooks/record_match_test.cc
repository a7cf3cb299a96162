#include "server/pipeline/hooks/record_match.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/hook_registry.h"
#include "tests/pipeline/hooks/hook_test_util.h"

namespace sluice::pipeline::hooks {
namespace {

using ::testing::HasSubstr;

v1::LogRecord Log(const std::string& logger) {
  v1::LogRecord log;
  log.set_level(v1::LEVEL_INFO);
  log.set_logger(logger);
  return log;
}

void AddString(v1::LogRecord& log, const std::string& key, const std::string& value) {
  v1::Field* field = log.add_fields();
  field->set_key(key);
  field->set_string_value(value);
}

RecordMatch Create(std::vector<std::string> loggers, const RecordMatch::FieldValues& match) {
  absl::StatusOr<RecordMatch> created = RecordMatch::Create(std::move(loggers), match, "m");
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? *std::move(created) : RecordMatch();
}

// Every field of `log` ad-hoc.
bool Matches(const RecordMatch& match, const v1::LogRecord& log) {
  return match.Matches(log, FieldLayers{});
}

TEST(RecordMatchTest, WithoutConditionsMatchesEveryRecord) {
  RecordMatch match = Create({}, {});
  EXPECT_TRUE(match.empty());
  EXPECT_TRUE(Matches(match, Log("")));
  EXPECT_TRUE(Matches(match, Log("any.thing")));
}

TEST(RecordMatchTest, LoggersMatchOnDotBoundariesAndAnyPrefixWillDo) {
  RecordMatch match = Create({"checkout", "audit.login"}, {});
  EXPECT_FALSE(match.empty());
  EXPECT_TRUE(Matches(match, Log("checkout")));
  EXPECT_TRUE(Matches(match, Log("checkout.db")));
  EXPECT_TRUE(Matches(match, Log("checkout.db.pool")));
  EXPECT_FALSE(Matches(match, Log("checkouts")));
  EXPECT_FALSE(Matches(match, Log("check")));
  EXPECT_TRUE(Matches(match, Log("audit.login")));
  EXPECT_FALSE(Matches(match, Log("audit")));
  EXPECT_FALSE(Matches(match, Log("")));
}

TEST(RecordMatchTest, LiteralValuesCompareNumbersAndBooleansAsTheirText) {
  RecordMatch match = Create({}, {{"code", "200"}, {"ratio", "1.5"}, {"ok", "true"}});
  v1::LogRecord log = Log("http");
  v1::Field* code = log.add_fields();
  code->set_key("code");
  code->set_int_value(200);
  v1::Field* ratio = log.add_fields();
  ratio->set_key("ratio");
  ratio->set_double_value(1.5);
  v1::Field* ok = log.add_fields();
  ok->set_key("ok");
  ok->set_bool_value(true);
  EXPECT_TRUE(Matches(match, log));
  ok->set_bool_value(false);
  EXPECT_FALSE(Matches(match, log));
  ok->set_string_value("true");
  EXPECT_TRUE(Matches(match, log));
  code->set_int_value(2000);
  EXPECT_FALSE(Matches(match, log));
}

TEST(RecordMatchTest, AMissingOrBytesFieldNeverMatches) {
  RecordMatch match = Create({}, {{"blob", "/.*/"}});
  v1::LogRecord log = Log("x");
  EXPECT_FALSE(Matches(match, log));
  v1::Field* blob = log.add_fields();
  blob->set_key("blob");
  blob->set_bytes_value("abc");
  EXPECT_FALSE(Matches(match, log));
  blob->set_string_value("");
  EXPECT_TRUE(Matches(match, log));
}

TEST(RecordMatchTest, APatternIsFoundAnywhereInTheValueUnlessAnchored) {
  RecordMatch anywhere = Create({}, {{"component", "/db/"}});
  RecordMatch anchored = Create({}, {{"component", "/^db$/"}});
  v1::LogRecord log = Log("x");
  AddString(log, "component", "mydb-pool");
  EXPECT_TRUE(Matches(anywhere, log));
  EXPECT_FALSE(Matches(anchored, log));
  log.mutable_fields(0)->set_string_value("db");
  EXPECT_TRUE(Matches(anchored, log));
  log.mutable_fields(0)->set_int_value(42);
  EXPECT_TRUE(Matches(Create({}, {{"component", "/^4\\d$/"}}), log));
}

TEST(RecordMatchTest, AValueNeedsSlashesAtBothEndsToBeAPattern) {
  RecordMatch match = Create({}, {{"path", "/health"}});
  v1::LogRecord log = Log("x");
  AddString(log, "path", "/health");
  EXPECT_TRUE(Matches(match, log));
  log.mutable_fields(0)->set_string_value("/healthz");
  EXPECT_FALSE(Matches(match, log));
}

TEST(RecordMatchTest, EqualsValuesAreLiteralEvenBetweenSlashes) {
  absl::StatusOr<RecordMatch> match = RecordMatch::Create({}, {}, "m", {{"path", "/a.c/"}});
  ASSERT_TRUE(match.ok()) << match.status();
  v1::LogRecord log = Log("x");
  AddString(log, "path", "/a.c/");
  EXPECT_TRUE(Matches(*match, log));
  log.mutable_fields(0)->set_string_value("abc");
  EXPECT_FALSE(Matches(*match, log));
}

TEST(RecordMatchTest, EveryConditionMustHold) {
  RecordMatch match = Create({"checkout"}, {{"component", "/^db/"}, {"region", "eu"}});
  v1::LogRecord log = Log("checkout.db");
  AddString(log, "component", "db-pool");
  AddString(log, "region", "eu");
  EXPECT_TRUE(Matches(match, log));
  log.set_logger("payments");
  EXPECT_FALSE(Matches(match, log));
  log.set_logger("checkout");
  log.mutable_fields(1)->set_string_value("us");
  EXPECT_FALSE(Matches(match, log));
  log.mutable_fields(1)->set_string_value("eu");
  log.mutable_fields(0)->set_string_value("cache");
  EXPECT_FALSE(Matches(match, log));
}

// Fields [0, 2) ad-hoc, [2, 4) pre-hook, [4, 6) post-hook, each layer with two `user`s.
TEST(RecordMatchTest, ComparesTheFieldTheOutputsShowPostOverAdHocOverPre) {
  v1::LogRecord log = Log("x");
  for (const char* value : {"adhoc1", "adhoc2", "pre1", "pre2", "post1", "post2"}) {
    AddString(log, "user", value);
  }
  const auto shown = [&log](int adhoc_end, int pre_end, const std::string& value) {
    return Create({}, {{"user", value}}).Matches(log, FieldLayers{adhoc_end, pre_end});
  };
  EXPECT_TRUE(shown(2, 4, "post2"));
  EXPECT_FALSE(shown(2, 4, "post1"));
  EXPECT_FALSE(shown(2, 4, "adhoc2"));
  log.mutable_fields()->DeleteSubrange(4, 2);
  EXPECT_TRUE(shown(2, 4, "adhoc2"));
  EXPECT_FALSE(shown(2, 4, "pre2"));
  log.mutable_fields()->DeleteSubrange(0, 2);
  EXPECT_TRUE(shown(0, 2, "pre2"));
  EXPECT_FALSE(shown(0, 2, "pre1"));
}

TEST(RecordMatchTest, ABadPatternIsAnErrorNamingItsKey) {
  absl::StatusOr<RecordMatch> match =
      RecordMatch::Create({}, {{"ok", "/fine/"}, {"user", "/(unclosed/"}}, "outputs[2].match");
  ASSERT_FALSE(match.ok());
  EXPECT_EQ(match.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(match.status().message(),
              HasSubstr("outputs[2].match.user: bad regular expression /(unclosed/"));
}

Hook::Verdict Verdict(const Hook& hook, v1::LogRecord log) {
  HookRecord record(log);
  return hook.OnRecord(record);
}

TEST(DropHookMatchTest, DropsByFieldPatternAndLiteral) {
  auto hooks =
      CreateHooks(HookPhase::kPost,
                  "hooks: {post: [{type: drop, match: {path: '/^\\/health/', method: GET}}]}");
  ASSERT_TRUE(hooks.ok()) << hooks.status();
  ASSERT_EQ(hooks->size(), 1u);
  const Hook& hook = *hooks->front();
  v1::LogRecord log = Log("http");
  AddString(log, "path", "/healthz");
  AddString(log, "method", "GET");
  EXPECT_EQ(Verdict(hook, log), Hook::Verdict::kDrop);
  log.mutable_fields(1)->set_string_value("POST");
  EXPECT_EQ(Verdict(hook, log), Hook::Verdict::kKeep);
  log.mutable_fields(1)->set_string_value("GET");
  log.mutable_fields(0)->set_string_value("/api/health");
  EXPECT_EQ(Verdict(hook, log), Hook::Verdict::kKeep);
}

TEST(DropHookMatchTest, AMatchAloneIsEnoughAndABadPatternNamesItsKey) {
  auto bad =
      CreateHooks(HookPhase::kPost, "hooks: {post: [{type: drop, match: {user: '/[z-a]/'}}]}");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("hooks.post[0].match.user: bad regular"));
  auto empty = CreateHooks(HookPhase::kPost, "hooks: {post: [{type: drop, match: {}}]}");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("`equals`, `match`"));
}

}  // namespace
}  // namespace sluice::pipeline::hooks
