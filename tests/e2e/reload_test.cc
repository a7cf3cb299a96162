// End-to-end tests of a config reload on the real sluiced (AdminService.Reload, SIGHUP and
// `sluice reload`): a bad file is refused and the old config runs on; outputs changed and
// added under load lose nothing and the books balance; levels swap while SetLevel's rules
// stay; settings that take a restart are named; SIGHUP still follows logrotate.
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "client/cli/usage.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sluice/client.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "tests/e2e/admin_stats.h"
#include "tests/e2e/record_load.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

#define ASSERT_STARTED(server) ASSERT_TRUE((server).ok()) << (server).status()

constexpr char kOneFile[] = R"(
ingest: { ack_on: written }
scheduler: { workers: 2 }
outputs:
  - { type: file, name: a, path: "$DIR/a.log", format: json, flush_interval: 50ms }
)";

// Replaces the config file the server was started with.
void RewriteConfig(const SluicedProcess& server, const std::string& yaml) {
  std::ofstream config(server.path("sluiced.yaml"), std::ios::trunc);
  config << absl::StrReplaceAll(yaml, {{"$DIR", server.dir()}});
  ASSERT_TRUE(config.good());
}

struct Reloaded {
  grpc::Status status;
  v1::ReloadResponse response;
};

Reloaded Reload(const SluicedProcess& server) {
  auto stub = v1::AdminService::NewStub(
      grpc::CreateChannel(server.admin_target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kAwaitTimeout));
  Reloaded reloaded;
  reloaded.status = stub->Reload(&context, {}, &reloaded.response);
  return reloaded;
}

std::vector<std::string> Applied(const Reloaded& reloaded) {
  return {reloaded.response.applied().begin(), reloaded.response.applied().end()};
}

std::vector<std::string> NotApplied(const Reloaded& reloaded) {
  return {reloaded.response.not_applied().begin(), reloaded.response.not_applied().end()};
}

bool Has(const std::vector<std::string>& messages, const std::string& message) {
  return std::find(messages.begin(), messages.end(), message) != messages.end();
}

ClientOptions Options(const std::string& target) {
  ClientOptions options;
  options.target = target;
  return options;
}

// Logs `message` (logger `logger`, at `level`) and waits for its ack.
void LogAndFlush(const SluicedProcess& server, const std::string& message,
                 v1::Level level = v1::LEVEL_INFO, const std::string& logger = "app") {
  Client client(Options(server.ingest_target()));
  client.Log(level, logger, message, {});
  const absl::Status flushed = client.Flush(absl::Now() + kAwaitTimeout);
  ASSERT_TRUE(flushed.ok()) << flushed;
}

double MetricOr(const SluicedProcess& server, const std::string& sample, double fallback) {
  absl::StatusOr<std::string> metrics = server.ScrapeMetrics();
  if (!metrics.ok()) return fallback;
  return MetricValue(*metrics, sample).value_or(fallback);
}

void TerminateCleanly(SluicedProcess& server) {
  ASSERT_TRUE(server.Terminate().ok());
  const absl::StatusOr<int> exit_code = server.WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server.Stderr();
}

