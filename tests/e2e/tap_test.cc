// The live tap on a real sluiced: `sluice tap` shows the records its filter takes and no
// others; a tap that never reads loses records (counted) while ingest goes on and every record
// still reaches the file output; an open tap, reading or not, does not keep the server from
// stopping. How fast ingest runs beside a slow tap is measured in bench/, not asserted here.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/usage.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "tests/e2e/admin_stats.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

// One worker, so that the records of consecutive `sluice send` calls reach the tap in order.
constexpr char kConfig[] = R"(
scheduler: { workers: 1 }
levels: { default: trace }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json }
)";

constexpr uint64_t kRecords = 200000;

std::string Cli() { return ShellQuote(SluicedProcess::CliPath()); }

// Runs `sluice tap <flags>` in the background, its output in the server's directory.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartTap(const SluicedProcess& server,
                                                       const std::vector<std::string>& flags,
                                                       const std::string& name) {
  std::vector<std::string> argv = {SluicedProcess::CliPath(), "--admin", server.admin_target()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("tap");
  return ChildProcess::Spawn(argv, server.path(name + ".out"), server.path(name + ".err"));
}

// `sluice send` of one record.
std::string Send(const SluicedProcess& server, const std::string& level, const std::string& logger,
                 const std::string& message, const std::string& field = "") {
  std::string command = absl::StrCat(Cli(), " --target ", server.ingest_target(), " send --level ",
                                     level, " --logger ", logger, " --message ", message);
  if (!field.empty()) absl::StrAppend(&command, " --field ", ShellQuote(field));
  return command;
}

void RunAll(const std::vector<std::string>& commands) {
  for (const std::string& command : commands) {
    absl::StatusOr<CommandResult> result = RunShell(command);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->exit_code, 0) << command << "\n" << result->stderr_text;
  }
}

TEST(TapTest, TheCliShowsTheWarnRecordsOfTheLoggerAndNoOthers) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kConfig);
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> tap = StartTap(
      **server, {"--level", "warn", "--logger", "checkout", "--format", "json", "--count", "2"},
      "tap");
  ASSERT_TRUE(tap.ok()) << tap.status();
  ASSERT_TRUE((*server)->AwaitMetric("sluice_taps_open", 1));

  // The records the tap must not show go first: shown, they would be among its two lines.
  RunAll({Send(**server, "info", "checkout.db", "info-record"),
          Send(**server, "error", "checkouts", "other-logger"),
          Send(**server, "warn", "billing", "billing-record"),
          Send(**server, "warn", "checkout.db", "warn-record"),
          Send(**server, "error", "checkout", "error-record")});

  absl::StatusOr<int> exit_code = (*tap)->WaitForExit(kAwaitTimeout);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << ReadFile((*server)->path("tap.err"));
  const std::vector<std::string> lines = ReadLines((*server)->path("tap.out"));
  ASSERT_EQ(lines.size(), 2u) << ReadFile((*server)->path("tap.out"));
  EXPECT_TRUE(absl::StrContains(lines[0], R"("level":"WARN","logger":"checkout.db")")) << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[0], R"("message":"warn-record")")) << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[1], R"("message":"error-record")")) << lines[1];
  // Every record still went to the output.
  EXPECT_TRUE(Await([&] { return CountLines((*server)->path("records.log")) == 5; }));
  ASSERT_TRUE((*server)->AwaitMetric("sluice_taps_open", 0));
}

TEST(TapTest, TheCliMatchesFieldsAndRefusesABadPattern) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kConfig);
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> tap =
      StartTap(**server, {"--field", "user=/^ad/", "--field", "region=eu", "--count", "1"}, "tap");
  ASSERT_TRUE(tap.ok()) << tap.status();
  ASSERT_TRUE((*server)->AwaitMetric("sluice_taps_open", 1));

  RunAll(
      {absl::StrCat(Cli(), " --target ", (*server)->ingest_target(),
                    " send --logger api --message bob-record --field user=bob --field region=eu"),
       absl::StrCat(Cli(), " --target ", (*server)->ingest_target(),
                    " send --logger api --message us-record --field user=ada --field region=us"),
       absl::StrCat(Cli(), " --target ", (*server)->ingest_target(),
                    " send --logger api --message ada-record --field user=ada --field region=eu")});

  absl::StatusOr<int> exit_code = (*tap)->WaitForExit(kAwaitTimeout);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << ReadFile((*server)->path("tap.err"));
  const std::vector<std::string> lines = ReadLines((*server)->path("tap.out"));
  ASSERT_EQ(lines.size(), 1u) << ReadFile((*server)->path("tap.out"));
  // The text format: time, level, logger, message, fields.
  EXPECT_TRUE(absl::StrContains(lines[0], " INFO api: ada-record user=ada region=eu")) << lines[0];

  absl::StatusOr<CommandResult> refused = RunShell(
      absl::StrCat(Cli(), " --admin ", (*server)->admin_target(), " tap --field 'user=/(/'"));
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->exit_code, cli::kExitRefused);
  EXPECT_TRUE(absl::StrContains(refused->stderr_text, "INVALID_ARGUMENT")) << refused->stderr_text;
  EXPECT_TRUE(absl::StrContains(refused->stderr_text, "match.user")) << refused->stderr_text;
}

