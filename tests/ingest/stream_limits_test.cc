// Stream-level protection of the ingest calls: the per-peer and server-wide stream limits,
// the idle timeout, the retry details of refusals, and reactors that outlive every
// callback that can reach them (a stress of short, cancelled calls racing deliveries).
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "server/ingest/ingest_context.h"
#include "server/ingest/log_service.h"
#include "server/ingest/reactor_lifetime.h"
#include "tests/ingest/ingest_fixture.h"
#include "tests/test_util/eventually.h"

namespace sluice::ingest {
namespace {

using test_util::Eventually;
using ::testing::HasSubstr;
using Fixture = IngestFixture<LogService, v1::LogService>;

v1::LogRecord Record(const std::string& message) {
  v1::LogRecord record;
  record.set_level(v1::LEVEL_INFO);
  record.set_logger("demo");
  record.set_message(message);
  return record;
}

v1::LogBatch Batch(uint64_t sequence, int records) {
  v1::LogBatch batch;
  batch.set_sequence(sequence);
  for (int i = 0; i < records; ++i) *batch.add_records() = Record(absl::StrCat(sequence, ":", i));
  return batch;
}

// The RetryInfo delay of a status's google.rpc.Status details; -1 without one.
int64_t RetryDelayMs(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return -1;
  EXPECT_EQ(details.code(), static_cast<int32_t>(status.error_code()));
  for (const google::protobuf::Any& detail : details.details()) {
    google::rpc::RetryInfo retry;
    if (detail.UnpackTo(&retry)) {
      return retry.retry_delay().seconds() * 1000 + retry.retry_delay().nanos() / 1000000;
    }
  }
  return -1;
}

TEST(StreamLimiterTest, EachPeerGetsItsOwnShareOfTheServerLimit) {
  const auto shared = std::make_shared<StreamLimiter>(/*max_streams=*/3,
                                                      /*max_streams_per_peer=*/2);
  StreamLimiter& limiter = *shared;
  StreamRefusal refusal;
  StreamSlot a1 = limiter.TryOpen("ipv4:10.0.0.1:1000", refusal);
  StreamSlot a2 = limiter.TryOpen("ipv4:10.0.0.1:1001", refusal);
  EXPECT_TRUE(a1.held());
  EXPECT_TRUE(a2.held());
  EXPECT_FALSE(limiter.TryOpen("ipv4:10.0.0.1:1002", refusal).held());
  EXPECT_EQ(refusal, StreamRefusal::kPeerFull);

  StreamSlot b1 = limiter.TryOpen("ipv4:10.0.0.2:1000", refusal);
  EXPECT_TRUE(b1.held());
  EXPECT_FALSE(limiter.TryOpen("ipv4:10.0.0.3:1000", refusal).held());
  EXPECT_EQ(refusal, StreamRefusal::kServerFull);
  EXPECT_EQ(limiter.open_streams(), 3u);

  a1 = StreamSlot();  // counted out when the slot goes
  EXPECT_EQ(limiter.open_streams(), 2u);
  EXPECT_TRUE(limiter.TryOpen("ipv4:10.0.0.1:1003", refusal).held());
  EXPECT_EQ(limiter.open_streams(), 2u);  // the temporary slot was freed again
}

TEST(StreamLimiterTest, ASlotKeepsItsLimiterAliveUntilItCloses) {
  // A reactor may be deleted after the server's ingest context is gone (a cancelled
  // alarm's callback, a parked batch released with the scheduler); its slot still closes.
  auto limiter = std::make_shared<StreamLimiter>(/*max_streams=*/2, /*max_streams_per_peer=*/2);
  const std::weak_ptr<StreamLimiter> watch = limiter;
  StreamRefusal refusal;
  StreamSlot slot = limiter->TryOpen("ipv4:127.0.0.1:1000", refusal);
  ASSERT_TRUE(slot.held());
  limiter.reset();
  EXPECT_FALSE(watch.expired());
  slot = StreamSlot();
  EXPECT_TRUE(watch.expired());
}

TEST(LogServiceLimitsTest, OnePeerCannotTakeEveryStream) {
  FixtureOptions options;
  options.limits.max_concurrent_streams = 10;
  options.limits.max_streams_per_peer = 2;
  Fixture fixture(options);
  grpc::ClientContext first_context;
  grpc::ClientContext second_context;
  auto first = fixture.stub().PushBatches(&first_context);
  auto second = fixture.stub().PushBatches(&second_context);
  v1::PushAck ack;
  for (auto* stream : {first.get(), second.get()}) {
    ASSERT_TRUE(stream->Write(Batch(1, 1)));
    ASSERT_TRUE(stream->Read(&ack));
  }

  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  writer->Write(Record("third"));
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("ingest.max_streams_per_peer"));
  EXPECT_EQ(RetryPushback(context), "250");
  EXPECT_EQ(RetryDelayMs(status), 250);
  EXPECT_EQ(CounterValue(fixture.registry(), "sluice_ingest_calls_refused_total", "reason",
                         "too_many_peer_streams"),
            1);
  EXPECT_EQ(fixture.context().streams->open_streams(), 2u);

