// TLS, mTLS and bearer tokens on a real sluiced (docs/SECURITY.md): the certificates are
// made by tests/e2e/make_test_certs.sh at test time, and the clients are the `sluice`
// command, sluice::Client, gRPC stubs and Python's grpcio (tests/e2e/tls_client.py); the
// Node client's TLS test is in node/node_client_test.mjs.
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/usage.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "sluice/client.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kMakeCerts[] = SLUICE_SOURCE_DIR "/tests/e2e/make_test_certs.sh";
constexpr char kPythonClient[] = SLUICE_SOURCE_DIR "/tests/e2e/tls_client.py";
constexpr char kProtos[] = SLUICE_SOURCE_DIR "/protos";

// Replaces `path` with `text` the way an operator or a Secret volume does: a new file
// renamed over the old one.
void ReplaceFile(const std::string& path, const std::string& text) {
  const std::string fresh = path + ".new";
  std::FILE* file = std::fopen(fresh.c_str(), "wb");
  ASSERT_NE(file, nullptr) << fresh;
  ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), file), text.size());
  ASSERT_EQ(std::fclose(file), 0);
  ASSERT_EQ(std::rename(fresh.c_str(), path.c_str()), 0) << path;
}

// The certificates of make_test_certs.sh and the token files of a test, in a temporary
// directory; `Config()` replaces every `$CERTS` of a config with it.
class Secrets {
 public:
  Secrets() {
    absl::StatusOr<CommandResult> made =
        RunShell(absl::StrCat("/bin/sh ", ShellQuote(kMakeCerts), " ", ShellQuote(dir_.path())));
    EXPECT_TRUE(made.ok() && made->exit_code == 0)
        << (made.ok() ? made->stderr_text : made.status().ToString());
  }
  std::string file(absl::string_view name) const { return dir_.file(name); }
  std::string Config(absl::string_view yaml) const {
    return absl::StrReplaceAll(yaml, {{"$CERTS", dir_.path()}});
  }

 private:
  TempDir dir_;
};

// `sluice` with `args`, run by the shell with `env` (`NAME=value ...`) before it.
CommandResult Sluice(const std::string& args, const std::string& env = "") {
  absl::StatusOr<CommandResult> result = RunShell(absl::StrCat(
      env, env.empty() ? "" : " ", ShellQuote(SluicedProcess::CliPath()), " --timeout 10s ", args));
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : CommandResult{};
}

CommandResult Python(const std::string& args) {
  absl::StatusOr<CommandResult> result =
      RunShell(absl::StrCat("/usr/bin/python3 ", ShellQuote(kPythonClient), " --protos ",
                            ShellQuote(kProtos), " ", args));
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : CommandResult{};
}

std::string Describe(const CommandResult& result) {
  return absl::StrCat("exit ", result.exit_code, "; stdout: ", result.stdout_text,
                      "; stderr: ", result.stderr_text);
}

ClientTlsOptions TlsOptions(const Secrets& secrets, absl::string_view ca,
                            absl::string_view cert = "", absl::string_view key = "") {
  ClientTlsOptions tls;
  const absl::Status loaded =
      LoadClientTlsFiles(secrets.file(ca), cert.empty() ? "" : secrets.file(cert),
                         key.empty() ? "" : secrets.file(key), tls);
  EXPECT_TRUE(loaded.ok()) << loaded;
  return tls;
}

// The auth failures counted so far for `port` and `reason`; 0 before the first.
double AuthFailures(const SluicedProcess& server, absl::string_view port,
                    absl::string_view reason) {
  absl::StatusOr<std::string> exposition = server.ScrapeMetrics();
  EXPECT_TRUE(exposition.ok()) << exposition.status();
  if (!exposition.ok()) return -1;
  return MetricValue(*exposition, absl::StrCat("sluice_auth_failures_total{port=\"", port,
                                               "\",reason=\"", reason, "\"}"))
      .value_or(0);
}

