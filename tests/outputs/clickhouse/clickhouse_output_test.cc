#include "server/outputs/clickhouse/clickhouse_output.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "server/outputs/clickhouse/clickhouse_http.h"
#include "tests/outputs/http_sink.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kDeadline = absl::Seconds(10);

// A listening socket on 127.0.0.1 that never accepts: connections complete in the
// kernel's backlog and are never answered, as with a server that hangs.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
    ::listen(fd_, 16);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port nothing listens on: bound, read back and closed.
std::string RefusingUrl() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
}

class ClickHouseOutputTest : public ::testing::Test {
 protected:
  // Creates a started output from `extra` keys on top of url and table.
  std::unique_ptr<Output> Start(const std::string& url, const std::string& extra = "") {
    config::OutputConfig config = OutputConfigFromYaml("{type: clickhouse, name: main, url: '" +
                                                       url + "', table: logs" + extra + "}");
    OutputContext context{
        .config_path = config.key_path, .encodings = encodings_, .metrics = &metrics_};
    absl::StatusOr<std::unique_ptr<Output>> output =
        ClickHouseOutputFactory().Create(config.id(), config.options, context);
    EXPECT_TRUE(output.ok()) << output.status();
    if (!output.ok()) return nullptr;
    EXPECT_TRUE((*output)->Start().ok());
    return *std::move(output);
  }

  std::string Metrics() const { return prometheus::TextSerializer().Serialize(metrics_.Collect()); }

  EncodingRegistry encodings_;
  prometheus::Registry metrics_;
  HttpSink sink_;
  TempDir dir_;
};

// The error Create gives for `yaml`, "" when it succeeds.
std::string CreateError(const std::string& yaml) {
  absl::StatusOr<std::unique_ptr<Output>> output = CreateFromYaml(ClickHouseOutputFactory(), yaml);
  return std::string(output.status().message());
}

TEST(ClickHouseOutputConfigTest, ErrorsNameTheKeyPath) {
  EXPECT_THAT(CreateError("{type: clickhouse, table: logs}"),
              HasSubstr("outputs[0]: missing required key `url`"));
  EXPECT_THAT(CreateError("{type: clickhouse, url: 'http://h:8123'}"),
              HasSubstr("outputs[0]: missing required key `table`"));
  EXPECT_THAT(CreateError("{type: clickhouse, url: 'h:8123', table: logs}"),
              HasSubstr("outputs[0].url: must start with http://"));
  EXPECT_THAT(CreateError("{type: clickhouse, url: 'http://h', table: 'a b'}"),
              HasSubstr("outputs[0].table: must be a plain identifier"));
  EXPECT_THAT(CreateError("{type: clickhouse, url: 'http://h', table: t, database: 'x.y'}"),
              HasSubstr("outputs[0].database: must be a plain identifier"));
  EXPECT_THAT(CreateError("{type: clickhouse, url: 'http://h', table: t, compression: lz4}"),
              HasSubstr("outputs[0].compression"));
  EXPECT_THAT(CreateError("{type: clickhouse, url: 'http://h', table: t, timeout: 0s}"),
              HasSubstr("outputs[0].timeout"));
  EXPECT_THAT(CreateError("{type: clickhouse, url: 'http://h', table: t, user: \"a\\nb\"}"),
              HasSubstr("outputs[0].user: must not hold control characters"));
  EXPECT_THAT(CreateError("{type: clickhouse, url: 'http://h', table: t, passwd: x}"),
              HasSubstr("passwd"));
}

TEST(ClickHouseOutputConfigTest, AFullValidBlockIsAccepted) {
  EXPECT_EQ(CreateError("{type: clickhouse, url: 'https://h:8443/ch?insert_quorum=2', "
                        "database: db, table: t, user: u, password_file: /p, "
                        "create_table: true, timeout: 2s, compression: none}"),
            "");
}

