// End-to-end tests of sluiced under a service manager's Type=notify (the packaged systemd
// unit): the test binds the unix datagram socket systemd would, hands it to a real sluiced
// in NOTIFY_SOCKET, and reads what arrives. READY=1 must come once the ports serve, and
// not at all when the start fails; RELOADING=1 and READY=1 frame a SIGHUP reload; STOPPING=1
// comes when the drain of SIGTERM begins.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kConfig[] = R"(
outputs:
  - { type: file, name: main, path: "$DIR/records.log" }
)";

// The receiving end of sd_notify, as systemd binds it for a Type=notify service.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    bound_ =
        fd_ >= 0 && ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }

  // The next datagram; DEADLINE_EXCEEDED if none arrives within `timeout`.
  absl::StatusOr<std::string> Receive(absl::Duration timeout = kAwaitTimeout) {
    pollfd ready{.fd = fd_, .events = POLLIN, .revents = 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    if (polled < 0) return absl::ErrnoToStatus(errno, "poll");
    if (polled == 0) return absl::DeadlineExceededError("no notification arrived");
    char buffer[4096];
    const ssize_t received = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (received < 0) return absl::ErrnoToStatus(errno, "recv");
    return std::string(buffer, static_cast<size_t>(received));
  }

  // A datagram already waiting, without waiting for one.
  bool HasPending() {
    pollfd ready{.fd = fd_, .events = POLLIN, .revents = 0};
    return ::poll(&ready, 1, 0) == 1;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

// Spawns sluiced with NOTIFY_SOCKET pointing at `socket`. The variable is set only while
// the child is spawned (it inherits the environment then), so nothing else sees it.
absl::StatusOr<std::unique_ptr<SluicedProcess>> SpawnNotifying(
    const NotifySocket& socket, const std::vector<std::string>& extra_args = {}) {
  ::setenv("NOTIFY_SOCKET", socket.path().c_str(), 1);
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Spawn(kConfig, extra_args);
  ::unsetenv("NOTIFY_SOCKET");
  return server;
}

grpc::health::v1::HealthCheckResponse::ServingStatus IngestHealth(const std::string& target) {
  std::unique_ptr<grpc::health::v1::Health::Stub> health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("sluice.v1.LogService");
  grpc::health::v1::HealthCheckResponse response;
  if (!health->Check(&context, request, &response).ok()) {
    return grpc::health::v1::HealthCheckResponse::UNKNOWN;
  }
  return response.status();
}

TEST(ServiceNotifyTest, ReadyOnceThePortsServeThenReloadingAroundSighupAndStoppingOnSigterm) {
  TempDir dir;
  NotifySocket socket(dir.file("notify"));
  ASSERT_TRUE(socket.bound()) << std::strerror(errno);
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SpawnNotifying(socket);
  ASSERT_TRUE(server.ok()) << server.status();

  absl::StatusOr<std::string> ready = socket.Receive();
  ASSERT_TRUE(ready.ok()) << ready.status() << "\n" << (*server)->Stderr();
  EXPECT_EQ(*ready, "READY=1");
  // Everything a client needs was there before READY=1: the listening lines printed (read
  // now, without waiting), and the ingest port answering its health service.
  EXPECT_THAT((*server)->Stderr(), HasSubstr("metrics listening on"));
  ASSERT_TRUE((*server)->AwaitListening(absl::ZeroDuration()).ok()) << (*server)->Stderr();
  EXPECT_EQ(IngestHealth((*server)->ingest_target()),
            grpc::health::v1::HealthCheckResponse::SERVING);

  ASSERT_TRUE((*server)->Signal(SIGHUP).ok());
  absl::StatusOr<std::string> reloading = socket.Receive();
  ASSERT_TRUE(reloading.ok()) << reloading.status() << "\n" << (*server)->Stderr();
  EXPECT_THAT(*reloading, StartsWith("RELOADING=1\nMONOTONIC_USEC="));
  absl::StatusOr<std::string> reloaded = socket.Receive();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status() << "\n" << (*server)->Stderr();
  EXPECT_EQ(*reloaded, "READY=1");
  EXPECT_THAT((*server)->Stderr(), HasSubstr("sluiced: reloaded"));

  ASSERT_TRUE((*server)->Terminate().ok());
  absl::StatusOr<std::string> stopping = socket.Receive();
  ASSERT_TRUE(stopping.ok()) << stopping.status() << "\n" << (*server)->Stderr();
  EXPECT_EQ(*stopping, "STOPPING=1");
  EXPECT_EQ(*(*server)->WaitForExit(), 0) << (*server)->Stderr();
  EXPECT_FALSE(socket.HasPending());
}

TEST(ServiceNotifyTest, NoReadyWhenAPortCannotBeTaken) {
  TempDir dir;
  NotifySocket socket(dir.file("notify"));
  ASSERT_TRUE(socket.bound()) << std::strerror(errno);
  // A port held by this test: the metrics listener cannot have it, so the start fails.
  const int taken = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(taken, 1), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(taken, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string metrics_listen = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));

  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SpawnNotifying(socket, {absl::StrCat("--metrics_listen=", metrics_listen)});
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ::close(taken);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_NE(*exit_code, 0) << (*server)->Stderr();
  EXPECT_FALSE(socket.HasPending());
}

}  // namespace
}  // namespace sluice::e2e
