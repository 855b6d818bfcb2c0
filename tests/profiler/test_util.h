// Helpers of the profiler tests: scratch directories (fake /proc and /sys trees, cache directories) and running a
// shell command.
#pragma once

#include <string>

#include "run_cli.h"

namespace prima::profiler::testing {

// A scratch directory, removed with everything in it at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to path() + rel, creating parent directories.
  void write(const std::string& rel, const std::string& content) const;
  std::string read(const std::string& rel) const;

 private:
  std::string path_;
};

// Shell commands: prima::test::sh (tests/common/run_cli.h).
using prima::test::sh;

}  // namespace prima::profiler::testing
