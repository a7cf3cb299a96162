// Pipeline::Prepare and Swap, as a config reload uses them: outputs added, changed, kept and
// removed while workers dispatch batches, with nothing lost and the books balanced.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/outputs/encoding_registry.h"
#include "server/pipeline/pipeline.h"
#include "tests/test_util/eventually.h"

namespace sluice::pipeline {
namespace {

// What a CountingOutput took and what was done to it, shared with the test: the pipeline
// destroys an output it let go of.
struct Counts {
  std::atomic<int64_t> records{0};
  std::atomic<int> flushes{0};
  std::atomic<int> reopens{0};
  std::atomic<bool> shut_down{false};
  std::atomic<bool> wrote_after_shutdown{false};
};

// Counts into its Counts; safe from the sender's thread and the test.
class CountingOutput : public outputs::Output {
 public:
  explicit CountingOutput(std::string id, absl::Status start_status = absl::OkStatus())
      : id_(std::move(id)), start_status_(std::move(start_status)) {}

  std::shared_ptr<Counts> counts() const { return counts_; }

  absl::string_view id() const override { return id_; }
  std::optional<outputs::EncodingId> encoding() const override { return outputs::kJsonEncoding; }
  absl::Status Start() override { return start_status_; }
  absl::Status Write(outputs::OutputBatch& batch) override {
    const absl::string_view lines = batch.Lines(outputs::kJsonEncoding);
    counts_->records.fetch_add(std::count(lines.begin(), lines.end(), '\n'));
    if (counts_->shut_down.load()) counts_->wrote_after_shutdown.store(true);
    return absl::OkStatus();
  }
  absl::Status Flush(absl::Time) override {
    counts_->flushes.fetch_add(1);
    return absl::OkStatus();
  }
  absl::Status Shutdown(absl::Time) override {
    counts_->shut_down.store(true);
    return absl::OkStatus();
  }
  absl::Status Reopen() override {
    counts_->reopens.fetch_add(1);
    return absl::OkStatus();
  }

