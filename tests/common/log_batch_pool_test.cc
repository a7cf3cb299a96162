#include "server/common/log_batch_pool.h"

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(LogBatchPoolTest, ReturnedMessagesAreClearedAndReused) {
  LogBatchPool pool(4, 100);
  v1::LogBatch* first;
  {
    LogBatchPool::Handle batch = pool.Get();
    first = batch.get();
    batch->set_sequence(7);
    batch->add_records()->set_message("hello");
  }
  EXPECT_EQ(pool.pooled_for_test(), 1u);
  LogBatchPool::Handle again = pool.Get();
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(again->sequence(), 0u);
  EXPECT_EQ(again->records_size(), 0);
  EXPECT_EQ(pool.pooled_for_test(), 0u);
}

TEST(LogBatchPoolTest, KeepsAtMostMaxPooledMessages) {
  LogBatchPool pool(2, 100);
  {
    LogBatchPool::Handle a = pool.Get();
    LogBatchPool::Handle b = pool.Get();
    LogBatchPool::Handle c = pool.Get();
  }
  EXPECT_EQ(pool.pooled_for_test(), 2u);
}

TEST(LogBatchPoolTest, FreesMessagesThatGrewBeyondMaxRecords) {
  LogBatchPool pool(4, 10);
  {
    LogBatchPool::Handle batch = pool.Get();
    for (int i = 0; i < 11; ++i) batch->add_records();
  }
  EXPECT_EQ(pool.pooled_for_test(), 0u);
}

}  // namespace
}  // namespace sluice
