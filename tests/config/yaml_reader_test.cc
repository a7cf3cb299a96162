#include "server/config/yaml_reader.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

enum class Mode { kA, kB };

struct Section {
  std::string text = "default";
  std::string required;
  uint64_t size = 7;
  absl::Duration interval = absl::Seconds(1);
  Mode mode = Mode::kB;
  Level level = Level::kWarn;
  std::string listen = "127.0.0.1:1";
};

const KeyTable<Section>& Keys() {
  static const KeyTable<Section>* const table = new KeyTable<Section>{
      StringKey("text", &Section::text, StringRule::kAny, "Some text."),
      StringKey("required", &Section::required, StringRule::kRequired, "Must be given."),
      IntegerKey("size", &Section::size, 0, 10, "A size."),
      DurationKey("interval", &Section::interval, absl::Milliseconds(1), absl::Hours(1),
                  "An interval."),
      ChoiceKey<Section, Mode>("mode", &Section::mode, {{"a", Mode::kA}, {"b", Mode::kB}},
                               "A mode."),
      LevelKey("level", &Section::level, "A level."),
      AddressKey("listen", &Section::listen, "An address."),
  };
  return *table;
}

absl::Status Read(const std::string& yaml, Section& out) {
  return Keys().Read(YAML::Load(yaml), "outputs[0]", out, {"type"});
}

std::string ErrorOf(const std::string& yaml) {
  Section section;
  absl::Status status = Read(yaml, section);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << yaml;
  return std::string(status.message());
}

TEST(YamlReaderTest, AbsentKeysKeepTheirValues) {
  Section section;
  ASSERT_TRUE(Read("{required: x}", section).ok());
  EXPECT_EQ(section.text, "default");
  EXPECT_EQ(section.size, 7u);
  EXPECT_EQ(section.interval, absl::Seconds(1));
  EXPECT_EQ(section.mode, Mode::kB);
}

TEST(YamlReaderTest, ReadsEveryKeyIntoItsField) {
  Section section;
  ASSERT_TRUE(Read("{type: t, text: abc, required: r, size: 10, interval: 250ms, mode: a, "
                   "level: error, listen: \"[::1]:0\"}",
                   section)
                  .ok());
  EXPECT_EQ(section.text, "abc");
  EXPECT_EQ(section.required, "r");
  EXPECT_EQ(section.size, 10u);
  EXPECT_EQ(section.interval, absl::Milliseconds(250));
  EXPECT_EQ(section.mode, Mode::kA);
  EXPECT_EQ(section.level, Level::kError);
  EXPECT_EQ(section.listen, "[::1]:0");
}

TEST(YamlReaderTest, KeysReadElsewhereAreAcceptedAndListedAsKnown) {
  EXPECT_EQ(ErrorOf("{type: t, required: r, sise: 1}"),
            "outputs[0].sise: unknown key (known: type, text, required, size, interval, mode, "
            "level, listen)");
}

TEST(YamlReaderTest, ReadSomeLeavesOtherKeysAlone) {
  Section section;
  EXPECT_TRUE(Keys().ReadSome(YAML::Load("{required: r, anything: 1}"), "x", section).ok());
}

TEST(YamlReaderTest, RejectsABlockThatIsNotAMap) {
  EXPECT_EQ(ErrorOf("[1, 2]"), "outputs[0]: expected a map, got a sequence");
}

TEST(YamlReaderTest, RejectsAValueThatIsNotAScalar) {
  EXPECT_EQ(ErrorOf("{required: r, text: [a]}"),
            "outputs[0].text: expected a string, got a sequence");
}

TEST(YamlReaderTest, RequiredStringMustBePresentAndNonEmpty) {
  EXPECT_EQ(ErrorOf("{}"), "outputs[0]: missing required key `required`");
  EXPECT_EQ(ErrorOf("{required: ''}"), "outputs[0].required: must not be empty");
}

TEST(YamlReaderTest, IntegersMustBeWithinTheirBounds) {
  EXPECT_EQ(ErrorOf("{required: r, size: 11}"),
            "outputs[0].size: must be between 0 and 10, got 11");
  EXPECT_EQ(ErrorOf("{required: r, size: -1}"),
            "outputs[0].size: must be between 0 and 10, got -1");
  EXPECT_EQ(ErrorOf("{required: r, size: 1.5}"),
            "outputs[0].size: expected an integer, got \"1.5\"");
}

TEST(YamlReaderTest, DurationsNeedAUnitAndMustBeWithinTheirBounds) {
  EXPECT_EQ(ErrorOf("{required: r, interval: soon}"),
            "outputs[0].interval: expected a duration such as \"5ms\" or \"30s\", got \"soon\"");
  EXPECT_EQ(ErrorOf("{required: r, interval: 2h}"),
            "outputs[0].interval: must be between 1ms and 1h, got 2h");
  EXPECT_EQ(ErrorOf("{required: r, interval: 0}"),
            "outputs[0].interval: \"0\" has no unit; add one, e.g. \"0s\" or \"0ms\"");
}

TEST(YamlReaderTest, ChoicesListTheAcceptedSpellings) {
  EXPECT_EQ(ErrorOf("{required: r, mode: c}"), "outputs[0].mode: expected one of a, b, got \"c\"");
}

TEST(YamlReaderTest, ADuplicateKeyIsRejected) {
  EXPECT_EQ(ErrorOf("{required: r, size: 1, size: 2}"), "outputs[0].size: duplicate key");
}

TEST(YamlReaderTest, TheDocumentationComesFromTheTable) {
  const std::vector<KeyDoc> docs = Keys().docs();
  ASSERT_EQ(docs.size(), 7u);
  EXPECT_EQ(docs[0].default_value, "`default`");
  EXPECT_EQ(docs[1].default_value, "required");
  EXPECT_EQ(docs[2].type, "integer");
  EXPECT_EQ(docs[2].default_value, "`7`");
  EXPECT_EQ(docs[2].range, "0..10");
  EXPECT_EQ(docs[3].default_value, "`1s`");
  EXPECT_EQ(docs[3].range, "1ms..1h");
  EXPECT_EQ(docs[4].type, "`a` \\| `b`");
  EXPECT_EQ(docs[4].default_value, "`b`");
  EXPECT_EQ(docs[5].default_value, "`warn`");
  EXPECT_EQ(docs[6].default_value, "`\"127.0.0.1:1\"`");
  EXPECT_THAT(Keys().names(),
              ElementsAre("text", "required", "size", "interval", "mode", "level", "listen"));
}

TEST(YamlReaderTest, ZeroDurationIsDocumentedWithItsUnit) {
  EXPECT_EQ(DurationText(absl::ZeroDuration()), "0s");
  EXPECT_EQ(DurationText(absl::Minutes(5)), "5m");
}

TEST(YamlReaderTest, KeyPathsQuoteKeysThatAreNotIdentifiers) {
  EXPECT_EQ(ChildPath("", "ingest"), "ingest");
  EXPECT_EQ(ChildPath("levels.rules", "checkout.db"), "levels.rules[\"checkout.db\"]");
  EXPECT_EQ(ItemPath("outputs", 2), "outputs[2]");
  EXPECT_THAT(std::string(KeyError("a.b", "bad").message()), HasSubstr("a.b: bad"));
}

}  // namespace
}  // namespace sluice::config
