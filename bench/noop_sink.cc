// noop_sink: the ceiling. A gRPC server on Sluice's own protos that accepts Push and
// PushBatches exactly as sluiced does on the wire — callback API, one read at a time, an
// ack per batch — and only counts; and the OTLP/gRPC logs Export a do-nothing OTLP server
// would serve: callback API, each request parsed on a protobuf Arena of its own, the log
// records counted, an empty answer. Nothing can ingest faster on this machine; sluiced is
// judged as a ratio to it (bench/run.sh, docs/BENCHMARKS.md).
//
//   noop_sink --listen 127.0.0.1:0     prints "noop_sink: listening on 127.0.0.1:PORT";
//                                      SIGTERM/SIGINT print the count and exit.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/arena.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/message_allocator.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "sluice/v1/logs.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:4317", "host:port to listen on (port 0: any)");

namespace sluice::bench {
namespace {

std::atomic<uint64_t> records_received{0};

class CountingPush : public grpc::ServerReadReactor<v1::LogRecord> {
 public:
  explicit CountingPush(v1::PushSummary* summary) : summary_(summary) { StartRead(&record_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      records_received.fetch_add(count_, std::memory_order_relaxed);
      summary_->set_received(count_);
      summary_->set_accepted(count_);
      Finish(grpc::Status::OK);
      return;
    }
    ++count_;
    StartRead(&record_);
  }
  void OnDone() override { delete this; }

 private:
  v1::PushSummary* summary_;
  v1::LogRecord record_;
  uint64_t count_ = 0;
};

class CountingPushBatches : public grpc::ServerBidiReactor<v1::LogBatch, v1::PushAck> {
 public:
  CountingPushBatches() { StartRead(&batch_); }

  void OnReadDone(bool ok) override {
    bool write_now = false;
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        reads_done_ = true;
      } else {
        records_received.fetch_add(static_cast<uint64_t>(batch_.records_size()),
                                   std::memory_order_relaxed);
        v1::PushAck& ack = acks_.emplace_back();
        ack.set_sequence(batch_.sequence());
        ack.set_accepted(static_cast<uint32_t>(batch_.records_size()));
        write_now = !writing_;
        writing_ = true;
      }
    }
    if (write_now) StartWrite(&acks_.front());
    if (ok) {
      StartRead(&batch_);
    } else {
      MaybeFinish();
    }
  }

  void OnWriteDone(bool ok) override {
    const v1::PushAck* next = nullptr;
    {
      absl::MutexLock lock(&mu_);
      acks_.pop_front();
      if (!ok) acks_.clear();
      writing_ = !acks_.empty();
      if (writing_) next = &acks_.front();
    }
    if (next != nullptr) {
      StartWrite(next);
    } else {
      MaybeFinish();
    }
  }

  void OnDone() override { delete this; }

 private:
  void MaybeFinish() {
    {
      absl::MutexLock lock(&mu_);
      if (!reads_done_ || writing_ || finished_) return;
      finished_ = true;
    }
    Finish(grpc::Status::OK);
  }

  v1::LogBatch batch_;
  absl::Mutex mu_;
  std::deque<v1::PushAck> acks_;
  bool writing_ = false;
  bool reads_done_ = false;
  bool finished_ = false;
};

class CountingService final : public v1::LogService::CallbackService {
  grpc::ServerReadReactor<v1::LogRecord>* Push(grpc::CallbackServerContext*,
                                               v1::PushSummary* summary) override {
    return new CountingPush(summary);
  }
  grpc::ServerBidiReactor<v1::LogBatch, v1::PushAck>* PushBatches(
      grpc::CallbackServerContext*) override {
    return new CountingPushBatches();
  }
};

namespace otlp = opentelemetry::proto::collector::logs::v1;

// gRPC parses each request into the message this gives it: one on an Arena, freed with it
// when the call is done, as an OTLP server that cares about allocation does.
class ArenaMessages final
    : public grpc::MessageHolder<otlp::ExportLogsServiceRequest, otlp::ExportLogsServiceResponse> {
 public:
  ArenaMessages() : arena_(Options()) {
    set_request(google::protobuf::Arena::CreateMessage<otlp::ExportLogsServiceRequest>(&arena_));
    set_response(google::protobuf::Arena::CreateMessage<otlp::ExportLogsServiceResponse>(&arena_));
  }
  void Release() override { delete this; }

 private:
  // Blocks that grow to the size of a 1,000-record request: a handful of mallocs per
  // request rather than one per 8 KiB (protobuf's default cap).
  static google::protobuf::ArenaOptions Options() {
    google::protobuf::ArenaOptions options;
    options.start_block_size = 64 * 1024;
    options.max_block_size = 1024 * 1024;
    return options;
  }

  google::protobuf::Arena arena_;
};

class ArenaAllocator final : public grpc::MessageAllocator<otlp::ExportLogsServiceRequest,
                                                           otlp::ExportLogsServiceResponse> {
  grpc::MessageHolder<otlp::ExportLogsServiceRequest, otlp::ExportLogsServiceResponse>*
  AllocateMessages() override {
    return new ArenaMessages();
  }
};

class CountingLogsService final : public otlp::LogsService::CallbackService {
 public:
  CountingLogsService() { SetMessageAllocatorFor_Export(&allocator_); }

 private:
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const otlp::ExportLogsServiceRequest* request,
                                   otlp::ExportLogsServiceResponse*) override {
    uint64_t count = 0;
    for (const auto& resource_logs : request->resource_logs()) {
      for (const auto& scope_logs : resource_logs.scope_logs()) {
        count += static_cast<uint64_t>(scope_logs.log_records_size());
      }
    }
    records_received.fetch_add(count, std::memory_order_relaxed);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  ArenaAllocator allocator_;
};

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  sluice::bench::CountingService service;
  sluice::bench::CountingLogsService logs_service;
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string listen = absl::GetFlag(FLAGS_listen);
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  builder.RegisterService(&service);
  builder.RegisterService(&logs_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "noop_sink: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::fprintf(stderr, "noop_sink: listening on %s:%d\n",
               listen.substr(0, listen.rfind(':')).c_str(), port);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  std::fprintf(stderr, "noop_sink: received %lu records\n",
               static_cast<unsigned long>(sluice::bench::records_received.load()));
  return 0;
}
