#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/config/config.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/hook_chain.h"
#include "server/pipeline/hooks/hook_registry.h"
#include "tests/pipeline/hooks/hook_test_util.h"
#include "yaml-cpp/yaml.h"

namespace sluice::pipeline::hooks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::unique_ptr<Hook> CreateOne(const std::string& block) {
  return CreateOneHook(HookPhase::kPost, block);
}

absl::Status CreateError(const std::string& yaml) {
  auto hooks = CreateHooks(HookPhase::kPost, yaml);
  return hooks.ok() ? absl::OkStatus() : hooks.status();
}

void AddString(v1::LogRecord& record, const std::string& key, const std::string& value) {
  v1::Field* field = record.add_fields();
  field->set_key(key);
  field->set_string_value(value);
}

// (key, value, "a" for ad-hoc or "p" for post-hook) of each field of `record`.
std::vector<std::pair<std::string, std::string>> Fields(const HookRecord& record) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (int i = 0; i < record.record().fields_size(); ++i) {
    const v1::Field& field = record.record().fields(i);
    fields.emplace_back(field.key(),
                        field.string_value() + (i < record.layers().adhoc_end ? "/a" : "/p"));
  }
  return fields;
}

TEST(HookConfigTest, EntriesGetTypeSlashNameIdsInTheListedOrder) {
  auto hooks =
      CreateHooks(HookPhase::kPost,
                  "hooks:\n  post:\n    - {type: drop, name: no-debug, level_at_most: debug}\n"
                  "    - {type: rename, fields: {a: b}}\n");
  ASSERT_TRUE(hooks.ok()) << hooks.status();
  ASSERT_EQ(hooks->size(), 2u);
  EXPECT_EQ((*hooks)[0]->id(), "drop/no-debug");
  EXPECT_EQ((*hooks)[1]->id(), "rename/rename");
}

TEST(HookConfigTest, AnUnknownKeyIsNamedByItsPath) {
  EXPECT_THAT(CreateError("hooks: {post: [{type: rename, fields: {a: b}}, "
                          "{type: drop_fields, fileds: [x]}]}")
                  .message(),
              HasSubstr("hooks.post[1].fileds:"));
}

TEST(HookConfigTest, AnEmptyFieldListIsRefusedWithItsPath) {
  EXPECT_THAT(CreateError("hooks: {post: [{type: keep_fields, fields: []}]}").message(),
              HasSubstr("hooks.post[0].fields: must not be empty"));
}

TEST(HookConfigTest, AnUnknownPostTypeListsThePostTypes) {
  const absl::Status status = CreateError("hooks: {post: [{type: redcat}]}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("hooks.post[0].type: unknown hook type \"redcat\""));
  EXPECT_THAT(
      status.message(),
      HasSubstr("add_fields, drop, drop_fields, keep_fields, parse_json, redact, rename, sample"));
}

TEST(HookConfigTest, DuplicateIdsAreRefused) {
  EXPECT_THAT(config::ParseConfig("hooks: {post: [{type: drop, level_at_most: info}, "
                                  "{type: drop, level_at_most: warn}]}")
                  .status()
                  .message(),
              HasSubstr("hooks.post[1]: duplicate hook id \"drop/drop\""));
}

TEST(HookConfigTest, ADropHookWithoutConditionIsRefused) {
  EXPECT_THAT(CreateError("hooks: {post: [{type: drop}]}").message(),
              HasSubstr("hooks.post[0]: a drop hook needs at least one of"));
}

TEST(HookConfigTest, EveryExampleConfigCreatesItsHook) {
  setenv("HOSTNAME", "example-host", /*overwrite=*/0);
  HookRegistry registry;
  RegisterBuiltinHooks(registry);
  for (const std::string& type : registry.types(HookPhase::kPost)) {
    EXPECT_NE(CreateOne(registry.factory(type)->example_config()), nullptr) << type;
  }
}

