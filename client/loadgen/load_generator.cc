#include "client/loadgen/load_generator.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "sluice/channel_credentials.h"
#include "sluice/v1/logs.grpc.pb.h"

namespace sluice::loadgen {
namespace {

namespace otlp_collector = opentelemetry::proto::collector::logs::v1;
namespace otlp_logs = opentelemetry::proto::logs::v1;
namespace otlp_common = opentelemetry::proto::common::v1;

constexpr char kLogger[] = "bench.checkout.api";

std::string RealisticMessage(int message_bytes, int index) {
  std::string message = absl::StrCat("GET /api/v1/orders/", 100000 + index,
                                     " completed for customer c-", 4200 + index % 97, ": ");
  const std::string filler = "order lines priced, stock reserved, payment authorized; ";
  while (static_cast<int>(message.size()) < message_bytes) message += filler;
  message.resize(static_cast<size_t>(message_bytes));
  return message;
}

v1::LogRecord RealisticRecord(int message_bytes, int index) {
  v1::LogRecord record;
  record.set_time_unix_nano(static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  record.set_level(v1::LEVEL_INFO);
  record.set_logger(kLogger);
  record.set_message(RealisticMessage(message_bytes, index));
  auto add = [&record](const char* key) {
    v1::Field* field = record.add_fields();
    field->set_key(key);
    return field;
  };
  add("user_id")->set_string_value(absl::StrCat("u-", 7000 + index % 1000));
  add("status")->set_int_value(200);
  add("latency_ms")->set_double_value(12.5 + index % 10);
  add("cached")->set_bool_value(index % 2 == 0);
  return record;
}

// The same record as RealisticRecord, in OTLP: the logger is the request's one scope.
void AddRealisticOtlpRecord(int message_bytes, int index, otlp_logs::LogRecord& record) {
  const uint64_t now = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  record.set_time_unix_nano(now);
  record.set_observed_time_unix_nano(now);
  record.set_severity_number(otlp_logs::SEVERITY_NUMBER_INFO);
  record.set_severity_text("INFO");
  record.mutable_body()->set_string_value(RealisticMessage(message_bytes, index));
  auto add = [&record](const char* key) {
    otlp_common::KeyValue* attribute = record.add_attributes();
    attribute->set_key(key);
    return attribute->mutable_value();
  };
  add("user_id")->set_string_value(absl::StrCat("u-", 7000 + index % 1000));
  add("status")->set_int_value(200);
  add("latency_ms")->set_double_value(12.5 + index % 10);
  add("cached")->set_bool_value(index % 2 == 0);
}

otlp_collector::ExportLogsServiceRequest RealisticExport(int message_bytes, int records,
                                                         int first_index) {
  otlp_collector::ExportLogsServiceRequest request;
  otlp_logs::ResourceLogs* resource_logs = request.add_resource_logs();
  otlp_common::KeyValue* service = resource_logs->mutable_resource()->add_attributes();
  service->set_key("service.name");
  service->mutable_value()->set_string_value("checkout");
  otlp_logs::ScopeLogs* scope_logs = resource_logs->add_scope_logs();
  scope_logs->mutable_scope()->set_name(kLogger);
  for (int i = 0; i < records; ++i) {
    AddRealisticOtlpRecord(message_bytes, first_index + i, *scope_logs->add_log_records());
  }
  return request;
}

std::shared_ptr<grpc::Channel> NewChannel(const LoadOptions& options, int connection) {
  grpc::ChannelArguments args;
  // A subchannel pool of its own and an argument no other channel has: every channel gets
  // its own TCP connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("sluice.loadgen_connection", connection);
  args.SetMaxSendMessageSize(64 * 1024 * 1024);
  return grpc::CreateCustomChannel(options.target, ChannelCredentialsFor(options.tls, args), args);
}

// The channels of a run, shared by its calls in even blocks.
class Channels {
 public:
  Channels(const LoadOptions& options, int connections, int calls) : calls_(calls) {
    for (int i = 0; i < connections; ++i) channels_.push_back(NewChannel(options, i));
  }
  // The channel of call `call` (0 .. calls - 1).
  std::shared_ptr<grpc::Channel> For(int call) const {
    const size_t index = static_cast<size_t>(call) * channels_.size() / static_cast<size_t>(calls_);
    return channels_[index];
  }

 private:
  const int calls_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
};

void Authorize(const LoadOptions& options, grpc::ClientContext& context) {
  if (!options.bearer_token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options.bearer_token));
  }
}

// Shared by the streams: when to stop, and how many records are still to be sent.
class RunBudget {
 public:
  explicit RunBudget(const LoadOptions& options)
      : deadline_(absl::Now() + options.duration),
        limited_(options.total_records > 0),
        remaining_(static_cast<int64_t>(options.total_records)) {}