void StopCleanly(SluicedProcess& server) {
  ASSERT_TRUE(server.Terminate().ok());
  const absl::StatusOr<int> exit_code = server.WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server.Stderr();
}

constexpr char kTlsConfig[] = R"(
ingest:
  tls: { cert_file: "$CERTS/server.pem", key_file: "$CERTS/server.key" }
admin:
  tls: { cert_file: "$CERTS/server.pem", key_file: "$CERTS/server.key" }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
)";

TEST(SecurityTest, ATlsPortRefusesPlaintextAndAWrongCaAndServesClientsTrustingItsCa) {
  Secrets secrets;
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(secrets.Config(kTlsConfig));
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string target = absl::StrCat("--target ", (*server)->ingest_target());
  const std::string admin = absl::StrCat("--admin ", (*server)->admin_target());
  const std::string ca = absl::StrCat("--tls-ca ", ShellQuote(secrets.file("ca.pem")));
  const std::string other_ca = absl::StrCat("--tls-ca ", ShellQuote(secrets.file("other-ca.pem")));

  EXPECT_EQ(Sluice(absl::StrCat(target, " send --message plaintext")).exit_code,
            cli::kExitConnection);
  EXPECT_EQ(Sluice(absl::StrCat(admin, " stats")).exit_code, cli::kExitConnection);
  EXPECT_EQ(Sluice(absl::StrCat(target, " ", other_ca, " send --message wrong-ca")).exit_code,
            cli::kExitConnection);
  EXPECT_EQ(Sluice(absl::StrCat(admin, " ", other_ca, " stats")).exit_code, cli::kExitConnection);
  EXPECT_EQ(Python(absl::StrCat("--target ", (*server)->ingest_target(), " --ca ",
                                ShellQuote(secrets.file("other-ca.pem"))))
                .exit_code,
            1);

  const CommandResult sent = Sluice(absl::StrCat(target, " ", ca, " send --message cli"));
  EXPECT_EQ(sent.exit_code, 0) << Describe(sent);
  const CommandResult stats = Sluice(absl::StrCat(admin, " ", ca, " stats"));
  EXPECT_EQ(stats.exit_code, 0) << Describe(stats);
  // By name instead of address: the certificate lists localhost too.
  const CommandResult named =
      Sluice(absl::StrCat(admin, " ", ca, " --tls-server-name localhost stats"));
  EXPECT_EQ(named.exit_code, 0) << Describe(named);
  const CommandResult python = Python(absl::StrCat("--target ", (*server)->ingest_target(),
                                                   " --ca ", ShellQuote(secrets.file("ca.pem"))));
  EXPECT_EQ(python.exit_code, 0) << Describe(python);
  {
    ClientOptions options;
    options.target = (*server)->ingest_target();
    options.tls = TlsOptions(secrets, "ca.pem");
    Client client(options);
    client.Log(v1::LEVEL_INFO, "cpp", "client");
    const absl::Status flushed = client.Flush(absl::Now() + kAwaitTimeout);
    EXPECT_TRUE(flushed.ok()) << flushed;
  }
  StopCleanly(**server);
  EXPECT_EQ(CountLines((*server)->path("records.log")), 3u);
}

constexpr char kMutualTlsConfig[] = R"(
ingest:
  tls: { cert_file: "$CERTS/server.pem", key_file: "$CERTS/server.key",
         client_ca_file: "$CERTS/ca.pem" }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
)";

