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

TEST(RecordBatchTest, HandsItsMeasurementToThePoolUntilTheRecordsMayChange) {
  LogBatchPool pool(LogBatchPool::Limits{});
  RecordBatch batch = RecordBatch::FromRequest(pool.Get());
  batch.records().Add()->set_message(std::string(4000, 'x'));
  const size_t bytes = batch.memory_bytes();
  // Moving the batch keeps the message, and with it the measurement.
  RecordBatch moved = std::move(batch);
  EXPECT_EQ(moved.memory_bytes(), bytes);
  moved = RecordBatch();  // back to the pool, without a second walk
  EXPECT_EQ(pool.pooled_bytes_for_test(), bytes);

  RecordBatch changed = RecordBatch::FromRequest(pool.Get());
  changed.records().Add()->set_message("small");
  (void)changed.memory_bytes();
  changed.records().Add()->set_message(std::string(8000, 'y'));  // after the measurement
  changed = RecordBatch();
  // The pool walked the message itself and saw the second record.
  EXPECT_GE(pool.pooled_bytes_for_test(), bytes + 8000);
}

}  // namespace
}  // namespace sluice