TEST_F(ClickHouseOutputTest, PostsTheBatchesRowsGzippedToTheInsertUrl) {
  std::unique_ptr<Output> output = Start(sink_.url());
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "one").Add(Level::kDebug, "not routed").Add(Level::kWarn, "two");
  ASSERT_TRUE(output->Write(batch.RouteAtLeast(Level::kInfo)).ok());

  const std::vector<HttpSink::Request> requests = sink_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target,
            "/?query=INSERT%20INTO%20default.logs%20FORMAT%20JSONEachRow"
            "&input_format_skip_unknown_fields=1");
  EXPECT_EQ(requests[0].headers.at("content-encoding"), "gzip");
  EXPECT_FALSE(requests[0].headers.contains("x-clickhouse-user"));
  // FakeOutputBatch's lines in any encoding but text.
  EXPECT_EQ(Gunzip(requests[0].body), "{\"m\":\"one\"}\n{\"m\":\"two\"}\n");
  EXPECT_TRUE(output->Shutdown(absl::Now() + kDeadline).ok());
}

TEST_F(ClickHouseOutputTest, WithoutCompressionTheBodyIsTheRows) {
  std::unique_ptr<Output> output = Start(sink_.url(), ", compression: none");
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "one");
  ASSERT_TRUE(output->Write(batch).ok());
  const std::vector<HttpSink::Request> requests = sink_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(requests[0].headers.contains("content-encoding"));
  EXPECT_EQ(requests[0].body, "{\"m\":\"one\"}\n");
}

TEST_F(ClickHouseOutputTest, AsksTheRegistryForTheRowEncoding) {
  std::unique_ptr<Output> output = Start(sink_.url());
  ASSERT_NE(output, nullptr);
  ASSERT_TRUE(output->encoding().has_value());
  EXPECT_EQ(encodings_.name(*output->encoding()), "clickhouse_row");
}

TEST_F(ClickHouseOutputTest, SendsTheUserAndThePasswordFromItsFile) {
  WriteFile(dir_.Path("password"), "s3cret\n");
  std::unique_ptr<Output> output =
      Start(sink_.url(), ", user: writer, password_file: '" + dir_.Path("password") + "'");
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "one");
  ASSERT_TRUE(output->Write(batch).ok());
  const std::vector<HttpSink::Request> requests = sink_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.at("x-clickhouse-user"), "writer");
  EXPECT_EQ(requests[0].headers.at("x-clickhouse-key"), "s3cret");
}

TEST_F(ClickHouseOutputTest, AMissingPasswordFileFailsStart) {
  config::OutputConfig config = OutputConfigFromYaml(
      "{type: clickhouse, url: 'http://127.0.0.1:1', table: t, password_file: '" +
      dir_.Path("absent") + "'}");
  OutputContext context{.config_path = config.key_path, .encodings = encodings_};
  absl::StatusOr<std::unique_ptr<Output>> output =
      ClickHouseOutputFactory().Create(config.id(), config.options, context);
  ASSERT_TRUE(output.ok()) << output.status();
  const absl::Status started = (*output)->Start();
  EXPECT_EQ(started.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(started.message(), HasSubstr("absent"));
}

TEST_F(ClickHouseOutputTest, APasswordWithALineBreakInsideFailsStart) {
  WriteFile(dir_.Path("password"), "first\r\nX-Injected: yes\n");
  config::OutputConfig config =
      OutputConfigFromYaml("{type: clickhouse, url: '" + sink_.url() +
                           "', table: t, password_file: '" + dir_.Path("password") + "'}");
  OutputContext context{.config_path = config.key_path, .encodings = encodings_};
  absl::StatusOr<std::unique_ptr<Output>> output =
      ClickHouseOutputFactory().Create(config.id(), config.options, context);
  ASSERT_TRUE(output.ok()) << output.status();
  const absl::Status started = (*output)->Start();
  EXPECT_EQ(started.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(started.message()), Not(HasSubstr("first")));
}

TEST_F(ClickHouseOutputTest, ANotFoundTableIsPermanentWithClickHousesErrorLine) {
  WriteFile(dir_.Path("password"), "s3cret");
  std::unique_ptr<Output> output =
      Start(sink_.url(), ", user: writer, password_file: '" + dir_.Path("password") + "'");
  ASSERT_NE(output, nullptr);
  sink_.Respond(404,
                "Code: 60, e.displayText() = DB::Exception: Table default.logs doesn't exist., "
                "e.what() = DB::Exception\n");
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "one");
  const absl::Status status = output->Write(batch);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "clickhouse/main: INSERT into default.logs: HTTP 404: Code: 60, e.displayText() = "
            "DB::Exception: Table default.logs doesn't exist., e.what() = DB::Exception");
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("s3cret")));
  EXPECT_THAT(
      Metrics(),
      HasSubstr("sluice_output_http_requests_total{code=\"404\",output=\"clickhouse/main\"} 1"));
}

