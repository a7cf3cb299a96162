#include "sluice/client.h"

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "sluice/channel_credentials.h"
#include "sluice/v1/logs.grpc.pb.h"

namespace sluice {
namespace {

constexpr absl::Duration kInitialBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
// After the client half-closes a stream at shutdown, how long the server gets to finish it
// before the stream is cancelled.
constexpr absl::Duration kCloseGrace = absl::Seconds(1);

std::shared_ptr<grpc::Channel> MakeChannel(const ClientOptions& options) {
  grpc::ChannelArguments args;
  // gRPC's own reconnect backoff starts at 1s and grows to 120s; without these the channel
  // would refuse our retries long after the server is back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, absl::ToInt64Milliseconds(kInitialBackoff));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, absl::ToInt64Milliseconds(kInitialBackoff));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, absl::ToInt64Milliseconds(kMaxBackoff));
  // As the channel's default service config rather than the lb_policy_name argument: on an
  // unknown name, gRPC falls back to pick_first there (only logging it), while an invalid
  // service config fails every call, so a typo cannot pass for a working setup.
  if (!options.load_balancing_policy.empty()) {
    std::string health_check;
    if (!options.health_check_service_name.empty()) {
      health_check = absl::StrCat(R"(,"healthCheckConfig":{"serviceName":")",
                                  options.health_check_service_name, R"("})");
    }
    args.SetServiceConfigJSON(absl::StrCat(R"({"loadBalancingConfig":[{")",
                                           options.load_balancing_policy, R"(":{}}])", health_check,
                                           "}"));
  }
  return grpc::CreateCustomChannel(options.target, ChannelCredentialsFor(options.tls, args), args);
}

absl::Status ReadWholeFile(const std::string& path, std::string& out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  out = text.str();
  return absl::OkStatus();
}

absl::Status ToAbslStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

// Waits on `cv` until notified or `deadline`; true when the deadline passed. Waits by
// duration, on the steady clock, so a change of the wall clock neither cuts a wait short
// nor prolongs it.
bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
               absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) {
    cv.wait(lock);
    return false;
  }
  const absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
  return cv.wait_for(lock, absl::ToChronoNanoseconds(left)) == std::cv_status::timeout;
}

}  // namespace

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(
    const std::optional<ClientTlsOptions>& tls, grpc::ChannelArguments& args) {
  if (!tls.has_value()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls->root_certs_pem;
  ssl.pem_cert_chain = tls->cert_chain_pem;
  ssl.pem_private_key = tls->private_key_pem;
  if (!tls->server_name.empty()) args.SetSslTargetNameOverride(tls->server_name);
  return grpc::SslCredentials(ssl);
}

absl::Status LoadClientTlsFiles(const std::string& ca_file, const std::string& cert_file,
                                const std::string& key_file, ClientTlsOptions& tls) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs its key, and a key its certificate");
  }
  for (const auto& [path, out] :
       {std::pair{&ca_file, &tls.root_certs_pem}, std::pair{&cert_file, &tls.cert_chain_pem},
        std::pair{&key_file, &tls.private_key_pem}}) {
    if (path->empty()) continue;
    if (absl::Status read = ReadWholeFile(*path, *out); !read.ok()) return read;
  }
  return absl::OkStatus();
}

void LogField::AppendTo(v1::LogRecord& record) const {
  v1::Field* field = record.add_fields();
  field->set_key(key_.data(), key_.size());
  struct Setter {
    v1::Field* field;
    void operator()(absl::string_view v) const { field->set_string_value(v.data(), v.size()); }
    void operator()(int64_t v) const { field->set_int_value(v); }
    void operator()(double v) const { field->set_double_value(v); }
    void operator()(bool v) const { field->set_bool_value(v); }
  };
  std::visit(Setter{field}, value_);
}

class Client::Impl {
 public:
  explicit Impl(ClientOptions options)
      : options_(std::move(options)),
        channel_(MakeChannel(options_)),
        stub_(v1::LogService::NewStub(channel_)),
        sender_([this] { SenderLoop(); }) {}

