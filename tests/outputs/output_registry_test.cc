#include "server/outputs/output_registry.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/outputs/builtin_outputs.h"
#include "server/outputs/console/console_output.h"
#include "server/outputs/file/file_output.h"
#include "server/outputs/null/null_output.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

OutputRegistry BuiltinRegistry() {
  OutputRegistry registry;
  RegisterBuiltinOutputs(registry);
  return registry;
}

// A registry of a few built-in factories registered out of order, so that these tests do
// not change when an output is added.
OutputRegistry SomeRegistry() {
  OutputRegistry registry;
  registry.Register(std::make_unique<NullOutputFactory>());
  registry.Register(std::make_unique<ConsoleOutputFactory>());
  registry.Register(std::make_unique<FileOutputFactory>());
  return registry;
}

// The encodings the outputs created by a test may add to.
class OutputRegistryTest : public ::testing::Test {
 protected:
  EncodingRegistry encodings_;
};

TEST_F(OutputRegistryTest, ListsTheTypesSorted) {
  EXPECT_THAT(SomeRegistry().types(), ElementsAre("console", "file", "null"));
}

TEST_F(OutputRegistryTest, BuiltinOutputsIncludeEveryShippedType) {
  EXPECT_THAT(BuiltinRegistry().types(), IsSupersetOf({"console", "file", "forward", "null"}));
}

TEST_F(OutputRegistryTest, UnknownTypeIsAnErrorListingTheKnownTypes) {
  absl::StatusOr<std::unique_ptr<Output>> output =
      SomeRegistry().Create(OutputConfigFromYaml("{type: kafka, name: main}"), encodings_);
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(output.status().message(),
            "outputs[0].type: unknown output type \"kafka\" (known: console, file, null)");
}

TEST_F(OutputRegistryTest, UnknownKeyIsAnErrorNamingItsPathAndTheKnownKeys) {
  absl::StatusOr<std::unique_ptr<Output>> output = BuiltinRegistry().Create(
      OutputConfigFromYaml("{type: file, name: main, path: /tmp/x.log, buffers: 10}"), encodings_);
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(output.status().message(),
            "outputs[0].buffers: unknown key (known: type, name, level, loggers, match, buffer, "
            "retry, unhealthy_after, path, format, buffer_bytes, flush_interval, max_bytes, "
            "rotate_every, max_files, max_age, compress, fsync, fsync_interval)");
}

TEST_F(OutputRegistryTest, CreatesAnOutputWithTheIdOfItsConfig) {
  absl::StatusOr<std::unique_ptr<Output>> output = BuiltinRegistry().Create(
      OutputConfigFromYaml("{type: null, name: sink, level: warn}"), encodings_);
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ((*output)->id(), "null/sink");
}

TEST_F(OutputRegistryTest, CreateAllKeepsTheConfigOrder) {
  absl::StatusOr<std::vector<std::unique_ptr<Output>>> outputs = BuiltinRegistry().CreateAll(
      {OutputConfigFromYaml("{type: null, name: b}"), OutputConfigFromYaml("{type: console}"),
       OutputConfigFromYaml("{type: null, name: a}")},
      encodings_);
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 3u);
  EXPECT_EQ((*outputs)[0]->id(), "null/b");
  EXPECT_EQ((*outputs)[1]->id(), "console/console");
  EXPECT_EQ((*outputs)[2]->id(), "null/a");
}

TEST_F(OutputRegistryTest, CreateAllFailsWithTheFirstError) {
  absl::StatusOr<std::vector<std::unique_ptr<Output>>> outputs =
      BuiltinRegistry().CreateAll({OutputConfigFromYaml("{type: null}", 0),
                                   OutputConfigFromYaml("{type: console, color: 1}", 1),
                                   OutputConfigFromYaml("{type: nope}", 2)},
                                  encodings_);
  ASSERT_FALSE(outputs.ok());
  EXPECT_THAT(outputs.status().message(), HasSubstr("outputs[1].color"));
}

TEST_F(OutputRegistryTest, BlockErrorsUseTheKeyPathsOfTheServerSections) {
  absl::StatusOr<config::Config> config = config::ParseConfig(
      "outputs:\n  - {type: console}\n  - {type: file, name: main, buffer_bytes: -1}\n");
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<std::vector<std::unique_ptr<Output>>> outputs =
      BuiltinRegistry().CreateAll(config->outputs, encodings_);
  ASSERT_FALSE(outputs.ok());
  EXPECT_EQ(outputs.status().message(),
            "outputs[1].buffer_bytes: must be between 0 and 67108864, got -1");
}

TEST_F(OutputRegistryTest, FindsTheFactoryOfEachRegisteredType) {
  const OutputRegistry registry = BuiltinRegistry();
  for (const std::string& type : registry.types()) {
    const OutputFactory* factory = registry.factory(type);
    ASSERT_NE(factory, nullptr) << type;
    EXPECT_EQ(factory->type(), type);
  }
  EXPECT_EQ(registry.factory("s3"), nullptr);
}

TEST_F(OutputRegistryTest, EveryFactoryDocumentsItsKeysWithoutTheCommonOnes) {
  const OutputRegistry registry = BuiltinRegistry();
  for (const std::string& type : registry.types()) {
    for (const config::KeyDoc& key : registry.factory(type)->keys()) {
      EXPECT_FALSE(key.description.empty()) << type << "." << key.name;
      EXPECT_THAT(kCommonOutputKeys, Not(Contains(absl::string_view(key.name)))) << type;
    }
  }
}

TEST(OutputRegistryDeathTest, RegisteringATypeTwiceAbortsNamingIt) {
  OutputRegistry registry;
  registry.Register(std::make_unique<NullOutputFactory>());
  EXPECT_DEATH(registry.Register(std::make_unique<NullOutputFactory>()),
               "output type \"null\" registered twice");
}

}  // namespace
}  // namespace sluice::outputs