TEST_F(ClickHouseOutputTest, AServerErrorIsTransientAndTheRetryIsByteIdentical) {
  std::unique_ptr<Output> output = Start(sink_.url());
  ASSERT_NE(output, nullptr);
  sink_.Respond(503, "overloaded");
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "one").Add(Level::kError, "two");
  const absl::Status failed = output->Write(batch);
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.message(), HasSubstr("HTTP 503: overloaded"));
  ASSERT_TRUE(output->Write(batch).ok());
  const std::vector<HttpSink::Request> requests = sink_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].body, requests[0].body);
  const std::string metrics = Metrics();
  EXPECT_THAT(metrics, HasSubstr("{code=\"503\",output=\"clickhouse/main\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("{code=\"200\",output=\"clickhouse/main\"} 1"));
}

TEST_F(ClickHouseOutputTest, ARefusedConnectionIsTransientAndStartDidNotNeedTheServer) {
  std::unique_ptr<Output> output = Start(RefusingUrl());
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "one");
  const absl::Status status = output->Write(batch);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("no answer from http://127.0.0.1:"));
  EXPECT_THAT(Metrics(), HasSubstr("{code=\"none\",output=\"clickhouse/main\"} 1"));
}

TEST_F(ClickHouseOutputTest, AServerThatDoesNotAnswerTimesOutAsTransient) {
  SilentListener silent;
  std::unique_ptr<Output> output = Start(silent.url(), ", timeout: 200ms");
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "one");
  const absl::Time start = absl::Now();
  const absl::Status status = output->Write(batch);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("Timeout"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(ClickHouseOutputTest, CreateTableComesBeforeTheFirstInsertOnly) {
  std::unique_ptr<Output> output = Start(sink_.url(), ", database: db, create_table: true");
  ASSERT_NE(output, nullptr);
  EXPECT_TRUE(sink_.requests().empty()) << "Start() must not need the server";
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "one");
  ASSERT_TRUE(output->Write(batch).ok());
  ASSERT_TRUE(output->Write(batch).ok());
  const std::vector<HttpSink::Request> requests = sink_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/");
  EXPECT_EQ(requests[0].body, CreateTableStatement("db", "logs"));
  EXPECT_FALSE(requests[0].headers.contains("content-encoding"));
  EXPECT_THAT(requests[1].target, HasSubstr("INSERT%20INTO%20db.logs"));
  EXPECT_THAT(requests[2].target, HasSubstr("INSERT%20INTO%20db.logs"));
}

TEST_F(ClickHouseOutputTest, AFailedCreateTableFailsTheWriteAndIsTriedAgain) {
  std::unique_ptr<Output> output = Start(sink_.url(), ", create_table: true");
  ASSERT_NE(output, nullptr);
  sink_.Respond(500, "Code: 999, e.displayText() = DB::Exception: no space");
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "one");
  const absl::Status failed = output->Write(batch);
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.message(), HasSubstr("CREATE TABLE default.logs: HTTP 500"));
  ASSERT_TRUE(output->Write(batch).ok());
  const std::vector<HttpSink::Request> requests = sink_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_THAT(requests[1].body, HasSubstr("CREATE TABLE"));
  EXPECT_THAT(requests[2].target, HasSubstr("INSERT"));
}

TEST_F(ClickHouseOutputTest, ABatchWithoutRoutedRecordsSendsNothing) {
  std::unique_ptr<Output> output = Start(sink_.url());
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  batch.Add(Level::kDebug, "not routed");
  EXPECT_TRUE(output->Write(batch.RouteAtLeast(Level::kInfo)).ok());
  EXPECT_TRUE(sink_.requests().empty());
}

}  // namespace
}  // namespace sluice::outputs
