// RawMessage: an ingest request as gRPC received it, still serialized.
//
// gRPC's callback API parses a request before the reactor sees it, and turns a parse
// failure into OK (streams) or UNIMPLEMENTED (unary) without saying what failed
// (grpc/grpc#30454); it also knows neither ingest.max_batch_records nor
// ingest.invalid_utf8. So the ingest methods are registered with RawMessage as their
// request type: gRPC hands over the bytes untouched (the SerializationTraits below), and
// the reactor decodes them with a RequestDecoder (request_decoder.h), which answers
// malformed or oversized messages with a status naming what failed.
//
// Read by the ingest reactors (one message per read); never sent, so serializing one is
// an error.
#ifndef SLUICE_SERVER_INGEST_RAW_MESSAGE_H_
#define SLUICE_SERVER_INGEST_RAW_MESSAGE_H_

#include "grpcpp/impl/serialization_traits.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/status.h"

namespace sluice::ingest {

struct RawMessage {
  grpc::ByteBuffer bytes;
};

}  // namespace sluice::ingest

namespace grpc {

template <>
class SerializationTraits<sluice::ingest::RawMessage, void> {
 public:
  // Takes the received buffer over without parsing it: always OK. gRPC releases
  // `buffer` without destroying it afterwards, so the message must own what it held.
  static Status Deserialize(ByteBuffer* buffer, sluice::ingest::RawMessage* message) {
    message->bytes.Clear();
    message->bytes.Swap(buffer);
    return Status::OK;
  }
  // Requests are only ever received.
  static Status Serialize(const sluice::ingest::RawMessage& /*message*/, ByteBuffer* /*buffer*/,
                          bool* /*own_buffer*/) {
    return Status(StatusCode::INTERNAL, "sluice::ingest::RawMessage is receive-only");
  }
};

}  // namespace grpc

#endif  // SLUICE_SERVER_INGEST_RAW_MESSAGE_H_
