#include "server/pipeline/record_formatter.h"

namespace sluice::pipeline {

RecordFormatter::RecordFormatter(const FieldComposer& composer,
                                 const outputs::EncodingRegistry& encodings)
    : composer_(composer) {
  encoders_.reserve(encodings.size());
  for (size_t i = 0; i < encodings.size(); ++i) {
    encoders_.push_back(encodings.NewEncoder(static_cast<outputs::EncodingId>(i)));
  }
}

void RecordFormatter::Append(outputs::EncodingId encoding, const v1::LogRecord& record,
                             absl::Time received_at, std::string* out, FieldLayers layers) {
  encoders_[outputs::EncodingIndex(encoding)]->Append(
      composer_.ComposeRecord(record, received_at, &fields_, layers), out);
}

}  // namespace sluice::pipeline