  ~Impl() {
    const absl::Status flushed = Flush(absl::Now() + options_.close_timeout);
    {
      std::unique_lock lock(mu_);
      stop_ = true;
      // A sender blocked in Write() on a stalled server only returns once cancelled.
      if (!flushed.ok() && context_ != nullptr) context_->TryCancel();
    }
    sender_cv_.notify_one();
    sender_.join();
  }

  void Enqueue(std::unique_ptr<v1::LogRecord> record) {
    Prepare(*record);
    const size_t bytes = record->ByteSizeLong();
    bool wake = false;
    {
      std::unique_lock lock(mu_);
      if (held_records_ >= options_.max_buffered_records) {
        ++stats_.dropped_buffer_full;
        return;
      }
      AppendLocked(std::move(record), bytes, wake);
    }
    if (wake) sender_cv_.notify_one();
  }

  bool EnqueueAll(std::vector<v1::LogRecord>& records) {
    std::vector<size_t> bytes;
    bytes.reserve(records.size());
    for (v1::LogRecord& record : records) {
      Prepare(record);
      bytes.push_back(record.ByteSizeLong());
    }
    bool wake = false;
    {
      std::unique_lock lock(mu_);
      if (held_records_ + records.size() > options_.max_buffered_records) return false;
      for (size_t i = 0; i < records.size(); ++i) {
        AppendLocked(std::make_unique<v1::LogRecord>(std::move(records[i])), bytes[i], wake);
      }
    }
    if (wake) sender_cv_.notify_one();
    return true;
  }

  absl::Status Flush(absl::Time deadline) {
    std::unique_lock lock(mu_);
    const uint64_t target = stats_.logged;
    if (flush_through_ < target) {
      flush_through_ = target;
      sender_cv_.notify_one();
    }
    while (AckedThroughLocked() < target) {
      if (WaitUntil(flush_cv_, lock, deadline) && AckedThroughLocked() < target) {
        absl::Status status = absl::DeadlineExceededError(
            absl::StrCat("flush deadline exceeded: ", target - AckedThroughLocked(), " of ", target,
                         " records not acknowledged by ", options_.target));
        if (!stats_.last_stream_error.ok()) {
          status = absl::DeadlineExceededError(absl::StrCat(
              status.message(), " (last error: ", stats_.last_stream_error.ToString(), ")"));
        }
        return status;
      }
    }
    return absl::OkStatus();
  }

  ClientStats stats() const {
    std::unique_lock lock(mu_);
    return stats_;
  }

 private:
  using Stream = grpc::ClientReaderWriter<v1::LogBatch, v1::PushAck>;

  // A batch handed to the sender and not yet acknowledged. Shared with the sender while it
  // writes, since the ack (which drops the entry) may arrive before Write() returns.
  struct Unacked {
    uint64_t sequence = 0;
    // Index of the batch's first record in the order records were logged.
    uint64_t first_record = 0;
    uint32_t records = 0;
    std::shared_ptr<const v1::LogBatch> batch;
  };

  void SenderLoop() {
    absl::BitGen random;
    absl::Duration backoff = kInitialBackoff;
    while (true) {
      {
        std::unique_lock lock(mu_);
        // Connect only when there is something to send: an idle client holds no stream.
        while (!stop_ && !HasPendingLocked()) sender_cv_.wait(lock);
        if (stop_) return;
      }
      const StreamOutcome outcome = RunStream();
      if (outcome.acked && !outcome.overloaded) {
        backoff = kInitialBackoff;
        continue;
      }
      // The server's retry pushback, if it sent one, is the least it asks for.
      const absl::Duration wait =
          std::max(backoff * absl::Uniform(random, 0.8, 1.2), outcome.pushback);
      const absl::Time retry_at = absl::Now() + wait;
      backoff = std::min(backoff * 2, kMaxBackoff);
      std::unique_lock lock(mu_);
      while (!stop_ && !WaitUntil(sender_cv_, lock, retry_at)) {
      }
      if (stop_) return;
    }
  }