TEST(ReloadTest, ABadFileIsRefusedWithItsErrorAndTheOldConfigRunsOn) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kOneFile);
  ASSERT_STARTED(server);
  SluicedProcess& sluiced = **server;
  const std::filesystem::path unwritable = sluiced.path("not-a-directory");
  std::ofstream(unwritable.string()) << "a file, so nothing can be created under it\n";
  const std::vector<std::pair<std::string, std::string>> bad_files = {
      {"outputs: [ { type: file, name: a, path: \"$DIR/a.log\"", "sluiced.yaml"},
      {"ingest: { no_such_key: 1 }\n", "no_such_key"},
      {absl::StrCat("outputs:\n  - { type: file, name: a, path: \"$DIR/a.log\", format: json }\n"
                    "  - { type: file, name: b, path: \"",
                    unwritable.string(), "/b.log\" }\n"),
       "file/b"},
  };
  int refused = 0;
  for (const auto& [yaml, error] : bad_files) {
    SCOPED_TRACE(yaml);
    RewriteConfig(sluiced, yaml);
    const Reloaded reloaded = Reload(sluiced);
    EXPECT_EQ(reloaded.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(reloaded.status.error_message(), HasSubstr(error));
    ++refused;
    EXPECT_TRUE(sluiced.AwaitMetric("sluice_config_reloads_total{result=\"failed\"}", refused));
    // The old output still takes records.
    const std::string message = absl::StrCat("after-refusal-", refused);
    LogAndFlush(sluiced, message);
    EXPECT_TRUE(Await([&] { return Has(JsonMessages(sluiced.path("a.log")), message); }));
  }
  EXPECT_FALSE(std::filesystem::exists(sluiced.path("b.log")));
  // SIGHUP with a bad file logs the error and changes nothing either.
  ASSERT_TRUE(sluiced.Signal(SIGHUP).ok());
  EXPECT_TRUE(sluiced.AwaitMetric("sluice_config_reloads_total{result=\"failed\"}", refused + 1));
  EXPECT_TRUE(Await([&] { return sluiced.Stderr().find("reload refused") != std::string::npos; }));
  LogAndFlush(sluiced, "after-sighup");
  EXPECT_TRUE(Await([&] { return Has(JsonMessages(sluiced.path("a.log")), "after-sighup"); }));
  EXPECT_EQ(MetricOr(sluiced, "sluice_config_reloads_total{result=\"ok\"}", -1), 0);
  TerminateCleanly(sluiced);
}

TEST(ReloadTest, OutputsChangedAndAddedUnderLoadLoseNothingAndTheBooksBalance) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kOneFile);
  ASSERT_STARTED(server);
  SluicedProcess& sluiced = **server;
  RecordLoad load(sluiced.ingest_target());
  ASSERT_TRUE(Await([&] { return load.acked() >= 3000; })) << "the load is not getting acks";

  // file/a changes its path; file/b is new.
  RewriteConfig(sluiced, R"(
ingest: { ack_on: written }
scheduler: { workers: 2 }
outputs:
  - { type: file, name: a, path: "$DIR/a2.log", format: json, flush_interval: 50ms }
  - { type: file, name: b, path: "$DIR/b.log", format: json, flush_interval: 50ms }
)");
  const double before = MetricOr(sluiced, "sluice_config_last_reload_success_timestamp_seconds", 0);
  const Reloaded reloaded = Reload(sluiced);
  ASSERT_TRUE(reloaded.status.ok()) << reloaded.status.error_message();
  EXPECT_THAT(Applied(reloaded), Contains("outputs: changed file/a"));
  EXPECT_THAT(Applied(reloaded), Contains("outputs: added file/b"));
  EXPECT_TRUE(NotApplied(reloaded).empty());
  const uint64_t acked_at_reload = load.acked();
  ASSERT_TRUE(Await([&] { return load.acked() >= acked_at_reload + 3000; }));
  const absl::Status flushed = load.StopAndFlush();
  ASSERT_TRUE(flushed.ok()) << flushed;

  // The books balance once everything acked is written.
  v1::Counts counts;
  ASSERT_TRUE(Await([&] {
    absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sluiced);
    if (!stats.ok()) return false;
    counts = stats->counts();
    return counts.in_flight() == 0 && counts.received() == load.logged();
  })) << counts.DebugString();
  EXPECT_EQ(counts.written(), load.logged());
  EXPECT_EQ(counts.dropped(), 0u);
  EXPECT_EQ(counts.received(), counts.filtered() + counts.rejected() + counts.dropped() +
                                   counts.dropped_by_hook() + counts.unrouted() + counts.written() +
                                   counts.in_flight());
  EXPECT_EQ(MetricOr(sluiced, "sluice_config_reloads_total{result=\"ok\"}", -1), 1);
  EXPECT_GE(MetricOr(sluiced, "sluice_config_last_reload_success_timestamp_seconds", 0), before);
  EXPECT_TRUE(sluiced.AwaitMetric("sluice_output_buffer_records{output=\"file/b\"}", 0));
  TerminateCleanly(sluiced);

  // Every acked record is in a.log or a2.log, once; b.log has exactly what a2.log has.
  const std::vector<std::string> old_a = JsonMessages(sluiced.path("a.log"));
  const std::vector<std::string> new_a = JsonMessages(sluiced.path("a2.log"));
  const std::vector<std::string> b = JsonMessages(sluiced.path("b.log"));
  absl::flat_hash_set<std::string> seen;
  for (const std::vector<std::string>* file : {&old_a, &new_a}) {
    for (const std::string& message : *file) {
      EXPECT_TRUE(seen.insert(message).second) << "written twice: " << message;
    }
  }
  size_t missing = 0;
  for (size_t i = 0; i < load.logged(); ++i) {
    if (!seen.contains(absl::StrCat("load-", i))) ++missing;
  }
  EXPECT_EQ(missing, 0u) << "of " << load.logged() << " acknowledged records";
  EXPECT_GE(old_a.size(), 3000u);
  EXPECT_GE(b.size(), 3000u);
  EXPECT_EQ(absl::flat_hash_set<std::string>(b.begin(), b.end()),
            absl::flat_hash_set<std::string>(new_a.begin(), new_a.end()));
  EXPECT_TRUE(Has(b, absl::StrCat("load-", load.logged() - 1)));
}