TEST(SecurityTest, MutualTlsRefusesClientsWithoutACertificateOfItsClientCa) {
  Secrets secrets;
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(secrets.Config(kMutualTlsConfig));
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string send = absl::StrCat("--target ", (*server)->ingest_target(), " --tls-ca ",
                                        ShellQuote(secrets.file("ca.pem")));
  const auto with_cert = [&](absl::string_view name) {
    return absl::StrCat(" --tls-cert ", ShellQuote(secrets.file(absl::StrCat(name, ".pem"))),
                        " --tls-key ", ShellQuote(secrets.file(absl::StrCat(name, ".key"))));
  };
  EXPECT_EQ(Sluice(absl::StrCat(send, " send --message no-cert")).exit_code, cli::kExitConnection);
  EXPECT_EQ(
      Sluice(absl::StrCat(send, with_cert("other-client"), " send --message other")).exit_code,
      cli::kExitConnection);
  const std::string python = absl::StrCat("--target ", (*server)->ingest_target(), " --ca ",
                                          ShellQuote(secrets.file("ca.pem")));
  EXPECT_EQ(Python(python).exit_code, 1);
  {
    ClientOptions options;
    options.target = (*server)->ingest_target();
    options.tls = TlsOptions(secrets, "ca.pem");
    Client client(options);
    client.Log(v1::LEVEL_INFO, "cpp", "no certificate");
    EXPECT_FALSE(client.Flush(absl::Now() + absl::Seconds(2)).ok());
    EXPECT_EQ(client.stats().acked_records, 0u);
  }

  const CommandResult sent = Sluice(absl::StrCat(send, with_cert("client"), " send --message cli"));
  EXPECT_EQ(sent.exit_code, 0) << Describe(sent);
  const CommandResult from_python =
      Python(absl::StrCat(python, " --cert ", ShellQuote(secrets.file("client.pem")), " --key ",
                          ShellQuote(secrets.file("client.key"))));
  EXPECT_EQ(from_python.exit_code, 0) << Describe(from_python);
  {
    ClientOptions options;
    options.target = (*server)->ingest_target();
    options.tls = TlsOptions(secrets, "ca.pem", "client.pem", "client.key");
    Client client(options);
    client.Log(v1::LEVEL_INFO, "cpp", "with certificate");
    const absl::Status flushed = client.Flush(absl::Now() + kAwaitTimeout);
    EXPECT_TRUE(flushed.ok()) << flushed;
  }
  StopCleanly(**server);
  EXPECT_EQ(CountLines((*server)->path("records.log")), 3u);
}

TEST(SecurityTest, StartUpFailsNamingTheKeyOfACertificateThatDoesNotMatchItsKey) {
  Secrets secrets;
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(secrets.Config(R"(
ingest:
  tls: { cert_file: "$CERTS/server.pem", key_file: "$CERTS/client.key" }
)"));
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("ingest.tls.key_file"));
  EXPECT_THAT(server.status().message(), HasSubstr("does not match"));

  server = SluicedProcess::Start(secrets.Config(R"(
admin:
  tls: { cert_file: "$CERTS/missing.pem", key_file: "$CERTS/server.key" }
)"));
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("admin.tls.cert_file"));
}

constexpr char kAdminTokensConfig[] = R"(
admin:
  token_file: "$CERTS/admin.tokens"
  read_only_token_file: "$CERTS/read-only.tokens"
)";

