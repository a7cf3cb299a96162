// RequestDecoder: turns the raw bytes of an ingest request into Sluice records.
#ifndef SLUICE_SERVER_INGEST_REQUEST_DECODER_H_
#define SLUICE_SERVER_INGEST_REQUEST_DECODER_H_

#include "absl/status/status.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/common/record_batch.h"
#include "server/config/config.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::ingest {

struct DecodeResult {};

class RequestDecoder {
 public:
  explicit RequestDecoder(const config::IngestConfig& limits) : limits_(limits) {}
  absl::Status DecodeLogBatch(grpc::ByteBuffer& bytes, v1::LogBatch& out, DecodeResult& result);
  absl::Status DecodeLogRecord(grpc::ByteBuffer& bytes, v1::LogRecord& out, DecodeResult& result);
  absl::Status DecodeExport(grpc::ByteBuffer& bytes, RecordBatch::Records& out,
                            DecodeResult& result);

 private:
  const config::IngestConfig& limits_;
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_REQUEST_DECODER_H_
