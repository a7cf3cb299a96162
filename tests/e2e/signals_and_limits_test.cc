// End-to-end tests of what the operating system and the network do to a running sluiced:
// signals under load (none may lose an acknowledged record; SIGHUP reopens the files),
// running out of file descriptors (ingest must come back once connections close), and
// connections that never make a call (the server must close them).
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sluice/client.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "tests/e2e/record_load.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

// Acks wait until the file output took each batch, so an acked record is in the file or
// in the output's buffer, which a drain or a reopen writes.
constexpr char kFileConfig[] = R"(
ingest: { ack_on: written }
scheduler: { workers: 2 }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
shutdown: { drain_timeout: 30s }
)";

using ::grpc::health::v1::HealthCheckResponse;

#define ASSERT_STARTED(server) ASSERT_TRUE((server).ok()) << (server).status()

// Every "load-<i>" for i < count is in `messages` exactly once.
void ExpectEveryRecordOnce(const std::vector<std::string>& messages, size_t count) {
  absl::flat_hash_set<std::string> seen;
  for (const std::string& message : messages) {
    EXPECT_TRUE(seen.insert(message).second) << "written twice: " << message;
  }
  size_t missing = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!seen.contains(absl::StrCat("load-", i))) ++missing;
  }
  EXPECT_EQ(missing, 0u) << "of " << count << " acknowledged records";
  EXPECT_EQ(seen.size(), count);
}

// Waits until the server's stderr has `text` at least `times` times.
bool AwaitStderr(const SluicedProcess& server, const std::string& text, size_t times = 1) {
  return Await([&] {
    const std::string err = server.Stderr();
    size_t found = 0;
    for (size_t at = err.find(text); at != std::string::npos; at = err.find(text, at + 1)) {
      ++found;
    }
    return found >= times;
  });
}

TEST(SignalsTest, StraySignalsUnderLoadAreIgnoredAndLoseNoAcknowledgedRecord) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  RecordLoad load((*server)->ingest_target());
  size_t ignored = 0;
  for (int signal_number : {SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF}) {
    SCOPED_TRACE(strsignal(signal_number));
    const uint64_t acked_before = load.acked();
    ASSERT_TRUE(Await([&] { return load.acked() >= acked_before + 1000; }))
        << "the load is not getting acks";
    ASSERT_TRUE((*server)->Signal(signal_number).ok());
    ASSERT_TRUE(AwaitStderr(**server, ": ignored", ++ignored)) << (*server)->Stderr();
    EXPECT_TRUE((*server)->running());
  }
  // Still taking records after the last one.
  const uint64_t acked_after = load.acked();
  EXPECT_TRUE(Await([&] { return load.acked() >= acked_after + 1000; }));
  const absl::Status flushed = load.StopAndFlush();
  ASSERT_TRUE(flushed.ok()) << flushed;
  EXPECT_EQ(load.stats().acked_records, load.logged());

  ASSERT_TRUE((*server)->Terminate().ok());
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << (*server)->Stderr();
  ExpectEveryRecordOnce(JsonMessages((*server)->path("records.log")), load.logged());
}

TEST(SignalsTest, SighupAfterARenameSendsLaterRecordsToANewFileAndLosesNone) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  RecordLoad load((*server)->ingest_target());
  ASSERT_TRUE(Await([&] { return load.acked() >= 2000; })) << "the load is not getting acks";
  // logrotate's create mode: rename, then postrotate's signal.
  std::filesystem::rename((*server)->path("records.log"), (*server)->path("records.log.1"));
  ASSERT_TRUE((*server)->Signal(SIGHUP).ok());
  ASSERT_TRUE(AwaitStderr(**server, "outputs reopened")) << (*server)->Stderr();
  EXPECT_TRUE((*server)->running());
  const uint64_t acked_at_reopen = load.acked();
  ASSERT_TRUE(Await([&] { return load.acked() >= acked_at_reopen + 2000; }));
  // A second rotation with nothing renamed appends to the same file.
  ASSERT_TRUE((*server)->Signal(SIGHUP).ok());
  ASSERT_TRUE(AwaitStderr(**server, "outputs reopened", 2)) << (*server)->Stderr();
  const absl::Status flushed = load.StopAndFlush();
  ASSERT_TRUE(flushed.ok()) << flushed;

  ASSERT_TRUE((*server)->Terminate().ok());
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << (*server)->Stderr();
  const std::vector<std::string> rotated = JsonMessages((*server)->path("records.log.1"));
  const std::vector<std::string> current = JsonMessages((*server)->path("records.log"));
  EXPECT_FALSE(rotated.empty());
  EXPECT_GE(current.size(), 2000u) << "records after the reopen went to the new file";
  std::vector<std::string> all = rotated;
  all.insert(all.end(), current.begin(), current.end());
  ExpectEveryRecordOnce(all, load.logged());
  // The last record logged was acked after the rename, so it is in the new file.
  const absl::flat_hash_set<std::string> in_current(current.begin(), current.end());
  EXPECT_TRUE(in_current.contains(absl::StrCat("load-", load.logged() - 1)));
}

