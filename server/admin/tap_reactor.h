// TapReactor: one AdminService.Tap call, a server-streaming reactor on gRPC's callback API
// that writes the records of a pipeline::Tap to its client, one at a time.
//
// Made by AdminService::Tap. The tap's read right (tap_hub.h) decides who writes next:
// the reactor in OnWriteDone, or a worker (OnReady) that brought a record to an idle tap,
// which starts the write itself without waiting for anything. The reactor finishes only
// while it holds that right with no write in flight — when Tap::Next says kClosed — so
// nothing reaches it after Finish: the tap closes on the client's cancel (OnCancel), on a
// failed write, and on shutdown (TapHub::CloseAll, which ends the call with OK). OnDone
// removes the tap from the hub and deletes the reactor.
#ifndef SLUICE_SERVER_ADMIN_TAP_REACTOR_H_
#define SLUICE_SERVER_ADMIN_TAP_REACTOR_H_

#include <atomic>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"
#include "server/pipeline/tap_hub.h"
#include "sluice/v1/admin.pb.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::admin {

class TapReactor final : public grpc::ServerWriteReactor<v1::LogRecord>,
                         private pipeline::TapReader {
 public:
  // Called once with the status the call ends with (for the request counter).
  using Finished = absl::AnyInvocable<void(const grpc::Status&)>;

  // Opens a tap on `hub` (nullable: tapping is not available) for `request`, or finishes at
  // once: with `refusal` when it is not OK (the caller's credentials), INVALID_ARGUMENT for
  // a bad filter, RESOURCE_EXHAUSTED beyond admin.max_taps, UNAVAILABLE while shutting
  // down. `hub` must outlive the call.
  TapReactor(pipeline::TapHub* hub, const v1::TapRequest& request, Finished finished,
             const grpc::Status& refusal = grpc::Status::OK);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void OnReady() override { WriteNext(); }
  // With the read right: writes the next record, gives the right back, or finishes.
  void WriteNext();
  void End(const grpc::Status& status);

  pipeline::TapHub* const hub_;
  std::shared_ptr<pipeline::Tap> tap_;
  // The record being written; touched only by whoever holds the read right.
  v1::LogRecord writing_;
  std::atomic<bool> cancelled_{false};
  Finished finished_;
};

}  // namespace sluice::admin

#endif  // SLUICE_SERVER_ADMIN_TAP_REACTOR_H_
