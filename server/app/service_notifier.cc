#include "server/app/service_notifier.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace sluice::app {

void NotifyReady() { sd_notify(0, "READY=1"); }

void NotifyReloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t micros =
      static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
  sd_notify(0, absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", micros).c_str());
}

void NotifyStopping() { sd_notify(0, "STOPPING=1"); }

}  // namespace sluice::app
