#include "server/auth/token_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sluice::auth {
namespace {

// Token files are a few lines; a larger one is a mistake (a certificate bundle, a log).
constexpr int64_t kMaxTokenFileBytes = 1 << 20;

}  // namespace

absl::StatusOr<std::unique_ptr<TokenFile>> TokenFile::Open(std::string key, std::string path,
                                                           TokenFormat format) {
  std::unique_ptr<TokenFile> file(new TokenFile(std::move(key), std::move(path), format));
  Version version;
  absl::StatusOr<TokenSet> tokens = file->Read(version);
  if (!tokens.ok()) return tokens.status();
  file->version_ = version;
  file->current_ = std::make_shared<const TokenSet>(*std::move(tokens));
  return file;
}

std::optional<TokenFile::Version> TokenFile::Stat(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  return Version{.mtime_nanos = int64_t{info.st_mtim.tv_sec} * 1000000000 + info.st_mtim.tv_nsec,
                 .size = info.st_size,
                 .inode = info.st_ino};
}

absl::StatusOr<TokenSet> TokenFile::Read(Version& version) const {
  const auto error = [this](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(key_, ": ", path_, ": ", what));
  };
  const std::optional<Version> stat = Stat(path_);
  if (!stat.has_value()) return error(std::strerror(errno));
  version = *stat;
  if (version.size > kMaxTokenFileBytes) {
    return error(absl::StrCat("larger than ", kMaxTokenFileBytes, " bytes"));
  }
  std::FILE* file = std::fopen(path_.c_str(), "rb");
  if (file == nullptr) return error(std::strerror(errno));
  std::string text;
  char buffer[4096];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), file)) > 0 &&
         static_cast<int64_t>(text.size()) <= kMaxTokenFileBytes) {
    text.append(buffer, read);
  }
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) return error("read error");
  absl::StatusOr<TokenSet> tokens = ParseTokenFile(text, format_);
  if (!tokens.ok()) return error(tokens.status().message());
  return tokens;
}

void TokenFile::Refresh() {
  if (Stat(path_).value_or(Version{}) == version_) return;
  Version read_version;
  absl::StatusOr<TokenSet> tokens = Read(read_version);
  // Remembered even when it failed, so that a bad file is reported once, not every second.
  version_ = read_version;
  if (!tokens.ok()) {
    std::fprintf(stderr, "sluiced: %s; keeping the tokens read before\n",
                 std::string(tokens.status().message()).c_str());
    std::fflush(stderr);
    return;
  }
  std::fprintf(stderr, "sluiced: %s: %s re-read, %zu tokens\n", key_.c_str(), path_.c_str(),
               tokens->size());
  std::fflush(stderr);
  auto fresh = std::make_shared<const TokenSet>(*std::move(tokens));
  absl::MutexLock lock(&mu_);
  current_ = std::move(fresh);
}

}  // namespace sluice::auth
