#include "server/pipeline/field_composer.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

PipelineConfig ConfigWithBase(std::vector<std::pair<std::string, std::string>> base) {
  PipelineConfig config;
  config.base_fields = std::move(base);
  return config;
}

void AddString(v1::LogRecord& record, const std::string& key, const std::string& value) {
  v1::Field* field = record.add_fields();
  field->set_key(key);
  field->set_string_value(value);
}

// (key, value) of each composed field, values of either layer as text.
std::vector<std::pair<std::string, std::string>> Composed(const FieldComposer& composer,
                                                          const v1::LogRecord& record) {
  std::vector<outputs::ComposedField> fields;
  composer.Compose(record, &fields);
  std::vector<std::pair<std::string, std::string>> result;
  for (const outputs::ComposedField& field : fields) {
    result.emplace_back(std::string(field.key), field.field == nullptr
                                                    ? std::string(field.text)
                                                    : field.field->string_value());
  }
  return result;
}

// The override order of DESIGN.md, one key set in every layer: base < pre-hook < ad-hoc <
// post-hook, and the record's own keys above all of them.
TEST(FieldComposerTest, EachLayerBeatsTheOnesBelowIt) {
  FieldComposer composer(ConfigWithBase({{"env", "base"}, {"region", "base"}, {"zone", "base"}}));
  v1::LogRecord record;
  record.set_message("the message");
  // The application's fields come first in the record...
  AddString(record, "env", "ad-hoc");
  AddString(record, "user", "ada");
  // ...then those the pre-hooks set on the RPC...
  AddString(record, "env", "pre-hook");
  AddString(record, "region", "pre-hook");
  AddString(record, "tenant", "pre-hook");
  // ...then those the post-hooks set on the worker.
  AddString(record, "env", "post-hook");
  AddString(record, "message", "post-hook");
  std::vector<outputs::ComposedField> fields;
  const outputs::ComposedRecord composed = composer.ComposeRecord(
      record, absl::UnixEpoch(), &fields, FieldLayers{.adhoc_end = 2, .pre_end = 5});
  std::vector<std::pair<std::string, std::string>> result;
  std::vector<outputs::Layer> layers;
  for (const outputs::ComposedField& field : composed.fields) {
    result.emplace_back(std::string(field.key), field.field == nullptr
                                                    ? std::string(field.text)
                                                    : field.field->string_value());
    layers.push_back(field.layer);
  }
  EXPECT_THAT(result, ElementsAre(Pair("zone", "base"), Pair("region", "pre-hook"),
                                  Pair("tenant", "pre-hook"), Pair("user", "ada"),
                                  Pair("env", "post-hook")));
  EXPECT_THAT(layers,
              ElementsAre(outputs::Layer::kBase, outputs::Layer::kPreHook, outputs::Layer::kPreHook,
                          outputs::Layer::kAdHoc, outputs::Layer::kPostHook));
  EXPECT_EQ(composed.message, "the message");
}

TEST(FieldComposerTest, AnAdHocFieldBeatsAPreHookFieldWithItsKey) {
  FieldComposer composer(ConfigWithBase({}));
  v1::LogRecord record;
  AddString(record, "tenant", "from-the-app");
  AddString(record, "tenant", "from-metadata");
  std::vector<outputs::ComposedField> fields;
  composer.Compose(record, &fields, FieldLayers{.adhoc_end = 1, .pre_end = 2});
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].field->string_value(), "from-the-app");
  EXPECT_EQ(fields[0].layer, outputs::Layer::kAdHoc);
}

TEST(FieldComposerTest, BaseFieldsComeInConfigOrder) {
  FieldComposer composer(ConfigWithBase({{"service", "checkout"}, {"env", "prod"}}));
  EXPECT_THAT(Composed(composer, v1::LogRecord()),
              ElementsAre(Pair("service", "checkout"), Pair("env", "prod")));
}

TEST(FieldComposerTest, AnAdHocFieldOverridesABaseFieldAndSitsAmongTheAdHocFields) {
  FieldComposer composer(ConfigWithBase({{"service", "checkout"}, {"env", "prod"}}));
  v1::LogRecord record;
  AddString(record, "user", "ada");
  AddString(record, "service", "payments");
  EXPECT_THAT(Composed(composer, record),
              ElementsAre(Pair("env", "prod"), Pair("user", "ada"), Pair("service", "payments")));
}

TEST(FieldComposerTest, ALaterAdHocFieldWinsAtTheFirstOnesPosition) {
  FieldComposer composer(ConfigWithBase({}));
  v1::LogRecord record;
  AddString(record, "a", "1");
  AddString(record, "b", "2");
  AddString(record, "a", "3");
  EXPECT_THAT(Composed(composer, record), ElementsAre(Pair("a", "3"), Pair("b", "2")));
}

