// Rings of `prima worker` processes on loopback for the tests: start workers, run the head, compare with one device.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "processes.h"
#include "run_cli.h"

namespace prima::test {

inline const std::string kModels = std::string(PRIMA_FIXTURES_DIR) + "/models/";

struct Workers {
  std::vector<std::unique_ptr<BackgroundProcess>> procs;
  std::vector<std::string> addresses;

  std::string list() const {
    std::string s;
    for (const auto& a : addresses) s += (s.empty() ? "" : ",") + a;
    return s;
  }
};

// Starts n workers for `model` on ephemeral loopback ports and waits until each listens.
inline Workers start_workers(const std::string& model, int n, const std::string& tag) {
  Workers w;
  for (int i = 0; i < n; ++i) {
    const std::string name = tag + "-w" + std::to_string(i + 1);
    const std::string log = ::testing::TempDir() + "/" + name + ".log";
    auto p = std::make_unique<BackgroundProcess>(BackgroundProcess::start(
        {PRIMA_BINARY, "worker", "-m", model, "--listen", "127.0.0.1:0", "--name", name, "-t", "1"}, log));
    const auto port = p->wait_for("listening on 127\\.0\\.0\\.1:([0-9]+)", std::chrono::seconds(20));
    EXPECT_TRUE(port.has_value()) << "worker " << name << " did not start:\n" << p->log();
    w.addresses.push_back("127.0.0.1:" + port.value_or("0"));
    w.procs.push_back(std::move(p));
  }
  return w;
}

// Greedy generation: -n tokens of continuation only.
inline std::vector<std::string> greedy_args(const std::string& model, const std::string& prompt, int n) {
  return {"run", "-m", model, "-p", prompt, "-n", std::to_string(n), "--temp", "0", "--no-display-prompt",
          "--ignore-eos", "-c", "512", "-t", "1", "--plan", "even"};
}

}  // namespace prima::test
