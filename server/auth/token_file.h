// TokenFile: a token file (token_set.h) kept current while the server runs, so tokens can
// be rotated without a restart: Refresh() re-reads it when its modification time, size or
// inode changed (a Kubernetes Secret volume swaps a symlink: a new inode).
//
// Owned by the authenticators (token_authenticator.h, ingest_authenticator.h), whose
// Refresh() server/app's housekeeping thread calls once a second, never a gRPC callback. A file
// that became unreadable or invalid keeps the tokens it last had, and the problem is logged once
// per change.
#ifndef SLUICE_SERVER_AUTH_TOKEN_FILE_H_
#define SLUICE_SERVER_AUTH_TOKEN_FILE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/auth/token_set.h"

namespace sluice::auth {

class TokenFile {
 public:
  // Reads `path` once; an error names `key` (the config key path) and the file.
  static absl::StatusOr<std::unique_ptr<TokenFile>> Open(std::string key, std::string path,
                                                         TokenFormat format);

  // Re-reads the file if it changed since the last look.
  void Refresh();

  // The tokens now; callers keep the pointer for the one lookup they make.
  std::shared_ptr<const TokenSet> current() const {
    absl::MutexLock lock(&mu_);
    return current_;
  }

 private:
  // What tells a file's versions apart.
  struct Version {
    int64_t mtime_nanos = 0;
    int64_t size = 0;
    uint64_t inode = 0;
    friend bool operator==(const Version&, const Version&) = default;
  };
  // The file's version; nullopt (errno set) when it cannot be stat'ed.
  static std::optional<Version> Stat(const std::string& path);

  TokenFile(std::string key, std::string path, TokenFormat format)
      : key_(std::move(key)), path_(std::move(path)), format_(format) {}
  // Reads and parses the file as it is now.
  absl::StatusOr<TokenSet> Read(Version& version) const;

  const std::string key_;
  const std::string path_;
  const TokenFormat format_;
  // Only Refresh (one thread) reads and writes it.
  Version version_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TokenSet> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::auth

#endif  // SLUICE_SERVER_AUTH_TOKEN_FILE_H_