  struct StreamOutcome {
    // The server acknowledged something: the connection worked, so backoff starts over and
    // a rotated stream is followed by the next at once...
    bool acked = false;
    // ...unless the server dropped a batch under overload: then the client backs off.
    bool overloaded = false;
    // The server's grpc-retry-pushback-ms, zero without one.
    absl::Duration pushback;
  };

  // Runs one PushBatches stream until it ends, the client stops, it is rotated
  // (batches_per_stream), or the server dropped a batch under overload.
  StreamOutcome RunStream() {
    grpc::ClientContext context;
    if (!options_.bearer_token.empty()) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", options_.bearer_token));
    }
    std::unique_ptr<Stream> stream = stub_->PushBatches(&context);
    {
      std::unique_lock lock(mu_);
      context_ = &context;
      written_on_stream_ = 0;
      batches_on_stream_ = 0;
      acks_on_stream_ = 0;
      overloaded_on_stream_ = false;
      stream_ended_ = false;
      ++stats_.streams_opened;
    }
    std::thread reader([this, s = stream.get()] { ReadAcks(s); });

    // The client ends the stream itself, at shutdown or to rotate: not a failure.
    bool closing = false;
    while (true) {
      std::shared_ptr<const v1::LogBatch> batch;
      bool resend = false;
      {
        std::unique_lock lock(mu_);
        while (!stream_ended_ && !stop_ && !RotationDueLocked() && !overloaded_on_stream_) {
          const absl::Time now = absl::Now();
          batch = NextBatchLocked(now, resend);
          if (batch != nullptr) break;
          // Only a partly filled batch this stream may still send makes the wait
          // time-bound: it is due at its delay.
          if (open_batch_ != nullptr && unacked_.size() < options_.max_unacked_batches &&
              !StreamFullLocked()) {
            WaitUntil(sender_cv_, lock, open_batch_started_ + options_.max_batch_delay);
          } else {
            sender_cv_.wait(lock);
          }
        }
        if (batch == nullptr) {
          closing = !stream_ended_;
          break;
        }
        // Counted before the write: its ack may be read before Write even returns.
        ++(resend ? stats_.resent_batches : stats_.sent_batches);
      }
      if (!stream->Write(*batch)) break;
    }

    if (closing) {
      stream->WritesDone();
      std::unique_lock lock(mu_);
      // Cancelling a stream the server already ended would replace its status with
      // CANCELLED, so only a server that does not finish in time is cut off. Otherwise the
      // call is over (the reader saw the end, or a failed Write means it ended) and the
      // reader returns by itself.
      if (!sender_cv_.wait_for(lock, absl::ToChronoNanoseconds(kCloseGrace),
                               [this] { return stream_ended_; })) {
        context.TryCancel();
      }
    }
    reader.join();
    const grpc::Status status = stream->Finish();

