#include "server/ingest/otlp_logs_service.h"

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/common/record_batch.h"
#include "server/ingest/admission.h"
#include "server/ingest/otlp_mapping.h"
#include "server/ingest/unavailable.h"

namespace sluice::ingest {
namespace {

namespace otlp_collector = opentelemetry::proto::collector::logs::v1;

// One Export call. Finishes in its constructor, or, when the batch is parked, from the
// scheduler's resume callback; deletes itself in OnDone, which gRPC runs only after
// Finish, so a parked call's reactor is alive when the callback comes.
class ExportReactor : public grpc::ServerUnaryReactor {
 public:
  ExportReactor(IngestContext& context, grpc::CallbackServerContext* call,
                const otlp_collector::ExportLogsServiceRequest& request,
                otlp_collector::ExportLogsServiceResponse* response)
      : context_(context), call_(call) {
    context_.metrics.StreamOpened(Rpc::kExport);
    if (!context_.intake.open()) {
      Finish(DrainingStatus(*call_));
      return;
    }
    if (!context_.TryOpenStream()) {
      Finish(TooManyStreamsStatus(*call_, context_.config.max_concurrent_streams));
      return;
    }
    counted_ = true;
    Submit(request, *response);
  }

  void OnDone() override {
    context_.metrics.StreamClosed(Rpc::kExport);
    if (counted_) context_.CloseStream();
    delete this;
  }

 private:
  void Submit(const otlp_collector::ExportLogsServiceRequest& request,
              otlp_collector::ExportLogsServiceResponse& response) {
    const absl::Time now = absl::Now();
    RecordBatch batch;
    AppendOtlpRecords(request, batch.records());
    Admission admission(context_.config, context_.levels, context_.ledger, context_.metrics,
                        Rpc::kExport);
    const AdmissionResult admitted = admission.Admit(batch.records(), now);
    // Written before Submit: once the batch is parked, the resume callback may finish the
    // call (and gRPC then read the response) before Submit has even returned here.
    if (admitted.rejected > 0) {
      SetPartialSuccess(admitted.rejected, admitted.first_rejection, response);
    }
    if (batch.empty()) {
      Finish(grpc::Status::OK);
      return;
    }
    batch.set_stream_id(context_.NextStreamId());
    batch.set_received_at(now);
    const uint32_t records = static_cast<uint32_t>(batch.size());
    switch (context_.scheduler.Submit(std::move(batch), [this] { Finish(grpc::Status::OK); })) {
      case scheduler::SubmitOutcome::kAccepted:
      case scheduler::SubmitOutcome::kAcceptedEvictedOldest:
        Finish(grpc::Status::OK);
        break;
      case scheduler::SubmitOutcome::kDroppedNewest: {
        std::string why = absl::StrCat(
            records, " records dropped: every scheduler channel was full (scheduler.overflow: ",
            "drop_newest)");
        if (admitted.rejected > 0)
          absl::StrAppend(&why, "; first rejection: ", admitted.first_rejection);
        SetPartialSuccess(admitted.rejected + records, why, response);
        Finish(grpc::Status::OK);
        break;
      }
      case scheduler::SubmitOutcome::kParked:
        // The resume callback finishes the call once a worker has queued the batch.
        break;
    }
  }

  static void SetPartialSuccess(uint32_t refused, const std::string& why,
                                otlp_collector::ExportLogsServiceResponse& response) {
    otlp_collector::ExportLogsPartialSuccess& partial = *response.mutable_partial_success();
    partial.set_rejected_log_records(refused);
    partial.set_error_message(why);
  }

  IngestContext& context_;
  grpc::CallbackServerContext* const call_;
  // Set once in the constructor: this call counts against ingest.max_concurrent_streams.
  bool counted_ = false;
};

}  // namespace

grpc::ServerUnaryReactor* OtlpLogsService::Export(
    grpc::CallbackServerContext* call, const otlp_collector::ExportLogsServiceRequest* request,
    otlp_collector::ExportLogsServiceResponse* response) {
  return new ExportReactor(context_, call, *request, response);
}

}  // namespace sluice::ingest
