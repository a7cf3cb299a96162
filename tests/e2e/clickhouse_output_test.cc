// End-to-end tests of the clickhouse output against a real clickhouse-server (Debian 12's
// 18.16), which each test starts itself: its own config in a temporary directory, listening
// on 127.0.0.1 only, on ports that were free a moment ago.
//
// - records sent through sluiced arrive as rows of the documented table, created by
//   `create_table: true`, with their level, logger, message and fields;
// - a table that does not exist is a permanent error: the batch is dropped and counted,
//   and stderr says why in ClickHouse's words, without the password;
// - ClickHouse stopped mid-run and started again on the same ports and data: under
//   `when_full: block` nothing is lost; a retried insert may land twice (at-least-once),
//   so the test counts duplicates and requires every record at least once.
//
// Skipped when no clickhouse-server binary is installed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sluice/client.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

// How to run the server in the foreground, without its config: Debian's clickhouse-server,
// or upstream's one binary with its `server` command.
struct ServerCommand {
  const char* path;
  const char* subcommand;  // null when there is none
};
constexpr ServerCommand kServerCommands[] = {{"/usr/sbin/clickhouse-server", nullptr},
                                             {"/usr/bin/clickhouse-server", nullptr},
                                             {"/usr/bin/clickhouse", "server"}};

constexpr char kPassword[] = "w0rd-of-pass";

// The installed server's command line up to its options; empty when none is installed.
std::vector<std::string> ServerArgv() {
  for (const ServerCommand& command : kServerCommands) {
    if (::access(command.path, X_OK) != 0) continue;
    std::vector<std::string> argv = {command.path};
    if (command.subcommand != nullptr) argv.emplace_back(command.subcommand);
    return argv;
  }
  return {};
}

std::string UrlEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.append({'%', kHex[c >> 4], kHex[c & 0xF]});
    }
  }
  return out;
}

// A clickhouse-server of the test's own: config, users, data and logs in a temporary
// directory; signalled and reaped by its pid only.
class ClickHouseServer {
 public:
  static absl::StatusOr<std::unique_ptr<ClickHouseServer>> Start(std::vector<std::string> argv) {
    auto server = std::unique_ptr<ClickHouseServer>(new ClickHouseServer(std::move(argv)));
    for (int* port : {&server->http_port_, &server->tcp_port_, &server->interserver_port_}) {
      absl::StatusOr<int> reserved = ReserveLoopbackPort(SOCK_STREAM);
      if (!reserved.ok()) return reserved.status();
      *port = *reserved;
    }
    server->WriteConfig();
    if (absl::Status started = server->Restart(); !started.ok()) return started;
    return server;
  }

  // Starts the server on the ports and data it had, and waits until /ping answers.
  absl::Status Restart() {
    absl::StatusOr<std::unique_ptr<ChildProcess>> process =
        ChildProcess::Spawn(argv_, dir_.file("stdout.log"), dir_.file("stderr.log"));
    if (!process.ok()) return process.status();
    process_ = *std::move(process);
    const bool up = Await(
        [&] {
          if (!process_->running()) return true;
          absl::StatusOr<std::string> pong = HttpGet(http_port_, "/ping");
          return pong.ok() && *pong == "Ok.\n";
        },
        absl::Seconds(30));
    if (!up || !process_->running()) {
      return absl::UnavailableError(
          absl::StrCat("clickhouse-server did not come up: ", ReadFile(dir_.file("stderr.log")),
                       ReadFile(dir_.file("log/error.log"))));
    }
    return absl::OkStatus();
  }

  // SIGTERM, and waits until it exited.
  absl::Status Stop() {
    if (absl::Status signalled = process_->Signal(SIGTERM); !signalled.ok()) return signalled;
    absl::StatusOr<int> exited = process_->WaitForExit(absl::Seconds(30));
    if (!exited.ok() && !absl::IsInternal(exited.status())) return exited.status();
    return absl::OkStatus();
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", http_port_); }

  // The answer to `sql`, as the default user.
  absl::StatusOr<std::string> Query(absl::string_view sql) const {
    return HttpGet(http_port_, "/?query=" + UrlEncode(sql));
  }

  // Where the writer user's password is.
  std::string password_file() const { return dir_.file("password"); }

 private:
  explicit ClickHouseServer(std::vector<std::string> argv) : argv_(std::move(argv)) {
    argv_.push_back("--config-file=" + dir_.file("config.xml"));
  }

  void WriteConfig() const {
    const std::string& dir = dir_.path();
    const std::string config = absl::StrCat(R"(<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>)",
                                            dir, R"(/log/server.log</log>
    <errorlog>)",
                                            dir, R"(/log/error.log</errorlog>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>)",
                                            http_port_, R"(</http_port>
  <tcp_port>)",
                                            tcp_port_, R"(</tcp_port>
  <interserver_http_port>)",
                                            interserver_port_, R"(</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>)",
                                            dir, R"(/data/</path>
  <tmp_path>)",
                                            dir, R"(/tmp/</tmp_path>
  <user_files_path>)",
                                            dir, R"(/user_files/</user_files_path>
  <format_schema_path>)",
                                            dir, R"(/format_schemas/</format_schema_path>
  <users_config>)",
                                            dir, R"(/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <!-- A stop waits for idle keep-alive connections (the output keeps one) this long. -->
  <keep_alive_timeout>1</keep_alive_timeout>
  <mark_cache_size>268435456</mark_cache_size>
