#include "services/server/internal/service_manager.h"

#include <systemd/sd-daemon.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace achilles::server {
namespace {

// A failed notification changes nothing for clients; systemd will time the
// start out and say so, and the log line says why.
void Send(const std::string& state) {
  const int rc = sd_notify(/*unset_environment=*/0, state.c_str());
  if (rc < 0) {
    Log(LogLevel::kWarning,
        "cannot notify the service manager: ", std::strerror(-rc));
  }
}

}  // namespace

void NotifyReady(const std::string& status) {
  Send(absl::StrCat("READY=1\nSTATUS=", status));
}

void NotifyReloading() { Send("RELOADING=1\nSTATUS=reloading plugins"); }

void NotifyStopping() { Send("STOPPING=1\nSTATUS=draining"); }

}  // namespace achilles::server
