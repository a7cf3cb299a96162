#include "client/cli/reload_command.h"

#include <memory>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/admin_commands.h"
#include "client/cli/flags.h"
#include "client/cli/usage.h"
#include "grpcpp/grpcpp.h"
#include "sluice/v1/admin.grpc.pb.h"

namespace sluice::cli {

const absl::string_view kReloadHelp =
    "sluice reload [--admin host:port] [--timeout 10s]\n"
    "  Makes the server read its config file again, as SIGHUP does. Levels, hooks, the\n"
    "  pipeline section and the outputs (added, removed, changed) apply at once, without\n"
    "  losing a buffered record; settings that take a restart (listen addresses,\n"
    "  scheduler, ingest limits) are listed as not applied. A file that does not load or\n"
    "  validate is refused with the server's error and the running config stays.\n"
    "  Exit codes: 0 reloaded, 1 refused or the call failed, 2 wrong arguments.\n";

int RunReload(absl::Span<const std::string> args) {
  if (!args.empty()) {
    return UsageError(absl::StrCat("reload: unexpected argument \"", args[0], "\""));
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  v1::ReloadResponse response;
  const grpc::Status status = AdminStub()->Reload(&context, v1::ReloadRequest(), &response);
  if (!status.ok()) {
    absl::FPrintF(stderr, "sluice: Reload: %s: %s\n",
                  absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                  status.error_message());
    return kExitFailure;
  }
  if (response.applied().empty()) absl::PrintF("applied: nothing (the file says what runs)\n");
  for (const std::string& applied : response.applied()) absl::PrintF("applied: %s\n", applied);
  for (const std::string& key : response.not_applied()) {
    absl::PrintF("not applied (takes a restart): %s\n", key);
  }
  return kExitOk;
}

}  // namespace sluice::cli
