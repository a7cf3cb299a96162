// End-to-end tests of the syslog output (server/outputs/syslog/) against a real rsyslogd
// (Debian's /usr/sbin/rsyslogd), which the test starts with a config of its own in a
// temporary directory: imtcp and imudp on 127.0.0.1, no system socket, and one omfile
// action writing what arrives as RFC 5424 lines (RSYSLOG_SyslogProtocol23Format).
//
// - over TCP: every record arrives once, with its PRI (facility and severity), APP-NAME,
//   MSGID, structured data and message as sent;
// - over UDP: the same, and a message longer than max_message_bytes arrives cut;
// - rsyslogd stopped mid-run and started again on the same port, over TCP under the
//   default `when_full: block`: every record arrives at least once (the output's delivery
//   is at-least-once, see syslog_output.h), and the duplicates are counted.
//
// The test skips when rsyslogd is not installed (Debian package rsyslog).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

constexpr char kRsyslogd[] = "/usr/sbin/rsyslogd";

#define SKIP_WITHOUT_RSYSLOGD()                                               \
  if (!std::filesystem::exists(kRsyslogd)) {                                  \
    GTEST_SKIP() << kRsyslogd                                                 \
                 << " is not installed (Debian package rsyslog); the syslog " \
                    "output is not tested against a real receiver";           \
  }

// A UDP port on 127.0.0.1 that was free a moment ago: imudp cannot report the port it
// bound, so it is given one.
int ReserveUdpPort() {
  const absl::StatusOr<int> port = ReserveLoopbackPort(SOCK_DGRAM);
  EXPECT_TRUE(port.ok()) << port.status();
  return port.value_or(0);
}

// Whether something listens on UDP 127.0.0.1:`port`, from /proc/net/udp.
bool UdpBound(int port) {
  return absl::StrContains(ReadFile("/proc/net/udp"), absl::StrFormat(" 0100007F:%04X ", port));
}

// Whether something listens on TCP 127.0.0.1:`port`, from /proc/net/tcp (state 0A).
bool TcpListening(int port) {
  return absl::StrContains(ReadFile("/proc/net/tcp"),
                           absl::StrFormat(" 0100007F:%04X 00000000:0000 0A ", port));
}

// An rsyslogd of the test's own, in `dir`, writing what it receives to dir/received.log.
class Rsyslogd {
 public:
  // Starts it with imtcp on `tcp_port` (0: any, read back from the port file imtcp writes
  // for port 0 only) and imudp on `udp_port`, and waits until both listen.
  static absl::StatusOr<std::unique_ptr<Rsyslogd>> Start(const std::string& dir, int tcp_port,
                                                         int udp_port) {
    std::filesystem::create_directories(dir + "/work");
    const std::string port_file = dir + "/tcp.port";
    std::filesystem::remove(port_file);
    const std::string config = absl::StrReplaceAll(
        R"(global(workDirectory="$DIR/work")
module(load="imtcp")
module(load="imudp")
ruleset(name="sluice") {
  action(type="omfile" file="$DIR/received.log" template="RSYSLOG_SyslogProtocol23Format")
}
input(type="imtcp" address="127.0.0.1" port="$TCP" listenPortFileName="$DIR/tcp.port"
      ruleset="sluice")
input(type="imudp" address="127.0.0.1" port="$UDP" ruleset="sluice")
)",
        {{"$DIR", dir}, {"$TCP", absl::StrCat(tcp_port)}, {"$UDP", absl::StrCat(udp_port)}});
    const std::string config_path = dir + "/rsyslog.conf";
    if (absl::Status status = WriteFile(config_path, config); !status.ok()) return status;
    // -n: in the foreground, so the child's pid is rsyslogd's. Internal messages go to the
    // default ruleset, which has no action; imuxsock (the system socket) is not loaded.
    absl::StatusOr<std::unique_ptr<ChildProcess>> process =
        ChildProcess::Spawn({kRsyslogd, "-n", "-f", config_path, "-i", dir + "/rsyslogd.pid"},
                            dir + "/rsyslogd.stdout", dir + "/rsyslogd.stderr");
    if (!process.ok()) return process.status();
    auto rsyslogd = std::unique_ptr<Rsyslogd>(new Rsyslogd(dir, *std::move(process)));
    const bool listening = Await([&] {
      if (!rsyslogd->process_->running()) return true;
      if (tcp_port == 0) {
        absl::string_view text = absl::StripAsciiWhitespace(ReadFile(port_file));
        if (!absl::SimpleAtoi(text, &rsyslogd->tcp_port_)) return false;
      } else {
        rsyslogd->tcp_port_ = tcp_port;
      }
      return rsyslogd->tcp_port_ > 0 && TcpListening(rsyslogd->tcp_port_) && UdpBound(udp_port);
    });
    if (!listening || !rsyslogd->process_->running()) {
      return absl::InternalError(absl::StrCat("rsyslogd did not start listening; stderr: ",
                                              ReadFile(dir + "/rsyslogd.stderr")));
    }
    return rsyslogd;
  }

  int tcp_port() const { return tcp_port_; }

  // SIGTERM to this rsyslogd, by its pid, and waits for it to exit.
  absl::Status Stop() {
    if (absl::Status status = process_->Signal(SIGTERM); !status.ok()) return status;
    absl::StatusOr<int> code = process_->WaitForExit(kAwaitTimeout);
    return code.ok() ? absl::OkStatus() : code.status();
  }

 private:
  Rsyslogd(std::string dir, std::unique_ptr<ChildProcess> process)
      : dir_(std::move(dir)), process_(std::move(process)) {}

  static absl::Status WriteFile(const std::string& path, const std::string& text) {
    FILE* file = std::fopen(path.c_str(), "w");
    if (file == nullptr) return absl::InternalError(absl::StrCat("cannot write ", path));
    std::fputs(text.c_str(), file);
    std::fclose(file);
    return absl::OkStatus();
  }

  std::string dir_;
  std::unique_ptr<ChildProcess> process_;
  int tcp_port_ = 0;
};

