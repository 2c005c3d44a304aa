// Tells systemd (Type=notify, deploy/achilles-server.service) where the
// server is in its life: ready only once the store is open and the plugins
// are loaded, reloading around a plugin reload, stopping at the start of
// the drain. Each call is one sd_notify datagram to $NOTIFY_SOCKET, and
// nothing at all when the server was not started by a service manager
// (no $NOTIFY_SOCKET), so the server behaves the same everywhere else.
// Thread-safety: any thread.
#ifndef ACHILLES_SERVICES_SERVER_INTERNAL_SERVICE_MANAGER_H_
#define ACHILLES_SERVICES_SERVER_INTERNAL_SERVICE_MANAGER_H_

#include <string>

namespace achilles::server {

// READY=1, with a STATUS line saying where the server listens.
void NotifyReady(const std::string& status);
// RELOADING=1 before a plugin reload; NotifyReady after it.
void NotifyReloading();
// STOPPING=1 when the shutdown (drain) begins.
void NotifyStopping();

}  // namespace achilles::server

#endif  // ACHILLES_SERVICES_SERVER_INTERNAL_SERVICE_MANAGER_H_