TEST(ReloadTest, LevelsFromTheFileSwapAndASetLevelRuleSurvives) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(R"(
ingest: { ack_on: written }
levels: { default: info, rules: { noisy: error } }
outputs:
  - { type: file, name: a, path: "$DIR/a.log", format: json, flush_interval: 50ms }
)");
  ASSERT_STARTED(server);
  SluicedProcess& sluiced = **server;
  auto stub = v1::AdminService::NewStub(
      grpc::CreateChannel(sluiced.admin_target(), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext context;
    v1::SetLevelRequest request;
    request.set_logger_prefix("checkout");
    request.set_level(v1::LEVEL_DEBUG);
    v1::SetLevelResponse response;
    ASSERT_TRUE(stub->SetLevel(&context, request, &response).ok());
  }
  LogAndFlush(sluiced, "noisy-warn-before", v1::LEVEL_WARN, "noisy");

  RewriteConfig(sluiced, R"(
ingest: { ack_on: written }
levels: { default: warn, rules: { noisy: debug } }
outputs:
  - { type: file, name: a, path: "$DIR/a.log", format: json, flush_interval: 50ms }
)");
  const Reloaded reloaded = Reload(sluiced);
  ASSERT_TRUE(reloaded.status.ok()) << reloaded.status.error_message();
  EXPECT_THAT(Applied(reloaded), ::testing::ElementsAre("levels"));

  grpc::ClientContext context;
  v1::GetLevelsResponse levels;
  ASSERT_TRUE(stub->GetLevels(&context, {}, &levels).ok());
  EXPECT_EQ(levels.default_level(), v1::LEVEL_WARN);
  std::vector<std::pair<std::string, int>> rules;
  for (const v1::LevelRule& rule : levels.rules()) {
    rules.emplace_back(rule.logger_prefix(), rule.level());
  }
  EXPECT_THAT(rules,
              ::testing::ElementsAre(std::pair<std::string, int>("checkout", v1::LEVEL_DEBUG),
                                     std::pair<std::string, int>("noisy", v1::LEVEL_DEBUG)));
  LogAndFlush(sluiced, "noisy-debug-after", v1::LEVEL_DEBUG, "noisy");
  LogAndFlush(sluiced, "checkout-debug-after", v1::LEVEL_DEBUG, "checkout");
  LogAndFlush(sluiced, "other-info-after", v1::LEVEL_INFO, "other");
  LogAndFlush(sluiced, "marker", v1::LEVEL_ERROR, "other");
  ASSERT_TRUE(Await([&] { return Has(JsonMessages(sluiced.path("a.log")), "marker"); }));
  const std::vector<std::string> messages = JsonMessages(sluiced.path("a.log"));
  EXPECT_FALSE(Has(messages, "noisy-warn-before"));  // below the file's old "noisy: error"
  EXPECT_TRUE(Has(messages, "noisy-debug-after"));
  EXPECT_TRUE(Has(messages, "checkout-debug-after"));
  EXPECT_FALSE(Has(messages, "other-info-after"));  // below the new default, warn
  TerminateCleanly(sluiced);
}

