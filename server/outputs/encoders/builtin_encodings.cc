#include "server/outputs/encoders/builtin_encodings.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "server/outputs/encoders/json_encoder.h"
#include "server/outputs/encoders/logfmt_encoder.h"
#include "server/outputs/encoders/text_encoder.h"

namespace sluice::outputs {
namespace {

void AddAt(EncodingRegistry& registry, EncodingId expected, absl::string_view name,
           EncoderFactory factory) {
  const absl::StatusOr<EncodingId> id = registry.Add(name, std::move(factory));
  if (!id.ok() || *id != expected) {
    std::fprintf(stderr, "built-in encoding \"%.*s\" is not at id %zu\n",
                 static_cast<int>(name.size()), name.data(), EncodingIndex(expected));
    std::abort();
  }
}

}  // namespace

void RegisterBuiltinEncodings(EncodingRegistry& registry) {
  AddAt(registry, kTextEncoding, "text", [] { return std::make_unique<TextEncoder>(); });
  AddAt(registry, kJsonEncoding, "json", [] { return std::make_unique<JsonEncoder>(); });
  AddAt(registry, kLogfmtEncoding, "logfmt", [] { return std::make_unique<LogfmtEncoder>(); });
}

}  // namespace sluice::outputs
