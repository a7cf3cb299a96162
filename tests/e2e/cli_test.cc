// The `sluice` command as an operator meets it: help for every command, the exit codes
// that tell a usage error from an unreachable server, a refused call and an incomplete
// drain, `level` with sets of levels and `clear`, `health`, `bench --rpc otlp`, and the
// bash completion.
#include <sys/socket.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "client/cli/usage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

#define ASSERT_STARTED(server) ASSERT_TRUE((server).ok()) << (server).status()

constexpr char kFileConfig[] = R"(
scheduler: { workers: 2 }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json }
)";

CommandResult RunCli(const std::string& arguments) {
  absl::StatusOr<CommandResult> result =
      RunShell(absl::StrCat(ShellQuote(SluicedProcess::CliPath()), " ", arguments));
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : CommandResult{};
}

std::string Connected(const SluicedProcess& server) {
  return absl::StrCat("--target ", server.ingest_target(), " --admin ", server.admin_target(), " ");
}

TEST(CliTest, EveryCommandHasItsOwnHelp) {
  for (const cli::Command& command : cli::Commands()) {
    for (const std::string& form :
         {absl::StrCat(command.name, " --help"), absl::StrCat("help ", command.name),
          absl::StrCat("--timeout 1s ", command.name, " -h")}) {
      const CommandResult result = RunCli(form);
      EXPECT_EQ(result.exit_code, cli::kExitOk) << form << ": " << result.stderr_text;
      EXPECT_THAT(result.stdout_text,
                  HasSubstr(absl::StrCat("usage: sluice [flags] ", command.name)))
          << form;
      EXPECT_THAT(result.stdout_text, HasSubstr("Exit status:")) << form;
      // One command's help, not the whole list.
      EXPECT_THAT(result.stdout_text, Not(HasSubstr("Commands:"))) << form;
      for (const std::string& flag : command.flags) {
        EXPECT_THAT(result.stdout_text, HasSubstr(absl::StrCat("--", flag, " "))) << form;
      }
    }
  }
  const CommandResult all = RunCli("--help");
  EXPECT_EQ(all.exit_code, cli::kExitOk);
  for (const cli::Command& command : cli::Commands()) {
    EXPECT_THAT(all.stdout_text, HasSubstr(absl::StrCat("\n  ", command.name)));
  }
}

TEST(CliTest, UsageErrorsExitWith2) {
  for (const std::string& arguments :
       {std::string(""), std::string("frobnicate"), std::string("level"),
        std::string("level set checkout"), std::string("level set checkout loud"),
        std::string("level clear"), std::string("stats extra"), std::string("completion zsh"),
        std::string("drain --field a=b")}) {
    const CommandResult result = RunCli(arguments);
    EXPECT_EQ(result.exit_code, cli::kExitUsage) << arguments << ": " << result.stderr_text;
    EXPECT_THAT(result.stderr_text, HasSubstr("sluice: ")) << arguments;
  }
}

TEST(CliTest, AnUnreachableServerExitsWith3) {
  // A port that was free a moment ago, with nobody listening on it.
  absl::StatusOr<int> port = ReserveLoopbackPort(SOCK_STREAM);
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string nowhere = absl::StrCat("127.0.0.1:", *port);
  for (const std::string& command : {std::string("stats"), std::string("level get"),
                                     std::string("drain"), std::string("health")}) {
    const CommandResult result =
        RunCli(absl::StrCat("--timeout 2s --admin ", nowhere, " --target ", nowhere, " ", command));
    EXPECT_EQ(result.exit_code, cli::kExitConnection) << command << ": " << result.stderr_text;
  }
  const CommandResult sent =
      RunCli(absl::StrCat("--timeout 5s --target ", nowhere, " send --message lost"));
  EXPECT_EQ(sent.exit_code, cli::kExitConnection) << sent.stderr_text;
  EXPECT_THAT(sent.stderr_text, HasSubstr("cannot reach"));
}

TEST(CliTest, ACallTheServerRefusesExitsWith4) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  const CommandResult result = RunCli(Connected(**server) + "level set \"bad prefix\" debug");
  EXPECT_EQ(result.exit_code, cli::kExitRefused) << result.stderr_text;
  EXPECT_THAT(result.stderr_text, HasSubstr("SetLevel: INVALID_ARGUMENT: "));
  const CommandResult missing = RunCli(Connected(**server) + "level clear nothing.here");
  EXPECT_EQ(missing.exit_code, cli::kExitRefused) << missing.stderr_text;
  EXPECT_THAT(missing.stderr_text, HasSubstr("NOT_FOUND"));
}

