// Runs the prima binary in a test and captures its output and exit status.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

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

// args are passed through the shell, each quoted.
inline CliResult run_prima(const std::vector<std::string>& args) {
  static int n = 0;
  const std::string err_path = ::testing::TempDir() + "/prima_stderr_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
  std::string cmd = shell_quote(PRIMA_BINARY);
  for (const auto& a : args) cmd += " " + shell_quote(a);
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

}  // namespace prima::test
