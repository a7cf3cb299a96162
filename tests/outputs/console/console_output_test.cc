#include "server/outputs/console/console_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

// The read and write ends of a pipe standing in for the console.
class Pipe {
 public:
  Pipe() {
    EXPECT_EQ(::pipe2(fds_, O_CLOEXEC), 0);
    EXPECT_EQ(::fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
  }
  ~Pipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int write_fd() const { return fds_[1]; }

  // Everything written so far; the writer has returned, so it is all in the pipe.
  std::string ReadAvailable() {
    std::string content;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fds_[0], buffer, sizeof(buffer))) > 0) content.append(buffer, n);
    return content;
  }

 private:
  int fds_[2] = {-1, -1};
};

TEST(ConsoleOutputConfigTest, DefaultsToTextOnStdout) {
  absl::StatusOr<ConsoleOutputConfig> config =
      ConsoleOutputConfig::Parse(YAML::Load("{type: console}"), "outputs[0]");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->format, kTextEncoding);
  EXPECT_EQ(config->stream, ConsoleOutputConfig::Stream::kStdout);
}

TEST(ConsoleOutputConfigTest, ReadsFormatAndStream) {
  absl::StatusOr<ConsoleOutputConfig> config = ConsoleOutputConfig::Parse(
      YAML::Load("{type: console, format: json, stream: stderr}"), "outputs[0]");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->format, kJsonEncoding);
  EXPECT_EQ(config->stream, ConsoleOutputConfig::Stream::kStderr);
}

TEST(ConsoleOutputConfigTest, RejectsAnUnknownFormat) {
  absl::StatusOr<ConsoleOutputConfig> config =
      ConsoleOutputConfig::Parse(YAML::Load("{type: console, format: xml}"), "outputs[0]");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "outputs[0].format: expected one of text, json, got \"xml\"");
}

TEST(ConsoleOutputConfigTest, RejectsAnUnknownStream) {
  absl::StatusOr<ConsoleOutputConfig> config =
      ConsoleOutputConfig::Parse(YAML::Load("{type: console, stream: stdlog}"), "outputs[0]");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "outputs[0].stream: expected one of stdout, stderr, got \"stdlog\"");
}

TEST(ConsoleOutputConfigTest, RejectsAnUnknownKey) {
  absl::StatusOr<ConsoleOutputConfig> config = ConsoleOutputConfig::Parse(
      YAML::Load("{type: console, name: dev, colour: on}"), "outputs[0]");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "outputs[0].colour: unknown key (known: type, name, level, loggers, match, buffer, "
            "retry, unhealthy_after, format, stream)");
}

TEST(ConsoleOutputTest, WritesTheLinesAtOrAboveTheLevelToItsStream) {
  Pipe pipe;
  ConsoleOutput output("console/test", kTextEncoding, pipe.write_fd());
  ASSERT_TRUE(output.Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kDebug, "hidden").Add(Level::kWarn, "careful").Add(Level::kError, "broken");
  ASSERT_TRUE(output.Write(batch.RouteAtLeast(Level::kWarn)).ok());
  EXPECT_EQ(pipe.ReadAvailable(), "WARN careful\nERROR broken\n");
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(ConsoleOutputTest, WritesJsonWhenConfiguredSo) {
  Pipe pipe;
  ConsoleOutput output("console/test", kJsonEncoding, pipe.write_fd());
  ASSERT_TRUE(output.Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "hello");
  ASSERT_TRUE(output.Write(batch).ok());
  EXPECT_EQ(pipe.ReadAvailable(), "{\"m\":\"hello\"}\n");
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(ConsoleOutputTest, AFailingStreamIsReportedWithTheOutputId) {
  // Not a descriptor: EBADF, which no retry cures.
  ConsoleOutput output("console/test", kTextEncoding, -1);
  ASSERT_TRUE(output.Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "lost");
  absl::Status status = output.Write(batch);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(status.message().find("console/test"), absl::string_view::npos) << status;
}

}  // namespace
}  // namespace sluice::outputs
