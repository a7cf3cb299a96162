#include "server/ingest/message_codec.h"

#include "grpcpp/support/proto_buffer_writer.h"

namespace sluice::ingest {

void SerializeMessage(const google::protobuf::MessageLite& message, grpc::ByteBuffer& bytes) {
  bytes.Clear();
  const size_t size = message.ByteSizeLong();
  grpc::ProtoBufferWriter writer(&bytes, grpc::kProtoBufferWriterMaxBufferLength,
                                 static_cast<int>(size));
  message.SerializeToZeroCopyStream(&writer);
}

}  // namespace sluice::ingest