TEST(ReloadTest, SettingsThatTakeARestartAreNamedAndKeepTheirRunningValues) {
  // The listen address comes from the file here (an empty flag leaves the file's).
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(
      "ingest: { listen: \"127.0.0.1:0\", ack_on: written }\n"
      "scheduler: { workers: 2 }\n"
      "outputs:\n"
      "  - { type: file, name: a, path: \"$DIR/a.log\", format: json, flush_interval: 50ms }\n",
      {"--ingest_listen="});
  ASSERT_STARTED(server);
  SluicedProcess& sluiced = **server;
  absl::StatusOr<int> other_port = ReserveLoopbackPort(SOCK_STREAM);
  ASSERT_TRUE(other_port.ok()) << other_port.status();
  RewriteConfig(sluiced,
                absl::StrCat("ingest: { listen: \"127.0.0.1:", *other_port,
                             "\", ack_on: written }\n"
                             "scheduler: { workers: 3 }\n"
                             "levels: { default: debug }\n"
                             "outputs:\n"
                             "  - { type: file, name: a, path: \"$DIR/a.log\", format: json, "
                             "flush_interval: 50ms }\n"));
  const Reloaded reloaded = Reload(sluiced);
  ASSERT_TRUE(reloaded.status.ok()) << reloaded.status.error_message();
  EXPECT_THAT(Applied(reloaded), ::testing::ElementsAre("levels"));
  EXPECT_THAT(NotApplied(reloaded),
              ::testing::UnorderedElementsAre("ingest.listen", "scheduler.workers"));
  // Still on the old port, with the old workers.
  LogAndFlush(sluiced, "still-here");
  EXPECT_TRUE(Await([&] { return Has(JsonMessages(sluiced.path("a.log")), "still-here"); }));
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sluiced);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->workers_size(), 2);
  TerminateCleanly(sluiced);
}

TEST(ReloadTest, SighupReloadsAndReopensAFileRenamedByLogrotate) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kOneFile);
  ASSERT_STARTED(server);
  SluicedProcess& sluiced = **server;
  LogAndFlush(sluiced, "before-rotation");
  ASSERT_TRUE(Await([&] { return Has(JsonMessages(sluiced.path("a.log")), "before-rotation"); }));
  std::filesystem::rename(sluiced.path("a.log"), sluiced.path("a.log.1"));
  // The same file plus an output: the reload adds it and reopens the one that stays.
  RewriteConfig(sluiced, std::string(kOneFile) +
                             "  - { type: file, name: b, path: \"$DIR/b.log\", format: json, "
                             "flush_interval: 50ms }\n");
  ASSERT_TRUE(sluiced.Signal(SIGHUP).ok());
  ASSERT_TRUE(sluiced.AwaitMetric("sluice_config_reloads_total{result=\"ok\"}", 1))
      << sluiced.Stderr();
  EXPECT_THAT(sluiced.Stderr(), HasSubstr("outputs: added file/b"));
  LogAndFlush(sluiced, "after-rotation");
  EXPECT_TRUE(Await([&] { return Has(JsonMessages(sluiced.path("a.log")), "after-rotation"); }));
  EXPECT_TRUE(Await([&] { return Has(JsonMessages(sluiced.path("b.log")), "after-rotation"); }));
  TerminateCleanly(sluiced);
  EXPECT_TRUE(Has(JsonMessages(sluiced.path("a.log.1")), "before-rotation"));
  EXPECT_FALSE(Has(JsonMessages(sluiced.path("a.log.1")), "after-rotation"));
}

TEST(ReloadTest, TheCliPrintsWhatWasAppliedAndFailsWithTheServersErrorOnARefusal) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kOneFile);
  ASSERT_STARTED(server);
  SluicedProcess& sluiced = **server;
  const std::string command = absl::StrCat(ShellQuote(SluicedProcess::CliPath()), " --admin ",
                                           sluiced.admin_target(), " reload");
  RewriteConfig(sluiced, std::string(kOneFile) + "levels: { default: warn }\n");
  absl::StatusOr<CommandResult> ok = RunShell(command);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->exit_code, 0) << ok->stderr_text;
  EXPECT_THAT(ok->stdout_text, HasSubstr("applied: levels"));

  RewriteConfig(sluiced, "scheduler: { workers: 0 }\n");
  absl::StatusOr<CommandResult> refused = RunShell(command);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->exit_code, cli::kExitRefused);
  EXPECT_THAT(refused->stderr_text, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(refused->stderr_text, HasSubstr("scheduler.workers"));
  TerminateCleanly(sluiced);
}

}  // namespace
}  // namespace sluice::e2e