  // Claims up to `wanted` records; 0 when the run is over.
  int Claim(int wanted) {
    if (absl::Now() >= deadline_) return 0;
    if (!limited_) return wanted;
    int64_t left = remaining_.fetch_sub(wanted, std::memory_order_relaxed);
    if (left <= 0) return 0;
    return static_cast<int>(std::min<int64_t>(left, wanted));
  }

 private:
  const absl::Time deadline_;
  const bool limited_;
  std::atomic<int64_t> remaining_;
};

struct StreamResult {
  uint64_t records = 0;
  uint64_t bytes = 0;
  absl::Time last_ack = absl::InfinitePast();
  std::vector<int64_t> ack_latencies_ns;
  grpc::Status status;
};

// Paces one stream to `per_second` records/s; does nothing when that is 0.
class Pacer {
 public:
  explicit Pacer(double per_second) : per_second_(per_second), next_(absl::Now()) {}
  void Wait(int records) {
    if (per_second_ <= 0) return;
    const absl::Time now = absl::Now();
    if (next_ > now) absl::SleepFor(next_ - now);
    next_ = std::max(next_, now - absl::Milliseconds(100)) +
            absl::Seconds(static_cast<double>(records) / per_second_);
  }

 private:
  const double per_second_;
  absl::Time next_;
};

StreamResult RunPushBatchesStream(const LoadOptions& options, RunBudget& budget,
                                  const Channels& channels, int stream) {
  StreamResult result;
  auto stub = v1::LogService::NewStub(channels.For(stream));
  v1::LogBatch batch;
  for (int i = 0; i < options.batch_records; ++i) {
    *batch.add_records() = RealisticRecord(options.message_bytes, stream * 100000 + i);
  }
  const uint64_t record_bytes = batch.ByteSizeLong() / static_cast<uint64_t>(options.batch_records);

  grpc::ClientContext context;
  Authorize(options, context);
  auto call = stub->PushBatches(&context);
  absl::Mutex mu;
  std::deque<std::pair<int, absl::Time>> unacked;  // records, sent at; acks come in order
  bool reader_done = false;

  std::thread reader([&] {
    v1::PushAck ack;
    while (call->Read(&ack)) {
      const absl::Time now = absl::Now();
      absl::MutexLock lock(&mu);
      if (unacked.empty()) break;
      result.ack_latencies_ns.push_back(absl::ToInt64Nanoseconds(now - unacked.front().second));
      result.records += ack.accepted();
      result.bytes += ack.accepted() * record_bytes;
      result.last_ack = now;
      unacked.pop_front();
    }
    absl::MutexLock lock(&mu);
    reader_done = true;
  });

  Pacer pacer(options.rate / options.streams);
  const size_t window = static_cast<size_t>(options.window);
  for (uint64_t sequence = 1;; ++sequence) {
    const int records = budget.Claim(options.batch_records);
    if (records == 0) break;
    pacer.Wait(records);
    {
      absl::MutexLock lock(&mu);
      auto has_room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        return unacked.size() < window || reader_done;
      };
      mu.Await(absl::Condition(&has_room));
      if (reader_done) break;
      unacked.emplace_back(records, absl::Now());
    }
    while (batch.records_size() > records) batch.mutable_records()->RemoveLast();
    batch.set_sequence(sequence);
    if (!call->Write(batch)) break;
  }
  call->WritesDone();
  reader.join();
  result.status = call->Finish();
  return result;
}

StreamResult RunPushStream(const LoadOptions& options, RunBudget& budget, const Channels& channels,
                           int stream) {
  StreamResult result;
  auto stub = v1::LogService::NewStub(channels.For(stream));
  const v1::LogRecord record = RealisticRecord(options.message_bytes, stream * 100000);
  const uint64_t record_bytes = record.ByteSizeLong();
  grpc::ClientContext context;
  Authorize(options, context);
  v1::PushSummary summary;
  auto call = stub->Push(&context, &summary);
  Pacer pacer(options.rate / options.streams);
  constexpr int kClaim = 64;
  bool open = true;
  while (open) {
    const int records = budget.Claim(kClaim);
    if (records == 0) break;
    pacer.Wait(records);
    for (int i = 0; i < records && open; ++i) open = call->Write(record);
  }
  call->WritesDone();
  result.status = call->Finish();
  result.last_ack = absl::Now();
  result.records = summary.accepted();
  result.bytes = summary.accepted() * record_bytes;
  return result;
}

