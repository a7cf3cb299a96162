#include "server/outputs/null/null_output.h"

#include "gtest/gtest.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

TEST(NullOutputTest, CountsTheRecordsAtOrAboveTheLevelWithoutFormatting) {
  NullOutput output("null/test");
  ASSERT_TRUE(output.Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kDebug, "a").Add(Level::kInfo, "b").Add(Level::kError, "c");
  EXPECT_TRUE(output.Write(batch.RouteAtLeast(Level::kInfo)).ok());
  EXPECT_TRUE(output.Write(batch.RouteAtLeast(Level::kTrace)).ok());
  EXPECT_EQ(output.records_for_test(), 5u);
  EXPECT_EQ(batch.lines_calls(), 0);
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(NullOutputFactoryTest, AcceptsTheCommonKeysAndWriteLatency) {
  NullOutputFactory factory;
  EXPECT_TRUE(CreateFromYaml(factory, "{type: null, name: x, level: info}").ok());
  absl::StatusOr<std::unique_ptr<Output>> output =
      CreateFromYaml(factory, "{type: null, format: json}");
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.status().message(),
            "outputs[0].format: unknown key (known: type, name, level, loggers, match, buffer, "
            "retry, unhealthy_after, write_latency)");
}

TEST(NullOutputFactoryTest, WriteLatencyMustBeADurationUpToTenSeconds) {
  NullOutputFactory factory;
  EXPECT_TRUE(CreateFromYaml(factory, "{type: null, write_latency: 2ms}").ok());
  EXPECT_FALSE(CreateFromYaml(factory, "{type: null, write_latency: 11s}").ok());
  EXPECT_FALSE(CreateFromYaml(factory, "{type: null, write_latency: 5}").ok());
  // The one duration rule: a bare 0 is refused like any number without a unit.
  EXPECT_EQ(CreateFromYaml(factory, "{type: null, write_latency: 0}").status().message(),
            "outputs[0].write_latency: \"0\" has no unit; add one, e.g. \"0s\" or \"0ms\"");
}

TEST(NullOutputTest, WriteWithLatencyStillTakesTheBatch) {
  NullOutput output("null/slow", absl::Milliseconds(1));
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "a");
  EXPECT_TRUE(output.Write(batch).ok());
  EXPECT_EQ(output.records_for_test(), 1u);
}

}  // namespace
}  // namespace sluice::outputs
