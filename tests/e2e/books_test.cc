// The books of a real sluiced balance with every term in play:
//
//   received = filtered + rejected + dropped + dropped_by_hook + unrouted + written +
//              in_flight
//
// One scenario per overflow policy that drops (drop_newest, drop_oldest: the policy is
// server-wide, so one run each). Each run has a held output (a file output on a FIFO that
// the test does not read, so a worker blocks in its write), a failing output (/dev/full,
// for ERROR records only), records below the level threshold, invalid and oversized records,
// and a channel that overflows. The balance is checked while the output is held, with
// records in flight, and again after the test reads the FIFO and everything drained.
// in_flight comes from the scheduler's channels (GetStats), not from the other counts, so a
// record counted twice or not at all fails the test.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "tests/e2e/admin_stats.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

// One worker, and a held output whose buffer takes one batch, so one held write holds
// everything behind it; a channel of 60 records, so a second batch of 50 overflows it. The
// full disk is retried briefly, then its records are dropped. Acks at `accepted`: a held output
// must not hold the client. Records over 4 KiB are rejected.
constexpr char kConfig[] = R"(
ingest: { ack_on: accepted, max_record_bytes: 4096 }
levels: { default: info }
scheduler: { workers: 1, channel_capacity: 60, overflow: $POLICY }
outputs:
  - { type: file, name: held, path: "$FIFO", format: text, buffer_bytes: 0, buffer: { max_records: 1 } }
  - type: file
    name: full
    path: /dev/full
    format: text
    buffer_bytes: 0
    level: error
    retry: { initial_backoff: 1ms, max_backoff: 1ms, max_elapsed: 20ms }
)";

// The FIFO's buffer: the smallest Linux allows, one page. A few of the 1500-byte records of
// the blocking batch fill it, and the server's write to it then waits for a reader.
constexpr int kPipeBytes = 4096;
constexpr int kLongMessageBytes = 1500;
constexpr int kOversizeMessageBytes = 8000;
constexpr absl::Duration kCallDeadline = absl::Seconds(60);

class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  const int fd_;
};

v1::LogRecord Record(v1::Level level, const std::string& message) {
  v1::LogRecord record;
  record.set_level(level);
  record.set_logger("books");
  record.set_message(message);
  return record;
}

void AddRecords(v1::LogBatch& batch, int count, v1::Level level, const std::string& message) {
  for (int i = 0; i < count; ++i) *batch.add_records() = Record(level, message);
}