  for (auto* stream : {first.get(), second.get()}) {
    stream->WritesDone();
    EXPECT_FALSE(stream->Read(&ack));
    EXPECT_TRUE(stream->Finish().ok());
  }
  EXPECT_TRUE(Eventually([&] { return fixture.context().streams->open_streams() == 0; }));
}

TEST(LogServiceLimitsTest, DrainingRefusalCarriesRetryInfoForOtlpStyleClients) {
  Fixture fixture(FixtureOptions{});
  fixture.intake().Close();
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(RetryDelayMs(status), 1000);
  EXPECT_EQ(RetryPushback(context), "1000");
}

TEST(LogServiceLimitsTest, IdlePushBatchesStreamGetsItsOwedAcksThenUnavailable) {
  FixtureOptions options;
  options.limits.stream_idle_timeout = absl::Milliseconds(200);
  Fixture fixture(options);
  fixture.processor().Hold();
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  ASSERT_TRUE(stream->Write(Batch(7, 3)));
  ASSERT_TRUE(fixture.processor().AwaitEntered(1));
  // The client sends nothing more: the timeout ends the stream while its ack is owed.
  ASSERT_TRUE(Eventually([&] {
    return CounterValue(fixture.registry(), "sluice_ingest_streams_idle_closed_total", "rpc",
                        "PushBatches") == 1;
  }));
  fixture.processor().Release();

  v1::PushAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 7u);
  EXPECT_EQ(ack.accepted(), 3u);
  EXPECT_FALSE(stream->Read(&ack));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("ingest.stream_idle_timeout"));
  EXPECT_TRUE(Eventually([&] { return fixture.context().streams->open_streams() == 0; }));
}

TEST(LogServiceLimitsTest, ABusyStreamIsNotIdle) {
  FixtureOptions options;
  // Margins that hold on a loaded machine: a message every ~20 ms against a 1 s timeout.
  options.limits.stream_idle_timeout = absl::Seconds(1);
  Fixture fixture(options);
  grpc::ClientContext context;
  auto stream = fixture.stub().PushBatches(&context);
  v1::PushAck ack;
  // Two timeouts' worth of messages, each well within the timeout of the one before.
  const absl::Time until = absl::Now() + absl::Milliseconds(2200);
  uint64_t sequence = 0;
  while (absl::Now() < until) {
    ASSERT_TRUE(stream->Write(Batch(++sequence, 1)));
    ASSERT_TRUE(stream->Read(&ack));
    absl::SleepFor(absl::Milliseconds(20));
  }
  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(CounterValue(fixture.registry(), "sluice_ingest_streams_idle_closed_total", "rpc",
                         "PushBatches"),
            0);
}

TEST(LogServiceLimitsTest, IdlePushStreamEndsWithItsSummary) {
  FixtureOptions options;
  options.limits.stream_idle_timeout = absl::Milliseconds(200);
  Fixture fixture(options);
  grpc::ClientContext context;
  v1::PushSummary summary;
  auto writer = fixture.stub().Push(&context, &summary);
  ASSERT_TRUE(writer->Write(Record("then silence")));
  ASSERT_TRUE(Eventually([&] {
    return CounterValue(fixture.registry(), "sluice_ingest_streams_idle_closed_total", "rpc",
                        "Push") == 1;
  }));
  const grpc::Status status = writer->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.received(), 1u);
  EXPECT_EQ(summary.accepted(), 1u);
  EXPECT_TRUE(Eventually([&] { return fixture.context().streams->open_streams() == 0; }));
}

class CountedReactor : public ReactorLifetime {
 public:
  explicit CountedReactor(std::atomic<int>& deleted) : deleted_(deleted) {}
  ~CountedReactor() override { ++deleted_; }
  ReactorRef TakeRef() { return Ref(); }
  void OnDone() { ReleaseGrpcRef(); }

 private:
  std::atomic<int>& deleted_;
};

TEST(ReactorLifetimeTest, DeletedOnlyOnceGrpcAndEveryCallbackAreDone) {
  std::atomic<int> deleted{0};
  auto* reactor = new CountedReactor(deleted);
  ReactorRef delivery = reactor->TakeRef();
  ReactorRef copy = delivery;
  reactor->OnDone();
  EXPECT_EQ(deleted, 0);
  delivery.reset();
  EXPECT_EQ(deleted, 0);
  ReactorRef moved = std::move(copy);
  copy.reset();  // moved from: holds nothing
  EXPECT_EQ(deleted, 0);
  moved.reset();
  EXPECT_EQ(deleted, 1);
}

// Many short calls that end every way a call can end — half-closed, cancelled with records
// in flight, cancelled before anything was sent — while workers deliver their batches and
// batch alarms fire. Under AddressSanitizer, a reactor freed before its last callback shows
// up here as a heap-use-after-free.
TEST(ReactorLifetimeTest, ShortAndCancelledCallsNeverOutliveTheirReactors) {
  FixtureOptions options;
  options.max_batch_records = 2;
  options.max_batch_delay = absl::Microseconds(200);
  options.channel_capacity = 4;  // so that some batches are parked
  options.limits.ack_on = DeliveryStage::kWritten;
  Fixture fixture(options);
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 60;
  std::atomic<int> calls{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        grpc::ClientContext context;
        const int how = (t + i) % 4;
        if (how < 2) {
          v1::PushSummary summary;
          auto writer = fixture.stub().Push(&context, &summary);
          for (int r = 0; r < 3; ++r) writer->Write(Record("r"));
          if (how == 0) {
            writer->WritesDone();
          } else {
            context.TryCancel();
          }
          writer->Finish();
        } else {
          auto stream = fixture.stub().PushBatches(&context);
          if (how == 2) stream->Write(Batch(1, 3));
          context.TryCancel();
          stream->Finish();
        }
        ++calls;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(calls, kThreads * kCallsPerThread);
  // Every call, however it ended, gave its stream slot back.
  EXPECT_TRUE(Eventually([&] { return fixture.context().streams->open_streams() == 0; }));
}

}  // namespace
}  // namespace sluice::ingest
