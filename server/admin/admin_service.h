// AdminService: the sluice.v1.AdminService RPCs on the admin port (levels, drain,
// resume, shutdown, stats), on gRPC's callback API.
//
// Level RPCs act on the levels::LevelTable (server/levels/) directly; the rest go to
// ServerControl. No handler blocks its callback thread: Drain, Shutdown and Reload finish
// their reactor from ServerControl's own thread when the work is over. Every request is counted
// in sluice_admin_requests_total{method,code}.
#ifndef SLUICE_SERVER_ADMIN_ADMIN_SERVICE_H_
#define SLUICE_SERVER_ADMIN_ADMIN_SERVICE_H_

#include "absl/status/status.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "server/admin/server_control.h"
#include "server/auth/token_authenticator.h"
#include "server/levels/level_table.h"
#include "server/pipeline/tap_hub.h"
#include "sluice/v1/admin.grpc.pb.h"

namespace sluice::admin {

class AdminService final : public v1::AdminService::CallbackService {
 public:
  // All must outlive the service. `auth` checks each call's token first; null: no token
  // needed (admin.auth: none). `taps` (nullable: Tap answers UNAVAILABLE) is where Tap calls
  // open their taps.
  AdminService(levels::LevelTable& levels, ServerControl& control, prometheus::Registry& registry,
               const auth::TokenAuthenticator* auth = nullptr, pipeline::TapHub* taps = nullptr);

  grpc::ServerUnaryReactor* GetLevels(grpc::CallbackServerContext* context,
                                      const v1::GetLevelsRequest* request,
                                      v1::GetLevelsResponse* response) override;
  grpc::ServerUnaryReactor* SetLevel(grpc::CallbackServerContext* context,
                                     const v1::SetLevelRequest* request,
                                     v1::SetLevelResponse* response) override;
  grpc::ServerUnaryReactor* Drain(grpc::CallbackServerContext* context,
                                  const v1::DrainRequest* request,
                                  v1::DrainResponse* response) override;
  grpc::ServerUnaryReactor* Resume(grpc::CallbackServerContext* context,
                                   const v1::ResumeRequest* request,
                                   v1::ResumeResponse* response) override;
  grpc::ServerUnaryReactor* Shutdown(grpc::CallbackServerContext* context,
                                     const v1::ShutdownRequest* request,
                                     v1::ShutdownResponse* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override;
  grpc::ServerUnaryReactor* Reload(grpc::CallbackServerContext* context,
                                   const v1::ReloadRequest* request,
                                   v1::ReloadResponse* response) override;
  // Streams records as the workers process them (tap_reactor.h).
  grpc::ServerWriteReactor<v1::LogRecord>* Tap(grpc::CallbackServerContext* context,
                                               const v1::TapRequest* request) override;

 private:
  grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context, const char* method,
                                   const grpc::Status& status);
  void FillLevels(v1::GetLevelsResponse* response) const;
  absl::Status ApplySetLevel(const v1::SetLevelRequest& request);
  // OK when the call may go on; else the status to finish it with (token_authenticator.h).
  grpc::Status Authorize(grpc::CallbackServerContext* context, auth::Access access,
                         const char* method) const;

  levels::LevelTable& levels_;
  ServerControl& control_;
  pipeline::TapHub* const taps_;
  prometheus::Family<prometheus::Counter>& requests_;
  const auth::TokenAuthenticator* const auth_;
};

}  // namespace sluice::admin

#endif  // SLUICE_SERVER_ADMIN_ADMIN_SERVICE_H_
