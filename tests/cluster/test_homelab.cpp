// The transport inside network namespaces made by ../shared/tools/homelab, with Wi-Fi-like delay: a head and two
// workers on three emulated devices form a ring, activations go round it intact, and the RTT the heartbeats measure
// reflects the configured link delay. Needs root; skipped otherwise, when homelab does not come up, or when someone
// else's lab is up (homelab keeps one lab per machine and `up` would replace it). Always ends with `homelab down`.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "child.h"
#include "homelab_state.h"

using namespace prima::cluster::testing;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

namespace {

const std::string kHomelab = std::string(PRIMA_SOURCE_DIR) + "/../shared/tools/homelab";
constexpr int kDelayMs = 5;  // per device uplink: RTT between two devices = 2 * kDelayMs

// Runs a homelab command to completion; returns its exit code and output.
int homelab(const std::vector<std::string>& args, std::string* out = nullptr, milliseconds timeout = milliseconds(30000)) {
  std::vector<std::string> argv = {kHomelab};
  argv.insert(argv.end(), args.begin(), args.end());
  Child c(argv);
  std::string text;
  while (auto l = c.line(timeout)) text += *l + "\n";
  if (out) *out = text;
  return c.wait_exit(timeout);
}

struct Lab {
  bool up = false;
  std::string why_not;
  fs::path dir;

  Lab() {
    char tmpl[] = "/tmp/prima-cluster-lab-XXXXXX";
    if (!mkdtemp(tmpl)) return;
    dir = tmpl;
    std::ofstream(dir / "lab.json") << R"({
  "defaults": {"memory": "256MiB", "cpu": 0.6, "cpuset": "0-1",
               "link": {"delay_ms": )" << kDelayMs << R"(, "jitter_ms": 0, "rate_mbit": 300}},
  "devices": [
    {"name": "pc-hd", "ip_suffix": 71, "desc": "head"},
    {"name": "pc-w1", "ip_suffix": 72, "desc": "worker 1"},
    {"name": "pc-w2", "ip_suffix": 73, "desc": "worker 2"}
  ]
})";
    std::string out;
    const int rc = homelab({"up", (dir / "lab.json").string()}, &out);
    up = rc == 0;
    if (!up) why_not = "homelab up failed (" + std::to_string(rc) + "): " + out;
  }
  ~Lab() {
    if (up) homelab({"down"});
    if (!dir.empty()) fs::remove_all(dir);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool wait_for_text(const fs::path& log, const std::string& text, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (slurp(log).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

}  // namespace

TEST(Homelab, RingAcrossNamespacesWithWifiDelay) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
  if (access(kHomelab.c_str(), X_OK) != 0) GTEST_SKIP() << "no homelab at " << kHomelab;
  if (prima::test::homelab_lab_up()) GTEST_SKIP() << "another homelab lab is up; not replacing it";
  Lab lab;
  if (!lab.up) GTEST_SKIP() << lab.why_not;

  for (const char* w : {"pc-w1", "pc-w2"}) {
    std::string out;
    const std::string log = (lab.dir / (std::string(w) + ".log")).string();
    ASSERT_EQ(homelab({"run", w, "--bg", log, "--", PRIMA_CLUSTER_PEER, "worker", "--listen", "0.0.0.0:9000", "--name",
                       w + 3},
                      &out),
              0)
        << out;
    ASSERT_TRUE(wait_for_text(log, "waiting", milliseconds(5000))) << slurp(log);
  }

  // The timing bounds hold on an idle host; on a loaded one (CTest runs two tests at once, CI hosts are shared) a
  // run can stall for tens of ms. So a run whose times fall outside the bounds is repeated, up to kAttempts runs,
  // and the test fails when none meets them. The functional checks (ring formed, every round intact, enough pongs)
  // must hold on every run. A transport that ignored the shaping, or measured it wrong, fails every run.
  constexpr int kAttempts = 3;
  std::vector<std::string> misses;  // why each timed-out-of-bounds run was not accepted
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    std::string out;
    const int rc = homelab({"run", "pc-hd", "--", PRIMA_CLUSTER_PEER, "head", "--name", "hd", "--workers",
                            "10.203.0.72:9000,10.203.0.73:9000", "--listen", "0.0.0.0:9100", "--n-embd", "4096",
                            "--tokens", "8", "--rounds", "10", "--measure-ms", "1500"},
                           &out, milliseconds(30000));
    if (rc != 0 && !prima::test::homelab_lab_has({"pc-hd", "pc-w1", "pc-w2"})) {
      lab.up = false;  // not ours to take down any more
      GTEST_SKIP() << "another process replaced or took down the homelab lab during the test";
    }
    ASSERT_EQ(rc, 0) << out << "\nw1:\n" << slurp(lab.dir / "pc-w1.log");
    // The last worker reaches the head at the address it saw the head's connection come from.
    ASSERT_NE(out.find("ring formed, head at 10.203.0.71:9100"), std::string::npos) << out;
    ASSERT_NE(out.find("ring ok rounds 10"), std::string::npos) << out;

    std::string miss;
    // Three one-way hops of kDelayMs each, plus 128 KiB per hop at 300 Mbit/s.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(ring ok rounds 10 median_ms ([0-9.]+))"))) << out;
    const double ring_ms = std::stod(m[1]);
    std::printf("attempt %d: ring median %.2f ms (3 hops of %d ms)\n", attempt, ring_ms, kDelayMs);
    // Below the configured delay no load can explain: that is a wrong measurement or no shaping, never retried.
    EXPECT_GE(ring_ms, 3 * kDelayMs) << out;
    if (ring_ms >= 3 * kDelayMs + 60) miss += " ring median " + std::to_string(ring_ms) + " ms;";

    // Heartbeat RTT to each worker: 2 * kDelayMs plus the emulator's and scheduler's overhead.
    for (const char* w : {"worker w1", "worker w2"}) {
      ASSERT_TRUE(std::regex_search(
          out, m, std::regex(std::string("rtt ") + w + R"( median_ms ([0-9.]+) min_ms ([0-9.]+) pongs ([0-9]+))")))
          << out;
      const double median = std::stod(m[1]), min = std::stod(m[2]);
      const int pongs = std::stoi(m[3]);
      std::printf("attempt %d: %s: heartbeat RTT median %.2f ms, min %.2f ms over %d pongs (configured %d ms)\n",
                  attempt, w, median, min, pongs, 2 * kDelayMs);
      EXPECT_GE(min, 2 * kDelayMs * 0.95) << out;
      EXPECT_GE(pongs, 10) << out;
      if (median >= 2 * kDelayMs + 20) miss += std::string(" ") + w + " RTT median " + std::to_string(median) + " ms;";
    }
    if (::testing::Test::HasFailure()) return;
    if (miss.empty()) break;
    misses.push_back("attempt " + std::to_string(attempt) + ":" + miss);
    if (attempt == kAttempts) {
      std::string all;
      for (const auto& x : misses) all += x + "\n";
      FAIL() << "no run of " << kAttempts << " met the timing bounds (ring < " << 3 * kDelayMs + 60
             << " ms, heartbeat median < " << 2 * kDelayMs + 20 << " ms):\n" << all;
    }
  }
  EXPECT_TRUE(wait_for_text(lab.dir / "pc-w1.log", "stopped", milliseconds(3000))) << slurp(lab.dir / "pc-w1.log");
}
