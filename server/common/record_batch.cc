#include "server/common/record_batch.h"

#include <utility>

namespace sluice {
namespace {

// Blocks start at 16 KiB and grow to 1 MiB: a batch of 1,000 typical records (~300 KB
// parsed) takes a handful of blocks instead of thousands of allocations.
google::protobuf::ArenaOptions IngestArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 16 * 1024;
  options.max_block_size = 1024 * 1024;
  return options;
}

}  // namespace

std::unique_ptr<google::protobuf::Arena> RecordBatch::NewArena() {
  return std::make_unique<google::protobuf::Arena>(IngestArenaOptions());
}

RecordBatch RecordBatch::FromRequest(std::unique_ptr<google::protobuf::Arena> arena,
                                     v1::LogBatch* request) {
  RecordBatch batch;
  batch.arena_ = std::move(arena);
  batch.request_ = request;
  return batch;
}

const RecordBatch::Records& RecordBatch::records() const {
  static const Records* const kEmpty = new Records();
  return request_ == nullptr ? *kEmpty : request_->records();
}

v1::LogBatch* RecordBatch::request() {
  if (request_ == nullptr) {
    arena_ = NewArena();
    request_ = google::protobuf::Arena::CreateMessage<v1::LogBatch>(arena_.get());
  }
  return request_;
}

}  // namespace sluice
