// sluice::Client: the C++ client library of Sluice. Applications call Log(); a background
// thread batches the records and streams them to the server over LogService.PushBatches.
//
//   sluice::ClientOptions options;
//   options.target = "127.0.0.1:4317";
//   sluice::Client client(options);
//   client.Log(sluice::v1::LEVEL_INFO, "checkout", "order placed",
//              {{"order_id", 1234}, {"user", "ann"}, {"express", true}});
//   absl::Status flushed = client.Flush(absl::Now() + absl::Seconds(5));
//
// Threading: every method may be called from any number of threads at once. Log() never
// blocks on the network: it appends the record to a bounded in-memory buffer under a short
// mutex, and when the buffer is full it drops the record and counts it
// (ClientStats::dropped_buffer_full). The sender thread owns the connection.
//
// Delivery: at-least-once. Each batch carries an increasing sequence number and stays in
// memory until the server acknowledges it. At most `max_unacked_batches` batches are on the
// wire unacknowledged; beyond that the sender waits for acks (so HTTP/2 buffering cannot
// grow without bound). When the stream fails, the sender reconnects with exponential
// backoff (100ms..5s, jittered, and at least the server's grpc-retry-pushback-ms) and
// resends every unacknowledged batch, so the server may see a batch twice. A batch the
// server acks as dropped under overload (DROP_REASON_OVERFLOW_*) counts as not taken: the
// sender ends the stream, backs off and sends it again; only the client's own full buffer
// makes it drop records.
//
// Scaling out: Sluice servers are stateless replicas, and a client spreads its load over
// them itself. `target` may name several addresses ("ipv4:10.0.0.1:4317,10.0.0.2:4317", or
// "dns:///sluice-headless.ns.svc:4317", which resolves to every ready pod), and
// `load_balancing_policy = "round_robin"` makes gRPC keep a connection to each. gRPC picks
// a replica per call, and one PushBatches stream is one call, so a client that never ends
// its stream stays on one replica: `batches_per_stream` makes the sender end each stream
// after that many batches (once all of them were acknowledged) and open the next one,
// which round_robin sends to the next replica. When a replica stops, its stream fails and
// the unacknowledged batches are resent on a new stream, which round_robin sends to a live
// replica. docs/SCALING.md has the whole story.
//
// Lifetime: the destructor flushes for at most `close_timeout`, then closes the stream and
// joins the sender thread. Records still unacknowledged then are lost.
//
// This header depends only on the generated protos and Abseil: the client is a library
// applications link without any of the server.
#ifndef SLUICE_CLIENT_INCLUDE_SLUICE_CLIENT_H_
#define SLUICE_CLIENT_INCLUDE_SLUICE_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sluice/v1/logs.pb.h"

