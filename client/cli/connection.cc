#include "client/cli/connection.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/cli/flags.h"
#include "client/cli/usage.h"
#include "sluice/channel_credentials.h"

namespace sluice::cli {
namespace {

struct ConnectionFlags {
  std::string token_file;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;
  // Whether --target and --admin were given: those win over the environment.
  bool target_given = false;
  bool admin_given = false;
};

ConnectionFlags& Flags() {
  static ConnectionFlags* const flags = new ConnectionFlags;
  return *flags;
}

// What the flags and files say, read once.
struct Connection {
  std::optional<ClientTlsOptions> tls;
  std::string token;
};

[[noreturn]] void Fail(absl::string_view problem) {
  std::fprintf(stderr, "sluice: %.*s\n", static_cast<int>(problem.size()), problem.data());
  std::exit(kExitUsage);
}

// The token of a token file: the first word of its first line that is neither blank nor a
// comment, so that a line of the server's ingest.tokens_file (`token tenant`) works too.
std::string ReadToken(const std::string& path) {
  std::ifstream file(path);
  if (!file) Fail(absl::StrCat("token file ", path, ": cannot be read"));
  std::string line;
  while (std::getline(file, line)) {
    const absl::string_view stripped = absl::StripAsciiWhitespace(line);
    if (stripped.empty() || stripped.front() == '#') continue;
    const std::vector<absl::string_view> words =
        absl::StrSplit(stripped, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    return std::string(words.front());
  }
  Fail(absl::StrCat("token file ", path, ": holds no token"));
}

const Connection& GetConnection() {
  static const Connection* const connection = [] {
    auto* result = new Connection;
    const ConnectionFlags& flags = Flags();
    if (!flags.tls_ca.empty() || !flags.tls_cert.empty() || !flags.tls_key.empty() ||
        !flags.tls_server_name.empty()) {
      ClientTlsOptions tls;
      if (absl::Status loaded =
              LoadClientTlsFiles(flags.tls_ca, flags.tls_cert, flags.tls_key, tls);
          !loaded.ok()) {
        Fail(absl::StrCat("--tls-ca/--tls-cert/--tls-key: ", loaded.message()));
      }
      tls.server_name = flags.tls_server_name;
      result->tls = std::move(tls);
    }
    std::string token_file = flags.token_file;
    if (token_file.empty()) {
      if (const char* from_env = std::getenv("SLUICE_TOKEN_FILE"); from_env != nullptr) {
        token_file = from_env;
      }
    }
    if (!token_file.empty()) result->token = ReadToken(token_file);
    return result;
  }();
  return *connection;
}

// Whether argv names the flag `name` before a "--", in any of Abseil's spellings.
bool Given(absl::string_view name, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") return false;
    if (!absl::ConsumePrefix(&arg, "--")) {
      if (!absl::ConsumePrefix(&arg, "-")) continue;
    }
    if (arg == name || absl::StartsWith(arg, absl::StrCat(name, "="))) return true;
  }
  return false;
}

// The flag when given on the command line, else the variable when set, else the flag's
// default.
std::string FlagOrEnv(bool given, const absl::Flag<std::string>& flag, const char* variable) {
  if (!given) {
    if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') {
      return value;
    }
  }
  return absl::GetFlag(flag);
}

}  // namespace

void ExtractConnectionFlags(int& argc, char** argv) {
  ConnectionFlags& flags = Flags();
  flags.target_given = Given("target", argc, argv);
  flags.admin_given = Given("admin", argc, argv);
  for (auto [name, value] :
       {std::pair{"token-file", &flags.token_file}, std::pair{"tls-ca", &flags.tls_ca},
        std::pair{"tls-cert", &flags.tls_cert}, std::pair{"tls-key", &flags.tls_key},
        std::pair{"tls-server-name", &flags.tls_server_name}}) {
    const std::vector<std::string> given = ExtractRepeatedFlag(name, argc, argv);
    if (!given.empty()) *value = given.back();
  }
}

std::string IngestTarget() {
  return FlagOrEnv(Flags().target_given, FLAGS_target, "SLUICE_TARGET");
}

std::string AdminTarget() { return FlagOrEnv(Flags().admin_given, FLAGS_admin, "SLUICE_ADMIN"); }

std::shared_ptr<grpc::Channel> AdminChannel() { return ChannelTo(AdminTarget()); }

std::shared_ptr<grpc::Channel> IngestChannel() { return ChannelTo(IngestTarget()); }

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& target) {
  grpc::ChannelArguments args;
  return grpc::CreateCustomChannel(target, ChannelCredentialsFor(GetConnection().tls, args), args);
}

void Authorize(grpc::ClientContext& context) {
  const Connection& connection = GetConnection();
  if (!connection.token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", connection.token));
  }
}

void ConfigureClient(ClientOptions& options) {
  const Connection& connection = GetConnection();
  options.target = IngestTarget();
  options.tls = connection.tls;
  options.bearer_token = connection.token;
}

void ConfigureLoad(loadgen::LoadOptions& options) {
  const Connection& connection = GetConnection();
  options.target = IngestTarget();
  options.tls = connection.tls;
  options.bearer_token = connection.token;
}

}  // namespace sluice::cli
