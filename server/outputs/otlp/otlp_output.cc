#include "server/outputs/otlp/otlp_output.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "server/config/yaml_reader.h"
#include "server/outputs/otlp/otlp_record_encoder.h"

namespace sluice::outputs {

namespace {

constexpr char kExportMethod[] = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
constexpr absl::Duration kRejectionLogInterval = absl::Seconds(10);

const config::KeyTable<OtlpOutputConfig>& Keys() {
  using S = OtlpOutputConfig;
  static const config::KeyTable<S>* const table = new config::KeyTable<S>{
      config::StringKey("endpoint", &S::endpoint, config::StringRule::kRequired,
                        "The OTLP/gRPC receiver: any gRPC target, `host:port`, "
                        "`dns:///collector.observability.svc:4317`."),
      config::ChoiceKey<S, S::Compression>(
          "compression", &S::compression,
          {{"gzip", S::Compression::kGzip}, {"none", S::Compression::kNone}},
          "How requests are compressed on the wire."),
      config::StringMapKey(
          "headers", &S::headers, false,
          "gRPC metadata sent with every Export, e.g. a vendor's API key. A value "
          "`${env:NAME}` is read from the environment and `${file:PATH}` from a file (one "
          "trailing newline dropped) at start-up; values are never logged."),
      config::DurationKey("timeout", &S::timeout, absl::Milliseconds(100), absl::Minutes(10),
                          "Deadline of one Export call; past it the call is retried."),
      config::IntegerKey("max_request_bytes", &S::max_request_bytes, S::kMinRequestBytes,
                         S::kMaxRequestBytes,
                         "A batch larger than this is sent as several Export calls (receivers "
                         "refuse messages above 4 MiB by default)."),
      config::WithDefaultText(
          config::StringListKey(
              "resource_keys", &S::resource_keys, false,
              "Fields whose key is one of these, or starts with one that ends in `.`, go to the "
              "record's resource; the others are log record attributes. Default: the resource "
              "namespaces of the OpenTelemetry semantic conventions (`service.`, `host.`, `k8s.`, "
              "`container.`, `cloud.`, `process.`, `os.`, `deployment.`, `telemetry.`, `faas.`, "
              "`device.`)."),
          "the semantic conventions' resource namespaces"),
  };
  return *table;
}

bool IsPrintableAscii(absl::string_view value) {
  for (const char c : value) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& file, absl::string_view path) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read \"", file, "\""));
  std::stringstream content;
  content << in.rdbuf();
  std::string value = content.str();
  if (absl::EndsWith(value, "\n")) value.pop_back();
  if (absl::EndsWith(value, "\r")) value.pop_back();
  return value;
}

// The records of one scope of one resource, in batch order.
struct Scope {
  absl::string_view scope_logs;  // without its log_records
  std::vector<absl::string_view> log_records;
};

// The scopes of one resource, in the order their first records came.
struct Resource {
  absl::string_view resource_logs;  // without its scope_logs
  std::vector<Scope> scopes;
};

// Records [begin, end) of one scope, as one request carries them.
struct Segment {
  const Resource* resource;
  const Scope* scope;
  size_t begin;
  size_t end;
};

// What a record adds to a request at most: its bytes, its tag and length.
size_t RecordCost(absl::string_view log_record) { return log_record.size() + 6; }

// What a ResourceLogs and its ScopeLogs add around their records, at most.
size_t ScopeCost(const Resource& resource, const Scope& scope) {
  return resource.resource_logs.size() + scope.scope_logs.size() + 12;
}

// Serializes ExportLogsServiceRequest: consecutive segments of one resource share its
// ResourceLogs.
std::string SerializeRequest(const std::vector<Segment>& segments) {
  std::string request;
  std::string scope_logs;
  std::string resource_logs;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& segment = segments[i];
    if (i == 0 || segments[i - 1].resource != segment.resource) {
      resource_logs.assign(segment.resource->resource_logs.data(),
                           segment.resource->resource_logs.size());
    }
    scope_logs.assign(segment.scope->scope_logs.data(), segment.scope->scope_logs.size());
    for (size_t r = segment.begin; r < segment.end; ++r) {
      AppendLengthDelimited(kOtlpField2Tag, segment.scope->log_records[r], &scope_logs);
    }
    AppendLengthDelimited(kOtlpField2Tag, scope_logs, &resource_logs);
    if (i + 1 == segments.size() || segments[i + 1].resource != segment.resource) {
      AppendLengthDelimited(kOtlpField1Tag, resource_logs, &request);
    }
  }
  return request;
}