// A TCP connection to 127.0.0.1:port, non-blocking so that connecting to a full backlog
// does not hang; -1 when no descriptor or socket is left.
int ConnectNonBlocking(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int PortOf(const std::string& target) { return std::stoi(target.substr(target.rfind(':') + 1)); }

// One Push of one record on a fresh channel, with a short deadline.
grpc::Status PushOneRecord(const std::string& target) {
  grpc::ChannelArguments arguments;
  // A fresh connection each time, not one shared with an earlier attempt.
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::unique_ptr<v1::LogService::Stub> stub = v1::LogService::NewStub(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  v1::PushSummary summary;
  std::unique_ptr<grpc::ClientWriter<v1::LogRecord>> writer = stub->Push(&context, &summary);
  v1::LogRecord record;
  record.set_level(v1::LEVEL_INFO);
  record.set_logger("probe");
  record.set_message("after the storm");
  writer->Write(record);
  writer->WritesDone();
  return writer->Finish();
}

TEST(FileDescriptorLimitTest, IngestAcceptsCallsAgainAfterTheDescriptorsRanOut) {
  constexpr uint64_t kMaxOpenFiles = 128;
  constexpr int kConnections = 300;
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(kFileConfig, {}, {.max_open_files = kMaxOpenFiles});
  ASSERT_STARTED(server);
  EXPECT_THAT((*server)->Stderr(), ::testing::HasSubstr("open file limit 128"));
  ASSERT_TRUE(PushOneRecord((*server)->ingest_target()).ok()) << (*server)->Stderr();
  // A health watch on a connection made before the storm sees the dead listener reported.
  std::unique_ptr<grpc::health::v1::Health::Stub> health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel((*server)->ingest_target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext watch_context;
  watch_context.set_deadline(absl::ToChronoTime(absl::Now() + kAwaitTimeout));
  grpc::health::v1::HealthCheckRequest watch_request;
  watch_request.set_service("sluice.v1.LogService");
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> watch =
      health->Watch(&watch_context, watch_request);
  HealthCheckResponse status;
  ASSERT_TRUE(watch->Read(&status));
  ASSERT_EQ(status.status(), HealthCheckResponse::SERVING);

  std::vector<int> sockets;
  for (int i = 0; i < kConnections; ++i) {
    const int fd = ConnectNonBlocking(PortOf((*server)->ingest_target()));
    if (fd >= 0) sockets.push_back(fd);
  }
  ASSERT_GT(sockets.size(), kMaxOpenFiles);
  // gRPC ran out of descriptors: its accept failed, and its listener stopped.
  const bool exhausted = AwaitStderr(**server, "Failed accept4");
  for (int fd : sockets) ::close(fd);
  ASSERT_TRUE(exhausted) << (*server)->Stderr();
  ASSERT_TRUE(watch->Read(&status)) << (*server)->Stderr();
  EXPECT_EQ(status.status(), HealthCheckResponse::NOT_SERVING);
  watch_context.TryCancel();
  watch->Finish();

  grpc::Status last;
  const bool recovered = Await(
      [&] {
        last = PushOneRecord((*server)->ingest_target());
        return last.ok();
      },
      absl::Seconds(60));
  EXPECT_TRUE(recovered) << "last error: " << last.error_message() << "\n" << (*server)->Stderr();
  EXPECT_TRUE((*server)->running());
  EXPECT_TRUE((*server)->AwaitMetric("sluice_ingest_listener_up", 1));
  absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_GE(MetricValue(*metrics, "sluice_ingest_listener_restarts_total").value_or(0), 1);
}

// Idle connections are told to go away after a second.
constexpr char kIdleConfig[] = R"(
ingest: { max_connection_idle: 1s }
outputs:
  - { type: "null", name: sink }
)";

// What a connection read until the server closed it or sent GOAWAY, or the deadline.
struct ConnectionEnd {
  bool closed = false;  // read returned 0 or the connection was reset
  bool goaway = false;  // an HTTP/2 GOAWAY frame arrived
};

// Reads HTTP/2 frames off `fd` until the server closes or says GOAWAY, or `deadline`.
ConnectionEnd ReadUntilClosed(int fd, absl::Time deadline) {
  ConnectionEnd end;
  std::string received;
  size_t parsed = 0;
  while (absl::Now() < deadline) {
    pollfd poll_fd{fd, POLLIN, 0};
    const int left_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (::poll(&poll_fd, 1, std::max(left_ms, 1)) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      end.closed = true;
      return end;
    }
    if (n < 0) continue;
    received.append(buffer, static_cast<size_t>(n));
    // Frame header: 24-bit length, type, flags, 31-bit stream id.
    while (received.size() - parsed >= 9) {
      const auto byte = [&](size_t i) { return static_cast<uint8_t>(received[parsed + i]); };
      const size_t length = (size_t{byte(0)} << 16) | (size_t{byte(1)} << 8) | byte(2);
      if (byte(3) == 0x7) end.goaway = true;
      if (received.size() - parsed < 9 + length) break;
      parsed += 9 + length;
    }
    if (end.goaway) return end;
  }
  return end;
}

TEST(ConnectionTimeoutTest, ConnectionsThatOnlySendThePrefaceAreClosedWhenIdle) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kIdleConfig);
  ASSERT_STARTED(server);
  constexpr int kConnections = 20;
  // The client connection preface, then an empty SETTINGS frame; then nothing.
  static constexpr char kPreface[] =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
      "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
  const std::string hello(kPreface, sizeof(kPreface) - 1);
  std::vector<int> sockets;
  for (int i = 0; i < kConnections; ++i) {
    const int fd = ConnectNonBlocking(PortOf((*server)->ingest_target()));
    ASSERT_GE(fd, 0) << std::strerror(errno);
    sockets.push_back(fd);
  }
  for (int fd : sockets) {
    pollfd poll_fd{fd, POLLOUT, 0};
    ASSERT_EQ(::poll(&poll_fd, 1, 10000), 1) << "connect did not complete";
    ASSERT_EQ(::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(hello.size()));
  }
  // Well past max_connection_idle, well before the keepalive would act.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  int ended = 0;
  for (int fd : sockets) {
    const ConnectionEnd end = ReadUntilClosed(fd, deadline);
    if (end.closed || end.goaway) ++ended;
    ::close(fd);
  }
  EXPECT_EQ(ended, kConnections);
}

}  // namespace
}  // namespace sluice::e2e