TEST(AddFieldsHookTest, SetsPostHookFieldsAndReadsTheEnvironmentAtStartUp) {
  setenv("SLUICE_HOOK_TEST_REGION", "eu-1", /*overwrite=*/1);
  std::unique_ptr<Hook> hook = CreateOne(
      "{type: add_fields, fields: {region: \"${env:SLUICE_HOOK_TEST_REGION}\", team: pay}}");
  ASSERT_NE(hook, nullptr);
  setenv("SLUICE_HOOK_TEST_REGION", "changed-later", /*overwrite=*/1);
  v1::LogRecord log;
  AddString(log, "team", "app");
  HookRecord record(log);
  EXPECT_EQ(hook->OnRecord(record), Hook::Verdict::kKeep);
  EXPECT_THAT(Fields(record),
              ElementsAre(Pair("team", "app/a"), Pair("region", "eu-1/p"), Pair("team", "pay/p")));
  // Run again (a second hook of the chain, say): the post-hook field is replaced, not repeated.
  hook->OnRecord(record);
  EXPECT_EQ(record.record().fields_size(), 3);
}

TEST(AddFieldsHookTest, AnUnsetVariableFailsStartUpNamingTheKey) {
  unsetenv("SLUICE_HOOK_TEST_UNSET");
  EXPECT_THAT(
      CreateError(
          "hooks: {post: [{type: add_fields, fields: {x: \"${env:SLUICE_HOOK_TEST_UNSET}\"}}]}")
          .message(),
      HasSubstr(
          "hooks.post[0].fields.x: environment variable \"SLUICE_HOOK_TEST_UNSET\" is not set"));
}

TEST(RenameHookTest, MovesTheFieldIntoThePostHookLayerAndLeavesAbsentOnesAlone) {
  std::unique_ptr<Hook> hook = CreateOne("{type: rename, fields: {uid: user_id, nope: other}}");
  ASSERT_NE(hook, nullptr);
  v1::LogRecord log;
  AddString(log, "uid", "7");
  AddString(log, "user_id", "stale");
  AddString(log, "path", "/");
  HookRecord record(log);
  hook->OnRecord(record);
  EXPECT_THAT(Fields(record),
              ElementsAre(Pair("user_id", "stale/a"), Pair("path", "//a"), Pair("user_id", "7/p")));
}

TEST(RenameHookTest, RenamesTheFieldTheOutputsShowNotTheLastOne) {
  std::unique_ptr<Hook> hook = CreateOne("{type: rename, fields: {tenant: org}}");
  ASSERT_NE(hook, nullptr);
  v1::LogRecord log;
  AddString(log, "tenant", "app");
  // A pre-hook's field comes after the application's but is weaker than it.
  AddString(log, "tenant", "metadata");
  HookRecord record(log, HookPhase::kPost, FieldLayers{.adhoc_end = 1, .pre_end = 2});
  hook->OnRecord(record);
  EXPECT_THAT(Fields(record), ElementsAre(Pair("org", "app/p")));
}

TEST(RenameHookTest, RenamingAFieldToItselfIsRefused) {
  EXPECT_THAT(CreateError("hooks: {post: [{type: rename, fields: {a: a}}]}").message(),
              HasSubstr("hooks.post[0].fields.a: renames the field to itself"));
}

TEST(SelectFieldsHookTest, DropFieldsRemovesTheListedOnesOfBothLayers) {
  std::unique_ptr<Hook> hook = CreateOne("{type: drop_fields, fields: [password, token]}");
  ASSERT_NE(hook, nullptr);
  v1::LogRecord log;
  AddString(log, "password", "hunter2");
  AddString(log, "user", "ada");
  HookRecord record(log);
  record.SetField("token").set_string_value("t");
  record.SetField("x").set_string_value("y");
  hook->OnRecord(record);
  EXPECT_THAT(Fields(record), ElementsAre(Pair("user", "ada/a"), Pair("x", "y/p")));
}

TEST(SelectFieldsHookTest, KeepFieldsRemovesEveryOtherField) {
  std::unique_ptr<Hook> hook = CreateOne("{type: keep_fields, fields: [status]}");
  ASSERT_NE(hook, nullptr);
  v1::LogRecord log;
  AddString(log, "password", "hunter2");
  AddString(log, "status", "200");
  AddString(log, "user", "ada");
  HookRecord record(log);
  hook->OnRecord(record);
  EXPECT_THAT(Fields(record), ElementsAre(Pair("status", "200/a")));
}

