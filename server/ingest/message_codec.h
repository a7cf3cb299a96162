// The ingest services read and write raw gRPC messages (grpc::ByteBuffer) so that Sluice,
// not gRPC's generated code, decides what a request that fails to parse gets: gRPC's
// callback API ends such a call with OK or UNIMPLEMENTED (grpc/grpc#30454). Requests are
// decoded by RequestDecoder (request_decoder.h); this is the other direction, for the
// answers the reactors write (PushAck, PushSummary, the OTLP response).
#ifndef SLUICE_SERVER_INGEST_MESSAGE_CODEC_H_
#define SLUICE_SERVER_INGEST_MESSAGE_CODEC_H_

#include "google/protobuf/message_lite.h"
#include "grpcpp/support/byte_buffer.h"

namespace sluice::ingest {

// Serializes `message` into `bytes` (replacing what it held), for StartWrite or a unary
// response.
void SerializeMessage(const google::protobuf::MessageLite& message, grpc::ByteBuffer& bytes);

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_MESSAGE_CODEC_H_