TEST(CliTest, ADrainThatMissesItsDeadlineExitsWith5) {
  // The forward output's next tier is a port nobody listens on: the record it holds can
  // never be flushed, so the drain runs out of time.
  absl::StatusOr<int> port = ReserveLoopbackPort(SOCK_STREAM);
  ASSERT_TRUE(port.ok()) << port.status();
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(absl::StrCat(
      "ingest: { ack_on: accepted }\noutputs:\n  - { type: forward, name: next, target: "
      "\"127.0.0.1:",
      *port, "\", retry: { initial_backoff: 50ms, max_backoff: 200ms } }\n"));
  ASSERT_STARTED(server);
  const CommandResult sent = RunCli(Connected(**server) + "send --message held");
  ASSERT_EQ(sent.exit_code, cli::kExitOk) << sent.stderr_text;
  const CommandResult drained = RunCli(Connected(**server) + "--timeout 1s drain");
  EXPECT_EQ(drained.exit_code, cli::kExitDrainIncomplete) << drained.stderr_text;
  EXPECT_THAT(drained.stdout_text, HasSubstr("drain did not complete before the deadline"));
}

TEST(CliTest, LevelSetTakesASetOfLevelsAndClearRemovesTheRule) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(absl::StrCat(kFileConfig, "levels: { rules: { payments: warn } }\n"));
  ASSERT_STARTED(server);
  const std::string sluice = Connected(**server);

  CommandResult result = RunCli(sluice + "level set checkout error,debug --ttl 10m");
  ASSERT_EQ(result.exit_code, cli::kExitOk) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("checkout  DEBUG,ERROR  admin, set "));
  EXPECT_THAT(result.stdout_text, HasSubstr("(expires in 10m, at "));
  EXPECT_THAT(result.stdout_text, HasSubstr("payments  WARN  config, set "));
  EXPECT_THAT(result.stdout_text, HasSubstr("default  INFO  config, set "));

  for (const char* level : {"debug", "info", "error"}) {
    result = RunCli(
        absl::StrCat(sluice, "send --logger checkout.api --level ", level, " --message ", level));
    EXPECT_EQ(result.exit_code, cli::kExitOk) << result.stderr_text;
  }
  result = RunCli(sluice + "level clear checkout");
  ASSERT_EQ(result.exit_code, cli::kExitOk) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, Not(HasSubstr("checkout")));
  result = RunCli(sluice + "send --logger checkout.api --level info --message cleared");
  EXPECT_EQ(result.exit_code, cli::kExitOk) << result.stderr_text;

  result = RunCli(sluice + "shutdown");
  EXPECT_EQ(result.exit_code, cli::kExitOk) << result.stderr_text;
  ASSERT_TRUE((*server)->WaitForExit().ok());
  const std::string written = ReadFile((*server)->path("records.log"));
  EXPECT_THAT(written, HasSubstr("\"message\":\"debug\""));
  EXPECT_THAT(written, HasSubstr("\"message\":\"error\""));
  EXPECT_THAT(written, Not(HasSubstr("\"message\":\"info\"")));
  EXPECT_THAT(written, HasSubstr("\"message\":\"cleared\""));
}

TEST(CliTest, TheLevelTableRefusesRulesBeyondItsLimitsNamingThem) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(
      absl::StrCat(kFileConfig, "levels: { max_rules: 3, max_prefix_bytes: 16 }\n"));
  ASSERT_STARTED(server);
  const std::string sluice = Connected(**server);
  for (const char* prefix : {"a", "b", "c"}) {
    const CommandResult result = RunCli(absl::StrCat(sluice, "level set ", prefix, " debug"));
    ASSERT_EQ(result.exit_code, cli::kExitOk) << result.stderr_text;
  }
  CommandResult result = RunCli(sluice + "level set d debug");
  EXPECT_EQ(result.exit_code, cli::kExitRefused);
  EXPECT_THAT(result.stderr_text, HasSubstr("RESOURCE_EXHAUSTED"));
  EXPECT_THAT(result.stderr_text, HasSubstr("levels.max_rules (3)"));
  result = RunCli(sluice + "level set a." + std::string(16, 'x') + " debug");
  EXPECT_EQ(result.exit_code, cli::kExitRefused);
  EXPECT_THAT(result.stderr_text, HasSubstr("levels.max_prefix_bytes (16)"));

  const absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_FALSE(MetricValue(*metrics, "sluice_level_threshold{logger=\"d\"}").has_value());
  EXPECT_EQ(MetricValue(*metrics, "sluice_level_threshold{logger=\"c\"}"), 2);
}

