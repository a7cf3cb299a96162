#include "server/pipeline/hooks/parse_json_hook.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/hook_registry.h"
#include "tests/pipeline/hooks/hook_test_util.h"

namespace sluice::pipeline::hooks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// (key, value as text with its type, "a" for ad-hoc or "p" for post-hook) of each field.
std::vector<std::pair<std::string, std::string>> Fields(const HookRecord& record) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (int i = 0; i < record.record().fields_size(); ++i) {
    const v1::Field& field = record.record().fields(i);
    std::string value;
    switch (field.value_case()) {
      case v1::Field::kStringValue:
        value = "s:" + field.string_value();
        break;
      case v1::Field::kIntValue:
        value = "i:" + std::to_string(field.int_value());
        break;
      case v1::Field::kDoubleValue:
        value = "d:" + std::to_string(field.double_value());
        break;
      case v1::Field::kBoolValue:
        value = field.bool_value() ? "b:true" : "b:false";
        break;
      default:
        value = "?";
    }
    fields.emplace_back(field.key(), value + (i < record.layers().adhoc_end ? "/a" : "/p"));
  }
  return fields;
}

struct Parsed {
  Hook::Verdict verdict;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
};

Parsed Parse(const Hook& hook, const std::string& message) {
  v1::LogRecord log;
  log.set_message(message);
  HookRecord record(log);
  const Hook::Verdict verdict = hook.OnRecord(record);
  return {verdict, log.message(), Fields(record)};
}

TEST(ParseJsonHookTest, EachValueTypeBecomesItsFieldType) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: parse_json}");
  ASSERT_NE(hook, nullptr);
  const std::string json =
      R"( {"s": "é\n", "i": -42, "big": 9223372036854775807, "huge": 18446744073709551615,
          "d": 2.5, "t": true, "f": false, "n": null, "o": {"a": [1, "x"]}, "a": []} )";
  const Parsed parsed = Parse(*hook, json);
  EXPECT_EQ(parsed.verdict, Hook::Verdict::kKeep);
  EXPECT_EQ(parsed.message, json);
  EXPECT_THAT(parsed.fields,
              ElementsAre(Pair("s", "s:é\n/p"), Pair("i", "i:-42/p"),
                          Pair("big", "i:9223372036854775807/p"),
                          Pair("huge", "d:18446744073709551616.000000/p"),
                          Pair("d", "d:2.500000/p"), Pair("t", "b:true/p"), Pair("f", "b:false/p"),
                          Pair("o", R"(s:{"a":[1,"x"]}/p)"), Pair("a", "s:[]/p")));
}

TEST(ParseJsonHookTest, AStringMessageMemberBecomesTheMessage) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: parse_json}");
  ASSERT_NE(hook, nullptr);
  const Parsed parsed = Parse(*hook, R"({"message": "paid", "order": 7})");
  EXPECT_EQ(parsed.verdict, Hook::Verdict::kKeep);
  EXPECT_EQ(parsed.message, "paid");
  EXPECT_THAT(parsed.fields, ElementsAre(Pair("order", "i:7/p")));
}

TEST(ParseJsonHookTest, ANonStringMessageMemberIsAFieldAndTheMessageStays) {
  std::unique_ptr<Hook> hook =
      CreateOneHook(HookPhase::kPost, "{type: parse_json, message_key: msg}");
  ASSERT_NE(hook, nullptr);
  const std::string json = R"({"msg": 12, "message": "not this one"})";
  const Parsed parsed = Parse(*hook, json);
  EXPECT_EQ(parsed.verdict, Hook::Verdict::kKeep);
  EXPECT_EQ(parsed.message, json);
  EXPECT_THAT(parsed.fields,
              ElementsAre(Pair("msg", "i:12/p"), Pair("message", "s:not this one/p")));
}

TEST(ParseJsonHookTest, WithoutTheMessageMemberTheMessageStays) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: parse_json}");
  ASSERT_NE(hook, nullptr);
  const std::string json = R"({"order": 7})";
  const Parsed parsed = Parse(*hook, json);
  EXPECT_EQ(parsed.message, json);
  EXPECT_THAT(parsed.fields, ElementsAre(Pair("order", "i:7/p")));
}

TEST(ParseJsonHookTest, AnEmptyMessageKeyMakesEveryMemberAField) {
  std::unique_ptr<Hook> hook =
      CreateOneHook(HookPhase::kPost, "{type: parse_json, message_key: \"\"}");
  ASSERT_NE(hook, nullptr);
  const std::string json = R"({"message": "m"})";
  const Parsed parsed = Parse(*hook, json);
  EXPECT_EQ(parsed.message, json);
  EXPECT_THAT(parsed.fields, ElementsAre(Pair("message", "s:m/p")));
}

TEST(ParseJsonHookTest, ThePrefixGoesBeforeEveryFieldKeyButNotTheMessageKey) {
  std::unique_ptr<Hook> hook =
      CreateOneHook(HookPhase::kPost, "{type: parse_json, prefix: \"app.\"}");
  ASSERT_NE(hook, nullptr);
  const Parsed parsed = Parse(*hook, R"({"message": "hi", "user": "ada"})");
  EXPECT_EQ(parsed.message, "hi");
  EXPECT_THAT(parsed.fields, ElementsAre(Pair("app.user", "s:ada/p")));
}

