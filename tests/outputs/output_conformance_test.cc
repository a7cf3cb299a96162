// The lifecycle contract of output.h, run against every output RegisterBuiltinOutputs()
// registers. A new output needs an entry in ConfigFor() or the suite fails.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/outputs/builtin_outputs.h"
#include "server/outputs/output_registry.h"
#include "tests/outputs/forward/next_tier.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

std::vector<std::string> BuiltinTypes() {
  OutputRegistry registry;
  RegisterBuiltinOutputs(registry);
  return registry.types();
}

class OutputConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  // A minimal working block for each type; empty when the suite does not know the type.
  std::string ConfigFor(const std::string& type) const {
    const std::map<std::string, std::string> configs = {
        {"console", "{type: console, name: conformance, stream: stderr}"},
        {"file", "{type: file, name: conformance, path: '" + dir_.Path("out.log") + "'}"},
        {"null", "{type: null, name: conformance}"},
        {"forward", "{type: forward, name: conformance, target: '" + next_tier_.target() + "'}"},
    };
    auto it = configs.find(type);
    return it == configs.end() ? "" : it->second;
  }

  std::unique_ptr<Output> Create() {
    const std::string yaml = ConfigFor(GetParam());
    EXPECT_FALSE(yaml.empty()) << "no conformance config for output type " << GetParam();
    if (yaml.empty()) return nullptr;
    OutputRegistry registry;
    RegisterBuiltinOutputs(registry);
    absl::StatusOr<std::unique_ptr<Output>> output = registry.Create(OutputConfigFromYaml(yaml));
    EXPECT_TRUE(output.ok()) << output.status();
    if (!output.ok()) return nullptr;
    EXPECT_EQ((*output)->id(), GetParam() + "/conformance");
    return *std::move(output);
  }

  TempDir dir_;
  NextTier next_tier_;  // where the forward output sends
};

TEST_P(OutputConformanceTest, ShutdownWithoutStartIsOk) {
  std::unique_ptr<Output> output = Create();
  ASSERT_NE(output, nullptr);
  EXPECT_TRUE(output->Shutdown(absl::Now() + absl::Seconds(10)).ok());
}

TEST_P(OutputConformanceTest, StartWriteFlushShutdownSucceed) {
  std::unique_ptr<Output> output = Create();
  ASSERT_NE(output, nullptr);
  ASSERT_TRUE(output->Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "conformance").Add(Level::kDebug, "below the level");
  EXPECT_TRUE(output->Write(batch, Level::kInfo).ok());
  EXPECT_TRUE(output->Flush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_TRUE(output->Shutdown(absl::Now() + absl::Seconds(10)).ok());
}

TEST_P(OutputConformanceTest, ShutdownTwiceIsOk) {
  std::unique_ptr<Output> output = Create();
  ASSERT_NE(output, nullptr);
  ASSERT_TRUE(output->Start().ok());
  EXPECT_TRUE(output->Shutdown(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_TRUE(output->Shutdown(absl::Now() + absl::Seconds(10)).ok());
}

TEST_P(OutputConformanceTest, FlushBeforeStartIsOk) {
  std::unique_ptr<Output> output = Create();
  ASSERT_NE(output, nullptr);
  EXPECT_TRUE(output->Flush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_TRUE(output->Shutdown(absl::Now() + absl::Seconds(10)).ok());
}

INSTANTIATE_TEST_SUITE_P(BuiltinOutputs, OutputConformanceTest, ::testing::ValuesIn(BuiltinTypes()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace sluice::outputs