 private:
  std::string id_;
  absl::Status start_status_;
  std::shared_ptr<Counts> counts_ = std::make_shared<Counts>();
};

constexpr int kRecordsPerBatch = 10;

RecordBatch MakeBatch() {
  RecordBatch batch;
  batch.set_received_at(absl::Now());
  for (int i = 0; i < kRecordsPerBatch; ++i) {
    v1::LogRecord* record = batch.records().Add();
    record->set_level(v1::LEVEL_INFO);
    record->set_message(absl::StrCat("m", i));
    record->set_time_unix_nano(1);
  }
  return batch;
}

Pipeline::Destination Destination(std::unique_ptr<CountingOutput> output) {
  Pipeline::Destination destination;
  destination.output = std::move(output);
  return destination;
}

Pipeline::NextOutput Kept(std::string id) { return {.keep = std::move(id), .destination = {}}; }

Pipeline::NextOutput Added(std::unique_ptr<CountingOutput> output) {
  return {.keep = "", .destination = Destination(std::move(output))};
}

bool BuffersEmpty(const Pipeline& pipeline) {
  for (const OutputSenderSnapshot& output : pipeline.Snapshot()) {
    if (output.buffer_records > 0) return false;
  }
  return true;
}

TEST(PipelineSwapTest, OutputsSwappedUnderLoadLoseNothingAndTheBooksBalance) {
  Ledger ledger;
  prometheus::Registry registry;
  OutputMetrics metrics(registry, {"file/a"});
  auto a = std::make_unique<CountingOutput>("file/a");
  const std::shared_ptr<Counts> old_a = a->counts();
  std::vector<Pipeline::Destination> destinations;
  destinations.push_back(Destination(std::move(a)));
  outputs::EncodingRegistry encodings;
  constexpr size_t kWorkers = 2;
  Pipeline pipeline(PipelineConfig{}, std::move(destinations), encodings, kWorkers, ledger,
                    &metrics);
  ASSERT_TRUE(pipeline.Start().ok());

  std::atomic<bool> stop{false};
  std::atomic<int64_t> sent{0};
  std::vector<std::thread> workers;
  for (size_t worker = 0; worker < kWorkers; ++worker) {
    workers.emplace_back([&, worker] {
      while (!stop.load()) {
        RecordBatch batch = MakeBatch();
        ledger.AddReceived(kRecordsPerBatch);
        sent.fetch_add(kRecordsPerBatch);
        pipeline.Process(worker, batch);
      }
    });
  }
  ASSERT_TRUE(test_util::Eventually([&] { return old_a->records.load() > 1000; }));

  // A changed (a new object under the same id) and B added.
  auto new_a = std::make_unique<CountingOutput>("file/a");
  auto b = std::make_unique<CountingOutput>("file/b");
  const std::shared_ptr<Counts> changed_a = new_a->counts();
  const std::shared_ptr<Counts> added_b = b->counts();
  std::vector<Pipeline::NextOutput> next;
  next.push_back(Added(std::move(new_a)));
  next.push_back(Added(std::move(b)));
  std::unique_ptr<outputs::EncodingRegistry> forked =
      encodings.Fork([](outputs::EncodingId) { return false; });
  absl::StatusOr<std::shared_ptr<Pipeline::Generation>> prepared =
      pipeline.Prepare(PipelineConfig{}, hooks::HookChain(), std::move(next), *forked);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  ASSERT_TRUE(pipeline.Swap(*std::move(prepared), absl::Now() + absl::Seconds(30)).ok());

  // Swap returned: the old A was drained, flushed and shut down.
  EXPECT_TRUE(old_a->shut_down.load());
  EXPECT_GE(old_a->flushes.load(), 1);
  const int64_t old_a_final = old_a->records.load();
  ASSERT_TRUE(test_util::Eventually([&] { return added_b->records.load() > 1000; }));
  stop.store(true);
  for (std::thread& worker : workers) worker.join();
  ASSERT_TRUE(test_util::Eventually([&] { return BuffersEmpty(pipeline); }));

  EXPECT_FALSE(old_a->wrote_after_shutdown.load());
  EXPECT_EQ(old_a->records.load(), old_a_final);
  // Every record went to A, old or new, exactly once; B has every one from the swap on.
  EXPECT_EQ(old_a_final + changed_a->records.load(), sent.load());
  EXPECT_EQ(added_b->records.load(), changed_a->records.load());
  const LedgerCounts counts = ledger.Snapshot();
  EXPECT_EQ(counts.written, static_cast<uint64_t>(sent.load()));
  EXPECT_EQ(counts.dropped, 0u);
  EXPECT_EQ(pipeline.RecordsInOutputs(), 0);
  std::vector<std::string> ids;
  for (const OutputSenderSnapshot& output : pipeline.Snapshot()) ids.push_back(output.id);
  EXPECT_THAT(ids, ::testing::ElementsAre("file/a", "file/b"));
  EXPECT_TRUE(pipeline.Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

TEST(PipelineSwapTest, KeptOutputsRunOnAndAreReopenedRemovedOnesAreShutDown) {
  Ledger ledger;
  auto a = std::make_unique<CountingOutput>("x/a");
  auto b = std::make_unique<CountingOutput>("x/b");
  const std::shared_ptr<Counts> kept = a->counts();
  const std::shared_ptr<Counts> removed = b->counts();
  std::vector<Pipeline::Destination> destinations;
  destinations.push_back(Destination(std::move(a)));
  destinations.push_back(Destination(std::move(b)));
  outputs::EncodingRegistry encodings;
  Pipeline pipeline(PipelineConfig{}, std::move(destinations), encodings, 1, ledger, nullptr);
  ASSERT_TRUE(pipeline.Start().ok());

  auto c = std::make_unique<CountingOutput>("x/c");
  const std::shared_ptr<Counts> added = c->counts();
  std::vector<Pipeline::NextOutput> next;
  next.push_back(Added(std::move(c)));
  next.push_back(Kept("x/a"));
  auto prepared =
      pipeline.Prepare(PipelineConfig{}, hooks::HookChain(), std::move(next), encodings);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  ASSERT_TRUE(pipeline.Swap(*std::move(prepared), absl::Now() + absl::Seconds(30)).ok());
  EXPECT_EQ(kept->reopens.load(), 1);
  EXPECT_FALSE(kept->shut_down.load());
  EXPECT_TRUE(removed->shut_down.load());

  RecordBatch batch = MakeBatch();
  pipeline.Process(0, batch);
  ASSERT_TRUE(test_util::Eventually([&] { return BuffersEmpty(pipeline); }));
  EXPECT_EQ(kept->records.load(), kRecordsPerBatch);
  EXPECT_EQ(added->records.load(), kRecordsPerBatch);
  EXPECT_EQ(removed->records.load(), 0);
  EXPECT_TRUE(pipeline.Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

TEST(PipelineSwapTest, AnOutputThatDoesNotStartRefusesTheSetAndNothingChanges) {
  Ledger ledger;
  auto a = std::make_unique<CountingOutput>("x/a");
  const std::shared_ptr<Counts> running = a->counts();
  std::vector<Pipeline::Destination> destinations;
  destinations.push_back(Destination(std::move(a)));
  outputs::EncodingRegistry encodings;
  Pipeline pipeline(PipelineConfig{}, std::move(destinations), encodings, 1, ledger, nullptr);
  ASSERT_TRUE(pipeline.Start().ok());

  auto good = std::make_unique<CountingOutput>("x/good");
  auto bad = std::make_unique<CountingOutput>(
      "x/bad", absl::PermissionDeniedError("cannot open /nope/x.log"));
  const std::shared_ptr<Counts> started = good->counts();
  std::vector<Pipeline::NextOutput> next;
  next.push_back(Added(std::move(good)));
  next.push_back(Added(std::move(bad)));
  auto prepared =
      pipeline.Prepare(PipelineConfig{}, hooks::HookChain(), std::move(next), encodings);
  ASSERT_FALSE(prepared.ok());
  EXPECT_THAT(prepared.status().message(), ::testing::HasSubstr("x/bad: cannot open /nope/x.log"));
  EXPECT_TRUE(started->shut_down.load());

  RecordBatch batch = MakeBatch();
  pipeline.Process(0, batch);
  ASSERT_TRUE(test_util::Eventually([&] { return BuffersEmpty(pipeline); }));
  EXPECT_EQ(running->records.load(), kRecordsPerBatch);
  EXPECT_FALSE(running->shut_down.load());
  EXPECT_EQ(pipeline.Snapshot().size(), 1u);
  EXPECT_TRUE(pipeline.Shutdown(absl::Now() + absl::Seconds(5)).ok());
}

TEST(PipelineSwapTest, AKeptIdThatIsNotRunningIsRefused) {
  Ledger ledger;
  outputs::EncodingRegistry encodings;
  Pipeline pipeline(PipelineConfig{}, {}, encodings, 1, ledger, nullptr);
  ASSERT_TRUE(pipeline.Start().ok());
  std::vector<Pipeline::NextOutput> next;
  next.push_back(Kept("x/ghost"));
  auto prepared =
      pipeline.Prepare(PipelineConfig{}, hooks::HookChain(), std::move(next), encodings);
  EXPECT_EQ(prepared.status().code(), absl::StatusCode::kNotFound);
}

TEST(EncodingRegistryForkTest, KeepsIdsAndFreesRetiredNamesButNotBuiltIns) {
  outputs::EncodingRegistry registry;
  auto own = registry.Add(
      "syslog/main", [] { return outputs::EncodingRegistry().NewEncoder(outputs::kTextEncoding); });
  ASSERT_TRUE(own.ok());
  auto fork = registry.Fork([](outputs::EncodingId) { return true; });
  EXPECT_EQ(fork->size(), registry.size());
  EXPECT_TRUE(fork->Find("json").ok());
  EXPECT_FALSE(fork->Find("syslog/main").ok());
  auto again = fork->Add(
      "syslog/main", [] { return outputs::EncodingRegistry().NewEncoder(outputs::kTextEncoding); });
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *own);
  EXPECT_NE(fork->NewEncoder(*own), nullptr);
}

}  // namespace
}  // namespace sluice::pipeline