v1::LogRecord Log(v1::Level level, const std::string& logger) {
  v1::LogRecord log;
  log.set_level(level);
  log.set_logger(logger);
  return log;
}

Hook::Verdict Verdict(const Hook& hook, v1::LogRecord log) {
  HookRecord record(log);
  return hook.OnRecord(record);
}

TEST(DropHookTest, DropsByLevelAtMost) {
  std::unique_ptr<Hook> hook = CreateOne("{type: drop, level_at_most: debug}");
  ASSERT_NE(hook, nullptr);
  EXPECT_EQ(Verdict(*hook, Log(v1::LEVEL_TRACE, "")), Hook::Verdict::kDrop);
  EXPECT_EQ(Verdict(*hook, Log(v1::LEVEL_DEBUG, "")), Hook::Verdict::kDrop);
  EXPECT_EQ(Verdict(*hook, Log(v1::LEVEL_INFO, "")), Hook::Verdict::kKeep);
}

TEST(DropHookTest, DropsByLoggerPrefixOnDotBoundaries) {
  std::unique_ptr<Hook> hook = CreateOne("{type: drop, loggers: [health, audit.noise]}");
  ASSERT_NE(hook, nullptr);
  EXPECT_EQ(Verdict(*hook, Log(v1::LEVEL_ERROR, "health")), Hook::Verdict::kDrop);
  EXPECT_EQ(Verdict(*hook, Log(v1::LEVEL_ERROR, "health.probe")), Hook::Verdict::kDrop);
  EXPECT_EQ(Verdict(*hook, Log(v1::LEVEL_ERROR, "healthcheck")), Hook::Verdict::kKeep);
  EXPECT_EQ(Verdict(*hook, Log(v1::LEVEL_ERROR, "audit")), Hook::Verdict::kKeep);
  EXPECT_EQ(Verdict(*hook, Log(v1::LEVEL_ERROR, "audit.noise.x")), Hook::Verdict::kDrop);
}

TEST(DropHookTest, DropsByFieldEqualsUsingTheLastFieldWithTheKeyAndNeedsEveryCondition) {
  std::unique_ptr<Hook> hook =
      CreateOne("{type: drop, level_at_most: info, equals: {path: /health, code: \"200\"}}");
  ASSERT_NE(hook, nullptr);
  v1::LogRecord log = Log(v1::LEVEL_INFO, "http");
  AddString(log, "path", "/health");
  v1::Field* code = log.add_fields();
  code->set_key("code");
  code->set_int_value(200);
  EXPECT_EQ(Verdict(*hook, log), Hook::Verdict::kDrop);
  log.set_level(v1::LEVEL_WARN);
  EXPECT_EQ(Verdict(*hook, log), Hook::Verdict::kKeep);
  log.set_level(v1::LEVEL_INFO);
  AddString(log, "path", "/checkout");
  EXPECT_EQ(Verdict(*hook, log), Hook::Verdict::kKeep);
}

TEST(RedactHookTest, ReplacesEveryMatchInTheMessageAndTheChosenStringFieldsOnly) {
  std::unique_ptr<Hook> hook = CreateOne(
      "{type: redact, fields: [message, auth], patterns: ['\\d{4}-\\d{4}', 'Bearer \\S+'], "
      "replacement: '[X\\1]'}");
  ASSERT_NE(hook, nullptr);
  v1::LogRecord log;
  log.set_message("cards 1234-5678 and 8765-4321");
  AddString(log, "auth", "Bearer abc.def");
  AddString(log, "note", "1234-5678");
  HookRecord record(log);
  EXPECT_EQ(hook->OnRecord(record), Hook::Verdict::kKeep);
  EXPECT_EQ(log.message(), "cards [X\\1] and [X\\1]");
  EXPECT_EQ(log.fields(0).string_value(), "[X\\1]");
  EXPECT_EQ(log.fields(1).string_value(), "1234-5678");
}

