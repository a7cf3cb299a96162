#include "server/admin/tap_reactor.h"

#include <cstdio>
#include <string>
#include <utility>

namespace sluice::admin {

TapReactor::TapReactor(pipeline::TapHub* hub, const v1::TapRequest& request, Finished finished,
                       const grpc::Status& refusal)
    : hub_(hub), finished_(std::move(finished)) {
  if (!refusal.ok()) {
    End(refusal);
    return;
  }
  if (hub_ == nullptr) {
    End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "this server has no taps"));
    return;
  }
  absl::StatusOr<pipeline::TapFilter> filter = pipeline::TapFilter::FromRequest(request);
  absl::StatusOr<std::shared_ptr<pipeline::Tap>> tap =
      filter.ok() ? hub_->Open(*std::move(filter), *this) : filter.status();
  if (!tap.ok()) {
    std::fprintf(stderr, "sluiced: tap refused: %s\n", tap.status().ToString().c_str());
    End(grpc::Status(static_cast<grpc::StatusCode>(tap.status().code()),
                     std::string(tap.status().message())));
    return;
  }
  tap_ = *std::move(tap);
  // Open hands the reader the read right; a worker may take it from the first Next on.
  WriteNext();
}

void TapReactor::WriteNext() {
  bool more = false;
  switch (tap_->Next(&writing_, &more)) {
    case pipeline::Tap::NextResult::kRecord:
      // With more to come gRPC may hold the message back and send it with the next ones:
      // fewer, larger writes to the socket. The last one goes out without the hint.
      StartWrite(&writing_, more ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions());
      return;
    case pipeline::Tap::NextResult::kIdle:
      return;
    case pipeline::Tap::NextResult::kClosed:
      End(cancelled_.load() ? grpc::Status::CANCELLED : grpc::Status::OK);
      return;
  }
}

void TapReactor::OnWriteDone(bool ok) {
  // A failed write means the stream is gone: the client left or the server cut it.
  if (!ok) tap_->Close();
  WriteNext();
}

void TapReactor::OnCancel() {
  cancelled_.store(true);
  // Wakes an idle reader (this one) to finish; a write in flight fails and finishes it.
  if (tap_ != nullptr) tap_->Close();
}

void TapReactor::OnDone() {
  if (tap_ != nullptr) hub_->Remove(tap_);
  delete this;
}

void TapReactor::End(const grpc::Status& status) {
  if (finished_ != nullptr) std::exchange(finished_, nullptr)(status);
  Finish(status);
}

}  // namespace sluice::admin
