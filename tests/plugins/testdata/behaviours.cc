// Misbehaving plugins for fault-isolation tests; BEHAVIOUR selects one.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "achilles/plugin_sdk.h"

namespace {

#if BEHAVIOUR == 13
int64_t MonotonicNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Sleeps for the request's patient_id in milliseconds, and says on which
// thread and from when to when (CLOCK_MONOTONIC is one clock for every
// process, so workers' times compare).
void Sleepy(const achilles::v1::PluginRequest& req,
            achilles::sdk::Recommend* r) {
  const int64_t start = MonotonicNanos();
  const int ms = req.patient_id().empty() ? 0 : std::stoi(req.patient_id());
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  r->Observe("tid", std::to_string(syscall(SYS_gettid)));
  r->Observe("start_ns", std::to_string(start));
  r->Observe("end_ns", std::to_string(MonotonicNanos()));
}
#endif

#if BEHAVIOUR == 10
// The sandbox probe: does what the request's clinic_id names, with its
// patient_id as the argument, and reports each outcome as an observation.
std::string Outcome(int rc) {
  return rc == 0 ? "ok" : std::string("failed: ") + std::strerror(errno);
}

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

std::string Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "socket " + Outcome(-1);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const std::string outcome = rc == 0 ? "connected" : "connect " + Outcome(rc);
  close(fd);
  return outcome;
}

std::string Write(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Outcome(fd);
  const ssize_t n = write(fd, "x", 1);
  close(fd);
  return n == 1 ? "written" : "write " + Outcome(-1);
}

// Where this library was loaded from (the host's private copy), absolute:
// the worker loads it relative to its working directory.
std::string OwnPath() {
  Dl_info info{};
  dladdr(reinterpret_cast<void*>(&OwnPath), &info);
  std::string path = info.dli_fname != nullptr ? info.dli_fname : "";
  if (path.rfind("./", 0) == 0) {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) != nullptr) path = cwd + path.substr(1);
  }
  return path;
}

void Probe(const achilles::v1::PluginRequest& req,
           achilles::sdk::Recommend* r) {
  const std::string& what = req.clinic_id();
  const std::string& arg = req.patient_id();
  if (what == "spin") {
    for (volatile unsigned long n = 0;; n = n + 1) {
    }
  } else if (what == "burn") {
    const double until = CpuSeconds() + std::stoi(arg) / 1000.0;
    for (volatile unsigned long n = 0; CpuSeconds() < until; n = n + 1) {
    }
  } else if (what == "connect") {
    r->Observe("connect", Connect(std::stoi(arg)));
  } else if (what == "write") {
    // Each path in the argument (';'-separated), beside its own copy, and
    // the copy itself.
    std::vector<std::string> paths;
    size_t start = 0;
    for (size_t at; (at = arg.find(';', start)) != std::string::npos;
         start = at + 1) {
      paths.push_back(arg.substr(start, at - start));
    }
    paths.push_back(arg.substr(start));
    paths.push_back(OwnPath() + ".written");
    for (const std::string& path : paths) {
      if (!path.empty()) r->Observe(path, Write(path));
    }
    r->Observe("unlink own copy", Outcome(unlink(OwnPath().c_str())));
  } else if (what == "env") {
    const char* value = getenv(arg.c_str());
    r->Observe(arg, value == nullptr ? "unset" : value);
  } else if (what == "whoami") {
    r->Observe("uid", std::to_string(getuid()));
    r->Observe("euid", std::to_string(geteuid()));
  } else if (what == "signal") {
    // Signal 0 only checks permission: it harms nobody when allowed.
    r->Observe("signal parent", Outcome(kill(getppid(), 0)));
    r->Observe("signal group", Outcome(kill(0, 0)));
  }
}
#endif

