// Runs `prima serve` as a child process on a free port for a test, and always stops it: SIGTERM (then SIGKILL) in
// the destructor, and PR_SET_PDEATHSIG so it dies with the test even if the test crashes.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace prima::test {

inline const std::string kStoriesModel = std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F32.gguf";

class ServerProcess {
 public:
  // extra: arguments after `prima serve --host 127.0.0.1 --port 0`.
  explicit ServerProcess(std::vector<std::string> extra) {
    static int n = 0;
    err_path_ = ::testing::TempDir() + "/prima_serve_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ".log";
    std::vector<std::string> args = {PRIMA_BINARY, "serve", "--host", "127.0.0.1", "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2];
    if (::pipe(out) != 0) return;
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::dup2(out[1], STDOUT_FILENO);
      const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_fd_ = out[0];
    // "prima serve: listening on http://127.0.0.1:PORT"
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      const ssize_t got = ::read(out_fd_, buf, sizeof(buf));
      if (got <= 0) break;
      line.append(buf, static_cast<size_t>(got));
    }
    const size_t colon = line.rfind(':');
    if (line.find("listening on http://") == std::string::npos || colon == std::string::npos) {
      ADD_FAILURE() << "prima serve did not start: " << line << "\n" << log();
      return;
    }
    port_ = std::stoi(line.substr(colon + 1));
  }

  ~ServerProcess() { stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  bool started() const { return port_ > 0; }
  httplib::Client client(int timeout_s = 30) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(timeout_s, 0);
    c.set_write_timeout(timeout_s, 0);
    c.set_connection_timeout(5, 0);
    return c;
  }

  // Polls /health until 200 (true) or the deadline.
  bool wait_ready(int seconds = 20) const {
    auto c = client(5);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto r = c.Get("/health"); r && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Stops the server (SIGTERM; SIGKILL after 10 s); returns its exit status.
  int stop() {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 1000; ++i) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (i == 999) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        ADD_FAILURE() << "prima serve did not stop on SIGTERM within 10 s";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }

  // The server's stderr so far.
  std::string log() const {
    std::ifstream in(err_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = -1;
  int exit_code_ = -1;
  std::string err_path_;
};

}  // namespace prima::test
