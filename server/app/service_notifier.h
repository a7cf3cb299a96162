// What sluiced tells a service manager about its life, for systemd's Type=notify
// (deploy/systemd/sluiced.service): ready once the ingest, admin and metrics ports serve,
// reloading for the time a config reload takes, stopping when the drain of a shutdown
// begins. ServerApp calls these at those points. They use sd_notify (libsystemd), which
// does nothing when NOTIFY_SOCKET is not set, as in a container, a shell or the tests that
// do not ask for it; a failed notification is ignored, since the server runs the same
// without it.
#ifndef SLUICE_SERVER_APP_SERVICE_NOTIFIER_H_
#define SLUICE_SERVER_APP_SERVICE_NOTIFIER_H_

namespace sluice::app {

// READY=1: the listeners serve. Also ends a reload announced by NotifyReloading.
void NotifyReady();
// RELOADING=1 with the time it began (MONOTONIC_USEC, which newer systemd asks for).
void NotifyReloading();
// STOPPING=1: intake is closed and the server drains, then exits.
void NotifyStopping();

}  // namespace sluice::app

#endif  // SLUICE_SERVER_APP_SERVICE_NOTIFIER_H_
