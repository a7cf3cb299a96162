// TokenSet: the bearer tokens of one token file, as SHA-256 digests, and the constant-time
// lookup every authenticated call makes; ParseTokenFile reads a token file's text.
//
// Used by TokenFile (token_file.h), which re-reads the file when it changes, and by the
// authenticators of the admin and ingest ports. Only digests are kept, so a core dump or a
// debugger shows no token.
#ifndef SLUICE_SERVER_AUTH_TOKEN_SET_H_
#define SLUICE_SERVER_AUTH_TOKEN_SET_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice::auth {

using TokenDigest = std::array<uint8_t, 32>;

TokenDigest DigestOf(absl::string_view token);

// True when `a` and `b` are equal, in a time that does not depend on where they differ.
bool DigestsEqual(const TokenDigest& a, const TokenDigest& b);

class TokenSet {
 public:
  struct Entry {
    TokenDigest digest;
    // The tenant of an ingest token; empty for admin tokens.
    std::string tenant;
  };

  TokenSet() = default;
  explicit TokenSet(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  // The entry of `token`, or null. Every entry is compared, whatever matched, so the time
  // taken tells nothing about which token (or how much of one) was right.
  const Entry* Find(absl::string_view token) const;

  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
};

// What a token file's lines hold.
enum class TokenFormat {
  kTokens,       // one token a line (admin.token_file, admin.read_only_token_file)
  kTokenTenant,  // `token tenant` (ingest.tokens_file)
};

// Parses a token file: blank lines and lines starting with '#' (after leading blanks) are
// ignored, surrounding blanks are trimmed. An error names the line ("line 3: ...") but
// never shows a token; a file without any token, or with one token twice, is an error.
absl::StatusOr<TokenSet> ParseTokenFile(absl::string_view text, TokenFormat format);

}  // namespace sluice::auth

#endif  // SLUICE_SERVER_AUTH_TOKEN_SET_H_