// One line rsyslogd wrote: "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG".
struct SyslogLine {
  int pri = -1;
  std::string timestamp;
  std::string hostname;
  std::string app_name;
  std::string procid;
  std::string msgid;
  std::string structured_data;
  std::string message;
};

// Parses a line of RSYSLOG_SyslogProtocol23Format; false for anything else.
bool ParseLine(absl::string_view line, SyslogLine* parsed) {
  if (!absl::ConsumePrefix(&line, "<")) return false;
  const size_t close = line.find('>');
  if (close == absl::string_view::npos || !absl::SimpleAtoi(line.substr(0, close), &parsed->pri)) {
    return false;
  }
  line.remove_prefix(close + 1);
  if (!absl::ConsumePrefix(&line, "1 ")) return false;
  std::vector<std::string> header = absl::StrSplit(line, absl::MaxSplits(' ', 5));
  if (header.size() != 6) return false;
  parsed->timestamp = header[0];
  parsed->hostname = header[1];
  parsed->app_name = header[2];
  parsed->procid = header[3];
  parsed->msgid = header[4];
  absl::string_view rest = header[5];
  if (absl::ConsumePrefix(&rest, "- ")) {
    parsed->structured_data = "-";
  } else {
    // The element ends at the first ']' not escaped by '\'.
    size_t end = 0;
    while (end < rest.size() && rest[end] != ']') end += rest[end] == '\\' ? 2 : 1;
    if (end >= rest.size()) return false;
    parsed->structured_data = std::string(rest.substr(0, end + 1));
    rest.remove_prefix(end + 1);
    absl::ConsumePrefix(&rest, " ");
  }
  parsed->message = std::string(rest);
  return true;
}

// The lines of dir/received.log; one that does not parse fails the test.
std::vector<SyslogLine> Received(const std::string& dir) {
  std::vector<SyslogLine> lines;
  for (const std::string& text : ReadLines(dir + "/received.log")) {
    SyslogLine line;
    EXPECT_TRUE(ParseLine(text, &line)) << text;
    lines.push_back(std::move(line));
  }
  return lines;
}

constexpr int kLocal3 = 19;
constexpr char kStructuredData[] = R"([fields@32473 order="42" note="a \"quoted\\ value\]"])";

std::string SluicedConfig(int port, absl::string_view transport, absl::string_view extra = "") {
  return absl::StrCat(R"(
outputs:
  - { type: syslog, name: rsyslog, address: "127.0.0.1:)",
                      port, R"(", transport: )", transport,
                      R"(, facility: local3, app_name: sluice-e2e,
      hostname: e2e-host, retry: { max_backoff: 200ms })",
                      extra, R"( }
)");
}

ClientOptions Options(const std::string& target) {
  ClientOptions options;
  options.target = target;
  options.max_buffered_records = 1 << 20;
  return options;
}

// The levels the records cycle through, and the severities they must arrive with.
constexpr v1::Level kLevels[] = {v1::LEVEL_INFO, v1::LEVEL_WARN, v1::LEVEL_ERROR, v1::LEVEL_FATAL};
constexpr int kSeverities[] = {6, 4, 3, 2};

