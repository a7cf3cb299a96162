#include "server/outputs/serialized_output.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

// Counts the hook calls and notices when two of them overlap.
class RecordingOutput final : public SerializedOutput {
 public:
  RecordingOutput() : SerializedOutput("recording/test") {}

  int starts = 0;
  int writes = 0;
  int flushes = 0;
  int shutdowns = 0;
  std::atomic<bool> overlapped{false};
  absl::Status start_status = absl::OkStatus();

 protected:
  absl::Status StartLocked() override {
    ++starts;
    return start_status;
  }
  absl::Status WriteLocked(OutputBatch& /*batch*/) override {
    if (inside_.exchange(true)) overlapped = true;
    ++writes;
    inside_ = false;
    return absl::OkStatus();
  }
  absl::Status FlushLocked(absl::Time /*deadline*/) override {
    ++flushes;
    return absl::OkStatus();
  }
  absl::Status ShutdownLocked(absl::Time /*deadline*/) override {
    ++shutdowns;
    return absl::OkStatus();
  }

 private:
  std::atomic<bool> inside_{false};
};

TEST(SerializedOutputTest, WriteBeforeStartIsRefusedWithoutCallingTheHook) {
  RecordingOutput output;
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "a");
  EXPECT_EQ(output.Write(batch).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(output.writes, 0);
}

TEST(SerializedOutputTest, StartingTwiceIsRefused) {
  RecordingOutput output;
  ASSERT_TRUE(output.Start().ok());
  EXPECT_EQ(output.Start().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(output.starts, 1);
}

TEST(SerializedOutputTest, AFailedStartCanBeShutDownWithoutCallingTheHook) {
  RecordingOutput output;
  output.start_status = absl::InternalError("no");
  EXPECT_FALSE(output.Start().ok());
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(output.shutdowns, 0);
}

TEST(SerializedOutputTest, ShutdownWithoutStartDoesNotCallTheHook) {
  RecordingOutput output;
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(output.shutdowns, 0);
  EXPECT_EQ(output.Start().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SerializedOutputTest, ShutdownTwiceCallsTheHookOnce) {
  RecordingOutput output;
  ASSERT_TRUE(output.Start().ok());
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(output.shutdowns, 1);
}

TEST(SerializedOutputTest, WriteAfterShutdownIsRefused) {
  RecordingOutput output;
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "a");
  EXPECT_EQ(output.Write(batch).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(output.writes, 0);
}

TEST(SerializedOutputTest, FlushOutsideTheStartedStateHasNothingToDo) {
  RecordingOutput output;
  EXPECT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  ASSERT_TRUE(output.Start().ok());
  EXPECT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  EXPECT_EQ(output.flushes, 1);
}

TEST(SerializedOutputTest, ABatchWithNothingAtTheLevelIsTakenWithoutCallingTheHooks) {
  RecordingOutput output;
  ASSERT_TRUE(output.Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kDebug, "a");
  EXPECT_TRUE(output.Write(batch.RouteAtLeast(Level::kInfo)).ok());
  EXPECT_EQ(output.writes, 0);
  EXPECT_EQ(batch.lines_calls(), 0);
}

TEST(SerializedOutputTest, ConcurrentWritesReachTheHookOneAtATime) {
  RecordingOutput output;
  ASSERT_TRUE(output.Start().ok());
  constexpr int kThreads = 4;
  constexpr int kWritesPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&output] {
      FakeOutputBatch batch;
      batch.Add(Level::kInfo, "a");
      for (int i = 0; i < kWritesPerThread; ++i) ASSERT_TRUE(output.Write(batch).ok());
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_FALSE(output.overlapped);
  EXPECT_EQ(output.writes, kThreads * kWritesPerThread);
}

}  // namespace
}  // namespace sluice::outputs