// One OTLP stream: `in_flight` Export calls outstanding at a time, each answered on a gRPC
// thread; this thread only claims, paces and sends.
StreamResult RunOtlpStream(const LoadOptions& options, RunBudget& budget, const Channels& channels,
                           int stream) {
  using Request = otlp_collector::ExportLogsServiceRequest;
  struct Call {
    std::unique_ptr<otlp_collector::LogsService::Stub> stub;
    std::unique_ptr<grpc::ClientContext> context;
    std::shared_ptr<const Request> request;
    otlp_collector::ExportLogsServiceResponse response;
    int records = 0;
    absl::Time sent;
  };
  // This thread's and the callbacks'; it outlives them, as every call is answered first.
  struct State {
    absl::Mutex mu;
    std::vector<Call> calls;
    std::vector<int> idle ABSL_GUARDED_BY(mu);  // indexes into calls
    bool failed ABSL_GUARDED_BY(mu) = false;
    StreamResult result ABSL_GUARDED_BY(mu);
  };
  const auto full = std::make_shared<const Request>(
      RealisticExport(options.message_bytes, options.batch_records, stream * 100000));
  const uint64_t record_bytes = full->ByteSizeLong() / static_cast<uint64_t>(options.batch_records);
  const int in_flight = options.in_flight;
  State state;
  state.calls.resize(static_cast<size_t>(in_flight));
  {
    absl::MutexLock lock(&state.mu);
    for (int i = 0; i < in_flight; ++i) {
      state.calls[static_cast<size_t>(i)].stub =
          otlp_collector::LogsService::NewStub(channels.For(stream * in_flight + i));
      state.idle.push_back(i);
    }
  }

  Pacer pacer(options.rate / options.streams);
  for (;;) {
    const int records = budget.Claim(options.batch_records);
    if (records == 0) break;
    pacer.Wait(records);
    int index;
    {
      absl::MutexLock lock(&state.mu);
      auto can_send = [&state]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu) {
        return !state.idle.empty() || state.failed;
      };
      state.mu.Await(absl::Condition(&can_send));
      if (state.failed) break;
      index = state.idle.back();
      state.idle.pop_back();
    }
    // An idle call is this thread's alone until Export hands it to gRPC.
    Call& call = state.calls[static_cast<size_t>(index)];
    if (records == options.batch_records) {
      call.request = full;
    } else {
      auto shorter = std::make_shared<Request>(*full);
      auto* log_records =
          shorter->mutable_resource_logs(0)->mutable_scope_logs(0)->mutable_log_records();
      while (log_records->size() > records) log_records->RemoveLast();
      call.request = std::move(shorter);
    }
    call.context = std::make_unique<grpc::ClientContext>();
    Authorize(options, *call.context);
    call.response.Clear();
    call.records = records;
    call.sent = absl::Now();
    call.stub->async()->Export(
        call.context.get(), call.request.get(), &call.response,
        [&state, index, record_bytes](grpc::Status status) {
          const absl::Time now = absl::Now();
          absl::MutexLock lock(&state.mu);
          const Call& done = state.calls[static_cast<size_t>(index)];
          if (status.ok()) {
            const uint64_t rejected =
                std::min<uint64_t>(static_cast<uint64_t>(std::max<int64_t>(
                                       done.response.partial_success().rejected_log_records(), 0)),
                                   static_cast<uint64_t>(done.records));
            const uint64_t accepted = static_cast<uint64_t>(done.records) - rejected;
            StreamResult& result = state.result;
            result.ack_latencies_ns.push_back(absl::ToInt64Nanoseconds(now - done.sent));
            result.records += accepted;
            result.bytes += accepted * record_bytes;
            result.last_ack = now;
          } else if (!state.failed) {
            state.failed = true;
            state.result.status = std::move(status);
          }
          state.idle.push_back(index);
        });
  }
  absl::MutexLock lock(&state.mu);
  auto all_answered = [&state, in_flight]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu) {
    return state.idle.size() == static_cast<size_t>(in_flight);
  };
  state.mu.Await(absl::Condition(&all_answered));
  return std::move(state.result);
}

absl::Duration Percentile(const std::vector<int64_t>& sorted, double fraction) {
  if (sorted.empty()) return absl::ZeroDuration();
  size_t index = static_cast<size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return absl::Nanoseconds(sorted[std::min(index, sorted.size() - 1)]);
}

const char* RpcName(LoadRpc rpc) {
  switch (rpc) {
    case LoadRpc::kPush:
      return "push";
    case LoadRpc::kPushBatches:
      return "batches";
    case LoadRpc::kOtlpExport:
      return "otlp";
  }
  return "?";
}

// Concurrent calls of a run: what `connections` are shared among.
int Calls(const LoadOptions& options) {
  return options.rpc == LoadRpc::kOtlpExport ? options.streams * options.in_flight
                                             : options.streams;
}

int Connections(const LoadOptions& options) {
  return options.connections > 0 ? options.connections : options.streams;
}

}  // namespace

