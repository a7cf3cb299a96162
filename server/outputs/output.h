// The Output interface: where records leave Sluice. One implementation per folder under
// server/outputs/<type>/, each created by its OutputFactory (output_registry.h).
//
// Who calls it: the pipeline, on worker threads. Write() may be called from several
// workers at once, each with its own batch; an output that needs exclusive access derives
// from SerializedOutput, which takes the lock so the plugin never does.
//
// Lifecycle: Start() once before the first Write (an error aborts start-up); Flush() at
// drain; Shutdown() last — it flushes, and is safe twice and safe without Start().
// Reopen() may come at any time between them (SIGHUP, after logrotate renamed the file).
#ifndef SLUICE_SERVER_OUTPUTS_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_OUTPUT_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/field_layers.h"
#include "server/common/record_batch.h"
#include "server/outputs/encoding_registry.h"

namespace sluice::outputs {

// The records of one batch routed to one output (its `level`, `loggers` and `match`), as
// that output sees them. Lines are formatted on first request and shared by all outputs
// that ask for the same encoding and take the same records: formatting is paid once per
// encoding and selection, not once per output. Used by one worker thread at a time.
class OutputBatch {
 public:
  virtual ~OutputBatch() = default;

  // The whole batch, records of other outputs included: skip those takes() refuses.
  virtual const RecordBatch& records() const = 0;

  // Whether records().records()[index] is routed to this output.
  virtual bool takes(int index) const = 0;

  // How many records are routed to this output.
  virtual size_t count() const = 0;

  // Where records().records()[index]'s fields change layer (field_layers.h), for outputs
  // that pass fields on uncomposed; FieldLayers::AllAdHoc(fields) when no hook set any.
  virtual FieldLayers layers(int index) const = 0;

  // The routed records, in batch order, one line each in `encoding` (an id of the
  // EncodingRegistry the pipeline was built with). The view lives as long as the batch.
  virtual absl::string_view Lines(EncodingId encoding) = 0;
};

class Output {
 public:
  virtual ~Output() = default;

  // "type/name", e.g. "file/audit"; the `output` label of its metrics.
  virtual absl::string_view id() const = 0;

  // The encoding this output asks OutputBatch::Lines() for, if it asks for one. The
  // pipeline formats it on the worker before the batch reaches the output's sender, so
  // Lines() there is a lookup; asking for another encoding aborts.
  virtual std::optional<EncodingId> encoding() const { return std::nullopt; }

  virtual absl::Status Start() = 0;

  // Takes the records routed to it in `batch`. OK: taken.
  // kUnavailable / kDeadlineExceeded: transient, the pipeline retries with backoff.
  // Any other code: permanent for this batch, counted and dropped.
  virtual absl::Status Write(OutputBatch& batch) = 0;

  // Pushes buffered records down (for the file output: to the kernel) by `deadline`.
  virtual absl::Status Flush(absl::Time deadline) = 0;

  virtual absl::Status Shutdown(absl::Time deadline) = 0;

  // Lets go of the destination and opens it again by its configured name, so that a
  // file renamed by logrotate is followed by a new one at the configured path. Called by
  // the server on SIGHUP, from its lifecycle thread; safe before Start and after
  // Shutdown. Outputs without such a destination keep this default: nothing to do.
  virtual absl::Status Reopen() { return absl::OkStatus(); }
};

// The payload under which a transient status carries the destination's own retry delay.
inline constexpr absl::string_view kRetryDelayPayload = "sluice.outputs/retry-delay";

// `status` (transient) saying when to try again: the output's sender waits `delay` before
// the next attempt instead of its own backoff. For destinations that tell, such as an OTLP
// receiver's google.rpc.RetryInfo.
inline absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  status.SetPayload(kRetryDelayPayload, absl::Cord(absl::FormatDuration(delay)));
  return status;
}

// The delay WithRetryDelay attached to `status`, if any.
inline std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kRetryDelayPayload);
  absl::Duration delay;
  if (!payload.has_value() || !absl::ParseDuration(std::string(*payload), &delay)) {
    return std::nullopt;
  }
  return delay;
}

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_OUTPUT_H_
