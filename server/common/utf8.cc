#include "server/common/utf8.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace sluice {
namespace {

// The length of the valid sequence starting at data[0] (1..4), or 0 when it is invalid;
// then `*subpart` is the length of its maximal subpart (at least 1), the bytes one U+FFFD
// replaces.
size_t SequenceLength(const unsigned char* data, size_t size, size_t* subpart) {
  const unsigned char lead = data[0];
  size_t length;
  // The range the second byte must fall in; the later ones are always 0x80..0xBF. The
  // narrowed ranges exclude overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4).
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead < 0x80) {
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    // A continuation byte without a lead, C0/C1 (always overlong) or F5..FF.
    *subpart = 1;
    return 0;
  }
  for (size_t i = 1; i < length; ++i) {
    if (i >= size || data[i] < low || data[i] > high) {
      *subpart = i;
      return 0;
    }
    low = 0x80;
    high = 0xBF;
  }
  return length;
}

// Bytes of ASCII at the start of data[0..size), eight at a time: most log text is ASCII.
size_t AsciiPrefix(const unsigned char* data, size_t size) {
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, sizeof(word));
    if ((word & 0x8080808080808080ull) != 0) break;
  }
  while (i < size && data[i] < 0x80) ++i;
  return i;
}

}  // namespace

size_t ValidUtf8Prefix(absl::string_view text) {
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    i += AsciiPrefix(data + i, size - i);
    if (i == size) break;
    size_t subpart;
    const size_t length = SequenceLength(data + i, size - i, &subpart);
    if (length == 0) return i;
    i += length;
  }
  return size;
}

size_t ReplaceInvalidUtf8(std::string& text) {
  size_t i = ValidUtf8Prefix(text);
  if (i == text.size()) return 0;
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  std::string out;
  out.reserve(size + size / 2);
  out.append(text, 0, i);
  size_t replaced = 0;
  while (i < size) {
    size_t subpart;
    const size_t length = SequenceLength(data + i, size - i, &subpart);
    if (length == 0) {
      out.append(kUtf8Replacement.data(), kUtf8Replacement.size());
      ++replaced;
      i += subpart;
      continue;
    }
    out.append(text, i, length);
    i += length;
  }
  text = std::move(out);
  return replaced;
}

}  // namespace sluice