std::optional<LoadRpc> ParseLoadRpc(absl::string_view name) {
  for (const LoadRpc rpc : {LoadRpc::kPush, LoadRpc::kPushBatches, LoadRpc::kOtlpExport}) {
    if (name == RpcName(rpc)) return rpc;
  }
  return std::nullopt;
}

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options) {
  if (options.streams < 1 || options.batch_records < 1 || options.window < 1 ||
      options.in_flight < 1) {
    return absl::InvalidArgumentError("streams, batch, window and in_flight must be at least 1");
  }
  if (options.connections < 0 || Connections(options) > Calls(options)) {
    return absl::InvalidArgumentError(
        absl::StrCat("connections must be between 1 and the concurrent calls (", Calls(options),
                     "); 0 for one per stream"));
  }
  RunBudget budget(options);
  const Channels channels(options, Connections(options), Calls(options));
  std::vector<StreamResult> results(static_cast<size_t>(options.streams));
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int i = 0; i < options.streams; ++i) {
    threads.emplace_back([&, i] {
      StreamResult& result = results[static_cast<size_t>(i)];
      switch (options.rpc) {
        case LoadRpc::kPush:
          result = RunPushStream(options, budget, channels, i);
          break;
        case LoadRpc::kPushBatches:
          result = RunPushBatchesStream(options, budget, channels, i);
          break;
        case LoadRpc::kOtlpExport:
          result = RunOtlpStream(options, budget, channels, i);
          break;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  LoadResult total;
  absl::Time end = start;
  std::vector<int64_t> latencies;
  for (StreamResult& stream : results) {
    total.records += stream.records;
    total.bytes += stream.bytes;
    end = std::max(end, stream.last_ack);
    latencies.insert(latencies.end(), stream.ack_latencies_ns.begin(),
                     stream.ack_latencies_ns.end());
    if (!stream.status.ok()) {
      if (total.failed_streams++ == 0) {
        total.first_error =
            absl::StrCat(stream.status.error_code(), ": ", stream.status.error_message());
      }
    }
  }
  if (total.failed_streams == options.streams) {
    return absl::UnavailableError(absl::StrCat("every stream failed; first: ", total.first_error));
  }
  total.elapsed = end - start;
  const double seconds = std::max(absl::ToDoubleSeconds(total.elapsed), 1e-9);
  total.records_per_second = static_cast<double>(total.records) / seconds;
  total.megabytes_per_second = static_cast<double>(total.bytes) / seconds / 1e6;
  std::sort(latencies.begin(), latencies.end());
  total.ack_p50 = Percentile(latencies, 0.50);
  total.ack_p99 = Percentile(latencies, 0.99);
  total.ack_p999 = Percentile(latencies, 0.999);
  return total;
}

std::string FormatResult(const LoadOptions& options, const LoadResult& result) {
  std::string text = absl::StrFormat(
      "%s: %d streams%s%s on %d connections, %.2f s: %d records, %.0f records/s, %.1f MB/s\n",
      RpcName(options.rpc), options.streams,
      options.rpc == LoadRpc::kOtlpExport ? absl::StrCat(" x ", options.in_flight, " in flight")
                                          : "",
      options.rpc == LoadRpc::kPush ? "" : absl::StrCat(", batches of ", options.batch_records),
      Connections(options), absl::ToDoubleSeconds(result.elapsed), result.records,
      result.records_per_second, result.megabytes_per_second);
  if (options.rpc != LoadRpc::kPush) {
    absl::StrAppendFormat(&text, "ack latency: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms\n",
                          absl::ToDoubleMilliseconds(result.ack_p50),
                          absl::ToDoubleMilliseconds(result.ack_p99),
                          absl::ToDoubleMilliseconds(result.ack_p999));
  }
  if (result.failed_streams > 0) {
    absl::StrAppendFormat(&text, "%d streams failed; first: %s\n", result.failed_streams,
                          result.first_error);
  }
  return text;
}

std::string FormatResultLine(const LoadOptions& options, const LoadResult& result) {
  return absl::StrFormat(
      "RESULT {\"rpc\":\"%s\",\"streams\":%d,\"connections\":%d,\"in_flight\":%d,"
      "\"batch\":%d,\"records\":%d,\"seconds\":%.3f,"
      "\"records_per_s\":%.0f,\"mb_per_s\":%.2f,\"ack_p50_ms\":%.3f,\"ack_p99_ms\":%.3f,"
      "\"ack_p999_ms\":%.3f,\"failed_streams\":%d}",
      RpcName(options.rpc), options.streams, Connections(options),
      options.rpc == LoadRpc::kOtlpExport ? options.in_flight : 1,
      options.rpc == LoadRpc::kPush ? 1 : options.batch_records, result.records,
      absl::ToDoubleSeconds(result.elapsed), result.records_per_second, result.megabytes_per_second,
      absl::ToDoubleMilliseconds(result.ack_p50), absl::ToDoubleMilliseconds(result.ack_p99),
      absl::ToDoubleMilliseconds(result.ack_p999), result.failed_streams);
}

}  // namespace sluice::loadgen