// The retry delay a google.rpc.RetryInfo in the status details asks for, if there is one.
std::optional<absl::Duration> RetryInfoDelay(const grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return std::nullopt;
  for (const google::protobuf::Any& detail : details.details()) {
    google::rpc::RetryInfo retry;
    if (detail.Is<google::rpc::RetryInfo>() && detail.UnpackTo(&retry)) {
      return absl::Seconds(retry.retry_delay().seconds()) +
             absl::Nanoseconds(retry.retry_delay().nanos());
    }
  }
  return std::nullopt;
}

bool IsRetryableCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<OtlpOutputConfig> OtlpOutputConfig::Parse(const YAML::Node& block,
                                                         absl::string_view path) {
  OtlpOutputConfig parsed;
  if (absl::Status status = Keys().Read(block, path, parsed, kCommonOutputKeys); !status.ok()) {
    return status;
  }
  for (auto& [name, value] : parsed.headers) {
    // gRPC metadata keys are lowercase, and "-bin" ones carry binary values this output
    // has no way to spell.
    absl::AsciiStrToLower(&name);
    if (absl::EndsWith(name, "-bin") || absl::StartsWith(name, "grpc-")) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ".headers.", name, ": reserved header name (grpc-* and *-bin are not allowed)"));
    }
  }
  return parsed;
}

absl::StatusOr<std::string> ResolveHeaderValue(absl::string_view value, absl::string_view path) {
  std::string resolved;
  absl::string_view reference = value;
  if (absl::ConsumePrefix(&reference, "${env:") && absl::ConsumeSuffix(&reference, "}")) {
    const char* from_environment = std::getenv(std::string(reference).c_str());
    if (from_environment == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": environment variable ", reference, " is not set"));
    }
    resolved = from_environment;
  } else if (reference = value;
             absl::ConsumePrefix(&reference, "${file:") && absl::ConsumeSuffix(&reference, "}")) {
    absl::StatusOr<std::string> from_file = ReadSecretFile(std::string(reference), path);
    if (!from_file.ok()) return from_file.status();
    resolved = *std::move(from_file);
  } else {
    resolved = std::string(value);
  }
  if (!IsPrintableAscii(resolved)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the value must be printable ASCII (gRPC metadata)"));
  }
  return resolved;
}

OtlpOutput::OtlpOutput(std::string id, OtlpOutputConfig config,
                       std::vector<std::pair<std::string, std::string>> headers,
                       EncodingId encoding, prometheus::Registry* metrics)
    : SerializedOutput(id),
      config_(std::move(config)),
      headers_(std::move(headers)),
      encoding_(encoding) {
  if (metrics != nullptr) {
    rejected_ = &prometheus::BuildCounter()
                     .Name("sluice_output_otlp_rejected_records_total")
                     .Help("Records an OTLP receiver refused in its partial_success answer.")
                     .Register(*metrics)
                     .Add({{"output", id}});
  }
}

absl::Status OtlpOutput::StartLocked() {
  grpc::ChannelArguments arguments;
  if (config_.compression == OtlpOutputConfig::Compression::kGzip) {
    arguments.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  }
  // A request can be as large as max_request_bytes plus one record's overshoot.
  arguments.SetMaxSendMessageSize(-1);
  stub_ = std::make_unique<grpc::GenericStub>(
      grpc::CreateCustomChannel(config_.endpoint, grpc::InsecureChannelCredentials(), arguments));
  return absl::OkStatus();
}

absl::Status OtlpOutput::WriteLocked(OutputBatch& batch) {
  absl::string_view lines = batch.Lines(encoding_);
  // Deques: the segments below point into them.
  std::deque<Resource> resources;
  absl::flat_hash_map<absl::string_view, Resource*> resource_of;
  absl::flat_hash_map<std::pair<const Resource*, absl::string_view>, size_t> scope_of;
  while (!lines.empty()) {
    const std::optional<OtlpFrame> frame = NextOtlpFrame(&lines);
    if (!frame.has_value()) return absl::InternalError(absl::StrCat(id(), ": a torn record frame"));
    Resource*& resource = resource_of[frame->resource_logs];
    if (resource == nullptr) {
      resource =
          &resources.emplace_back(Resource{.resource_logs = frame->resource_logs, .scopes = {}});
    }
    const auto [it, added] =
        scope_of.try_emplace(std::make_pair(resource, frame->scope_logs), resource->scopes.size());
    if (added) resource->scopes.push_back({.scope_logs = frame->scope_logs, .log_records = {}});
    resource->scopes[it->second].log_records.push_back(frame->log_record);
  }

  std::vector<Segment> segments;
  size_t request_bytes = 0;
  for (const Resource& resource : resources) {
    for (const Scope& scope : resource.scopes) {
      size_t begin = 0;
      request_bytes += ScopeCost(resource, scope);
      for (size_t i = 0; i < scope.log_records.size(); ++i) {
        const size_t cost = RecordCost(scope.log_records[i]);
        if ((i > begin || !segments.empty()) && request_bytes + cost > config_.max_request_bytes) {
          if (i > begin) segments.push_back({&resource, &scope, begin, i});
          if (absl::Status status = Export(SerializeRequest(segments)); !status.ok()) {
            return status;
          }
          segments.clear();
          begin = i;
          request_bytes = ScopeCost(resource, scope);
        }
        request_bytes += cost;
      }
      if (scope.log_records.size() > begin) {
        segments.push_back({&resource, &scope, begin, scope.log_records.size()});
      }
    }
  }
  if (segments.empty()) return absl::OkStatus();
  return Export(SerializeRequest(segments));
}

