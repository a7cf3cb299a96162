#include "client/cli/flags.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

ABSL_FLAG(std::string, target, "127.0.0.1:4317", "Ingest address of the server, host:port.");
ABSL_FLAG(std::string, admin, "127.0.0.1:4319", "Admin address of the server, host:port.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10),
          "Deadline for acknowledgements and admin calls; also how long drain and shutdown "
          "let the server drain.");
ABSL_FLAG(std::string, level, "info", "send: level of the records (trace ... fatal).");
ABSL_FLAG(std::string, logger, "", "send: logger name of the records.");
ABSL_FLAG(std::optional<std::string>, message, std::nullopt,
          "send: the message of the one record to send; without it, one record per line of "
          "standard input.");
ABSL_FLAG(absl::Duration, ttl, absl::ZeroDuration(),
          "level set: how long the rule lasts; 0 = until changed.");

namespace sluice::cli {

std::vector<std::string> ExtractRepeatedFlag(absl::string_view name, int& argc, char** argv) {
  std::vector<std::string> values;
  const std::string long_form = absl::StrCat("--", name);
  const std::string short_form = absl::StrCat("-", name);
  int out = 1;
  int in = 1;
  for (; in < argc; ++in) {
    const absl::string_view arg = argv[in];
    if (arg == "--") break;
    if ((arg == long_form || arg == short_form) && in + 1 < argc) {
      values.emplace_back(argv[++in]);
      continue;
    }
    absl::string_view value = arg;
    if (absl::ConsumePrefix(&value, long_form) || absl::ConsumePrefix(&value, short_form)) {
      if (absl::ConsumePrefix(&value, "=")) {
        values.emplace_back(value);
        continue;
      }
    }
    argv[out++] = argv[in];
  }
  for (; in < argc; ++in) argv[out++] = argv[in];
  argc = out;
  argv[argc] = nullptr;
  return values;
}

}  // namespace sluice::cli
