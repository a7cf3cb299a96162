// The line encodings compiled into Sluice, in one list: `text` (TextEncoder), `json`
// (JsonEncoder) and `logfmt` (LogfmtEncoder), at the ids kTextEncoding, kJsonEncoding and
// kLogfmtEncoding.
//
// Called by the EncodingRegistry constructor only, so that every registry starts with them
// at those ids and the file and console outputs can name them without a lookup. Encodings
// that belong to one output are added by that output's factory, not here.
#ifndef SLUICE_SERVER_OUTPUTS_ENCODERS_BUILTIN_ENCODINGS_H_
#define SLUICE_SERVER_OUTPUTS_ENCODERS_BUILTIN_ENCODINGS_H_

#include "server/outputs/encoding_registry.h"

namespace sluice::outputs {

// The id of `logfmt`; those of `text` and `json` are in encoding_registry.h.
inline constexpr EncodingId kLogfmtEncoding{2};

// Adds the built-in encodings to `registry`, which must be empty; aborts otherwise, as a
// built-in landing at another id than its constant is a programming error.
void RegisterBuiltinEncodings(EncodingRegistry& registry);

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_ENCODERS_BUILTIN_ENCODINGS_H_