TEST(ParseJsonHookTest, AMessageThatIsNotAnObjectIsLeftAloneAndNotAFailure) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: parse_json}");
  ASSERT_NE(hook, nullptr);
  for (const char* message : {"", "   ", "plain text {\"a\": 1}", "[1, 2]", "\"s\"", "42"}) {
    const Parsed parsed = Parse(*hook, message);
    EXPECT_EQ(parsed.verdict, Hook::Verdict::kKeep) << message;
    EXPECT_EQ(parsed.message, message);
    EXPECT_TRUE(parsed.fields.empty()) << message;
  }
}

TEST(ParseJsonHookTest, BrokenJsonFailsAndLeavesTheRecordByteForByte) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: parse_json, max_depth: 3}");
  ASSERT_NE(hook, nullptr);
  for (const std::string& message : {
           std::string(R"({"message": "m", "a": 1)"),          // truncated
           std::string(R"({"a": 1, "b": [1, 2)"),              // truncated array
           std::string(R"({"a": 1} trailing)"),                // trailing garbage
           std::string(R"({"a": 1}{"b": 2})"),                 // two objects
           std::string(R"({"a": 1})") + '\0' + R"({"b": 2})",  // a raw NUL
           std::string(R"({"a": 1, b: 2})"),                   // not JSON
           std::string(R"({"a": "\udc00"})"),                  // a lone surrogate
           std::string(R"({"a": 1e999})"),                     // out of range
           std::string(R"({"message": "m", "a": [[[1]]]})"),   // depth 4 of 3
       }) {
    v1::LogRecord log;
    log.set_message(message);
    log.set_level(v1::LEVEL_INFO);
    v1::Field* app = log.add_fields();
    app->set_key("a");
    app->set_string_value("app");
    HookRecord record(log);
    record.SetField("b").set_int_value(1);
    const std::string before = log.SerializeAsString();
    EXPECT_EQ(hook->OnRecord(record), Hook::Verdict::kFailed) << message;
    EXPECT_EQ(log.SerializeAsString(), before) << message;
  }
}

TEST(ParseJsonHookTest, NestingUpToMaxDepthIsAccepted) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: parse_json, max_depth: 3}");
  ASSERT_NE(hook, nullptr);
  const Parsed parsed = Parse(*hook, R"({"a": [{"b": 1}], "c": {"d": []}})");
  EXPECT_EQ(parsed.verdict, Hook::Verdict::kKeep);
  EXPECT_THAT(parsed.fields,
              ElementsAre(Pair("a", R"(s:[{"b":1}]/p)"), Pair("c", R"(s:{"d":[]}/p)")));
  EXPECT_EQ(Parse(*hook, "{\"a\": " + std::string(100000, '[')).verdict, Hook::Verdict::kFailed);
}

TEST(ParseJsonHookTest, AnObjectWithMoreMembersThanMaxFieldsFailsAndAddsNone) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: parse_json, max_fields: 3}");
  ASSERT_NE(hook, nullptr);
  EXPECT_EQ(Parse(*hook, R"({"a": 1, "b": 2, "c": 3})").verdict, Hook::Verdict::kKeep);
  const std::string four = R"({"a": 1, "b": 2, "c": 3, "d": 4})";
  const Parsed parsed = Parse(*hook, four);
  EXPECT_EQ(parsed.verdict, Hook::Verdict::kFailed);
  EXPECT_EQ(parsed.message, four);
  EXPECT_TRUE(parsed.fields.empty());
}

TEST(ParseJsonHookTest, AnEmptyMemberNameIsSkipped) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: parse_json}");
  ASSERT_NE(hook, nullptr);
  const Parsed parsed = Parse(*hook, R"({"": 1, "x": 2})");
  EXPECT_EQ(parsed.verdict, Hook::Verdict::kKeep);
  EXPECT_THAT(parsed.fields, ElementsAre(Pair("x", "i:2/p")));
}

TEST(ParseJsonHookTest, FieldsReplaceEarlierPostHookFieldsAndOverlayAdHocOnes) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: parse_json}");
  ASSERT_NE(hook, nullptr);
  v1::LogRecord log;
  log.set_message(R"({"user": "from-json", "dc": "eu-2", "dc": "eu-3"})");
  v1::Field* app = log.add_fields();
  app->set_key("user");
  app->set_string_value("from-app");
  HookRecord record(log);
  record.SetField("dc").set_string_value("eu-1");
  EXPECT_EQ(hook->OnRecord(record), Hook::Verdict::kKeep);
  EXPECT_THAT(Fields(record), ElementsAre(Pair("user", "s:from-app/a"), Pair("dc", "s:eu-3/p"),
                                          Pair("user", "s:from-json/p")));
}

TEST(ParseJsonHookTest, AnOutOfRangeDepthIsRefusedWithItsPath) {
  auto hook = CreateHook(HookPhase::kPost, "{type: parse_json, max_depth: 0}");
  ASSERT_FALSE(hook.ok());
  EXPECT_THAT(hook.status().message(),
              HasSubstr("hooks.post[0].max_depth: must be between 1 and 64, got 0"));
}

}  // namespace
}  // namespace sluice::pipeline::hooks
