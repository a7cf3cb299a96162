// Encoder: serializes one composed record into one output line — text, JSON, and the
// encodings outputs bring along (syslog, JSONEachRow, ...).
//
// The seam between the pipeline and the line formats. The pipeline decides what a record
// says: its time (the record's own or the receive time), its level, and its fields in the
// override order under the configured key names (pipeline::FieldComposer). It hands that
// to an Encoder as a ComposedRecord, so an encoder only spells it out and two encoders can
// never disagree about which field won.
//
// Who calls it: pipeline::RecordFormatter, for every record an output asks lines for, on a
// worker thread. An encoder keeps scratch space and caches (the formatted second, say) and
// is not thread-safe: each worker holds its own instance, made by the encoding's factory
// (EncodingRegistry, encoding_registry.h). A new encoding is a class deriving from Encoder
// plus one registry entry; nothing in the pipeline changes.
#ifndef SLUICE_SERVER_OUTPUTS_ENCODER_H_
#define SLUICE_SERVER_OUTPUTS_ENCODER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "sluice/level.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::outputs {

// Keys of a record's trace context in structured encodings; fixed, unlike RecordKeys.
inline constexpr absl::string_view kTraceIdKey = "trace_id";
inline constexpr absl::string_view kSpanIdKey = "span_id";

// The names structured encodings give the record's own values (pipeline.time_key, ...).
struct RecordKeys {
  absl::string_view time;
  absl::string_view level;
  absl::string_view logger;
  absl::string_view message;
};

// Where a field came from, weakest first. Composition has used it by the time an encoder
// sees the field; an encoding may still place the layers apart.
enum class Layer : uint8_t {
  kBase,
  // Set by a pre-hook on the ingest RPC (server/pipeline/hooks/).
  kPreHook,
  kAdHoc,
  // Set or renamed by a post-hook on the worker (server/pipeline/hooks/).
  kPostHook,
};

// One field of a composed record. A view: valid while the record and the composer live.
struct ComposedField {
  absl::string_view key = {};
  // The typed value of an ad-hoc or post-hook field; null for a base field, whose value is
  // `text`.
  const v1::Field* field = nullptr;
  absl::string_view text = {};
  Layer layer = Layer::kBase;
};

// A record as every encoder sees it. Views into the record and the composer, valid for one
// Encoder::Append call.
struct ComposedRecord {
  // The record's time, or the batch's receive time when the record has none; within the
  // int64 range (the years 1677..2262).
  int64_t time_unix_nanos = 0;
  Level level = Level::kInfo;
  // Empty when the record has none.
  absl::string_view logger = {};
  absl::string_view message = {};
  // Raw bytes; empty when the record has none.
  absl::string_view trace_id = {};
  absl::string_view span_id = {};
  // Never null.
  const RecordKeys* keys = nullptr;
  // The record's fields in the override order, none named like a record key (the keys
  // above, and trace_id and span_id when the record has them).
  absl::Span<const ComposedField> fields = {};
  // What the record's OTLP original carried besides (v1::OtlpOrigin); null for a record
  // that did not come in over OTLP. Only the OTLP encoding reads it.
  const v1::OtlpOrigin* otlp = nullptr;
};

class Encoder {
 public:
  virtual ~Encoder() = default;

  // Appends the line of `record`, its terminator included, to `*out`, leaving what `*out`
  // held before untouched. Never fails: bytes an encoding cannot carry are escaped or
  // replaced, as its header says.
  virtual void Append(const ComposedRecord& record, std::string* out) = 0;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_ENCODER_H_
