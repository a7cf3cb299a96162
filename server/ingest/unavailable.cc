#include "server/ingest/unavailable.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace sluice::ingest {
namespace {

// "<who> <limit> ingest calls open, the limit <key>; ...": a stream limit reached.
grpc::Status StreamLimitStatus(grpc::ServerContextBase& call, absl::string_view who, uint32_t limit,
                               absl::string_view key) {
  return RetryLaterStatus(call, grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat(who, " ", limit, " ingest calls open, the limit ", key,
                                       "; close a stream or retry later"),
                          kTooManyStreamsPushbackMs);
}

}  // namespace

grpc::Status RetryLaterStatus(grpc::ServerContextBase& call, grpc::StatusCode code,
                              std::string message, int pushback_ms) {
  call.AddTrailingMetadata("grpc-retry-pushback-ms", std::to_string(pushback_ms));
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(pushback_ms / 1000);
  retry.mutable_retry_delay()->set_nanos((pushback_ms % 1000) * 1000000);
  google::rpc::Status details;
  details.set_code(static_cast<int32_t>(code));
  details.set_message(message);
  details.add_details()->PackFrom(retry);
  return grpc::Status(code, std::move(message), details.SerializeAsString());
}

grpc::Status DrainingStatus(grpc::ServerContextBase& call) {
  return RetryLaterStatus(call, grpc::StatusCode::UNAVAILABLE,
                          "sluice is draining and accepts no records; retry later or elsewhere",
                          kDrainingPushbackMs);
}

grpc::Status TooManyStreamsStatus(grpc::ServerContextBase& call, uint32_t limit) {
  return StreamLimitStatus(call, "sluice has", limit, "ingest.max_concurrent_streams");
}

grpc::Status TooManyPeerStreamsStatus(grpc::ServerContextBase& call, uint32_t limit) {
  return StreamLimitStatus(call, "this client address has", limit, "ingest.max_streams_per_peer");
}

grpc::Status OverloadedStatus(grpc::ServerContextBase& call, absl::string_view why) {
  return RetryLaterStatus(call, grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat("sluice is over capacity, a batch was dropped: ", why,
                                       "; back off and resend it"),
                          kOverloadedPushbackMs);
}

grpc::Status WithDetail(const grpc::Status& status, const google::protobuf::Message& detail) {
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    details.Clear();
    details.set_code(static_cast<int32_t>(status.error_code()));
    details.set_message(status.error_message());
  }
  details.add_details()->PackFrom(detail);
  return grpc::Status(status.error_code(), status.error_message(), details.SerializeAsString());
}

grpc::Status IdleStatus(absl::Duration timeout) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat("stream idle for ", absl::FormatDuration(timeout),
                                   " (ingest.stream_idle_timeout); open a new stream when there "
                                   "are records to send"));
}

}  // namespace sluice::ingest