</yandex>
)");
    const std::string users = absl::StrCat(R"(<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    <writer>
      <password>)",
                                           kPassword, R"(</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </writer>
  </users>
</yandex>
)");
    WriteText(dir_.file("config.xml"), config);
    WriteText(dir_.file("users.xml"), users);
    WriteText(dir_.file("password"), absl::StrCat(kPassword, "\n"));
  }

  static void WriteText(const std::string& path, const std::string& text) {
    FILE* file = std::fopen(path.c_str(), "w");
    ASSERT_NE(file, nullptr) << path;
    std::fwrite(text.data(), 1, text.size(), file);
    std::fclose(file);
  }

  std::vector<std::string> argv_;
  TempDir dir_;
  int http_port_ = 0;
  int tcp_port_ = 0;
  int interserver_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// sluiced with one clickhouse output into `table`; fast retries so that a restart of
// ClickHouse is noticed quickly.
std::string SluicedConfig(const ClickHouseServer& clickhouse, absl::string_view table,
                          absl::string_view extra = "create_table: true") {
  return absl::StrCat(R"(
outputs:
  - type: clickhouse
    name: main
    url: ")",
                      clickhouse.url(), R"("
    table: )",
                      table, R"(
    user: writer
    password_file: ")",
                      clickhouse.password_file(), R"("
    timeout: 2s
    retry: { initial_backoff: 20ms, max_backoff: 200ms }
    )",
                      extra, "\n");
}

ClientOptions Options(const std::string& target) {
  ClientOptions options;
  options.target = target;
  options.max_buffered_records = 10000;
  options.max_batch_records = 100;
  return options;
}

// How often each of "rec-0" .. "rec-<count-1>" is in the table.
struct Tally {
  size_t rows = 0;
  size_t missing = 0;
  size_t duplicates = 0;
  size_t unexpected = 0;
};

absl::StatusOr<Tally> CountMessages(const ClickHouseServer& clickhouse, absl::string_view table,
                                    size_t count) {
  absl::StatusOr<std::string> messages =
      clickhouse.Query(absl::StrCat("SELECT message FROM default.", table));
  if (!messages.ok()) return messages.status();
  std::vector<uint32_t> seen(count, 0);
  Tally tally;
  for (absl::string_view message : absl::StrSplit(*messages, '\n', absl::SkipEmpty())) {
    ++tally.rows;
    size_t index = 0;
    if (!absl::ConsumePrefix(&message, "rec-") || !absl::SimpleAtoi(message, &index) ||
        index >= count) {
      ++tally.unexpected;
      continue;
    }
    if (seen[index]++ > 0) ++tally.duplicates;
  }
  for (const uint32_t times : seen) tally.missing += times == 0 ? 1 : 0;
  return tally;
}

class RealClickHouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> argv = ServerArgv();
    if (argv.empty()) {
      GTEST_SKIP() << "no clickhouse-server binary (apt-get install clickhouse-server)";
    }
    absl::StatusOr<std::unique_ptr<ClickHouseServer>> server =
        ClickHouseServer::Start(std::move(argv));
    ASSERT_TRUE(server.ok()) << server.status();
    clickhouse_ = *std::move(server);
  }

  std::unique_ptr<ClickHouseServer> clickhouse_;
};