TEST(RedactHookTest, EachPatternKeepsItsOwnFlagsAndAnchorsBesideTheOthers) {
  std::unique_ptr<Hook> hook = CreateOne(
      "{type: redact, fields: [message], patterns: ['(?i)secret', 'token', '^id=\\d+'], "
      "replacement: X}");
  ASSERT_NE(hook, nullptr);
  v1::LogRecord log;
  HookRecord record(log);
  const auto redacted = [&](const std::string& message) {
    log.set_message(message);
    hook->OnRecord(record);
    return log.message();
  };
  EXPECT_EQ(redacted("TOKEN SECRET token"), "TOKEN X X");
  EXPECT_EQ(redacted("id=42 and id=43"), "X and id=43");
  EXPECT_EQ(redacted("nothing to see"), "nothing to see");
  // Pattern by pattern in order: the second sees what the first left.
  hook = CreateOne("{type: redact, fields: [message], patterns: ['a', 'XX'], replacement: X}");
  ASSERT_NE(hook, nullptr);
  EXPECT_EQ(redacted("aa b"), "X b");
}

TEST(RedactHookTest, AnInvalidPatternIsRefusedWithItsPath) {
  EXPECT_THAT(CreateError("hooks: {post: [{type: redact, fields: [message], patterns: [ok, '(']}]}")
                  .message(),
              HasSubstr("hooks.post[0].patterns[1]: not a valid RE2 expression"));
}

// (a+)+$ against "aaa...ab" takes exponential time with a backtracking engine such as
// std::regex (2^40 paths here); RE2 answers in time linear in the input, so this finishes
// at once instead of never.
TEST(RedactHookTest, AHostilePatternStaysLinear) {
  std::unique_ptr<Hook> hook =
      CreateOne("{type: redact, fields: [message], patterns: ['(a+)+$'], replacement: X}");
  ASSERT_NE(hook, nullptr);
  v1::LogRecord log;
  log.set_message(std::string(40, 'a') + "b");
  HookRecord record(log);
  hook->OnRecord(record);
  EXPECT_EQ(log.message(), std::string(40, 'a') + "b");
  log.set_message(std::string(100000, 'a'));
  hook->OnRecord(record);
  EXPECT_EQ(log.message(), "X");
}

// Fails on records whose message is "bad", leaving them as they were.
class FailingHook final : public Hook {
 public:
  absl::string_view id() const override { return "failing/x"; }
  Verdict OnRecord(HookRecord& record) const override {
    return record.record().message() == "bad" ? Verdict::kFailed : Verdict::kKeep;
  }
};

TEST(HookChainTest, PostHookFieldsGoAfterThePreHookLayerTheBatchBrought) {
  std::vector<std::unique_ptr<Hook>> hooks;
  hooks.push_back(CreateOne("{type: add_fields, fields: {k: v}}"));
  hooks.push_back(CreateOne("{type: drop_fields, fields: [gone]}"));
  HookChain chain(std::move(hooks), nullptr);
  RecordBatch batch;
  v1::LogRecord* record = batch.records().Add();
  AddString(*record, "gone", "ad-hoc");
  AddString(*record, "app", "ad-hoc");
  AddString(*record, "tenant", "pre-hook");
  batch.field_layers() = {FieldLayers{.adhoc_end = 2, .pre_end = 3}};
  std::vector<FieldLayers> layers;
  chain.Run(batch, &layers);
  EXPECT_THAT(layers, ElementsAre(FieldLayers{.adhoc_end = 1, .pre_end = 2}));
  ASSERT_EQ(batch.records()[0].fields_size(), 3);
  EXPECT_EQ(batch.records()[0].fields(2).key(), "k");
}