namespace sluice {

// TLS towards a server whose port has a `tls` block (docs/SECURITY.md). PEM text, not file
// names: LoadClientTlsFiles reads the files.
struct ClientTlsOptions {
  // The CA certificates the server's certificate must chain to. Empty: the system's roots.
  std::string root_certs_pem;
  // The client's certificate chain and its key, for a server that asks for one (mTLS).
  // Both or neither.
  std::string cert_chain_pem;
  std::string private_key_pem;
  // The name the server's certificate must carry, when it is not the host of `target`
  // (an IP address, or a name the certificate does not list).
  std::string server_name;
};

// Reads PEM files into `tls` (an empty path leaves that part alone); an error names the
// file. For command-line tools and applications configured with file names.
absl::Status LoadClientTlsFiles(const std::string& ca_file, const std::string& cert_file,
                                const std::string& key_file, ClientTlsOptions& tls);

struct ClientOptions {
  // Ingest address of the server: "host:port", or any gRPC target name, such as
  // "ipv4:127.0.0.1:5001,127.0.0.1:5002" or "dns:///sluice-headless.ns.svc:4317", which
  // may resolve to several replicas.
  std::string target = "127.0.0.1:4317";
  // Set: the connection uses TLS. Not set: plaintext.
  std::optional<ClientTlsOptions> tls;
  // Sent as `authorization: Bearer <token>` on every stream, for a server with
  // ingest.tokens_file. Empty: none.
  std::string bearer_token;
  // The gRPC load-balancing policy over the addresses `target` resolves to. Empty: gRPC's
  // default, pick_first (one connection, to the first address that answers).
  // "round_robin": a connection to every address, each new stream on the next ready one;
  // use it with `batches_per_stream`, or the client's one stream never moves. Any other
  // name of a policy registered with gRPC is passed on as is; an unknown one makes every
  // stream fail with INVALID_ARGUMENT (ClientStats::last_stream_error), and gRPC logs
  // which name it did not know.
  std::string load_balancing_policy;
  // With a load_balancing_policy such as round_robin: the service whose grpc.health.v1
  // status gRPC watches on every replica's connection (gRPC's client-side health
  // checking). A replica that reports anything but SERVING — sluiced while it drains, or
  // while every scheduler channel is full — gets no new streams until it serves again;
  // streams already open on it are not touched. A server without the health service
  // counts as serving. Empty: no health checking, every connected replica gets streams.
  std::string health_check_service_name = "sluice.v1.LogService";
  // After this many batches (new or resent) were written on one PushBatches stream, the
  // sender writes no more on it, half-closes it once all of them are acknowledged, and
  // opens a new stream: a new call, which round_robin gives to the next replica. 0: one
  // stream for as long as it works. Each rotation costs a round trip with nothing in
  // flight, so pick a value that lets a stream live for seconds, not milliseconds.
  size_t batches_per_stream = 0;
  // Records held by the client at most: waiting to be sent plus sent but not acknowledged.
  // Log() drops (and counts) records beyond it. This bounds the client's memory.
  size_t max_buffered_records = 100000;
  // A batch is sent once it holds this many records...
  size_t max_batch_records = 1000;
  // ...or this many encoded bytes (keep it well under the server's max_message_bytes)...
  size_t max_batch_bytes = 1024 * 1024;
  // ...or its first record has waited this long.
  absl::Duration max_batch_delay = absl::Milliseconds(5);
  // Batches sent and not yet acknowledged, at most.
  size_t max_unacked_batches = 8;
  // How long the destructor waits for outstanding records to be acknowledged.
  absl::Duration close_timeout = absl::Seconds(5);
  // When set, every logger name is prefixed with it: "shop" + "checkout" = "shop.checkout".
  std::string base_logger;
};

// A snapshot of the client's counters, all since construction.
struct ClientStats {
  // Records taken into the buffer by Log().
  uint64_t logged = 0;
  // Records Log() dropped because the buffer was full.
  uint64_t dropped_buffer_full = 0;
  // Batches written to a stream for the first time, and written again after a reconnect.
  uint64_t sent_batches = 0;
  uint64_t resent_batches = 0;
  // Batches the server dropped under overload (its scheduler.overflow policy) and the
  // client kept to send again after backing off.
  uint64_t overloaded_batches = 0;
  // Records in batches the server acknowledged, and how the server accounted for them.
  uint64_t acked_records = 0;
  uint64_t server_accepted = 0;
  uint64_t server_filtered = 0;
  uint64_t server_dropped = 0;
  uint64_t server_rejected = 0;
  // Why the server last refused a record (PushAck.rejection); empty if it never did.
  std::string last_rejection;
  // PushBatches streams (calls) the sender opened: the first one, one per rotation
  // (batches_per_stream) and one per reconnect after a failure.
  uint64_t streams_opened = 0;
  // Streams that ended with an error, and the error of the last one (OK if none did).
  uint64_t stream_failures = 0;
  absl::Status last_stream_error;
};

// One typed ad-hoc field of a record. Holds views: only valid for the duration of the
// Log() call it is passed to, which copies it.
class LogField {
 public:
  LogField(absl::string_view key, absl::string_view value) : key_(key), value_(value) {}
  LogField(absl::string_view key, const char* value)
      : key_(key), value_(absl::string_view(value)) {}
  LogField(absl::string_view key, bool value) : key_(key), value_(value) {}
  LogField(absl::string_view key, double value) : key_(key), value_(value) {}
  template <typename Int,
            std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  LogField(absl::string_view key, Int value) : key_(key), value_(static_cast<int64_t>(value)) {}

  // Appends this field to `record`.
  void AppendTo(v1::LogRecord& record) const;

 private:
  absl::string_view key_;
  std::variant<absl::string_view, int64_t, double, bool> value_;
};

class Client {
 public:
  // Starts the sender thread. Connecting is lazy: nothing happens on the network until the
  // first record is logged, and an unreachable server is not an error here.
  explicit Client(ClientOptions options);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  // Flushes for at most options.close_timeout, then stops the sender thread.
  ~Client();

  // Records a log event stamped with the current time. Never blocks on the network.
  void Log(v1::Level level, absl::string_view logger, absl::string_view message,
           std::initializer_list<LogField> fields = {});

  // Records a ready-made record; a zero time_unix_nano is stamped with the current time.
  // base_logger applies to it as well.
  void Log(v1::LogRecord&& record);

  // Takes every record of `records` (moving them out), or none: false, with nothing
  // counted as dropped, when the buffer has no room for all of them. For callers that keep
  // the records and try again later, such as the server's forward output.
  bool TryLogAll(std::vector<v1::LogRecord>& records);

  // OK once every record logged before the call has been acknowledged by the server;
  // DEADLINE_EXCEEDED (with the counts and the last stream error) if `deadline` comes first.
  absl::Status Flush(absl::Time deadline);

  ClientStats stats() const;

 private:
  class Impl;
  // Owns the sender thread; destroyed (flushed and joined) with the client.
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice

#endif  // SLUICE_CLIENT_INCLUDE_SLUICE_CLIENT_H_
