// Runs the prima binary in a test and captures its output and exit status.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

namespace prima::test {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs argv (argv[0] looked up in PATH) through the shell, each argument quoted; waits for it.
inline CliResult run_command(const std::vector<std::string>& argv) {
  static int n = 0;
  const std::string err_path = ::testing::TempDir() + "/prima_stderr_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + shell_quote(a);
  cmd += " 2>" + shell_quote(err_path);
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t got;
  while ((got = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), got);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (FILE* e = std::fopen(err_path.c_str(), "rb")) {
    while ((got = std::fread(buf.data(), 1, buf.size(), e)) > 0) r.err.append(buf.data(), got);
    std::fclose(e);
  }
  std::remove(err_path.c_str());
  return r;
}

struct ShellResult {
  int rc = -1;
  std::string out;  // stdout; stderr goes to the test's log
};

// Runs a shell command line (the caller quotes), capturing stdout.
inline ShellResult sh(const std::string& command) {
  ShellResult o;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return o;
  std::array<char, 4096> buf{};
  size_t got;
  while ((got = std::fread(buf.data(), 1, buf.size(), p)) > 0) o.out.append(buf.data(), got);
  const int status = ::pclose(p);
  o.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// `prima ARGS...`
inline CliResult run_prima(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {PRIMA_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

}  // namespace prima::test
