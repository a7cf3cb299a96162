#include "server/outputs/output_options.h"

#include <cstdint>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

using ::testing::HasSubstr;

OutputOptions Options(const std::string& yaml) {
  absl::StatusOr<OutputOptions> options = OutputOptions::Create(
      OutputConfigFromYaml(yaml), {"text", "size", "interval", "format", "mode"});
  EXPECT_TRUE(options.ok()) << options.status();
  return *std::move(options);
}

TEST(OutputOptionsTest, AcceptsTheCommonKeysWithoutDeclaringThem) {
  EXPECT_TRUE(
      OutputOptions::Create(OutputConfigFromYaml("{type: t, name: n, level: info}"), {}).ok());
}

TEST(OutputOptionsTest, AnAbsentBlockLeavesEveryDefault) {
  config::OutputConfig config;
  config.type = "t";
  config.name = "t";
  absl::StatusOr<OutputOptions> options = OutputOptions::Create(config, {"size"});
  ASSERT_TRUE(options.ok()) << options.status();
  uint64_t size = 7;
  EXPECT_TRUE(options->GetUint64("size", 0, 10, &size).ok());
  EXPECT_EQ(size, 7u);
}

TEST(OutputOptionsTest, RejectsABlockThatIsNotAMap) {
  config::OutputConfig config;
  config.type = "t";
  config.name = "n";
  config.options = YAML::Load("[1, 2]");
  absl::StatusOr<OutputOptions> options = OutputOptions::Create(config, {});
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.status().message(), "outputs.t/n: expected a map, got a sequence");
}

TEST(OutputOptionsTest, RejectsAValueThatIsNotAScalar) {
  std::string text;
  absl::Status status = Options("{type: t, text: [a]}").GetString("text", &text);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "outputs.t/t.text: expected a value, got a sequence");
}

TEST(OutputOptionsTest, RequiredStringMustBePresentAndNonEmpty) {
  std::string text;
  EXPECT_EQ(Options("{type: t}").GetRequiredString("text", &text).message(),
            "outputs.t/t.text: required");
  EXPECT_EQ(Options("{type: t, text: ''}").GetRequiredString("text", &text).message(),
            "outputs.t/t.text: must not be empty");
  EXPECT_TRUE(Options("{type: t, text: abc}").GetRequiredString("text", &text).ok());
  EXPECT_EQ(text, "abc");
}

TEST(OutputOptionsTest, IntegersMustBeWithinTheirBounds) {
  uint64_t size = 0;
  EXPECT_TRUE(Options("{type: t, size: 10}").GetUint64("size", 0, 10, &size).ok());
  EXPECT_EQ(size, 10u);
  EXPECT_EQ(Options("{type: t, size: 11}").GetUint64("size", 0, 10, &size).message(),
            "outputs.t/t.size: must be an integer between 0 and 10 (got \"11\")");
  EXPECT_FALSE(Options("{type: t, size: -1}").GetUint64("size", 0, 10, &size).ok());
  EXPECT_FALSE(Options("{type: t, size: 1.5}").GetUint64("size", 0, 10, &size).ok());
  EXPECT_EQ(size, 10u);
}

TEST(OutputOptionsTest, DurationsParseAndMustBeWithinTheirBounds) {
  absl::Duration interval;
  OutputOptions options = Options("{type: t, interval: 250ms}");
  EXPECT_TRUE(
      options.GetDuration("interval", absl::Milliseconds(1), absl::Hours(1), &interval).ok());
  EXPECT_EQ(interval, absl::Milliseconds(250));
  EXPECT_EQ(Options("{type: t, interval: soon}")
                .GetDuration("interval", absl::Milliseconds(1), absl::Hours(1), &interval)
                .message(),
            "outputs.t/t.interval: must be a duration such as 500ms or 2s (got \"soon\")");
  EXPECT_EQ(Options("{type: t, interval: 2h}")
                .GetDuration("interval", absl::Milliseconds(1), absl::Hours(1), &interval)
                .message(),
            "outputs.t/t.interval: must be between 1ms and 1h (got \"2h\")");
}

TEST(OutputOptionsTest, ChoicesListTheAcceptedSpellings) {
  EncodingId format = kTextEncoding;
  EXPECT_TRUE(Options("{type: t, format: json}").GetFormat("format", &format).ok());
  EXPECT_EQ(format, kJsonEncoding);
  absl::Status status = Options("{type: t, format: xml}").GetFormat("format", &format);
  EXPECT_EQ(status.message(), "outputs.t/t.format: must be one of text, json (got \"xml\")");
  int mode = 0;
  EXPECT_THAT(
      Options("{type: t, mode: c}").GetChoice<int>("mode", {{"a", 1}, {"b", 2}}, &mode).message(),
      HasSubstr("must be one of a, b"));
}

}  // namespace
}  // namespace sluice::outputs