TEST(SecurityTest, AdminCallsNeedATokenAndReadOnlyTokensMayOnlyRead) {
  Secrets secrets;
  ReplaceFile(secrets.file("admin.tokens"), "# operators\nadmin-secret-1\nadmin-secret-2\n");
  ReplaceFile(secrets.file("read-only.tokens"), "viewer-secret\n");
  ReplaceFile(secrets.file("admin.token"), "admin-secret-2\n");
  ReplaceFile(secrets.file("viewer.token"), "viewer-secret\n");
  ReplaceFile(secrets.file("wrong.token"), "admin-secret-3\n");
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(secrets.Config(kAdminTokensConfig));
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string admin = absl::StrCat("--admin ", (*server)->admin_target());
  const auto token = [&](absl::string_view name) {
    return absl::StrCat(" --token-file ", ShellQuote(secrets.file(name)));
  };

  const CommandResult missing = Sluice(absl::StrCat(admin, " stats"));
  EXPECT_EQ(missing.exit_code, cli::kExitRefused);
  EXPECT_THAT(missing.stderr_text, HasSubstr("UNAUTHENTICATED"));
  EXPECT_EQ(AuthFailures(**server, "admin", "missing_token"), 1);

  const CommandResult wrong = Sluice(absl::StrCat(admin, token("wrong.token"), " level get"));
  EXPECT_EQ(wrong.exit_code, cli::kExitRefused);
  EXPECT_THAT(wrong.stderr_text, HasSubstr("UNAUTHENTICATED"));
  EXPECT_EQ(AuthFailures(**server, "admin", "invalid_token"), 1);

  const CommandResult viewer_stats = Sluice(absl::StrCat(admin, token("viewer.token"), " stats"));
  EXPECT_EQ(viewer_stats.exit_code, 0) << Describe(viewer_stats);
  const CommandResult viewer_drain = Sluice(absl::StrCat(admin, token("viewer.token"), " drain"));
  EXPECT_EQ(viewer_drain.exit_code, cli::kExitRefused);
  EXPECT_THAT(viewer_drain.stderr_text, HasSubstr("PERMISSION_DENIED"));
  EXPECT_EQ(AuthFailures(**server, "admin", "read_only"), 1);
  const CommandResult viewer_level =
      Sluice(absl::StrCat(admin, token("viewer.token"), " level set checkout debug"));
  EXPECT_EQ(viewer_level.exit_code, cli::kExitRefused);
  EXPECT_EQ(AuthFailures(**server, "admin", "read_only"), 2);

  // From the environment; a flag wins over its variable.
  const CommandResult from_env =
      Sluice("level set checkout debug",
             absl::StrCat("SLUICE_ADMIN=", (*server)->admin_target(),
                          " SLUICE_TOKEN_FILE=", ShellQuote(secrets.file("admin.token"))));
  EXPECT_EQ(from_env.exit_code, 0) << Describe(from_env);
  const CommandResult flag_wins = Sluice(absl::StrCat(admin, token("admin.token"), " level get"),
                                         absl::StrCat("SLUICE_ADMIN=127.0.0.1:1 SLUICE_TOKEN_FILE=",
                                                      ShellQuote(secrets.file("wrong.token"))));
  EXPECT_EQ(flag_wins.exit_code, 0) << Describe(flag_wins);
  EXPECT_THAT(flag_wins.stdout_text, HasSubstr("checkout"));

  // A token or certificate file that cannot be read is a command-line error, named.
  const CommandResult unreadable =
      Sluice(absl::StrCat(admin, " --token-file ", ShellQuote(secrets.file("absent")), " stats"));
  EXPECT_EQ(unreadable.exit_code, 2);
  EXPECT_THAT(unreadable.stderr_text, HasSubstr(secrets.file("absent")));
  EXPECT_EQ(Sluice(absl::StrCat(admin, " --tls-ca ", ShellQuote(secrets.file("absent")), " stats"))
                .exit_code,
            2);

  // The secrets themselves never reach the log.
  EXPECT_THAT((*server)->Stderr(), HasSubstr("refused: missing_token"));
  EXPECT_THAT((*server)->Stderr(), Not(HasSubstr("admin-secret")));
  EXPECT_THAT((*server)->Stderr(), Not(HasSubstr("viewer-secret")));

  const CommandResult drained = Sluice(absl::StrCat(admin, token("admin.token"), " shutdown"));
  EXPECT_EQ(drained.exit_code, 0) << Describe(drained);
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST(SecurityTest, RotatedAdminTokensApplyWithoutARestart) {
  Secrets secrets;
  ReplaceFile(secrets.file("admin.tokens"), "old-secret\n");
  ReplaceFile(secrets.file("old.token"), "old-secret\n");
  ReplaceFile(secrets.file("new.token"), "new-secret\n");
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(secrets.Config(R"(
admin: { token_file: "$CERTS/admin.tokens" }
)"));
  ASSERT_TRUE(server.ok()) << server.status();
  const auto stats_with = [&](absl::string_view name) {
    return Sluice(absl::StrCat("--admin ", (*server)->admin_target(), " --token-file ",
                               ShellQuote(secrets.file(name)), " stats"))
        .exit_code;
  };
  EXPECT_EQ(stats_with("old.token"), 0);
  EXPECT_EQ(stats_with("new.token"), cli::kExitRefused);

  ReplaceFile(secrets.file("admin.tokens"), "new-secret\n");
  EXPECT_TRUE(Await([&] { return stats_with("new.token") == 0; })) << (*server)->Stderr();
  EXPECT_EQ(stats_with("old.token"), cli::kExitRefused);
  EXPECT_THAT((*server)->Stderr(), HasSubstr("admin.token_file: " + secrets.file("admin.tokens") +
                                             " re-read, 1 tokens"));
  StopCleanly(**server);
}

// Pushes one record on a PushBatches stream with `metadata`; the call's status.
grpc::Status PushOne(const std::string& target,
                     const std::vector<std::pair<std::string, std::string>>& metadata,
                     const v1::LogRecord& record) {
  auto stub =
      v1::LogService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kAwaitTimeout));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  auto stream = stub->PushBatches(&context);
  v1::LogBatch batch;
  batch.set_sequence(1);
  *batch.add_records() = record;
  stream->Write(batch);
  stream->WritesDone();
  v1::PushAck ack;
  while (stream->Read(&ack)) {
  }
  return stream->Finish();
}

