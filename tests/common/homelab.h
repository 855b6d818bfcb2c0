// A homelab (../shared/tools/homelab) for one test: network namespaces with Wi-Fi-like links and cgroup limits
// per emulated device. Needs root; `skip_reason()` says why a lab cannot be had (not root, no homelab, someone
// else's lab is up: `homelab up` would replace it). Always `homelab down` when the object goes away. Tests using
// it take the CTest RESOURCE_LOCK homelab (prima_test(... LOCK homelab)).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "homelab_state.h"
#include "run_cli.h"

namespace prima::test {

inline const std::string kHomelab = std::string(PRIMA_SOURCE_DIR) + "/../shared/tools/homelab";

class Homelab {
 public:
  // spec: the lab's JSON (see homelab.md).
  explicit Homelab(const std::string& spec) {
    if (geteuid() != 0) {
      skip_ = "needs root (network namespaces, cgroups)";
      return;
    }
    if (access(kHomelab.c_str(), X_OK) != 0) {
      skip_ = "no homelab at " + kHomelab;
      return;
    }
    if (homelab_lab_up()) {
      skip_ = "another homelab lab is up; not replacing it";
      return;
    }
    dir_ = ::testing::TempDir() + "/homelab-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/lab.json") << spec;
    const auto r = run_command({kHomelab, "up", dir_ + "/lab.json"});
    if (r.exit_code != 0) {
      skip_ = "homelab up failed: " + r.out + r.err;
      return;
    }
    up_ = true;
  }
  ~Homelab() {
    if (up_) (void)run_command({kHomelab, "down"});
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  Homelab(const Homelab&) = delete;
  Homelab& operator=(const Homelab&) = delete;

  const std::string& skip_reason() const { return skip_; }
  bool up() const { return up_; }
  const std::string& dir() const { return dir_; }

  // Runs a command inside a device and waits for it.
  CliResult run(const std::string& device, const std::vector<std::string>& argv) const {
    std::vector<std::string> a = {kHomelab, "run", device, "--"};
    a.insert(a.end(), argv.begin(), argv.end());
    return run_command(a);
  }
  // The argv that runs a command inside a device in the foreground (for BackgroundProcess).
  static std::vector<std::string> in_device(const std::string& device, const std::vector<std::string>& argv) {
    std::vector<std::string> a = {kHomelab, "run", device, "--"};
    a.insert(a.end(), argv.begin(), argv.end());
    return a;
  }
  std::string stats(const std::string& device) const { return run_command({kHomelab, "stats", device}).out; }

 private:
  bool up_ = false;
  std::string skip_;
  std::string dir_;
};

}  // namespace prima::test
