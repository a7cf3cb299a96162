#include "server/outputs/write_fully.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sluice::outputs {

absl::Status WriteFully(int fd, absl::string_view data, absl::string_view context,
                        size_t* written) {
  *written = 0;
  while (*written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + *written, data.size() - *written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, context);
    }
    *written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status ErrnoStatus(int error_number, absl::string_view context) {
  std::string message = absl::StrCat(context, ": ", ErrnoText(error_number));
  switch (error_number) {
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENOBUFS:
    case ENOMEM:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

std::string ErrnoText(int error_number) {
  char buffer[256];
  // The GNU strerror_r returns the text, which may or may not live in `buffer`.
  return ::strerror_r(error_number, buffer, sizeof(buffer));
}

}  // namespace sluice::outputs
