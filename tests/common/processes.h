// Background processes for multi-process tests (ring workers, heads run in the background), each writing its
// output to a log file the test can read and wait on. Killed (SIGKILL) and reaped when the object goes away.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace prima::test {

class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  BackgroundProcess(BackgroundProcess&& o) noexcept { *this = std::move(o); }
  BackgroundProcess& operator=(BackgroundProcess&& o) noexcept {
    std::swap(pid_, o.pid_);
    std::swap(log_, o.log_);
    std::swap(status_, o.status_);
    return *this;
  }
  ~BackgroundProcess() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
  }

  // argv[0] is looked up in PATH unless it contains a '/'. stderr goes to `log_path`, and so does stdout unless
  // `stdout_path` is given.
  static BackgroundProcess start(const std::vector<std::string>& argv, const std::string& log_path,
                                 const std::string& stdout_path = "") {
    BackgroundProcess p;
    p.log_ = log_path;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (stdout_path.empty()) posix_spawn_file_actions_adddup2(&fa, 2, 1);
    else posix_spawn_file_actions_addopen(&fa, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawnp(&p.pid_, args[0], &fa, nullptr, args.data(), environ) != 0) p.pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    return p;
  }

  pid_t pid() const { return pid_; }
  void kill(int sig = SIGKILL) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  std::string log() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  // Waits until the log matches `pattern` (std::regex, ECMAScript); returns the first capture group (or the match).
  std::optional<std::string> wait_for(const std::string& pattern, std::chrono::milliseconds timeout) const {
    const std::regex re(pattern);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = log();
      std::smatch m;
      if (std::regex_search(text, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
      if (exited()) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }

  // Has it exited? (reaps it once; exit_code() then tells how)
  bool exited() {
    if (status_) return true;
    int st;
    if (pid_ > 0 && ::waitpid(pid_, &st, WNOHANG) == pid_) status_ = st;
    return status_.has_value();
  }
  bool exited() const { return const_cast<BackgroundProcess*>(this)->exited(); }
  // Waits for the exit; returns the exit code (128 + signal for a signal), or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exited()) {
      if (std::chrono::steady_clock::now() > deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
  std::optional<int> status_;
};

}  // namespace prima::test
