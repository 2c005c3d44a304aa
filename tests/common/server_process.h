// A real achilles-server process for tests: started with fork+exec on
// --listen=127.0.0.1:0, it writes its port to a file once serving. The
// child can be given resource limits, another user, its own TMPDIR and
// extra environment (an LD_PRELOAD shim) before exec, as systemd would
// give them. SERVER_BINARY must be defined to the server's path.
#ifndef ACHILLES_TESTS_COMMON_SERVER_PROCESS_H_
#define ACHILLES_TESTS_COMMON_SERVER_PROCESS_H_

#include <fcntl.h>
#include <grp.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace achilles::testing {

struct ProcessSetup {
  std::vector<std::string> flags;  // Added after the defaults.
  std::string tmpdir;              // TMPDIR for the child; empty = inherit.
  rlim_t max_open_files = 0;       // RLIMIT_NOFILE (soft and hard); 0 = keep.
  uid_t uid = 0;                   // Run as this user and group; 0 = keep.
  gid_t gid = 0;
  std::vector<std::string> env;  // NAME=value entries added to the child's.
  std::string stderr_file;       // The child's stderr (its log); "" = ours.
};

class ServerProcess {
 public:
  ServerProcess(const std::string& data_dir, const std::string& port_file,
                std::vector<std::string> extra = {},
                const std::string& tmpdir = "",
                std::vector<std::string> env = {})
      : ServerProcess(data_dir, port_file,
                      ProcessSetup{std::move(extra), tmpdir, 0, 0, 0,
                                   std::move(env), ""}) {}

  ServerProcess(const std::string& data_dir, const std::string& port_file,
                const ProcessSetup& setup)
      : port_file_(port_file) {
    std::remove(port_file.c_str());
    std::vector<std::string> args = {
        SERVER_BINARY, "--listen=127.0.0.1:0", "--data_dir=" + data_dir,
        "--port_file=" + port_file, "--log_level=warning"};
    args.insert(args.end(), setup.flags.begin(), setup.flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      if (setup.tmpdir.empty() || std::string(*e).rfind("TMPDIR=", 0) != 0) {
        env.emplace_back(*e);
      }
    }
    if (!setup.tmpdir.empty()) env.push_back("TMPDIR=" + setup.tmpdir);
    env.insert(env.end(), setup.env.begin(), setup.env.end());
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int log_fd =
        setup.stderr_file.empty()
            ? -1
            : open(setup.stderr_file.c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_ = fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      if (log_fd >= 0 && dup2(log_fd, STDERR_FILENO) < 0) _exit(124);
      if (setup.max_open_files > 0) {
        const rlimit nofile{setup.max_open_files, setup.max_open_files};
        if (setrlimit(RLIMIT_NOFILE, &nofile) != 0) _exit(126);
      }
      if (setup.uid != 0) {
        if (setgroups(0, nullptr) != 0 || setgid(setup.gid) != 0 ||
            setuid(setup.uid) != 0) {
          _exit(125);
        }
      }
      execve(SERVER_BINARY, argv.data(), envp.data());
      _exit(127);
    }
    if (log_fd >= 0) close(log_fd);
  }

  // Waits for the port file; 0 on timeout or when the server exited.
  int WaitForPort() {
    for (int i = 0; i < 400; ++i) {
      std::ifstream in(port_file_);
      int port = 0;
      if (in >> port && port > 0) return port_ = port;
      if (!Alive()) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }

  // False once the process has exited (its status is then in exit_status()).
  bool Alive() {
    if (pid_ <= 0) return false;
    if (waitpid(pid_, &status_, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  void Kill(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }

  // Sends `sig` and waits up to `limit` for the process to end: its wait
  // status, or -1 when it did not end.
  int SignalWithin(int sig, std::chrono::milliseconds limit) {
    if (pid_ <= 0) return status_;
    kill(pid_, sig);
    const auto until = std::chrono::steady_clock::now() + limit;
    while (waitpid(pid_, &status_, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return status_;
  }

  // Sends `sig` and returns the wait status.
  int Signal(int sig) {
    if (pid_ > 0) {
      kill(pid_, sig);
      waitpid(pid_, &status_, 0);
      pid_ = -1;
    }
    return status_;
  }

  // Waits for the process to exit by itself; its wait status.
  int Wait() {
    if (pid_ > 0) {
      waitpid(pid_, &status_, 0);
      pid_ = -1;
    }
    return status_;
  }

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  int exit_status() const { return status_; }

  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                               grpc::InsecureChannelCredentials());
  }

  ~ServerProcess() {
    if (pid_ > 0) Signal(SIGKILL);
  }

 private:
  std::string port_file_;
  pid_t pid_ = -1;
  int port_ = 0;
  int status_ = 0;
};

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_COMMON_SERVER_PROCESS_H_