absl::Status OtlpOutput::Export(std::string request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + config_.timeout));
  for (const auto& [name, value] : headers_) context.AddMetadata(name, value);
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::Status status;
  absl::Notification done;
  stub_->UnaryCall(&context, kExportMethod, grpc::StubOptions(), &request_buffer, &response_buffer,
                   [&status, &done](grpc::Status result) {
                     status = std::move(result);
                     done.Notify();
                   });
  done.WaitForNotification();

  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse response;
    if (response_buffer.Dump(&slices).ok()) {
      std::string bytes;
      for (const grpc::Slice& part : slices) {
        bytes.append(reinterpret_cast<const char*>(part.begin()), part.size());
      }
      if (response.ParseFromString(bytes) && response.has_partial_success() &&
          response.partial_success().rejected_log_records() > 0) {
        OnRejected(response.partial_success().rejected_log_records(),
                   response.partial_success().error_message());
      }
    }
    return absl::OkStatus();
  }
  const std::string message =
      absl::StrCat(id(), ": Export to ", config_.endpoint, ": ",
                   absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                   ": ", status.error_message());
  const std::optional<absl::Duration> delay = RetryInfoDelay(status);
  if (IsRetryableCode(status.error_code()) ||
      (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED && delay.has_value())) {
    absl::Status transient = absl::UnavailableError(message);
    return delay.has_value() ? WithRetryDelay(std::move(transient), *delay) : transient;
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), message);
}

void OtlpOutput::OnRejected(int64_t records, absl::string_view message) {
  if (rejected_ != nullptr) rejected_->Increment(static_cast<double>(records));
  const absl::Time now = absl::Now();
  if (now - last_rejection_log_ < kRejectionLogInterval) return;
  last_rejection_log_ = now;
  std::fprintf(stderr, "%s: the receiver rejected %lld records: %s\n", std::string(id()).c_str(),
               static_cast<long long>(records), std::string(message).c_str());
}

absl::Status OtlpOutput::FlushLocked(absl::Time /*deadline*/) { return absl::OkStatus(); }

absl::Status OtlpOutput::ShutdownLocked(absl::Time /*deadline*/) {
  stub_.reset();
  return absl::OkStatus();
}

std::vector<config::KeyDoc> OtlpOutputFactory::keys() const { return Keys().docs(); }

std::string OtlpOutputFactory::example_config() const {
  return "{type: otlp, endpoint: '${SLUICE_TARGET}'}";
}

absl::StatusOr<std::unique_ptr<Output>> OtlpOutputFactory::Create(absl::string_view id,
                                                                  const YAML::Node& config,
                                                                  OutputContext& context) const {
  absl::StatusOr<OtlpOutputConfig> parsed = OtlpOutputConfig::Parse(config, context.config_path);
  if (!parsed.ok()) return parsed.status();
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : parsed->headers) {
    absl::StatusOr<std::string> resolved =
        ResolveHeaderValue(value, absl::StrCat(context.config_path, ".headers.", name));
    if (!resolved.ok()) return resolved.status();
    headers.emplace_back(name, *std::move(resolved));
  }
  absl::StatusOr<EncodingId> encoding = context.encodings.Add(id, [keys = parsed->resource_keys] {
    return std::make_unique<OtlpRecordEncoder>(keys, OtlpFraming::kFrames);
  });
  if (!encoding.ok()) return encoding.status();
  return std::make_unique<OtlpOutput>(std::string(id), *std::move(parsed), std::move(headers),
                                      *encoding, context.metrics);
}

}  // namespace sluice::outputs
