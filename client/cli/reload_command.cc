#include "client/cli/reload_command.h"

#include <memory>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/admin_commands.h"
#include "client/cli/connection.h"
#include "client/cli/flags.h"
#include "client/cli/usage.h"
#include "grpcpp/grpcpp.h"
#include "sluice/v1/admin.grpc.pb.h"

namespace sluice::cli {

int RunReload(absl::Span<const std::string> args) {
  if (!args.empty()) {
    return UsageError(absl::StrCat("reload: unexpected argument \"", args[0], "\""));
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  Authorize(context);
  v1::ReloadResponse response;
  const grpc::Status status = AdminStub()->Reload(&context, v1::ReloadRequest(), &response);
  if (!status.ok()) {
    return CallFailed("Reload", static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
  }
  if (response.applied().empty()) absl::PrintF("applied: nothing (the file says what runs)\n");
  for (const std::string& applied : response.applied()) absl::PrintF("applied: %s\n", applied);
  for (const std::string& key : response.not_applied()) {
    absl::PrintF("not applied (takes a restart): %s\n", key);
  }
  return kExitOk;
}

}  // namespace sluice::cli
