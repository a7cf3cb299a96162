#include "server/ingest/request_decoder.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "server/ingest/otlp_mapping.h"

namespace sluice::ingest {
namespace {

absl::Status Parse(grpc::ByteBuffer& bytes, google::protobuf::MessageLite& message) {
  grpc::ProtoBufferReader reader(&bytes);
  if (!message.ParseFromZeroCopyStream(&reader)) {
    return absl::InvalidArgumentError(absl::StrCat("malformed ", message.GetTypeName()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RequestDecoder::DecodeLogBatch(grpc::ByteBuffer& bytes, v1::LogBatch& out,
                                            DecodeResult&) {
  return Parse(bytes, out);
}
absl::Status RequestDecoder::DecodeLogRecord(grpc::ByteBuffer& bytes, v1::LogRecord& out,
                                             DecodeResult&) {
  return Parse(bytes, out);
}
absl::Status RequestDecoder::DecodeExport(grpc::ByteBuffer& bytes, RecordBatch::Records& out,
                                          DecodeResult&) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest request;
  if (absl::Status parsed = Parse(bytes, request); !parsed.ok()) return parsed;
  AppendOtlpRecords(request, out);
  return absl::OkStatus();
}

}  // namespace sluice::ingest
