// Utf8: checking and repairing UTF-8 in strings that arrived as unchecked bytes.
//
// Ingest parses requests leniently (string fields read as bytes, see
// server/ingest/request_decoder.h) so that one bad string costs one record, not the whole
// message; Admission then calls these on each record's strings and applies
// ingest.invalid_utf8. Valid means well-formed UTF-8 as Unicode defines it (and protobuf
// enforces for proto3 strings): no overlong forms, no surrogates (U+D800..U+DFFF), nothing
// above U+10FFFF, no truncated sequences.
//
// Pure functions; thread-safe.
#ifndef SLUICE_SERVER_COMMON_UTF8_H_
#define SLUICE_SERVER_COMMON_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace sluice {

// The replacement character U+FFFD, encoded.
inline constexpr absl::string_view kUtf8Replacement = "\xEF\xBF\xBD";

// The length of the longest valid UTF-8 prefix of `text`: text.size() when all of it is
// valid, else the byte offset of the first invalid sequence.
size_t ValidUtf8Prefix(absl::string_view text);

inline bool IsValidUtf8(absl::string_view text) { return ValidUtf8Prefix(text) == text.size(); }

// Replaces each invalid sequence of `text` with U+FFFD, in place, and returns how many
// replacements were made (0: `text` is unchanged). A sequence is the maximal subpart of
// an ill-formed sequence, as Unicode (chapter 3, "U+FFFD Substitution of Maximal
// Subparts") and the WHATWG decoder define it: a truncated 3-byte sequence becomes one
// U+FFFD, a stray continuation byte one U+FFFD each.
size_t ReplaceInvalidUtf8(std::string& text);

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_UTF8_H_
