// The records the formatting and post-hook micro-benchmarks (format_bench, hook_bench) run
// on: a logger, a 70-byte message with a card number in it, and four typed fields, one
// record in `odd_every` at `odd_level` and the rest INFO. One generator, so that the two
// benchmarks' numbers are about the same records.
#ifndef SLUICE_BENCH_BENCH_RECORDS_H_
#define SLUICE_BENCH_BENCH_RECORDS_H_

#include <cstdint>

#include "server/common/record_batch.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::bench {

inline constexpr int kBatchRecords = 256;

// Appends kBatchRecords records to `batch`.
inline void AppendBenchRecords(RecordBatch& batch, int odd_every, v1::Level odd_level) {
  for (int i = 0; i < kBatchRecords; ++i) {
    v1::LogRecord& record = *batch.records().Add();
    record.set_time_unix_nano(1'795'000'000'000'000'000 + static_cast<uint64_t>(i) * 1000);
    record.set_level(i % odd_every == 0 ? odd_level : v1::LEVEL_INFO);
    record.set_logger("checkout.payment");
    record.set_message("charged card ending 4242 for order 981273, 3 items, total 42.17 EUR");
    v1::Field* user = record.add_fields();
    user->set_key("user");
    user->set_string_value("ada@example.com");
    v1::Field* attempt = record.add_fields();
    attempt->set_key("attempt");
    attempt->set_int_value(i);
    v1::Field* latency = record.add_fields();
    latency->set_key("latency_ms");
    latency->set_double_value(12.5 + i);
    v1::Field* retried = record.add_fields();
    retried->set_key("retried");
    retried->set_bool_value(i % 2 == 0);
  }
}

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_BENCH_RECORDS_H_
