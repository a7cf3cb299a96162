#include "server/auth/token_set.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "openssl/crypto.h"
#include "openssl/sha.h"

namespace sluice::auth {

TokenDigest DigestOf(absl::string_view token) {
  TokenDigest digest;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  return digest;
}

bool DigestsEqual(const TokenDigest& a, const TokenDigest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

const TokenSet::Entry* TokenSet::Find(absl::string_view token) const {
  const TokenDigest digest = DigestOf(token);
  const Entry* found = nullptr;
  for (const Entry& entry : entries_) {
    // No early exit: the loop's time depends on the number of tokens only.
    const bool equal = DigestsEqual(digest, entry.digest);
    if (equal && found == nullptr) found = &entry;
  }
  return found;
}

absl::StatusOr<TokenSet> ParseTokenFile(absl::string_view text, TokenFormat format) {
  std::vector<TokenSet::Entry> entries;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    const std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const size_t expected = format == TokenFormat::kTokens ? 1 : 2;
    if (words.size() != expected) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_number, ": expected ",
          format == TokenFormat::kTokens ? "one token (no blanks in it)"
                                         : "a token and a tenant, separated by a blank",
          ", got ", words.size(), " words"));
    }
    TokenSet::Entry entry{.digest = DigestOf(words[0]), .tenant = ""};
    if (format == TokenFormat::kTokenTenant) entry.tenant = std::string(words[1]);
    for (const TokenSet::Entry& other : entries) {
      if (DigestsEqual(other.digest, entry.digest)) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", line_number, ": the token of an earlier line again"));
      }
    }
    entries.push_back(std::move(entry));
  }
  if (entries.empty()) return absl::InvalidArgumentError("holds no token");
  return TokenSet(std::move(entries));
}

}  // namespace sluice::auth