TEST(HookChainTest, AnEmptyChainHandsOnTheLayersTheBatchBrought) {
  HookChain chain;
  RecordBatch batch;
  v1::LogRecord* record = batch.records().Add();
  AddString(*record, "app", "ad-hoc");
  AddString(*record, "peer", "pre-hook");
  batch.field_layers() = {FieldLayers{.adhoc_end = 1, .pre_end = 2}};
  std::vector<FieldLayers> layers;
  chain.Run(batch, &layers);
  EXPECT_THAT(layers, ElementsAre(FieldLayers{.adhoc_end = 1, .pre_end = 2}));
}

TEST(HookRecordTest, APreHookSetsItsFieldsAboveTheApplicationsInItsOwnLayer) {
  v1::LogRecord log;
  AddString(log, "tenant", "app");
  HookRecord record(log, HookPhase::kPre, FieldLayers::AllAdHoc(1));
  record.SetField("tenant").set_string_value("pre");
  record.SetField("tenant").set_string_value("pre again");
  EXPECT_EQ(log.fields_size(), 2);
  EXPECT_EQ(log.fields(1).string_value(), "pre again");
  EXPECT_EQ(record.layers(), (FieldLayers{.adhoc_end = 1, .pre_end = 2}));
}

TEST(HookRecordTest, RemovingAndRenamingKeepEveryLayerBoundaryRight) {
  v1::LogRecord log;
  AddString(log, "a1", "");
  AddString(log, "a2", "");
  AddString(log, "p1", "");
  AddString(log, "p2", "");
  AddString(log, "q1", "");
  HookRecord record(log, HookPhase::kPost, FieldLayers{.adhoc_end = 2, .pre_end = 4});
  record.RemoveFieldsIf([](const v1::Field& field) { return field.key() == "a1"; });
  EXPECT_EQ(record.layers(), (FieldLayers{.adhoc_end = 1, .pre_end = 3}));
  // p1 (a pre-hook field) renamed by a post-hook becomes a post-hook field.
  record.RenameField(1, "renamed");
  EXPECT_EQ(record.layers(), (FieldLayers{.adhoc_end = 1, .pre_end = 2}));
  ASSERT_EQ(log.fields_size(), 4);
  EXPECT_EQ(log.fields(3).key(), "renamed");
}

TEST(HookChainTest, RemovesDroppedRecordsCountsThemPerHookAndKeepsFailedOnes) {
  std::vector<std::unique_ptr<Hook>> hooks;
  hooks.push_back(std::make_unique<FailingHook>());
  hooks.push_back(CreateOne("{type: add_fields, fields: {k: v}}"));
  hooks.push_back(CreateOne("{type: drop, name: no-debug, level_at_most: debug}"));
  prometheus::Registry registry;
  HookChain chain(std::move(hooks), &registry);

  RecordBatch batch;
  for (const auto& [level, message] :
       std::vector<std::pair<v1::Level, std::string>>{{v1::LEVEL_DEBUG, "d1"},
                                                      {v1::LEVEL_INFO, "bad"},
                                                      {v1::LEVEL_DEBUG, "d2"},
                                                      {v1::LEVEL_ERROR, "e"}}) {
    v1::LogRecord* record = batch.records().Add();
    record->set_level(level);
    record->set_message(message);
    AddString(*record, "app", "1");
  }
  std::vector<FieldLayers> layers;
  EXPECT_EQ(chain.Run(batch, &layers), 2u);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.records()[0].message(), "bad");
  EXPECT_EQ(batch.records()[1].message(), "e");
  EXPECT_THAT(layers, ElementsAre(FieldLayers{1, 1}, FieldLayers{1, 1}));
  EXPECT_EQ(batch.records()[0].fields_size(), 2);

  double dropped = -1;
  double failed = -1;
  for (const auto& family : registry.Collect()) {
    for (const auto& metric : family.metric) {
      if (family.name == "sluice_hook_records_dropped_total" &&
          metric.label[0].value == "drop/no-debug") {
        dropped = metric.counter.value;
      }
      if (family.name == "sluice_hook_errors_total" && metric.label[0].value == "failing/x") {
        failed = metric.counter.value;
      }
    }
  }
  EXPECT_EQ(dropped, 2);
  EXPECT_EQ(failed, 1);
}

}  // namespace
}  // namespace sluice::pipeline::hooks
