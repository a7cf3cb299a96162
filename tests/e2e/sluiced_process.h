// The end-to-end test harness: runs the real `sluiced` and `sluice` binaries as child
// processes, the way an operator would, and lets a test look at what they produced.
//
//   absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(R"(
//     outputs:
//       - { type: file, name: main, path: "$DIR/records.log" }
//   )");
//   ... push records to (*server)->ingest_target() ...
//   ASSERT_TRUE((*server)->Terminate().ok());
//   EXPECT_EQ(*(*server)->WaitForExit(kExitTimeout), 0);
//   std::vector<std::string> lines = ReadLines((*server)->path("records.log"));
//
// Each SluicedProcess owns a fresh temporary directory under /tmp (the config file, the
// server's stdout and stderr, and whatever the config writes under `$DIR`) and removes it
// when destroyed. The server listens on 127.0.0.1 with port 0 for ingest, admin and
// metrics; Start() reads the ports back from the "listening" lines the server prints.
//
// Waiting: nothing here sleeps for a fixed time to let something happen. Await() polls a
// condition until it holds or a bounded deadline passes, so a test waits only as long as
// the server needs and fails (rather than hangs) when the condition never comes.
//
// Processes: a harness object signals and reaps only the child it started itself; the
// destructor kills that child if it is still running, so a failed test leaves nothing
// behind. The binaries' paths come from CMake (SLUICED_PATH, SLUICE_CLI_PATH).
#ifndef SLUICE_TESTS_E2E_SLUICED_PROCESS_H_
#define SLUICE_TESTS_E2E_SLUICED_PROCESS_H_

#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sluice::e2e {

// How long a test waits for any one condition: generous, since the 2-core test machine
// may be busy, yet bounded so that a broken server fails the test instead of hanging it.
inline constexpr absl::Duration kAwaitTimeout = absl::Seconds(60);

// Polls `condition` until it returns true (then true) or `timeout` passes (then false).
bool Await(absl::FunctionRef<bool()> condition, absl::Duration timeout = kAwaitTimeout);

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  // Creates the directory; aborts the test binary if /tmp is unusable.
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // `path()/name`.
  std::string file(absl::string_view name) const;

 private:
  std::string path_;
};

// One child process started with posix_spawn: stdin from /dev/null, stdout and stderr
// into files.
class ChildProcess {
 public:
  // Starts `argv[0]` (an absolute path) with `argv`. A nonzero `max_open_files` sets the
  // child's RLIMIT_NOFILE, soft and hard, before it runs (the child cannot raise it).
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                             const std::string& stdout_path,
                                                             const std::string& stderr_path,
                                                             uint64_t max_open_files = 0);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills and reaps the child if it is still running.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Sends `signal_number` to the child; FAILED_PRECONDITION once it was reaped.
  absl::Status Signal(int signal_number);
  // The exit code once the child exits; DEADLINE_EXCEEDED if it still runs after
  // `timeout`, INTERNAL if a signal ended it.
  absl::StatusOr<int> WaitForExit(absl::Duration timeout);
  // True until the child has been reaped.
  bool running() const { return !exit_status_.has_value(); }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  // Reaps the child if it has exited; true once it has.
  bool Reap(bool block);

  const pid_t pid_;
  std::optional<int> exit_status_;  // the raw waitpid() status
};