// A raw Tap call that starts and never reads, its client announcing a small HTTP/2 window: the
// server's writes to it stall at once and its buffer fills.
TEST(TapTest, ATapThatNeverReadsLosesRecordsAndIngestLosesNone) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(R"(
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: text }
)");
  ASSERT_TRUE(server.ok()) << server.status();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  auto stub = v1::AdminService::NewStub(grpc::CreateCustomChannel(
      (*server)->admin_target(), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::LogRecord>> never_read = stub->Tap(&context, {});
  ASSERT_TRUE((*server)->AwaitMetric("sluice_taps_open", 1));

  absl::StatusOr<CommandResult> load =
      RunShell(absl::StrCat(Cli(), " --target ", (*server)->ingest_target(), " bench --records ",
                            kRecords, " --streams 2"),
               absl::Minutes(5));
  ASSERT_TRUE(load.ok()) << load.status();
  ASSERT_EQ(load->exit_code, 0) << load->stdout_text << load->stderr_text;

  // The books balance with nothing dropped, and the file has every record.
  ASSERT_TRUE(Await([&] {
    absl::StatusOr<v1::GetStatsResponse> stats = GetStats(**server);
    return stats.ok() && stats->counts().written() == kRecords;
  }));
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(**server);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->counts().received(), kRecords);
  EXPECT_EQ(stats->counts().dropped(), 0u);
  EXPECT_TRUE(Await([&] { return CountLines((*server)->path("records.log")) == kRecords; }))
      << CountLines((*server)->path("records.log"));

  absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const std::optional<double> lost = MetricValue(*metrics, "sluice_tap_records_lost_total");
  ASSERT_TRUE(lost.has_value());
  EXPECT_GT(*lost, 0);
  EXPECT_EQ(MetricValue(*metrics, "sluice_taps_open"), 1);

  // The stalled tap does not keep the server from stopping.
  ASSERT_TRUE((*server)->Terminate().ok());
  absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << (*server)->Stderr();
  context.TryCancel();
  (void)never_read->Finish();
}

TEST(TapTest, AnOpenTapEndsWithOkWhenTheServerStops) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kConfig);
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> tap = StartTap(**server, {}, "tap");
  ASSERT_TRUE(tap.ok()) << tap.status();
  ASSERT_TRUE((*server)->AwaitMetric("sluice_taps_open", 1));
  RunAll({Send(**server, "info", "api", "before-stop")});
  ASSERT_TRUE(Await(
      [&] { return absl::StrContains(ReadFile((*server)->path("tap.out")), "before-stop"); }));

  ASSERT_TRUE((*server)->Terminate().ok());
  absl::StatusOr<int> server_exit = (*server)->WaitForExit();
  ASSERT_TRUE(server_exit.ok()) << server_exit.status();
  EXPECT_EQ(*server_exit, 0);
  absl::StatusOr<int> tap_exit = (*tap)->WaitForExit(kAwaitTimeout);
  ASSERT_TRUE(tap_exit.ok()) << tap_exit.status();
  // Said only when the call ends with OK; a cut call would print its status instead.
  EXPECT_EQ(*tap_exit, 1);
  EXPECT_TRUE(absl::StrContains(ReadFile((*server)->path("tap.err")), "the server ended the tap"))
      << ReadFile((*server)->path("tap.err"));
}

TEST(TapTest, ATapNeedsAnAdminTokenAndAReadOnlyOneIsEnough) {
  TempDir secrets;
  {
    std::ofstream(secrets.file("admin.tokens")) << "admin-secret\n";
    std::ofstream(secrets.file("viewer.tokens")) << "viewer-secret\n";
    std::ofstream(secrets.file("wrong.token")) << "guess\n";
  }
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(
      absl::StrCat(kConfig, "admin: { token_file: \"", secrets.file("admin.tokens"),
                   "\", read_only_token_file: \"", secrets.file("viewer.tokens"), "\" }\n"));
  ASSERT_TRUE(server.ok()) << server.status();
  const auto tap_with = [&](const std::string& token_flag) {
    absl::StatusOr<CommandResult> result =
        RunShell(absl::StrCat(Cli(), " --admin ", (*server)->admin_target(), " ", token_flag,
                              " --timeout 5s tap --count 1"));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : CommandResult{};
  };
  const CommandResult missing = tap_with("");
  EXPECT_EQ(missing.exit_code, cli::kExitRefused) << missing.stderr_text;
  EXPECT_TRUE(absl::StrContains(missing.stderr_text, "UNAUTHENTICATED")) << missing.stderr_text;
  EXPECT_EQ(tap_with("--token-file " + ShellQuote(secrets.file("wrong.token"))).exit_code,
            cli::kExitRefused);

  absl::StatusOr<std::unique_ptr<ChildProcess>> tap =
      StartTap(**server, {"--token-file", secrets.file("viewer.tokens"), "--count", "1"}, "tap");
  ASSERT_TRUE(tap.ok()) << tap.status();
  ASSERT_TRUE((*server)->AwaitMetric("sluice_taps_open", 1))
      << ReadFile((*server)->path("tap.err"));
  RunAll({Send(**server, "info", "api", "seen-by-the-viewer")});
  absl::StatusOr<int> exit_code = (*tap)->WaitForExit(kAwaitTimeout);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << ReadFile((*server)->path("tap.err"));
  EXPECT_TRUE(absl::StrContains(ReadFile((*server)->path("tap.out")), "seen-by-the-viewer"));
}

}  // namespace
}  // namespace sluice::e2e
