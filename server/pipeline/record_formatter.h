// RecordFormatter: turns one record into one output line in any registered encoding, on
// one worker.
//
// It composes the record once per line (FieldComposer::ComposeRecord: time, level, fields
// in the override order, key names) and has the encoding's Encoder serialize the result;
// the encoders themselves live in server/outputs/encoders/ and in the outputs that bring
// their own (outputs/encoder.h). FormattedBatch calls it for each record of each
// (encoding, threshold) an output asks lines for.
//
// Hot path: one formatter per worker thread (not thread-safe), reused for every record. It
// holds one Encoder per encoding of the registry it was built from, and the composed
// fields' scratch vector; past warm-up it allocates only while those grow.
#ifndef SLUICE_SERVER_PIPELINE_RECORD_FORMATTER_H_
#define SLUICE_SERVER_PIPELINE_RECORD_FORMATTER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/outputs/encoder.h"
#include "server/outputs/encoding_registry.h"
#include "server/pipeline/field_composer.h"
#include "sluice/level.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::pipeline {

class RecordFormatter {
 public:
  // Makes one encoder for each encoding of `encodings`, which need not outlive the
  // formatter; `composer` must.
  RecordFormatter(const FieldComposer& composer, const outputs::EncodingRegistry& encodings);

  RecordFormatter(const RecordFormatter&) = delete;
  RecordFormatter& operator=(const RecordFormatter&) = delete;

  // How many encodings the formatter has; their ids are below this.
  size_t encodings() const { return encoders_.size(); }

  // Appends the line of `record` in `encoding` (below encodings()) to `*out`. A record
  // without a time takes `received_at`. `layers` tells its fields' layers apart
  // (FieldComposer).
  void Append(outputs::EncodingId encoding, const v1::LogRecord& record, absl::Time received_at,
              std::string* out, FieldLayers layers = {});

 private:
  const FieldComposer& composer_;
  // Indexed by EncodingIndex().
  std::vector<std::unique_ptr<outputs::Encoder>> encoders_;
  std::vector<outputs::ComposedField> fields_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_RECORD_FORMATTER_H_
