#include "server/common/log_batch_pool.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice {
namespace {

LogBatchPool::Limits CountLimits(size_t max_pooled, int max_records) {
  LogBatchPool::Limits limits;
  limits.max_pooled = max_pooled;
  limits.max_records = max_records;
  return limits;
}

void AddRecords(v1::LogBatch& batch, int records, size_t message_bytes) {
  for (int i = 0; i < records; ++i) {
    batch.add_records()->set_message(std::string(message_bytes, 'x'));
  }
}

// What a message of `records` records of `message_bytes` each measures.
size_t BytesOf(int records, size_t message_bytes) {
  v1::LogBatch batch;
  AddRecords(batch, records, message_bytes);
  return LogBatchPool::MemoryBytes(batch);
}

TEST(LogBatchPoolTest, AnOtlpOriginCountsWithItsKeysAndBody) {
  v1::LogBatch batch;
  AddRecords(batch, 1, 10);
  const size_t without = LogBatchPool::MemoryBytes(batch);
  v1::OtlpOrigin& origin = *batch.mutable_records(0)->mutable_otlp();
  origin.set_severity_number(10);
  const size_t bare_origin = LogBatchPool::MemoryBytes(batch);
  EXPECT_GE(bare_origin, without + sizeof(v1::OtlpOrigin));
  origin.set_resource_keys(std::string(1000, 'k'));
  origin.set_body(std::string(2000, 'b'));
  EXPECT_GE(LogBatchPool::MemoryBytes(batch), bare_origin + 3000);
}

TEST(LogBatchPoolTest, ReturnedMessagesAreClearedAndReused) {
  LogBatchPool pool(CountLimits(4, 100));
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
  LogBatchPool pool(CountLimits(2, 100));
  {
    LogBatchPool::Handle a = pool.Get();
    LogBatchPool::Handle b = pool.Get();
    LogBatchPool::Handle c = pool.Get();
  }
  EXPECT_EQ(pool.pooled_for_test(), 2u);
}

TEST(LogBatchPoolTest, FreesMessagesThatGrewBeyondMaxRecords) {
  LogBatchPool pool(CountLimits(4, 10));
  {
    LogBatchPool::Handle batch = pool.Get();
    for (int i = 0; i < 11; ++i) batch->add_records();
  }
  EXPECT_EQ(pool.pooled_for_test(), 0u);
}

TEST(LogBatchPoolTest, FreesAMessageWhoseStringsGrewBeyondMaxMessageBytes) {
  LogBatchPool::Limits limits;
  limits.max_message_bytes = 64 * 1024;
  LogBatchPool pool(limits);
  {
    // Three records, far below max_records, but one large string.
    LogBatchPool::Handle batch = pool.Get();
    AddRecords(*batch, 2, 10);
    AddRecords(*batch, 1, 100 * 1024);
  }
  EXPECT_EQ(pool.pooled_for_test(), 0u);
  EXPECT_EQ(pool.pooled_bytes_for_test(), 0u);
}

TEST(LogBatchPoolTest, RecyclesOrdinaryMessagesAfterABurstOfLargeOnes) {
  LogBatchPool::Limits limits;
  limits.max_message_bytes = 64 * 1024;
  LogBatchPool pool(limits);
  {
    std::vector<LogBatchPool::Handle> burst;
    for (int i = 0; i < 8; ++i) {
      burst.push_back(pool.Get());
      AddRecords(*burst.back(), 100, 1024);  // ~100 KiB each
    }
  }
  EXPECT_EQ(pool.pooled_for_test(), 0u);
  v1::LogBatch* ordinary;
  {
    LogBatchPool::Handle batch = pool.Get();
    ordinary = batch.get();
    AddRecords(*batch, 100, 50);
  }
  EXPECT_EQ(pool.pooled_for_test(), 1u);
  EXPECT_EQ(pool.Get().get(), ordinary);
}

TEST(LogBatchPoolTest, RemembersWhatARecycledMessageRetainsOnceItCarriesLess) {
  LogBatchPool pool(LogBatchPool::Limits{});
  {
    LogBatchPool::Handle batch = pool.Get();
    AddRecords(*batch, 50, 2000);
  }
  const size_t retained = pool.pooled_bytes_for_test();
  EXPECT_GE(retained, BytesOf(50, 2000));
  {
    // The cleared records keep their strings' capacity: the message is as large as before,
    // though a walk of its one record would see little of it.
    LogBatchPool::Handle batch = pool.Get();
    EXPECT_EQ(pool.pooled_bytes_for_test(), 0u);
    AddRecords(*batch, 1, 10);
    EXPECT_LT(LogBatchPool::MemoryBytes(*batch), retained / 10);
  }
  EXPECT_EQ(pool.pooled_bytes_for_test(), retained);
}

TEST(LogBatchPoolTest, TrustsTheMeasurementTheHandleCarriesInsteadOfWalkingAgain) {
  LogBatchPool::Limits limits;
  limits.max_message_bytes = 64 * 1024;
  LogBatchPool pool(limits);
  {
    LogBatchPool::Handle batch = pool.Get();
    AddRecords(*batch, 1, 10);
    batch.get_deleter().measured = 100 * 1024;  // as if the batch had measured that much
  }
  EXPECT_EQ(pool.pooled_for_test(), 0u);
}

TEST(LogBatchPoolTest, KeepsAtMostMaxPooledBytesInTotal) {
  const size_t one = BytesOf(20, 1000);
  LogBatchPool::Limits limits;
  limits.max_pooled_bytes = 2 * one + one / 2;
  LogBatchPool pool(limits);
  {
    std::vector<LogBatchPool::Handle> batches;
    for (int i = 0; i < 4; ++i) {
      batches.push_back(pool.Get());
      AddRecords(*batches.back(), 20, 1000);
    }
  }
  EXPECT_EQ(pool.pooled_for_test(), 2u);
  EXPECT_LE(pool.pooled_bytes_for_test(), limits.max_pooled_bytes);
  EXPECT_GE(pool.pooled_bytes_for_test(), 2 * one);
}

TEST(LogBatchPoolTest, MemoryBytesCountsStringCapacitiesAndFieldsNotUnsetStrings) {
  v1::LogBatch batch;
  const size_t empty = LogBatchPool::MemoryBytes(batch);
  EXPECT_EQ(empty, sizeof(v1::LogBatch));

  v1::LogRecord* record = batch.add_records();
  const size_t bare = LogBatchPool::MemoryBytes(batch);
  EXPECT_GE(bare, empty + sizeof(v1::LogRecord));
  // Unset strings point at a shared default: a record of a few bytes on the wire costs
  // its object, not four strings.
  EXPECT_LT(bare, empty + sizeof(v1::LogRecord) + 4 * sizeof(std::string));

  record->set_message(std::string(5000, 'm'));
  const size_t with_message = LogBatchPool::MemoryBytes(batch);
  EXPECT_GE(with_message, bare + 5000);

  v1::Field* field = record->add_fields();
  field->set_key("k");
  field->set_string_value(std::string(3000, 'v'));
  EXPECT_GE(LogBatchPool::MemoryBytes(batch), with_message + sizeof(v1::Field) + 3000);
}

}  // namespace
}  // namespace sluice