// One OTLP Export of one log record with the attribute tenant=evil, with `token` (none when
// empty); the call's status.
grpc::Status ExportOne(const std::string& target, const std::string& token) {
  namespace collector = ::opentelemetry::proto::collector::logs::v1;
  auto stub = collector::LogsService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kAwaitTimeout));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  collector::ExportLogsServiceRequest request;
  auto* record = request.add_resource_logs()->add_scope_logs()->add_log_records();
  record->set_severity_number(::opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO);
  record->mutable_body()->set_string_value("otlp");
  auto* attribute = record->add_attributes();
  attribute->set_key("tenant");
  attribute->mutable_value()->set_string_value("evil");
  collector::ExportLogsServiceResponse response;
  return stub->Export(&context, request, &response);
}

TEST(SecurityTest, IngestTokensGiveRecordsATenantNoFieldOrMetadataCanForge) {
  Secrets secrets;
  ReplaceFile(secrets.file("ingest.tokens"), "acme-secret acme\nglobex-secret globex\n");
  ReplaceFile(secrets.file("globex.token"), "globex-secret globex\n");
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(secrets.Config(R"(
ingest: { tokens_file: "$CERTS/ingest.tokens" }
hooks:
  pre:
    - { type: metadata, name: tenant, keys: { x-tenant: tenant } }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
)"));
  ASSERT_TRUE(server.ok()) << server.status();
  v1::LogRecord forged;
  forged.set_level(v1::LEVEL_INFO);
  forged.set_message("forged");
  v1::Field* field = forged.add_fields();
  field->set_key("tenant");
  field->set_string_value("evil");

  const grpc::Status no_token = PushOne((*server)->ingest_target(), {}, forged);
  EXPECT_EQ(no_token.error_code(), grpc::StatusCode::UNAUTHENTICATED) << no_token.error_message();
  EXPECT_EQ(AuthFailures(**server, "ingest", "missing_token"), 1);
  const grpc::Status wrong =
      PushOne((*server)->ingest_target(), {{"authorization", "Bearer evil-secret"}}, forged);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(AuthFailures(**server, "ingest", "invalid_token"), 1);

  EXPECT_EQ(ExportOne((*server)->ingest_target(), "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(AuthFailures(**server, "ingest", "missing_token"), 2);
  const grpc::Status exported = ExportOne((*server)->ingest_target(), "globex-secret");
  EXPECT_TRUE(exported.ok()) << exported.error_message();

  const grpc::Status acme =
      PushOne((*server)->ingest_target(),
              {{"authorization", "Bearer acme-secret"}, {"x-tenant", "evil-by-metadata"}}, forged);
  EXPECT_TRUE(acme.ok()) << acme.error_message();
  const CommandResult cli = Sluice(absl::StrCat(
      "--target ", (*server)->ingest_target(), " --token-file ",
      ShellQuote(secrets.file("globex.token")), " send --message cli --field tenant=evil"));
  EXPECT_EQ(cli.exit_code, 0) << Describe(cli);
  {
    ClientOptions options;
    options.target = (*server)->ingest_target();
    options.bearer_token = "acme-secret";
    Client client(options);
    client.Log(v1::LEVEL_INFO, "cpp", "client", {{"tenant", "evil"}, {"other", 1}});
    const absl::Status flushed = client.Flush(absl::Now() + kAwaitTimeout);
    EXPECT_TRUE(flushed.ok()) << flushed;
  }
  StopCleanly(**server);
  const std::vector<std::string> lines = ReadLines((*server)->path("records.log"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], HasSubstr(R"("message":"otlp")"));
  EXPECT_THAT(lines[1], HasSubstr(R"("message":"forged")"));
  for (const std::string& line : lines) EXPECT_THAT(line, Not(HasSubstr("evil"))) << line;
  EXPECT_THAT(lines, ::testing::UnorderedElementsAre(
                         HasSubstr(R"("tenant":"globex")"), HasSubstr(R"("tenant":"acme")"),
                         HasSubstr(R"("tenant":"globex")"), HasSubstr(R"("tenant":"acme")")));
}

TEST(SecurityTest, ReplacedCertificatesServeNewConnectionsWhileOpenStreamsGoOn) {
  Secrets secrets;
  ReplaceFile(secrets.file("live.pem"), ReadFile(secrets.file("server.pem")));
  ReplaceFile(secrets.file("live.key"), ReadFile(secrets.file("server.key")));
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(secrets.Config(R"(
ingest:
  tls: { cert_file: "$CERTS/live.pem", key_file: "$CERTS/live.key", refresh_interval: 1s }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
)"));
  ASSERT_TRUE(server.ok()) << server.status();
  const auto send_trusting = [&](absl::string_view ca) {
    return Sluice(absl::StrCat("--target ", (*server)->ingest_target(), " --tls-ca ",
                               ShellQuote(secrets.file(ca)), " send --message cli"))
        .exit_code;
  };
  ClientOptions options;
  options.target = (*server)->ingest_target();
  options.tls = TlsOptions(secrets, "ca.pem");
  Client client(options);
  client.Log(v1::LEVEL_INFO, "cpp", "before");
  ASSERT_TRUE(client.Flush(absl::Now() + kAwaitTimeout).ok());
  EXPECT_EQ(send_trusting("other-ca.pem"), cli::kExitConnection);

  ReplaceFile(secrets.file("live.key"), ReadFile(secrets.file("other-server.key")));
  ReplaceFile(secrets.file("live.pem"), ReadFile(secrets.file("other-server.pem")));
  EXPECT_TRUE(Await([&] { return send_trusting("other-ca.pem") == 0; })) << (*server)->Stderr();
  EXPECT_EQ(send_trusting("ca.pem"), cli::kExitConnection);

  // The stream opened with the old certificate is still the one in use.
  client.Log(v1::LEVEL_INFO, "cpp", "after");
  const absl::Status flushed = client.Flush(absl::Now() + kAwaitTimeout);
  EXPECT_TRUE(flushed.ok()) << flushed;
  EXPECT_EQ(client.stats().streams_opened, 1u);
  EXPECT_EQ(client.stats().acked_records, 2u);
  StopCleanly(**server);
}

}  // namespace
}  // namespace sluice::e2e
