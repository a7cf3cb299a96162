#include "tests/e2e/sluiced_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/test_util/eventually.h"

extern char** environ;

namespace sluice::e2e {
namespace {

// A read of /metrics that takes longer than this means the server is stuck.
constexpr int kHttpTimeoutSeconds = 10;

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// The port at the end of the line that starts with `prefix` in `text`, where the port is
// followed by `suffix` and the end of the line; 0 if there is no such line yet.
int PortAfter(absl::string_view text, absl::string_view prefix, absl::string_view suffix) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, prefix) || !absl::ConsumeSuffix(&line, suffix)) continue;
    const size_t colon = line.rfind(':');
    int port = 0;
    if (colon != absl::string_view::npos && absl::SimpleAtoi(line.substr(colon + 1), &port)) {
      return port;
    }
  }
  return 0;
}

}  // namespace

bool Await(absl::FunctionRef<bool()> condition, absl::Duration timeout) {
  return test_util::Eventually(condition, timeout);
}

TempDir::TempDir() {
  char pattern[] = "/tmp/sluice-e2e-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    std::perror("mkdtemp /tmp/sluice-e2e-XXXXXX");
    std::abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::file(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

namespace {

// Signals the child starts with the default action for, whatever the test binary blocked
// or ignored, so that each reaches sluiced's own signal handling.
constexpr int kDefaultSignals[] = {SIGTERM, SIGINT,  SIGPIPE,   SIGHUP,  SIGQUIT, SIGUSR1,
                                   SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU};

// fork + exec, for what posix_spawn cannot do: a resource limit set in the child. Only
// async-signal-safe calls between fork and exec, since the test binary has threads.
absl::StatusOr<pid_t> ForkWithFileLimit(std::vector<char*>& args, const std::string& stdout_path,
                                        const std::string& stderr_path, uint64_t max_open_files) {
  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid > 0) return pid;
  const int in = ::open("/dev/null", O_RDONLY);
  const int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0 || err < 0) ::_exit(127);
  ::dup2(in, STDIN_FILENO);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(err, STDERR_FILENO);
  // Every other descriptor of the test binary would count against the child's limit.
  ::closefrom(STDERR_FILENO + 1);
  for (int signal_number : kDefaultSignals) ::signal(signal_number, SIG_DFL);
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  const rlimit limit{static_cast<rlim_t>(max_open_files), static_cast<rlim_t>(max_open_files)};
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(127);
  ::execve(args[0], args.data(), environ);
  ::_exit(127);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    const std::vector<std::string>& argv, const std::string& stdout_path,
    const std::string& stderr_path, uint64_t max_open_files) {
  if (max_open_files > 0) {
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    absl::StatusOr<pid_t> pid = ForkWithFileLimit(args, stdout_path, stderr_path, max_open_files);
    if (!pid.ok()) return pid.status();
    return std::unique_ptr<ChildProcess>(new ChildProcess(*pid));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attributes, &empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal_number : kDefaultSignals) sigaddset(&defaults, signal_number);
  posix_spawnattr_setsigdefault(&attributes, &defaults);

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int error =
      ::posix_spawn(&pid, argv[0].c_str(), &actions, &attributes, args.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::InternalError(absl::StrCat("posix_spawn ", argv[0], ": ", std::strerror(error)));
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  Reap(/*block=*/true);
}

absl::Status ChildProcess::Signal(int signal_number) {
  if (!running()) return absl::FailedPreconditionError("the process has already exited");
  if (::kill(pid_, signal_number) != 0) return ErrnoError("kill");
  return absl::OkStatus();
}

bool ChildProcess::Reap(bool block) {
  if (!running()) return true;
  int status = 0;
  pid_t reaped;
  do {
    reaped = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (reaped < 0 && errno == EINTR);
  if (reaped != pid_) return false;
  exit_status_ = status;
  return true;
}

absl::StatusOr<int> ChildProcess::WaitForExit(absl::Duration timeout) {
  if (!Await([this] { return Reap(/*block=*/false); }, timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("pid ", pid_, " still runs after ", absl::FormatDuration(timeout)));
  }
  if (WIFEXITED(*exit_status_)) return WEXITSTATUS(*exit_status_);
  return absl::InternalError(
      absl::StrCat("pid ", pid_, " was ended by signal ", WTERMSIG(*exit_status_)));
}

absl::StatusOr<CommandResult> RunShell(const std::string& shell_command, absl::Duration timeout) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Spawn({"/bin/sh", "-c", shell_command}, dir.file("stdout"), dir.file("stderr"));
  if (!child.ok()) return child.status();
  absl::StatusOr<int> exit_code = (*child)->WaitForExit(timeout);
  if (!exit_code.ok()) {
    return absl::Status(exit_code.status().code(),
                        absl::StrCat(shell_command, ": ", exit_code.status().message(),
                                     "; stderr: ", ReadFile(dir.file("stderr"))));
  }
  return CommandResult{*exit_code, ReadFile(dir.file("stdout")), ReadFile(dir.file("stderr"))};
}

std::string ShellQuote(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::StatusOr<int> ReserveLoopbackPort(int socket_type) {
  const int fd = ::socket(AF_INET, socket_type | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error_number = errno;
  ::close(fd);
  if (!ok) return absl::ErrnoToStatus(error_number, "cannot bind a loopback port");
  return static_cast<int>(ntohs(address.sin_port));
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  return lines;
}

size_t CountLines(const std::string& path) {
  const std::string contents = ReadFile(path);
  return static_cast<size_t>(std::count(contents.begin(), contents.end(), '\n'));
}

absl::StatusOr<std::string> HttpGet(int port, absl::string_view path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError("socket");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  timeval timeout{kHttpTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoError(absl::StrCat("connect 127.0.0.1:", port));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1:", port, "\r\n\r\n");
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return ErrnoError("send");
  }
  std::string response;
  char buffer[16384];
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("recv");
    }
    response.append(buffer, static_cast<size_t>(n));
  }
  const size_t body = response.find("\r\n\r\n");
  const absl::string_view status_line = absl::string_view(response).substr(0, response.find('\r'));
  if (body == std::string::npos || !absl::StrContains(status_line, " 200 ")) {
    return absl::InternalError(
        absl::StrCat("GET ", path, ": unexpected response \"", response.substr(0, 200), "\""));
  }
  return response.substr(body + 4);
}

std::optional<double> MetricValue(absl::string_view exposition, absl::string_view name_and_labels) {
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (!absl::ConsumePrefix(&line, name_and_labels) || !absl::ConsumePrefix(&line, " ")) {
      continue;
    }
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return std::nullopt;
}

const char* SluicedProcess::BinaryPath() { return SLUICED_PATH; }
const char* SluicedProcess::CliPath() { return SLUICE_CLI_PATH; }

absl::StatusOr<std::unique_ptr<SluicedProcess>> SluicedProcess::Spawn(
    absl::string_view config_yaml, const std::vector<std::string>& extra_args,
    const SpawnOptions& options) {
  std::unique_ptr<SluicedProcess> server(new SluicedProcess());
  const std::string config_path = server->path("sluiced.yaml");
  {
    std::ofstream config(config_path);
    config << absl::StrReplaceAll(config_yaml, {{"$DIR", server->dir()}});
    if (!config.good()) return absl::InternalError(absl::StrCat("cannot write ", config_path));
  }
  std::vector<std::string> argv = {BinaryPath(),      "--config",         config_path,
                                   "--ingest_listen", "127.0.0.1:0",      "--admin_listen",
                                   "127.0.0.1:0",     "--metrics_listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Spawn(
      argv, server->path("stdout.log"), server->path("stderr.log"), options.max_open_files);
  if (!process.ok()) return process.status();
  server->process_ = std::move(*process);
  return server;
}

absl::StatusOr<std::unique_ptr<SluicedProcess>> SluicedProcess::Start(
    absl::string_view config_yaml, const std::vector<std::string>& extra_args,
    const SpawnOptions& options) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = Spawn(config_yaml, extra_args, options);
  if (!server.ok()) return server.status();
  if (absl::Status listening = (*server)->AwaitListening(); !listening.ok()) return listening;
  return server;
}

SluicedProcess::~SluicedProcess() = default;

absl::Status SluicedProcess::AwaitListening(absl::Duration timeout) {
  bool exited = false;
  const bool listening = Await(
      [&] {
        const std::string text = Stderr();
        ingest_port_ = PortAfter(text, "sluiced: ingest listening on ", "");
        admin_port_ = PortAfter(text, "sluiced: admin listening on ", "");
        metrics_port_ = PortAfter(text, "sluiced: metrics listening on http://", "/metrics");
        if (ingest_port_ != 0 && admin_port_ != 0 && metrics_port_ != 0) return true;
        exited = process_->WaitForExit(absl::ZeroDuration()).status().code() !=
                 absl::StatusCode::kDeadlineExceeded;
        return exited;
      },
      timeout);
  if (listening && !exited) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("sluiced ", exited ? "exited before listening" : "is not listening",
                   "; its stderr:\n", Stderr()));
}

std::string SluicedProcess::ingest_target() const {
  return absl::StrCat("127.0.0.1:", ingest_port_);
}

std::string SluicedProcess::admin_target() const { return absl::StrCat("127.0.0.1:", admin_port_); }

std::string SluicedProcess::Stderr() const { return ReadFile(path("stderr.log")); }

absl::Status SluicedProcess::Terminate() { return process_->Signal(SIGTERM); }

absl::StatusOr<std::string> SluicedProcess::ScrapeMetrics() const {
  return HttpGet(metrics_port_, "/metrics");
}

bool SluicedProcess::AwaitMetric(absl::string_view name_and_labels, double value,
                                 absl::Duration timeout) const {
  return Await(
      [&] {
        absl::StatusOr<std::string> exposition = ScrapeMetrics();
        return exposition.ok() && MetricValue(*exposition, name_and_labels) == value;
      },
      timeout);
}

}  // namespace sluice::e2e
