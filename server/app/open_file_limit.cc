#include "server/app/open_file_limit.h"

#include <sys/resource.h>

#include <cerrno>

#include "absl/status/status.h"

namespace sluice::app {
namespace {

constexpr rlim_t kKernelDefaultMax = 1 << 20;

}  // namespace

absl::StatusOr<uint64_t> RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::ErrnoToStatus(errno, "getrlimit");
  if (limit.rlim_cur == limit.rlim_max) return static_cast<uint64_t>(limit.rlim_cur);
  // An unlimited hard limit is still capped by the kernel (fs.nr_open, 1,048,576 unless
  // changed), and asking for more fails.
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? kKernelDefaultMax : limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::ErrnoToStatus(errno, "setrlimit RLIMIT_NOFILE");
  }
  return static_cast<uint64_t>(limit.rlim_cur);
}

}  // namespace sluice::app
