// The lifecycle contract of output.h, run against every output RegisterBuiltinOutputs()
// registers, each created from its factory's example_config().
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "server/outputs/builtin_outputs.h"
#include "server/outputs/output_registry.h"
#include "tests/outputs/http_sink.h"
#include "tests/outputs/next_tier.h"
#include "tests/outputs/output_test_util.h"
#include "tests/test_util/kafka_mock_cluster.h"

namespace sluice::outputs {
namespace {

std::vector<std::string> BuiltinTypes() {
  OutputRegistry registry;
  RegisterBuiltinOutputs(registry);
  return registry.types();
}

class OutputConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  // The factory's example block, with its placeholders filled in.
  std::string ExampleConfig() const {
    OutputRegistry registry;
    RegisterBuiltinOutputs(registry);
    std::string yaml = registry.factory(GetParam())->example_config();
    std::string dir = dir_.Path("");
    dir.pop_back();  // the trailing '/'
    absl::StrReplaceAll({{"${DIR}", dir},
                         {"${SLUICE_TARGET}", next_tier_.target()},
                         {"${HTTP_URL}", http_.url()},
                         {"${KAFKA_BROKERS}", kafka_.bootstraps()}},
                        &yaml);
    return yaml;
  }

  std::unique_ptr<Output> Create() {
    OutputRegistry registry;
    RegisterBuiltinOutputs(registry);
    const config::OutputConfig config = OutputConfigFromYaml(ExampleConfig());
    EXPECT_EQ(config.type, GetParam()) << "the example block is of another type";
    absl::StatusOr<std::unique_ptr<Output>> output = registry.Create(config, encodings_);
    EXPECT_TRUE(output.ok()) << output.status();
    if (!output.ok()) return nullptr;
    EXPECT_EQ((*output)->id(), GetParam() + "/" + GetParam());
    return *std::move(output);
  }

  EncodingRegistry encodings_;
  TempDir dir_;
  NextTier next_tier_;                 // ${SLUICE_TARGET}
  HttpSink http_;                      // ${HTTP_URL}
  test_util::KafkaMockCluster kafka_;  // ${KAFKA_BROKERS}
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
  batch.EncodeWith(encodings_)
      .Add(Level::kInfo, "conformance")
      .Add(Level::kDebug, "below the level");
  EXPECT_TRUE(output->Write(batch.RouteAtLeast(Level::kInfo)).ok());
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
