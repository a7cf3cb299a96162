#include "server/common/record_batch.h"

#include <string>

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(RecordBatchTest, MemoryBytesCountsTheRecordsHeapAndIsZeroWithoutAMessage) {
  RecordBatch empty;
  EXPECT_EQ(empty.memory_bytes(), 0u);

  RecordBatch batch;
  batch.records().Add()->set_message(std::string(4000, 'x'));
  EXPECT_GE(batch.memory_bytes(), sizeof(v1::LogBatch) + sizeof(v1::LogRecord) + 4000);
}

TEST(RecordBatchTest, MemoryBytesIsRecomputedAfterTheRecordsWereChanged) {
  RecordBatch batch;
  batch.records().Add()->set_message("small");
  const size_t before = batch.memory_bytes();
  batch.records().Add()->set_message(std::string(4000, 'x'));
  EXPECT_GE(batch.memory_bytes(), before + 4000);
}

}  // namespace
}  // namespace sluice