TEST_F(RealClickHouseTest, RecordsArriveAsRowsOfTheCreatedTable) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(SluicedConfig(*clickhouse_, "logs"));
  ASSERT_TRUE(server.ok()) << server.status();
  constexpr size_t kCount = 500;
  {
    Client client(Options((*server)->ingest_target()));
    for (size_t i = 0; i < kCount; ++i) {
      client.Log(i % 2 == 0 ? v1::LEVEL_INFO : v1::LEVEL_ERROR, "checkout.db",
                 absl::StrCat("rec-", i), {{"user", "ada"}, {"n", static_cast<int64_t>(i)}});
    }
    // ack_on: written, so an ack means ClickHouse answered the INSERT.
    ASSERT_TRUE(client.Flush(absl::Now() + kAwaitTimeout).ok()) << (*server)->Stderr();
  }
  absl::StatusOr<Tally> tally = CountMessages(*clickhouse_, "logs", kCount);
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->rows, kCount);
  EXPECT_EQ(tally->missing, 0u);

  absl::StatusOr<std::string> row = clickhouse_->Query(
      "SELECT level, logger, message, fields.key, fields.value, intDiv(time_ns, 1000000000) = "
      "toUInt64(time), abs(toInt64(time) - toInt64(now())) < 600 FROM default.logs WHERE "
      "message = 'rec-7'");
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(*row, "ERROR\tcheckout.db\trec-7\t['user','n']\t['ada','7']\t1\t1\n");

  ASSERT_TRUE((*server)->Terminate().ok());
  EXPECT_EQ(*(*server)->WaitForExit(), 0);
  EXPECT_FALSE(absl::StrContains((*server)->Stderr(), kPassword));
}

TEST_F(RealClickHouseTest, AMissingTableDropsTheBatchAndSaysWhyWithoutThePassword) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(SluicedConfig(*clickhouse_, "absent", "create_table: false"));
  ASSERT_TRUE(server.ok()) << server.status();
  {
    Client client(Options((*server)->ingest_target()));
    for (int i = 0; i < 10; ++i) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat("rec-", i));
    ASSERT_TRUE(client.Flush(absl::Now() + kAwaitTimeout).ok());
  }
  EXPECT_TRUE((*server)->AwaitMetric(
      R"(sluice_output_records_dropped_total{output="clickhouse/main",reason="permanent_error"})",
      10));
  EXPECT_TRUE((*server)->AwaitMetric(
      R"(sluice_output_http_requests_total{code="404",output="clickhouse/main"})", 1));
  EXPECT_TRUE(Await([&] {
    return absl::StrContains((*server)->Stderr(), "Table default.absent doesn't exist");
  })) << (*server)->Stderr();
  ASSERT_TRUE((*server)->Terminate().ok());
  EXPECT_EQ(*(*server)->WaitForExit(), 0);
  EXPECT_FALSE(absl::StrContains((*server)->Stderr(), kPassword));
}

TEST_F(RealClickHouseTest, ARestartOfClickHouseLosesNothingUnderBlock) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(SluicedConfig(*clickhouse_, "logs"));
  ASSERT_TRUE(server.ok()) << server.status();
  constexpr size_t kBefore = 300;
  constexpr size_t kDuring = 300;
  Client client(Options((*server)->ingest_target()));
  for (size_t i = 0; i < kBefore; ++i) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat("rec-", i));
  ASSERT_TRUE(client.Flush(absl::Now() + kAwaitTimeout).ok()) << (*server)->Stderr();

  ASSERT_TRUE(clickhouse_->Stop().ok());
  for (size_t i = kBefore; i < kBefore + kDuring; ++i) {
    client.Log(v1::LEVEL_INFO, "demo", absl::StrCat("rec-", i));
  }
  // The output has seen ClickHouse gone before it comes back.
  ASSERT_TRUE(Await([&] {
    absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
    return metrics.ok() &&
           MetricValue(*metrics,
                       R"(sluice_output_http_requests_total{code="none",output="clickhouse/main"})")
                   .value_or(0) >= 1;
  })) << (*server)->Stderr();
  ASSERT_TRUE(clickhouse_->Restart().ok());
  ASSERT_TRUE(client.Flush(absl::Now() + kAwaitTimeout).ok()) << (*server)->Stderr();

  absl::StatusOr<Tally> tally = CountMessages(*clickhouse_, "logs", kBefore + kDuring);
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->missing, 0u);
  EXPECT_EQ(tally->unexpected, 0u);
  EXPECT_EQ(tally->rows, kBefore + kDuring + tally->duplicates);
  std::cout << "rows " << tally->rows << ", duplicates " << tally->duplicates << "\n";
  RecordProperty("duplicates", static_cast<int>(tally->duplicates));
  EXPECT_EQ(client.stats().dropped_buffer_full, 0u);

  ASSERT_TRUE((*server)->Terminate().ok());
  EXPECT_EQ(*(*server)->WaitForExit(), 0);
}

}  // namespace
}  // namespace sluice::e2e
