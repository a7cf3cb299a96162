#include "server/ingest/otlp_logs_service.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/common/record_batch.h"
#include "server/ingest/ack_stage.h"
#include "server/ingest/admission.h"
#include "server/ingest/ingest_call.h"
#include "server/ingest/message_codec.h"
#include "server/ingest/otlp_mapping.h"
#include "server/ingest/reactor_lifetime.h"
#include "server/ingest/request_decoder.h"

namespace sluice::ingest {
namespace {

namespace otlp_collector = opentelemetry::proto::collector::logs::v1;

// One Export call. Finishes in its constructor, or once its batch reached ingest.ack_on:
// from the scheduler's resume callback when the batch was parked (accepted), or from the
// batch's delivery callback (written, flushed). Deleted once gRPC (OnDone) and both
// callbacks are done with it (ReactorLifetime). Only one of them runs at a time: the
// constructor is done with the call once the batch is handed over.
class ExportReactor : public grpc::ServerUnaryReactor, public ReactorLifetime {
 public:
  ExportReactor(IngestContext& context, grpc::CallbackServerContext* call,
                const grpc::ByteBuffer& request, grpc::ByteBuffer* response)
      : context_(context), call_(context, *call, Rpc::kExport), response_(*response) {
    if (!call_.refusal().ok()) {
      Finish(call_.refusal());
      return;
    }
    Submit(request);
  }

  void OnDone() override {
    call_.Done();
    ReleaseGrpcRef();
  }

 private:
  void Submit(const grpc::ByteBuffer& request) {
    const absl::Time now = absl::Now();
    RecordBatch batch;
    // A copy of the ByteBuffer shares its slices: no bytes are copied.
    grpc::ByteBuffer bytes(request);
    RequestDecoder decoder(context_.config);
    DecodeResult decoded;
    const absl::Status status = DecodeOrOutOfMemory(
        decoded, [&] { return decoder.DecodeExport(bytes, batch.records(), decoded); });
    if (!status.ok()) {
      Finish(RefuseRequest(status, decoded, Rpc::kExport, context_.metrics));
      return;
    }
    Admission admission(context_.config, context_.levels, context_.ledger, context_.metrics,
                        Rpc::kExport);
    admission.SetTenant(call_.tenant());
    if (const pipeline::hooks::HookChain* pre_hooks = context_.pre_hooks.load();
        pre_hooks != nullptr) {
      admission.SetPreHooks(*pre_hooks, call_.call().peer(), call_.call().client_metadata());
    }
    const AdmissionResult admitted =
        admission.Admit(batch.records(), now, decoded, &batch.field_layers());
    rejected_ = admitted.rejected;
    first_rejection_ = admitted.first_rejection;
    // Written before Submit: once the batch is parked, the resume callback may finish the
    // call (and gRPC then read the response) before Submit has even returned here.
    if (admitted.rejected > 0) SetPartialSuccess(Delivery{});
    if (batch.empty()) {
      FinishOk();
      return;
    }
    batch.set_stream_id(context_.NextStreamId());
    batch.set_received_at(now);
    const Submitted submitted = call_.Submit(
        std::move(batch),
        [this, ref = Ref()](const std::optional<Delivery>& settled) {
          if (settled) FinishDelivered(*settled);
        },
        [this, ref = Ref()](const Delivery& delivery) { FinishDelivered(delivery); });
    // Otherwise a callback finishes the call: the resume callback or the delivery callback.
    if (submitted.settled) FinishDelivered(*submitted.settled);
  }

  // Answers with how far the batch got. Records an overflow policy dropped were never
  // written: the exporter retries the request after the pushback (a unary call has no
  // next message to refuse). Records an output lost are reported in partial_success.
  void FinishDelivered(const Delivery& delivery) {
    if (call_.Delivered(delivery)) {
      Finish(call_.Overloaded());
      return;
    }
    if (delivery.dropped > 0) SetPartialSuccess(delivery);
    FinishOk();
  }

  void FinishOk() {
    SerializeMessage(answer_, response_);
    Finish(grpc::Status::OK);
  }

  // Reports the admission's rejections plus `lost` records in partial_success.
  void SetPartialSuccess(const Delivery& lost) {
    otlp_collector::ExportLogsPartialSuccess& partial = *answer_.mutable_partial_success();
    partial.set_rejected_log_records(rejected_ + lost.dropped);
    std::string why;
    if (lost.dropped > 0) {
      why = absl::StrCat(lost.dropped, " records dropped: ", DropReasonText(lost.reason));
    }
    if (rejected_ > 0) {
      absl::StrAppend(&why, why.empty() ? "" : "; ", first_rejection_);
    }
    partial.set_error_message(why);
  }

  IngestContext& context_;
  // Opening checks and overload: the protocol shared with Push and PushBatches.
  IngestCall call_;
  grpc::ByteBuffer& response_;
  // Written before Submit hands the batch on (see there), serialized into response_ when
  // the call finishes OK.
  otlp_collector::ExportLogsServiceResponse answer_;
  uint32_t rejected_ = 0;
  std::string first_rejection_;
};

}  // namespace

grpc::ServerUnaryReactor* OtlpLogsService::Export(grpc::CallbackServerContext* call,
                                                  const grpc::ByteBuffer* request,
                                                  grpc::ByteBuffer* response) {
  return new ExportReactor(context_, call, *request, response);
}

}  // namespace sluice::ingest