// Sends `batch` on a PushBatches call of its own and waits until the server answered it,
// with an ack or by ending the call: either way its records are counted by then.
grpc::Status SendBatch(const SluicedProcess& server, v1::LogBatch batch) {
  auto stub = v1::LogService::NewStub(
      grpc::CreateChannel(server.ingest_target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  auto stream = stub->PushBatches(&context);
  batch.set_sequence(1);
  v1::PushAck ack;
  if (stream->Write(batch)) stream->Read(&ack);
  stream->WritesDone();
  while (stream->Read(&ack)) {
  }
  return stream->Finish();
}

struct Books {
  uint64_t received, filtered, rejected, dropped_overflow, dropped_output_failed, written,
      in_flight;
};

void ExpectBooks(const v1::GetStatsResponse& stats, const Books& expected) {
  const v1::Counts& counts = stats.counts();
  SCOPED_TRACE(stats.DebugString());
  EXPECT_EQ(counts.received(), counts.filtered() + counts.rejected() + counts.dropped() +
                                   counts.dropped_by_hook() + counts.unrouted() + counts.written() +
                                   counts.in_flight());
  // Every record goes to the held output (routes_test.cc has unrouted ones).
  EXPECT_EQ(counts.unrouted(), 0u);
  EXPECT_EQ(counts.dropped(), counts.dropped_overflow() + counts.dropped_output_failed());
  EXPECT_EQ(counts.received(), expected.received);
  EXPECT_EQ(counts.filtered(), expected.filtered);
  EXPECT_EQ(counts.rejected(), expected.rejected);
  EXPECT_EQ(counts.dropped_overflow(), expected.dropped_overflow);
  EXPECT_EQ(counts.dropped_output_failed(), expected.dropped_output_failed);
  EXPECT_EQ(counts.written(), expected.written);
  EXPECT_EQ(counts.in_flight(), expected.in_flight);
  // in_flight is the sum of what the workers hold, which GetStats also lists.
  uint64_t held = 0;
  for (const v1::WorkerStats& worker : stats.workers()) {
    held += worker.queue_depth() + worker.parked_records() + worker.processing_records();
  }
  // And the outputs' buffers: here no batch is in two of them at once.
  for (const v1::OutputStats& output : stats.outputs()) held += output.buffer_records();
  EXPECT_EQ(counts.in_flight(), held);
}

struct Scenario {
  const char* policy;
  // While the output is held: the blocking batch (10, in the held output's buffer), the
  // next (10, on the worker) and the one queued behind them (50) are in flight; the
  // overflow dropped 50.
  Books held;
  // After the output let go: what was in flight is written or, for the ERROR records the
  // failing output takes, dropped.
  Books drained;
};

// Names the scenario in test output instead of dumping its bytes.
void PrintTo(const Scenario& scenario, std::ostream* out) { *out << scenario.policy; }

class BooksTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(BooksTest, BalanceWithEveryTermWhileAnOutputIsHeldAndAfterItDrains) {
  const Scenario& scenario = GetParam();
  TempDir fifo_dir;
  const std::string fifo = fifo_dir.file("held.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opened before the server so that its open(O_WRONLY) finds a reader and returns.
  const ScopedFd reader(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_GE(reader.get(), 0);
  ASSERT_GE(::fcntl(reader.get(), F_SETPIPE_SZ, kPipeBytes), kPipeBytes);
  absl::StatusOr<std::unique_ptr<SluicedProcess>> started = SluicedProcess::Start(
      absl::StrReplaceAll(kConfig, {{"$FIFO", fifo}, {"$POLICY", scenario.policy}}));
  ASSERT_TRUE(started.ok()) << started.status();
  SluicedProcess& server = **started;
  absl::StatusOr<v1::GetStatsResponse> stats;

  // 1. Written, and lost by the failing output: 10 INFO pass, 5 ERROR fail at /dev/full.
  v1::LogBatch first;
  AddRecords(first, 10, v1::LEVEL_INFO, "written");
  AddRecords(first, 5, v1::LEVEL_ERROR, "lost by /dev/full");
  EXPECT_TRUE(SendBatch(server, first).ok());
  ASSERT_TRUE(Await([&] {
    stats = GetStats(server);
    return stats.ok() && stats->counts().written() + stats->counts().dropped() >= 15;
  })) << (stats.ok() ? stats->DebugString() : stats.status().ToString());

  // 2. Held: ten records that do not fit the FIFO's buffer; the held output's sender blocks
  //    writing them, and its buffer (one batch) is full...
  v1::LogBatch blocking;
  AddRecords(blocking, 10, v1::LEVEL_INFO, std::string(kLongMessageBytes, 'h'));
  EXPECT_TRUE(SendBatch(server, blocking).ok());
  ASSERT_TRUE(Await([&] {
    stats = GetStats(server);
    return stats.ok() && stats->outputs_size() == 2 && stats->outputs(0).buffer_records() == 10;
  })) << (stats.ok() ? stats->DebugString() : stats.status().ToString());
  //    ...so the worker blocks with the next ten, waiting for room in that buffer.
  EXPECT_TRUE(SendBatch(server, blocking).ok());
  ASSERT_TRUE(Await([&] {
    stats = GetStats(server);
    return stats.ok() && stats->workers_size() == 1 && stats->workers(0).processing_records() == 10;
  })) << (stats.ok() ? stats->DebugString() : stats.status().ToString());

  // 3. Queued behind it: 40 INFO and 10 ERROR admitted, 5 DEBUG filtered, 3 with an invalid
  //    level and 2 over max_record_bytes rejected.
  v1::LogBatch queued;
  AddRecords(queued, 40, v1::LEVEL_INFO, "queued");
  AddRecords(queued, 10, v1::LEVEL_ERROR, "queued error");
  AddRecords(queued, 5, v1::LEVEL_DEBUG, "filtered");
  AddRecords(queued, 3, static_cast<v1::Level>(42), "invalid level");
  AddRecords(queued, 2, v1::LEVEL_INFO, std::string(kOversizeMessageBytes, 'x'));
  EXPECT_TRUE(SendBatch(server, queued).ok());

  // 4. Overflow: 50 more do not fit beside the 50 queued. drop_newest drops these,
  //    drop_oldest evicts the queued batch for them. The call may end with
  //    RESOURCE_EXHAUSTED for a dropped batch; the books are what this test reads.
  v1::LogBatch overflowing;
  AddRecords(overflowing, 50, v1::LEVEL_INFO, "overflowing");
  const grpc::Status overflowed = SendBatch(server, overflowing);
  EXPECT_TRUE(overflowed.ok() || overflowed.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
      << overflowed.error_message();

  // Nothing moves while the output is held: the books balance with records in flight.
  ASSERT_TRUE(Await([&] {
    stats = GetStats(server);
    return stats.ok() && stats->counts().received() == scenario.held.received &&
           stats->counts().dropped_overflow() == scenario.held.dropped_overflow;
  })) << (stats.ok() ? stats->DebugString() : stats.status().ToString());
  {
    SCOPED_TRACE("while the output is held");
    ExpectBooks(*stats, scenario.held);
    // The point of the scenario: no term of the balance is trivially zero.
    const v1::Counts& counts = stats->counts();
    for (uint64_t term : {counts.filtered(), counts.rejected(), counts.dropped_overflow(),
                          counts.dropped_output_failed(), counts.written(), counts.in_flight()}) {
      EXPECT_GT(term, 0u);
    }
  }

  // Let the output go: read the FIFO until the server closes its end at exit.
  std::thread drain([fd = reader.get()] {
    ::fcntl(fd, F_SETFL, 0);
    char buffer[65536];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n == 0 || (n < 0 && errno != EINTR)) return;
    }
  });
  const bool drained = Await([&] {
    stats = GetStats(server);
    return stats.ok() && stats->counts().in_flight() == 0 &&
           stats->counts().written() + stats->counts().dropped_output_failed() ==
               scenario.drained.written + scenario.drained.dropped_output_failed;
  });
  EXPECT_TRUE(drained) << (stats.ok() ? stats->DebugString() : stats.status().ToString());
  if (drained) {
    SCOPED_TRACE("after the output drained");
    ExpectBooks(*stats, scenario.drained);
  }
  EXPECT_TRUE(server.Terminate().ok());
  const absl::StatusOr<int> exit_code = server.WaitForExit();
  EXPECT_TRUE(exit_code.ok() && *exit_code == 0) << server.Stderr();
  if (!exit_code.ok()) started->reset();  // kills it, which ends the drain thread's read
  drain.join();
}

// received 145 = 15 + 10 + 10 + 60 + 50; filtered 5 and rejected 5, both from the third batch.
INSTANTIATE_TEST_SUITE_P(
    OverflowPolicies, BooksTest,
    ::testing::Values(
        // The overflowing batch is dropped; the queued one is written, its ERRORs lost.
        Scenario{"drop_newest",
                 {.received = 145,
                  .filtered = 5,
                  .rejected = 5,
                  .dropped_overflow = 50,
                  .dropped_output_failed = 5,
                  .written = 10,
                  .in_flight = 70},
                 {.received = 145,
                  .filtered = 5,
                  .rejected = 5,
                  .dropped_overflow = 50,
                  .dropped_output_failed = 15,
                  .written = 70,
                  .in_flight = 0}},
        // The queued batch is evicted; the overflowing one takes its place and is written.
        Scenario{"drop_oldest",
                 {.received = 145,
                  .filtered = 5,
                  .rejected = 5,
                  .dropped_overflow = 50,
                  .dropped_output_failed = 5,
                  .written = 10,
                  .in_flight = 70},
                 {.received = 145,
                  .filtered = 5,
                  .rejected = 5,
                  .dropped_overflow = 50,
                  .dropped_output_failed = 5,
                  .written = 80,
                  .in_flight = 0}}),
    [](const ::testing::TestParamInfo<Scenario>& info) { return std::string(info.param.policy); });

}  // namespace
}  // namespace sluice::e2e