TEST(CliTest, HealthListsEveryServiceAndFailsWhileDraining) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  const std::string sluice = Connected(**server);
  CommandResult result = RunCli(sluice + "health");
  EXPECT_EQ(result.exit_code, cli::kExitOk) << result.stderr_text;
  for (const char* service :
       {"sluice.v1.LogService", "opentelemetry.proto.collector.logs.v1.LogsService",
        "sluice.v1.AdminService", "sluice.output.file/main"}) {
    EXPECT_THAT(result.stdout_text, HasSubstr(service));
  }
  EXPECT_THAT(result.stdout_text, Not(HasSubstr("NOT_SERVING")));

  ASSERT_EQ(RunCli(sluice + "drain").exit_code, cli::kExitOk);
  result = RunCli(sluice + "health");
  EXPECT_EQ(result.exit_code, cli::kExitFailure) << result.stdout_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("sluice.v1.LogService"));
  EXPECT_THAT(result.stdout_text, HasSubstr("NOT_SERVING"));
}

// Every record `bench` counts as acked arrived at the server as an OTLP Export, none on
// the LogService, with the calls spread over the connections asked for.
TEST(CliTest, BenchOtlpExportsEveryRecordItCounts) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start("outputs:\n  - { type: \"null\", name: sink }\n");
  ASSERT_STARTED(server);
  const CommandResult result =
      RunCli(Connected(**server) +
             "bench --rpc otlp --records 5050 --batch 100 --streams 2 --in_flight 3 "
             "--connections 3");
  ASSERT_EQ(result.exit_code, cli::kExitOk) << result.stdout_text << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("\"rpc\":\"otlp\",\"streams\":2,\"connections\":3,"
                                            "\"in_flight\":3,\"batch\":100,\"records\":5050,"));
  EXPECT_TRUE((*server)->AwaitMetric("sluice_ingest_records_received_total{rpc=\"Export\"}", 5050));
  absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(MetricValue(*metrics, "sluice_ingest_records_received_total{rpc=\"PushBatches\"}"), 0);

  const CommandResult too_many = RunCli(Connected(**server) +
                                        "bench --rpc otlp --records 100 --streams 1 --in_flight 2 "
                                        "--connections 3");
  EXPECT_EQ(too_many.exit_code, cli::kExitFailure);
  EXPECT_THAT(too_many.stderr_text, HasSubstr("connections must be between 1 and"));
}

TEST(CliTest, TheBashCompletionCompletesCommandsActionsAndFlags) {
  const TempDir dir;
  const std::string script = dir.file("completion.sh");
  const CommandResult generated = RunCli("completion bash > " + ShellQuote(script));
  ASSERT_EQ(generated.exit_code, 0) << generated.stderr_text;
  const auto complete = [&](const std::string& words, int current) {
    absl::StatusOr<CommandResult> result = RunShell(
        absl::StrCat("bash -c 'source \"$0\"; COMP_WORDS=(", words, "); COMP_CWORD=", current,
                     "; _sluice; echo \"${COMPREPLY[*]}\"' ", ShellQuote(script)));
    EXPECT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result.ok() ? result->exit_code : -1, 0) << (result.ok() ? result->stderr_text : "");
    return result.ok() ? result->stdout_text : "";
  };
  EXPECT_EQ(complete("sluice le", 1), "level\n");
  EXPECT_EQ(complete("sluice --admin 127.0.0.1:1 s", 3), "send stats shutdown\n");
  EXPECT_EQ(complete("sluice level \"\"", 2), "get set clear --ttl --help\n");
  EXPECT_THAT(complete("sluice tap --fo", 2), HasSubstr("--format"));
  EXPECT_THAT(complete("sluice --tls", 1), HasSubstr("--tls-ca --tls-cert --tls-key"));
}

}  // namespace
}  // namespace sluice::e2e
