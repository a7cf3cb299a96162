// A real Prometheus (Debian's /usr/bin/prometheus) scraping a real sluiced: what the server
// counts arrives in Prometheus' database and can be queried, and the shipped alert rules
// (deploy/prometheus/alerts.yml) load and evaluate without errors against live series.
//
// Prometheus runs with its own config and data directory in a temporary directory and
// listens on a loopback port picked at run time; the test starts and stops it itself.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

constexpr char kPrometheusPath[] = "/usr/bin/prometheus";
constexpr char kAlertRules[] = SLUICE_SOURCE_DIR "/deploy/prometheus/alerts.yml";

constexpr char kSluicedConfig[] = R"(
scheduler: { workers: 2 }
outputs:
  - { type: "null", name: sink }
)";

// Scrapes and rule evaluations every second, so the test waits seconds, not minutes.
constexpr char kPrometheusConfig[] = R"(
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - "$RULES"
scrape_configs:
  - job_name: sluice
    static_configs:
      - targets: ["127.0.0.1:$METRICS_PORT"]
)";

struct Prometheus {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
};

// Starts Prometheus on a fresh loopback port with `config_path`, keeping its database and
// output in `dir`, and waits until it reports ready.
absl::StatusOr<Prometheus> StartPrometheus(const TempDir& dir, const std::string& config_path) {
  constexpr int kAttempts = 3;
  std::string failures;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    absl::StatusOr<int> port = ReserveLoopbackPort(SOCK_STREAM);
    if (!port.ok()) return port.status();
    const std::string stderr_path = dir.file(absl::StrCat("prometheus-", attempt, ".err"));
    absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Spawn(
        {kPrometheusPath, absl::StrCat("--config.file=", config_path),
         absl::StrCat("--storage.tsdb.path=", dir.file(absl::StrCat("data-", attempt))),
         absl::StrCat("--web.listen-address=127.0.0.1:", *port)},
        dir.file(absl::StrCat("prometheus-", attempt, ".out")), stderr_path);
    if (!process.ok()) return process.status();
    ChildProcess& child = **process;
    // Ready means the database is open and the config, rule files included, loaded.
    const bool ready = Await([&] {
      child.WaitForExit(absl::ZeroDuration()).status().IgnoreError();
      return !child.running() || HttpGet(*port, "/-/ready").ok();
    });
    if (ready && child.running()) return Prometheus{std::move(*process), *port};
    absl::StrAppend(&failures, "\nattempt ", attempt, " on port ", *port, ":\n",
                    ReadFile(stderr_path));
  }
  return absl::UnavailableError(absl::StrCat("Prometheus did not become ready", failures));
}

// The scalar result of an instant query, or nullopt while Prometheus has no such sample.
std::optional<double> QueryScalar(int port, absl::string_view promql) {
  const std::string query = absl::StrReplaceAll(
      promql,
      {{"%", "%25"}, {" ", "%20"}, {"\"", "%22"}, {"{", "%7B"}, {"}", "%7D"}, {"=", "%3D"}});
  absl::StatusOr<std::string> body = HttpGet(port, absl::StrCat("/api/v1/query?query=", query));
  if (!body.ok()) return std::nullopt;
  rapidjson::Document document;
  document.Parse(body->data(), body->size());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("data") ||
      !document["data"].IsObject() || !document["data"].HasMember("result")) {
    return std::nullopt;
  }
  const rapidjson::Value& result = document["data"]["result"];
  if (!result.IsArray() || result.Size() != 1 || !result[0].IsObject() ||
      !result[0].HasMember("value")) {
    return std::nullopt;
  }
  // An instant vector sample is [<unix time>, "<value>"].
  const rapidjson::Value& value = result[0]["value"];
  double number = 0;
  if (!value.IsArray() || value.Size() != 2 || !value[1].IsString() ||
      !absl::SimpleAtod(value[1].GetString(), &number)) {
    return std::nullopt;
  }
  return number;
}

TEST(PrometheusTest, PrometheusScrapesTheIngestCounterAndEvaluatesTheShippedAlertRules) {
  ASSERT_EQ(::access(kPrometheusPath, X_OK), 0)
      << kPrometheusPath << " is missing: install the Debian package `prometheus` "
      << "(deploy/debian-test-packages.txt)";
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kSluicedConfig);
  ASSERT_TRUE(server.ok()) << server.status();

  TempDir prometheus_dir;
  const std::string config_path = prometheus_dir.file("prometheus.yml");
  const std::string config = absl::StrReplaceAll(
      kPrometheusConfig,
      {{"$RULES", kAlertRules}, {"$METRICS_PORT", absl::StrCat((*server)->metrics_port())}});
  std::ofstream(config_path) << config;
  absl::StatusOr<Prometheus> prometheus = StartPrometheus(prometheus_dir, config_path);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();

  constexpr int kRecords = 1000;
  absl::StatusOr<CommandResult> sent =
      RunShell(absl::StrCat("seq 1 ", kRecords, " | ", ShellQuote(SluicedProcess::CliPath()),
                            " --target ", (*server)->ingest_target(), " send --logger demo"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->exit_code, 0) << sent->stderr_text;

  std::optional<double> received;
  EXPECT_TRUE(Await([&] {
    received = QueryScalar(prometheus->port, "sum(sluice_ingest_records_received_total)");
    return received == kRecords;
  })) << "Prometheus last answered "
      << (received.has_value() ? absl::StrCat(*received) : "no sample");
  EXPECT_EQ(QueryScalar(prometheus->port, R"(up{job="sluice"})"), 1);

  // Every rule has been evaluated (its health is no longer "unknown") and none failed.
  std::string rules;
  EXPECT_TRUE(Await([&] {
    absl::StatusOr<std::string> body = HttpGet(prometheus->port, "/api/v1/rules");
    if (!body.ok()) return false;
    rules = *body;
    return absl::StrContains(rules, R"("name":"SluiceDown")") &&
           !absl::StrContains(rules, R"("health":"unknown")");
  })) << rules;
  EXPECT_FALSE(absl::StrContains(rules, R"("health":"err")")) << rules;

  ASSERT_TRUE(prometheus->process->Signal(SIGTERM).ok());
  const absl::StatusOr<int> prometheus_exit = prometheus->process->WaitForExit(kAwaitTimeout);
  EXPECT_TRUE(prometheus_exit.ok()) << prometheus_exit.status();
  ASSERT_TRUE((*server)->Terminate().ok());
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

}  // namespace
}  // namespace sluice::e2e
