// RequestDecoder: turns the bytes of an ingest request (the raw grpc::ByteBuffer the
// ingest reactors read) into records, with every limit that must hold before records are
// built.
//
// The ingest reactors call it on each message they read, in place of gRPC's own parse:
//   - A message that is not a parsable message of the call's request type is refused with
//     INVALID_ARGUMENT naming what failed and where ("malformed sluice.v1.LogBatch:
//     records[3].fields[0] (field 5) at byte 1234: truncated").
//   - A LogBatch or Export with more than ingest.max_batch_records records is refused
//     whole (INVALID_ARGUMENT) after a walk of its wire bytes that builds nothing, so
//     2,000,000 empty records in 4 MB cost one pass over the bytes, not 2M objects.
//   - Invalid UTF-8 does not fail the parse: strings are then read as unchecked bytes
//     (DecodeResult::utf8_unverified) and Admission applies ingest.invalid_utf8 to each
//     record alone (admission.h).
//   - OTLP copies each resource's and scope's attributes into every record it builds (see
//     otlp_mapping.h), so a small request could expand into gigabytes. Before building,
//     each log record's expanded size is counted from the wire: its own bytes plus the
//     serialized size of its resource and its scope (their attributes, and the scope name
//     that becomes the logger; the attribute keys, which the record's OTLP origin lists
//     once more, at most double that share). A record whose expanded size is over
//     ingest.max_record_bytes is refused without being built (counted in DecodeResult,
//     reason record_too_large). A request whose records to build would expand to more
//     than kExportExpansionFactor × ingest.max_message_bytes in total is refused whole
//     (INVALID_ARGUMENT). With at most max_batch_records records, that bounds what any
//     request costs by a small multiple of its wire size.
//
// Errors are INVALID_ARGUMENT: none of these messages can succeed when sent again as is.
// On an error, DecodeResult::request_rejection says which of the three it was, for
// sluice_ingest_requests_rejected_total.
//
// Costs: a valid native request is parsed once, strictly, into the caller's message (for
// PushBatches a recycled one from LogBatchPool), after a walk of its top-level fields. Only
// a request the strict parse refuses is parsed again, leniently, and copied. Export
// requests are always parsed leniently, on an arena: Admission checks the strings of the
// records built, which costs about what the strict parse's check would, and a request with
// one bad string is never parsed twice.
//
// Stateless apart from the config it reads; thread-safe.
#ifndef SLUICE_SERVER_INGEST_REQUEST_DECODER_H_
#define SLUICE_SERVER_INGEST_REQUEST_DECODER_H_

#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/status.h"
#include "server/common/record_batch.h"
#include "server/config/config.h"
#include "server/ingest/ingest_metrics.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::ingest {

// An Export's records may expand to at most this many times ingest.max_message_bytes:
// 64 MiB by default, room for an OpenTelemetry Collector's default 8,192 records with
// several KiB of resource attributes each.
inline constexpr uint64_t kExportExpansionFactor = 16;

// What a decode found besides the records. Reset by each Decode call.
struct DecodeResult {
  // The strings of the records were not checked for UTF-8 (they were parsed as bytes):
  // Admission must check them and apply ingest.invalid_utf8.
  bool utf8_unverified = false;
  // Records refused before being built: received and rejected (refused_reason), though
  // not in `out`. refused_bytes is their wire size, for sluice_ingest_bytes_received_total.
  uint32_t refused = 0;
  RejectReason refused_reason = RejectReason::kRecordTooLarge;
  uint64_t refused_bytes = 0;
  std::string first_refusal;
  // When a Decode call returned an error: why the whole message was refused.
  RequestRejectReason request_rejection = RequestRejectReason::kMalformed;
  // DecodeLogBatch: each record's size on the wire, in order, which is its serialized size
  // as the client sent it; Admission takes it instead of computing ByteSizeLong again.
  // Empty when not known. Up to kKeptRecordSizes entries of capacity are kept from one
  // message to the next (Reset), so a stream of ordinary batches allocates none, and a
  // huge one keeps no memory.
  std::vector<uint32_t> record_bytes;
  static constexpr size_t kKeptRecordSizes = 4096;

  // Back to a fresh result.
  void Reset() {
    std::vector<uint32_t> kept;
    if (record_bytes.capacity() <= kKeptRecordSizes) {
      kept = std::move(record_bytes);
      kept.clear();
    }
    *this = DecodeResult{};
    record_bytes = std::move(kept);
  }
};

class RequestDecoder {
 public:
  // `config` must outlive the decoder; its limits are read on each call.
  explicit RequestDecoder(const config::IngestConfig& config) : config_(config) {}

  // One PushBatches message into `out` (cleared first; parsing into a recycled message
  // reuses its records). On an error `out` holds no records.
  absl::Status DecodeLogBatch(grpc::ByteBuffer& bytes, v1::LogBatch& out,
                              DecodeResult& result) const;

  // One Push message into `out` (cleared first).
  absl::Status DecodeLogRecord(grpc::ByteBuffer& bytes, v1::LogRecord& out,
                               DecodeResult& result) const;

  // One OTLP Export request, mapped (otlp_mapping.h) and appended to `out`. On an error
  // nothing is appended.
  absl::Status DecodeExport(grpc::ByteBuffer& bytes, RecordBatch::Records& out,
                            DecodeResult& result) const;

  // The most bytes an Export's records may expand to.
  uint64_t max_export_expanded_bytes() const {
    return kExportExpansionFactor * config_.max_message_bytes;
  }

 private:
  const config::IngestConfig& config_;
};

// For a reactor whose message a Decode call refused (`status` not OK): counts the refusal
// in sluice_ingest_requests_rejected_total{rpc, reason} and returns the status that ends
// the call, with the decoder's code and message. The message's records are not counted as
// received: none was built.
grpc::Status RefuseRequest(const absl::Status& status, const DecodeResult& result, Rpc rpc,
                           IngestMetrics& metrics);

// Runs `decode`, one of the Decode calls above; a failed allocation on the way costs only
// that message: RESOURCE_EXHAUSTED (counted as too_large), never the process.
template <typename Decode>
absl::Status DecodeOrOutOfMemory(DecodeResult& result, Decode decode) {
  try {
    return decode();
  } catch (const std::bad_alloc&) {
    result.request_rejection = RequestRejectReason::kTooLarge;
    return absl::ResourceExhaustedError(
        "sluice ran out of memory decoding this message; send smaller messages or retry later");
  }
}

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_REQUEST_DECODER_H_