// Logs "rec-<i>" for i in [begin, end), cycling through kLevels, with two fields.
void LogRecords(Client& client, int begin, int end) {
  for (int i = begin; i < end; ++i) {
    client.Log(kLevels[i % 4], "checkout.db", absl::StrCat("rec-", i),
               {{"order", 42}, {"note", "a \"quoted\\ value]"}});
  }
}

// Checks that `lines` are exactly "rec-0" .. "rec-<count-1>", each once, as sent.
void ExpectRecordsAsSent(const std::vector<SyslogLine>& lines, int count) {
  std::map<int, int> seen;
  for (const SyslogLine& line : lines) {
    int index = -1;
    absl::string_view message = line.message;
    ASSERT_TRUE(absl::ConsumePrefix(&message, "rec-") && absl::SimpleAtoi(message, &index))
        << line.message;
    ASSERT_GE(index, 0);
    ASSERT_LT(index, count);
    ++seen[index];
    EXPECT_EQ(line.pri, kLocal3 * 8 + kSeverities[index % 4]) << line.message;
    EXPECT_EQ(line.hostname, "e2e-host");
    EXPECT_EQ(line.app_name, "sluice-e2e");
    EXPECT_EQ(line.procid, "-");
    EXPECT_EQ(line.msgid, "checkout.db");
    EXPECT_EQ(line.structured_data, kStructuredData);
    EXPECT_EQ(line.timestamp.size(), sizeof("2026-11-22T10:00:00.123456Z") - 1) << line.timestamp;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(count));
  for (const auto& [index, times] : seen) EXPECT_EQ(times, 1) << "rec-" << index;
}

TEST(SyslogOutputE2eTest, TcpRecordsReachRsyslogAsSent) {
  SKIP_WITHOUT_RSYSLOGD();
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Rsyslogd>> rsyslogd =
      Rsyslogd::Start(dir.path(), 0, ReserveUdpPort());
  ASSERT_TRUE(rsyslogd.ok()) << rsyslogd.status();
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(SluicedConfig((*rsyslogd)->tcp_port(), "tcp"));
  ASSERT_TRUE(server.ok()) << server.status();

  constexpr int kCount = 500;
  Client client(Options((*server)->ingest_target()));
  LogRecords(client, 0, kCount);
  ASSERT_TRUE(client.Flush(absl::Now() + kAwaitTimeout).ok());
  ASSERT_TRUE(Await([&] { return CountLines(dir.file("received.log")) >= kCount; }))
      << CountLines(dir.file("received.log")) << " lines; sluiced: " << (*server)->Stderr();
  ASSERT_TRUE((*server)->Terminate().ok());
  EXPECT_EQ(*(*server)->WaitForExit(), 0);
  ASSERT_TRUE((*rsyslogd)->Stop().ok());
  ExpectRecordsAsSent(Received(dir.path()), kCount);
}

TEST(SyslogOutputE2eTest, UdpRecordsReachRsyslogAndLongOnesAreCut) {
  SKIP_WITHOUT_RSYSLOGD();
  TempDir dir;
  const int udp_port = ReserveUdpPort();
  absl::StatusOr<std::unique_ptr<Rsyslogd>> rsyslogd = Rsyslogd::Start(dir.path(), 0, udp_port);
  ASSERT_TRUE(rsyslogd.ok()) << rsyslogd.status();
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(SluicedConfig(udp_port, "udp", ", max_message_bytes: 480"));
  ASSERT_TRUE(server.ok()) << server.status();

  constexpr int kCount = 50;
  Client client(Options((*server)->ingest_target()));
  LogRecords(client, 0, kCount);
  client.Log(v1::LEVEL_INFO, "long", std::string(1000, 'x'));
  ASSERT_TRUE(client.Flush(absl::Now() + kAwaitTimeout).ok());
  ASSERT_TRUE(Await([&] { return CountLines(dir.file("received.log")) >= kCount + 1; }))
      << CountLines(dir.file("received.log")) << " lines; sluiced: " << (*server)->Stderr();
  EXPECT_TRUE((*server)->AwaitMetric(
      R"(sluice_output_syslog_truncated_total{output="syslog/rsyslog"})", 1));
  ASSERT_TRUE((*server)->Terminate().ok());
  EXPECT_EQ(*(*server)->WaitForExit(), 0);
  ASSERT_TRUE((*rsyslogd)->Stop().ok());

  std::vector<SyslogLine> lines = Received(dir.path());
  std::vector<SyslogLine> records;
  bool saw_long = false;
  for (SyslogLine& line : lines) {
    if (line.msgid != "long") {
      records.push_back(std::move(line));
      continue;
    }
    saw_long = true;
    // The whole SYSLOG-MSG is max_message_bytes: its header, "-" and the cut message.
    const size_t header =
        absl::StrCat("<", kLocal3 * 8 + 6, ">1 ", line.timestamp, " e2e-host sluice-e2e - long - ")
            .size();
    EXPECT_EQ(line.message, std::string(480 - header, 'x'));
  }
  EXPECT_TRUE(saw_long);
  ExpectRecordsAsSent(records, kCount);
}