// What a command that ran to completion printed, and how it ended.
struct CommandResult {
  int exit_code = -1;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs `/bin/sh -c shell_command` in a temporary directory and waits (bounded) for it.
absl::StatusOr<CommandResult> RunShell(const std::string& shell_command,
                                       absl::Duration timeout = kAwaitTimeout);

// `text` quoted for /bin/sh.
std::string ShellQuote(absl::string_view text);

// The lines of a text file, without their '\n'; empty if it does not exist.
// A port on 127.0.0.1 that was free a moment ago: a socket of `socket_type` (SOCK_STREAM,
// SOCK_DGRAM) bound with port 0, read back, closed. For a process that must be told its
// port, or that must find the same port after a restart; another process may take it in
// between.
absl::StatusOr<int> ReserveLoopbackPort(int socket_type);

std::vector<std::string> ReadLines(const std::string& path);
// The whole file; empty if it does not exist.
std::string ReadFile(const std::string& path);
// The number of '\n' in the file; 0 if it does not exist.
size_t CountLines(const std::string& path);

// The body of an HTTP/1.0 GET of http://127.0.0.1:<port><path>.
absl::StatusOr<std::string> HttpGet(int port, absl::string_view path);

// The value of the sample `name_and_labels` (e.g. `sluice_draining` or
// `sluice_ingest_records_received_total{rpc="Push"}`, labels spelled as exposed) in a
// Prometheus text exposition; nullopt when there is no such sample.
std::optional<double> MetricValue(absl::string_view exposition, absl::string_view name_and_labels);

// How a sluiced is started beyond its config and flags.
struct SpawnOptions {
  // RLIMIT_NOFILE (soft and hard) of the server; 0 leaves the test's own.
  uint64_t max_open_files = 0;
};

class SluicedProcess {
 public:
  // The sluiced binary this harness runs.
  static const char* BinaryPath();
  // The sluice command-line client.
  static const char* CliPath();

  // Writes `config_yaml` (every `$DIR` replaced by the temporary directory) to a file,
  // starts sluiced on it with port-0 listen flags followed by `extra_args`, and returns
  // at once, before the server listens (see AwaitListening).
  static absl::StatusOr<std::unique_ptr<SluicedProcess>> Spawn(
      absl::string_view config_yaml, const std::vector<std::string>& extra_args = {},
      const SpawnOptions& options = {});
  // Spawn() then AwaitListening().
  static absl::StatusOr<std::unique_ptr<SluicedProcess>> Start(
      absl::string_view config_yaml, const std::vector<std::string>& extra_args = {},
      const SpawnOptions& options = {});

  SluicedProcess(const SluicedProcess&) = delete;
  SluicedProcess& operator=(const SluicedProcess&) = delete;
  // Kills the server if it still runs, then removes the temporary directory.
  ~SluicedProcess();

  // Waits until the server printed its three "listening" lines and reads the ports;
  // an error (with the server's stderr) if it exits first or `timeout` passes.
  absl::Status AwaitListening(absl::Duration timeout = absl::Seconds(30));

  // "127.0.0.1:<port>" of the ingest and admin gRPC servers, and the metrics port.
  std::string ingest_target() const;
  std::string admin_target() const;
  int metrics_port() const { return metrics_port_; }

  // The temporary directory, and `name` inside it.
  const std::string& dir() const { return dir_.path(); }
  std::string path(absl::string_view name) const { return dir_.file(name); }
  // Everything the server printed on stderr so far.
  std::string Stderr() const;

  // GET /metrics.
  absl::StatusOr<std::string> ScrapeMetrics() const;
  // Waits until the sample `name_and_labels` has `value`; false if it never does.
  bool AwaitMetric(absl::string_view name_and_labels, double value,
                   absl::Duration timeout = kAwaitTimeout) const;

  // SIGTERM: the server drains, flushes and exits 0.
  absl::Status Terminate();
  // Sends `signal_number` to the server.
  absl::Status Signal(int signal_number) { return process_->Signal(signal_number); }
  // The server's pid, e.g. for /proc/<pid>/fd.
  pid_t pid() const { return process_->pid(); }
  // SIGKILL, as in a crash or an OOM kill: nothing is drained or flushed.
  absl::Status Kill() { return process_->Signal(SIGKILL); }
  // See ChildProcess::WaitForExit.
  absl::StatusOr<int> WaitForExit(absl::Duration timeout = kAwaitTimeout) {
    return process_->WaitForExit(timeout);
  }
  bool running() const { return process_->running(); }

 private:
  SluicedProcess() = default;

  TempDir dir_;
  std::unique_ptr<ChildProcess> process_;
  int ingest_port_ = 0;
  int admin_port_ = 0;
  int metrics_port_ = 0;
};

}  // namespace sluice::e2e

#endif  // SLUICE_TESTS_E2E_SLUICED_PROCESS_H_