class Misbehave : public achilles::sdk::Plugin {
 public:
  achilles::sdk::Result Evaluate(const achilles::v1::PluginRequest& req,
                                 achilles::v1::PluginResponse* resp) override {
#if BEHAVIOUR == 1
    throw std::runtime_error("boom");
#elif BEHAVIOUR == 2
    // Latin-1, not UTF-8, as a careless plugin might write it.
    return achilles::sdk::Result::Error("cannot compute caf\xe9 table");
#elif BEHAVIOUR == 3
    std::this_thread::sleep_for(std::chrono::seconds(5));
#elif BEHAVIOUR == 4
    // A candidate with no rationale at all.
    auto* c = resp->add_candidates();
    c->set_id("bare");
    c->set_summary("trust me");
    c->set_severity(achilles::v1::SEVERITY_INFO);
    c->set_category(achilles::v1::CATEGORY_EXERCISE);
#elif BEHAVIOUR == 5
    // Claims the safety screen's authority.
    achilles::sdk::Recommend("fake_safety")
        .Severity(achilles::v1::SEVERITY_CRITICAL)
        .Category(achilles::v1::CATEGORY_SAFETY)
        .Summary("panic")
        .Observe("x", "y")
        .Rule("X", "x", "x")
        .Source("X")
        .AddTo(resp);
#elif BEHAVIOUR == 6
    // A real crash: write through a null pointer.
    volatile int* volatile p = nullptr;
    *p = 42;
#elif BEHAVIOUR == 9
    // Dresses running advice up as the engine's own safety screen.
    achilles::sdk::Recommend impostor("keep_running");
    impostor.Info(achilles::v1::CATEGORY_RETURN_TO_RUN)
        .Summary("keep running, it is safe")
        .Observe("x", "y")
        .Rule("RF-4", "x", "x")
        .Source("S4")
        .Tag("running");
    impostor.Mutable()->set_provenance(achilles::v1::PROVENANCE_SAFETY_SCREEN);
    impostor.Mutable()->set_plugin_id("safety");
    impostor.AddTo(resp);
#elif BEHAVIOUR == 12
    // Fails while the file named by $ACHILLES_TEST_FAIL_FLAG exists.
    const char* flag = std::getenv("ACHILLES_TEST_FAIL_FLAG");
    std::FILE* f = flag != nullptr ? std::fopen(flag, "r") : nullptr;
    if (f != nullptr) {
      std::fclose(f);
      return achilles::sdk::Result::Error("failing on purpose");
    }
#elif BEHAVIOUR == 7
    // Leaks 64 MiB per call, touched so it is really resident.
    char* leak = new char[64 << 20];
    for (size_t i = 0; i < (64u << 20); i += 4096) leak[i] = 1;
#endif
    achilles::sdk::Recommend ok("ok");
    ok.Info(achilles::v1::CATEGORY_EXERCISE)
        .Summary("survived")
        .Observe("events", std::to_string(req.timeline_size()))
        .Rule("TEST", "test", "always")
        .Source("TEST");
#if BEHAVIOUR == 10
    Probe(req, &ok);
#elif BEHAVIOUR == 13
    Sleepy(req, &ok);
#endif
    ok.AddTo(resp);
    return achilles::sdk::Result::Ok();
  }
};

#if BEHAVIOUR == 8
// Crashes as soon as it is loaded, before any ABI check can run.
__attribute__((constructor)) void CrashOnLoad() { std::raise(SIGSEGV); }
#endif

#if BEHAVIOUR == 11
// Hangs in its constructor, inside dlopen, until the file named by
// ACH_TEST_RELEASE_FILE exists; 20 s at most, so a broken test still ends.
__attribute__((constructor)) void HangOnLoad() {
  const char* release = std::getenv("ACH_TEST_RELEASE_FILE");
  for (int i = 0; i < 200; ++i) {
    if (release != nullptr && access(release, F_OK) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}
#endif

}  // namespace

ACH_EXPORT_PLUGIN(Misbehave, PLUGIN_ID, "1.0.0", "Misbehaving test plugin",
                  "test", "note")