TEST(SyslogOutputE2eTest, RsyslogRestartedMidRunOverTcpLosesNothing) {
  SKIP_WITHOUT_RSYSLOGD();
  TempDir dir;
  const int udp_port = ReserveUdpPort();
  absl::StatusOr<std::unique_ptr<Rsyslogd>> rsyslogd = Rsyslogd::Start(dir.path(), 0, udp_port);
  ASSERT_TRUE(rsyslogd.ok()) << rsyslogd.status();
  const int port = (*rsyslogd)->tcp_port();
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(SluicedConfig(port, "tcp"));
  ASSERT_TRUE(server.ok()) << server.status();

  // The sender keeps logging in rounds of 50, each flushed (acked as written), until it
  // has logged 1000 more after the restart: records are in flight when rsyslogd stops,
  // and keep coming while it is down.
  constexpr int kRound = 50;
  std::atomic<bool> restarted = false;
  std::atomic<int> logged = 0;
  std::atomic<bool> flush_failed = false;
  std::thread sender_thread([&] {
    Client client(Options((*server)->ingest_target()));
    int restart_seen_at = -1;
    for (int i = 0; restart_seen_at < 0 || i < restart_seen_at + 1000; i += kRound) {
      LogRecords(client, i, i + kRound);
      logged = i + kRound;
      if (!client.Flush(absl::Now() + kAwaitTimeout).ok()) flush_failed = true;
      if (restart_seen_at < 0 && restarted) restart_seen_at = i;
    }
  });
  // Joined on every path: a failed assertion below still lets the sender finish.
  struct Joiner {
    std::thread& thread;
    std::atomic<bool>& restarted;
    ~Joiner() {
      restarted = true;
      if (thread.joinable()) thread.join();
    }
  } sender{sender_thread, restarted};

  const std::string received = dir.file("received.log");
  ASSERT_TRUE(Await([&] { return CountLines(received) >= 1000; }));
  ASSERT_TRUE((*rsyslogd)->Stop().ok());
  const size_t before = CountLines(received);
  // The output notices: its connects are refused while rsyslogd is down.
  EXPECT_TRUE(Await([&] {
    const absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
    const std::optional<double> errors =
        metrics.ok()
            ? MetricValue(*metrics,
                          R"(sluice_output_syslog_send_errors_total{output="syslog/rsyslog"})")
            : std::nullopt;
    return errors.has_value() && *errors >= 3;
  }));
  rsyslogd = Rsyslogd::Start(dir.path(), port, udp_port);
  ASSERT_TRUE(rsyslogd.ok()) << rsyslogd.status();
  EXPECT_EQ((*rsyslogd)->tcp_port(), port);
  restarted = true;
  sender_thread.join();
  EXPECT_FALSE(flush_failed);
  const int count = logged;
  ASSERT_TRUE(Await([&] { return CountLines(received) >= static_cast<size_t>(count); }))
      << CountLines(received) << " of " << count << " lines";
  ASSERT_TRUE((*server)->Terminate().ok());
  EXPECT_EQ(*(*server)->WaitForExit(), 0);
  ASSERT_TRUE((*rsyslogd)->Stop().ok());

  std::vector<int> seen(static_cast<size_t>(count), 0);
  size_t unexpected = 0;
  for (const SyslogLine& line : Received(dir.path())) {
    int index = -1;
    absl::string_view message = line.message;
    if (!absl::ConsumePrefix(&message, "rec-") || !absl::SimpleAtoi(message, &index) || index < 0 ||
        index >= count) {
      ++unexpected;
      continue;
    }
    ++seen[static_cast<size_t>(index)];
  }
  size_t missing = 0;
  size_t duplicates = 0;
  for (int times : seen) {
    if (times == 0) ++missing;
    if (times > 1) duplicates += static_cast<size_t>(times - 1);
  }
  EXPECT_EQ(missing, 0u) << "of " << count;
  EXPECT_EQ(unexpected, 0u);
  RecordProperty("records", count);
  RecordProperty("duplicates", static_cast<int>(duplicates));
  std::printf("%d records, %zu lines before the stop, %zu duplicates (at-least-once)\n", count,
              before, duplicates);
}

}  // namespace
}  // namespace sluice::e2e
