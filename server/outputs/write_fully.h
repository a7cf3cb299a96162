// Blocking writes to a file descriptor for the outputs that own one (console, file), with
// errors mapped onto the Output contract's codes.
#ifndef SLUICE_SERVER_OUTPUTS_WRITE_FULLY_H_
#define SLUICE_SERVER_OUTPUTS_WRITE_FULLY_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sluice::outputs {

// Writes all of `data` to `fd`, continuing after partial writes and EINTR. `*written` is
// the number of bytes that went out, also when an error stops it midway, so the caller
// can keep the rest. Errors start with `context` ("file/main: write to /var/log/x").
absl::Status WriteFully(int fd, absl::string_view data, absl::string_view context, size_t* written);

// The status for a failed system call: UNAVAILABLE when retrying later may succeed (a full
// disk or quota, an I/O error, a non-blocking descriptor that is full, memory pressure),
// INTERNAL otherwise. The message is "<context>: <strerror text>".
absl::Status ErrnoStatus(int error_number, absl::string_view context);

// strerror(3) text, thread-safe.
std::string ErrnoText(int error_number);

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_WRITE_FULLY_H_