TEST(FieldComposerTest, DuplicateBaseFieldsKeepTheFirstPositionAndTheLastValue) {
  FieldComposer composer(ConfigWithBase({{"a", "1"}, {"b", "2"}, {"a", "3"}}));
  EXPECT_THAT(Composed(composer, v1::LogRecord()), ElementsAre(Pair("a", "3"), Pair("b", "2")));
}

TEST(FieldComposerTest, TheRecordsOwnKeysCannotBeOverridden) {
  PipelineConfig config = ConfigWithBase({{"message", "base"}, {"lvl", "base"}, {"level", "base"}});
  config.level_key = "lvl";
  FieldComposer composer(config);
  v1::LogRecord record;
  AddString(record, "time", "ad-hoc");
  AddString(record, "logger", "ad-hoc");
  AddString(record, "message", "ad-hoc");
  AddString(record, "lvl", "ad-hoc");
  // "level" is an ordinary key once the level is written under "lvl".
  EXPECT_THAT(Composed(composer, record), ElementsAre(Pair("level", "base")));
}

TEST(FieldComposerTest, TraceAndSpanIdKeysAreReservedOnlyWhenTheRecordHasThem) {
  FieldComposer composer(ConfigWithBase({{"trace_id", "base"}}));
  v1::LogRecord record;
  AddString(record, "span_id", "ad-hoc");
  EXPECT_THAT(Composed(composer, record),
              ElementsAre(Pair("trace_id", "base"), Pair("span_id", "ad-hoc")));
  record.set_trace_id(std::string(16, '\x01'));
  record.set_span_id(std::string(8, '\x02'));
  EXPECT_THAT(Composed(composer, record), IsEmpty());
}

TEST(FieldComposerTest, ComposingReplacesTheVectorsContent) {
  FieldComposer composer(ConfigWithBase({}));
  v1::LogRecord first;
  AddString(first, "a", "1");
  v1::LogRecord second;
  AddString(second, "b", "2");
  std::vector<outputs::ComposedField> fields;
  composer.Compose(first, &fields);
  composer.Compose(second, &fields);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].key, "b");
  EXPECT_EQ(fields[0].layer, outputs::Layer::kAdHoc);
  EXPECT_EQ(fields[0].field, &second.fields(0));
}

TEST(FieldComposerTest, AComposedRecordCarriesTheRecordsValuesKeysAndFields) {
  pipeline::PipelineConfig config = ConfigWithBase({{"service", "checkout"}});
  config.message_key = "msg";
  FieldComposer composer(config);
  v1::LogRecord record;
  record.set_time_unix_nano(1'500'000'000);
  record.set_level(v1::LEVEL_ERROR);
  record.set_logger("checkout.db");
  record.set_message("hi");
  record.set_trace_id("\x01\x02");
  record.set_span_id("\x03");
  AddString(record, "user", "ada");
  std::vector<outputs::ComposedField> fields;
  const outputs::ComposedRecord composed =
      composer.ComposeRecord(record, absl::FromUnixSeconds(99), &fields);
  EXPECT_EQ(composed.time_unix_nanos, 1'500'000'000);
  EXPECT_EQ(composed.level, Level::kError);
  EXPECT_EQ(composed.logger, "checkout.db");
  EXPECT_EQ(composed.message, "hi");
  EXPECT_EQ(composed.trace_id, "\x01\x02");
  EXPECT_EQ(composed.span_id, "\x03");
  ASSERT_NE(composed.keys, nullptr);
  EXPECT_EQ(composed.keys->time, "time");
  EXPECT_EQ(composed.keys->message, "msg");
  ASSERT_EQ(composed.fields.size(), 2u);
  EXPECT_EQ(composed.fields.data(), fields.data());
  EXPECT_EQ(composed.fields[0].key, "service");
  EXPECT_EQ(composed.fields[1].key, "user");
}

TEST(FieldComposerTest, ARecordWithoutTimeIsComposedAtTheReceiveTime) {
  FieldComposer composer(ConfigWithBase({}));
  v1::LogRecord record;
  std::vector<outputs::ComposedField> fields;
  EXPECT_EQ(composer.ComposeRecord(record, absl::FromUnixMillis(-1500), &fields).time_unix_nanos,
            -1'500'000'000);
  record.set_time_unix_nano(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(composer.ComposeRecord(record, absl::UnixEpoch(), &fields).time_unix_nanos,
            std::numeric_limits<int64_t>::max());
  record.set_time_unix_nano(0);
  record.set_level(static_cast<v1::Level>(42));
  EXPECT_EQ(composer.ComposeRecord(record, absl::UnixEpoch(), &fields).level, Level::kInfo);
}

}  // namespace
}  // namespace sluice::pipeline
