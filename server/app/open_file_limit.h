// RaiseOpenFileLimit: lifts the process's soft RLIMIT_NOFILE to its hard limit.
//
// Who calls it: sluiced's main(), once, before any listener opens. Every ingest
// connection holds a file descriptor, and the soft limit a shell or service manager
// hands out (often 1,024) is a small fraction of what the operator allowed as the hard
// limit. Running out makes gRPC's accept fail (docs/OPERATIONS.md, "What bounds
// connections"), so the server takes everything it was granted. Lowering the hard limit
// stays the operator's tool.
#ifndef SLUICE_SERVER_APP_OPEN_FILE_LIMIT_H_
#define SLUICE_SERVER_APP_OPEN_FILE_LIMIT_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace sluice::app {

// Sets the soft limit to the hard one and returns the limit now in force (the soft
// limit); an error from getrlimit/setrlimit, with the limit unchanged.
absl::StatusOr<uint64_t> RaiseOpenFileLimit();

}  // namespace sluice::app

#endif  // SLUICE_SERVER_APP_OPEN_FILE_LIMIT_H_
