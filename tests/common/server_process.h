// A real achilles-server process for tests that kill it: started with fork +
// execve on a loopback port the kernel picks (--port_file), stopped with any
// signal. SERVER_BINARY must be defined to the server's path.
#ifndef ACHILLES_TESTS_COMMON_SERVER_PROCESS_H_
#define ACHILLES_TESTS_COMMON_SERVER_PROCESS_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace achilles::testing {

class ServerProcess {
 public:
  // `extra` flags go after the defaults; `tmpdir`, when set, replaces
  // TMPDIR; `env` entries (NAME=value) are added to the environment.
  ServerProcess(const std::string& data_dir, const std::string& port_file,
                std::vector<std::string> extra = {},
                const std::string& tmpdir = "",
                std::vector<std::string> env = {})
      : port_file_(port_file) {
    std::remove(port_file.c_str());
    std::vector<std::string> args = {
        SERVER_BINARY, "--listen=127.0.0.1:0", "--data_dir=" + data_dir,
        "--port_file=" + port_file, "--log_level=warning"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (char** e = environ; *e != nullptr; ++e) {
      if (tmpdir.empty() || std::string(*e).rfind("TMPDIR=", 0) != 0) {
        env.emplace_back(*e);
      }
    }
    if (!tmpdir.empty()) env.push_back("TMPDIR=" + tmpdir);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      execve(SERVER_BINARY, argv.data(), envp.data());
      _exit(127);
    }
  }

  // Waits for the port file; 0 on timeout or when the server exits first.
  int WaitForPort() {
    for (int i = 0; i < 600; ++i) {
      std::ifstream in(port_file_);
      int port = 0;
      if (in >> port && port > 0) return port;
      int status = 0;
      if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }

  // Sends `sig` and waits up to `limit` for the process to end: its wait
  // status, or -1 when it did not end (it is then killed).
  int SignalWithin(int sig, std::chrono::milliseconds limit) {
    kill(pid_, sig);
    const auto until = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return status;
  }

  // Sends `sig` and returns the wait status.
  int Signal(int sig) {
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  ~ServerProcess() {
    if (pid_ > 0) Signal(SIGKILL);
  }

 private:
  std::string port_file_;
  pid_t pid_ = -1;
};

}  // namespace achilles::testing

#endif  // ACHILLES_TESTS_COMMON_SERVER_PROCESS_H_