    std::unique_lock lock(mu_);
    context_ = nullptr;
    if (!status.ok() && !(closing && !overloaded_on_stream_)) {
      ++stats_.stream_failures;
      stats_.last_stream_error = ToAbslStatus(status);
    }
    return StreamOutcome{.acked = acks_on_stream_ > 0,
                         .overloaded = overloaded_on_stream_,
                         .pushback = RetryPushback(context)};
  }

  static absl::Duration RetryPushback(const grpc::ClientContext& context) {
    const auto& trailers = context.GetServerTrailingMetadata();
    const auto it = trailers.find("grpc-retry-pushback-ms");
    int64_t milliseconds = 0;
    if (it == trailers.end() ||
        !absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &milliseconds) ||
        milliseconds < 0) {
      return absl::ZeroDuration();
    }
    return std::min(absl::Milliseconds(milliseconds), kMaxBackoff);
  }

  void ReadAcks(Stream* stream) {
    v1::PushAck ack;
    while (stream->Read(&ack)) {
      {
        std::unique_lock lock(mu_);
        HandleAckLocked(ack);
      }
      sender_cv_.notify_one();
      flush_cv_.notify_all();
    }
    {
      std::unique_lock lock(mu_);
      stream_ended_ = true;
    }
    sender_cv_.notify_one();
  }

  // The server acks in order, so an ack is for the oldest batch written on this stream
  // that is not kept for resending; one for no such batch is ignored. A batch the server
  // dropped under overload (scheduler.overflow) was not taken: it stays, and the sender
  // ends the stream, backs off and sends it again.
  void HandleAckLocked(const v1::PushAck& ack) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    size_t index = 0;
    while (index < written_on_stream_ && unacked_[index].sequence != ack.sequence()) ++index;
    if (index == written_on_stream_) return;
    ++acks_on_stream_;
    if (ack.drop_reason() == v1::DROP_REASON_OVERFLOW_DROP_NEWEST ||
        ack.drop_reason() == v1::DROP_REASON_OVERFLOW_DROP_OLDEST) {
      ++stats_.overloaded_batches;
      overloaded_on_stream_ = true;
      return;
    }
    const Unacked& acked = unacked_[index];
    held_records_ -= acked.records;
    stats_.acked_records += acked.records;
    stats_.server_accepted += ack.accepted();
    stats_.server_filtered += ack.filtered();
    stats_.server_dropped += ack.dropped();
    stats_.server_rejected += ack.rejected();
    if (!ack.rejection().empty()) stats_.last_rejection = ack.rejection();
    unacked_.erase(unacked_.begin() + static_cast<std::ptrdiff_t>(index));
    --written_on_stream_;
  }

  // This stream has carried batches_per_stream batches and takes no more.
  bool StreamFullLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return options_.batches_per_stream != 0 && batches_on_stream_ >= options_.batches_per_stream;
  }

  // The stream is full and every batch written on it was acknowledged: time to end it.
  // An idle client does not rotate: the next stream opens only when there is work.
  bool RotationDueLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return StreamFullLocked() && written_on_stream_ == 0;
  }

  // The next batch this stream should write: first every unacknowledged batch an earlier
  // stream wrote (`resend`), then new batches while the ack window has room. Null when none
  // is due or the stream is full.
  std::shared_ptr<const v1::LogBatch> NextBatchLocked(absl::Time now, bool& resend)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (StreamFullLocked()) return nullptr;
    if (written_on_stream_ < unacked_.size()) {
      resend = true;
      ++batches_on_stream_;
      return unacked_[written_on_stream_++].batch;
    }
    if (unacked_.size() >= options_.max_unacked_batches) return nullptr;
    if (sealed_batches_.empty() && open_batch_ != nullptr &&
        (now >= open_batch_started_ + options_.max_batch_delay ||
         flush_through_ > batched_records_)) {
      SealOpenBatchLocked();
    }
    if (sealed_batches_.empty()) return nullptr;
    std::shared_ptr<v1::LogBatch> batch = std::move(sealed_batches_.front());
    sealed_batches_.pop_front();
    Unacked& entry = unacked_.emplace_back();
    entry.sequence = next_sequence_++;
    entry.first_record = batched_records_;
    entry.records = static_cast<uint32_t>(batch->records_size());
    batch->set_sequence(entry.sequence);
    entry.batch = batch;
    batched_records_ += entry.records;
    ++written_on_stream_;
    ++batches_on_stream_;
    resend = false;
    return batch;
  }

  // Stamps a missing time and applies base_logger.
  void Prepare(v1::LogRecord& record) const {
    if (record.time_unix_nano() == 0) record.set_time_unix_nano(absl::ToUnixNanos(absl::Now()));
    if (!options_.base_logger.empty()) {
      record.set_logger(record.logger().empty()
                            ? options_.base_logger
                            : absl::StrCat(options_.base_logger, ".", record.logger()));
    }
  }

  // Adds a record of `bytes` encoded bytes to the open batch, sealing batches as they fill;
  // sets `wake` when the sender has something new to do.
  void AppendLocked(std::unique_ptr<v1::LogRecord> record, size_t bytes, bool& wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (open_batch_ != nullptr && open_batch_bytes_ + bytes > options_.max_batch_bytes) {
      SealOpenBatchLocked();
      wake = true;
    }
    if (open_batch_ == nullptr) {
      open_batch_ = std::make_unique<v1::LogBatch>();
      open_batch_bytes_ = 0;
      open_batch_started_ = absl::Now();
      wake = true;
    }
    open_batch_->mutable_records()->AddAllocated(record.release());
    open_batch_bytes_ += bytes;
    ++held_records_;
    ++stats_.logged;
    if (static_cast<size_t>(open_batch_->records_size()) >= options_.max_batch_records) {
      SealOpenBatchLocked();
      wake = true;
    }
  }

  void SealOpenBatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    sealed_batches_.push_back(std::move(open_batch_));
    open_batch_bytes_ = 0;
  }

  bool HasPendingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return open_batch_ != nullptr || !sealed_batches_.empty() || !unacked_.empty();
  }

  // Every record logged before this index has been acknowledged. Batches are formed and
  // acknowledged in logging order, so the oldest unacknowledged batch marks the boundary.
  uint64_t AckedThroughLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return unacked_.empty() ? batched_records_ : unacked_.front().first_record;
  }

  const ClientOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::LogService::Stub> stub_;

  // std::mutex rather than absl::Mutex: ThreadSanitizer sees through it, so the client's
  // tests run under it like the server's.
  mutable std::mutex mu_;
  // Wakes the sender thread: new work, acks (window room), stream end, stop.
  std::condition_variable sender_cv_;
  // Wakes Flush() callers on every ack.
  std::condition_variable flush_cv_;

  // Records not yet handed to the sender: the batch being filled, then sealed batches.
  std::unique_ptr<v1::LogBatch> open_batch_ ABSL_GUARDED_BY(mu_);
  size_t open_batch_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time open_batch_started_ ABSL_GUARDED_BY(mu_);
  std::deque<std::unique_ptr<v1::LogBatch>> sealed_batches_ ABSL_GUARDED_BY(mu_);
  std::deque<Unacked> unacked_ ABSL_GUARDED_BY(mu_);
  // Records logged and not yet acknowledged; max_buffered_records bounds it.
  size_t held_records_ ABSL_GUARDED_BY(mu_) = 0;
  // Records in batches handed to the sender, i.e. the index of the next one to batch.
  uint64_t batched_records_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  // Flush() wants records before this index sent without waiting for max_batch_delay.
  uint64_t flush_through_ ABSL_GUARDED_BY(mu_) = 0;

  // The current stream, for cancelling it from the destructor.
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Leading entries of unacked_ written on the current stream.
  size_t written_on_stream_ ABSL_GUARDED_BY(mu_) = 0;
  // Batches written on the current stream in all, acknowledged or not.
  size_t batches_on_stream_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t acks_on_stream_ ABSL_GUARDED_BY(mu_) = 0;
  bool stream_ended_ ABSL_GUARDED_BY(mu_) = false;
  // The server dropped a batch of this stream under overload: write no more on it.
  bool overloaded_on_stream_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;

  ClientStats stats_ ABSL_GUARDED_BY(mu_);

  // Last: started once everything it uses is constructed.
  std::thread sender_;
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() = default;

void Client::Log(v1::Level level, absl::string_view logger, absl::string_view message,
                 std::initializer_list<LogField> fields) {
  auto record = std::make_unique<v1::LogRecord>();
  record->set_level(level);
  record->set_logger(logger.data(), logger.size());
  record->set_message(message.data(), message.size());
  for (const LogField& field : fields) field.AppendTo(*record);
  impl_->Enqueue(std::move(record));
}

void Client::Log(v1::LogRecord&& record) {
  impl_->Enqueue(std::make_unique<v1::LogRecord>(std::move(record)));
}

bool Client::TryLogAll(std::vector<v1::LogRecord>& records) { return impl_->EnqueueAll(records); }

absl::Status Client::Flush(absl::Time deadline) { return impl_->Flush(deadline); }

ClientStats Client::stats() const { return impl_->stats(); }

}  // namespace sluice
