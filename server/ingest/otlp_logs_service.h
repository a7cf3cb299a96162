// OtlpLogsService: opentelemetry.proto.collector.logs.v1.LogsService/Export on the ingest
// port, so OpenTelemetry SDKs and collectors export logs to Sluice directly (OTLP/gRPC).
//
// Each Export is one unary call: its records are mapped to Sluice records (otlp_mapping.h),
// admitted like native ones (validation, limits, the level gate; counted under
// rpc="Export") and handed to the scheduler as one batch. A unary call cannot stop reading,
// so when the scheduler parks the batch (overflow: block) the call is answered only once
// the batch is queued: the exporter's own in-flight limit paces it, and the call counts
// against ingest.max_concurrent_streams meanwhile. Nothing blocks a gRPC thread.
//
// The answer comes once the batch reached the ingest.ack_on stage: OK with
// partial_success counting the records refused as invalid and those an output lost,
// error_message naming the first reason; records filtered by the level gate are discarded
// on purpose and not reported. Refused calls, with retry pushback: UNAVAILABLE while
// intake is closed (drain), RESOURCE_EXHAUSTED at ingest.max_concurrent_streams or when
// the overflow policy dropped the batch (drop_newest, or drop_oldest before the ack
// stage) — the exporter retries those. Docs: docs/ERRORS.md.
//
// Registered on the ingest port by server/app; `context` must outlive the gRPC server.
#ifndef SLUICE_SERVER_INGEST_OTLP_LOGS_SERVICE_H_
#define SLUICE_SERVER_INGEST_OTLP_LOGS_SERVICE_H_

#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "server/ingest/ingest_context.h"

namespace sluice::ingest {

// Raw: the request is decoded by Sluice (request_decoder.h), not by gRPC's generated code,
// so a malformed request gets INVALID_ARGUMENT rather than UNIMPLEMENTED.
class OtlpLogsService final
    : public opentelemetry::proto::collector::logs::v1::LogsService::WithRawCallbackMethod_Export<
          opentelemetry::proto::collector::logs::v1::LogsService::Service> {
 public:
  explicit OtlpLogsService(IngestContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;

 private:
  IngestContext& context_;
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_OTLP_LOGS_SERVICE_H_
