// Weights from disk without memory pressure (issue 6): a worker in a homelab device whose memory limit is half of
// the bytes it is assigned streams its windows (prefetch the next, release the one used) and completes without an
// OOM kill, with greedy output identical to an unconstrained run, and memory pressure (anonymous memory / RAM)
// under 6 % of its memory. Needs root; skipped otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>

#include "homelab.h"
#include "processes.h"
#include "ring_fixture.h"

using namespace prima;
using namespace prima::test;
using namespace std::chrono_literals;

namespace {

const char* kLab = R"({
  "defaults": {"cpu": 1.0, "cpuset": "0-1", "link": {"delay_ms": 1, "rate_mbit": 1000}},
  "devices": [
    {"name": "mem-w1", "ip_suffix": 64, "memory": "272MiB", "desc": "worker: half of its 545 MB of weights"},
    {"name": "mem-hd", "ip_suffix": 65, "memory": "1GiB", "desc": "head"}
  ]
})";

void drop_from_page_cache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

uint64_t json_number(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\": *([0-9]+)"))) return UINT64_MAX;
  return std::stoull(m[1]);
}

TEST(MemoryHomelab, WorkerWithHalfItsWeightsInMemoryStreamsWithoutPressure) {
  Homelab lab(kLab);
  if (!lab.up()) GTEST_SKIP() << lab.skip_reason();
  const std::string model = lab.dir() + "/medium.gguf";  // 24 layers of ~27 MB, 705 MiB
  ASSERT_EQ(run_prima({"synth", "--shape", "medium", "--type", "Q4_K_M", "-o", model}).exit_code, 0);
  std::vector<std::string> args = {"run", "-m", model, "-p", "Once upon a time", "-n", "8", "--temp", "0",
                                   "--no-display-prompt", "--ignore-eos", "-c", "128", "--ubatch-size", "16", "-t", "1"};
  const auto local = run_prima(args);
  ASSERT_EQ(local.exit_code, 0) << local.err;
  drop_from_page_cache(model);  // the pages must come from disk into the device's own memory

  BackgroundProcess worker = BackgroundProcess::start(
      Homelab::in_device("mem-w1", {PRIMA_BINARY, "worker", "-m", model, "--listen", "0.0.0.0:9000", "--name", "w1", "-t", "1"}),
      lab.dir() + "/w1.log");
  ASSERT_TRUE(worker.wait_for("listening on", 20s)) << worker.log();
  std::vector<std::string> head = {PRIMA_BINARY};
  head.insert(head.end(), args.begin(), args.end());
  // Worker: 5 of every 6 layers, k = 4 -> 20 layers (~545 MB) in a 272 MiB device.
  head.insert(head.end(), {"--workers", "10.203.0.64:9000", "--layer-window", "5,1", "--listen", "0.0.0.0:9100"});
  const auto ring = lab.run("mem-hd", head);
  ASSERT_EQ(ring.exit_code, 0) << ring.err << "\nworker:\n" << worker.log();
  EXPECT_EQ(ring.out, local.out) << ring.err;

  const std::string stats = lab.stats("mem-w1");
  EXPECT_EQ(json_number(stats, "oom_kills"), 0u) << stats;
  EXPECT_LE(json_number(stats, "max_usage_bytes"), 272ull << 20) << stats;
  // The worker streamed: its log names the plan, and it read more from disk than it could hold.
  EXPECT_NE(worker.log().find("streamed"), std::string::npos) << worker.log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(ring.err, m, std::regex(R"(\nw1 +\S+ +\S+ +\d+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +([0-9.]+) +([0-9.]+)%)")))
      << ring.err;
  const double disk_mib = std::stod(m[1]), pressure = std::stod(m[2]);
  EXPECT_GT(disk_mib, 272.0) << ring.err;
  EXPECT_LT(pressure, 6.0) << ring.err;
  ASSERT_TRUE(std::regex_search(ring.err, m, std::regex(R"(memory pressure ([0-9.]+) %)"))) << ring.err;
  EXPECT_LT(std::stod(m[1]), 6.0) << ring.err;
  std::printf("worker: %.0f MiB read from disk, memory pressure %.1f %%, max usage %.0f MiB of 272 MiB\n", disk_mib,
              pressure, json_number(stats, "max_usage_bytes") / 1048576.0);
}

// k = 1, one window a little larger than the device's memory: the device keeps the layers that fit and re-reads
// only the others each token (the overflow, as the scheduler's disk model assumes), not the whole window.
TEST(MemoryHomelab, OneWindowLargerThanMemoryRereadsOnlyTheOverflow) {
  const char* lab_spec = R"({
    "defaults": {"cpu": 1.0, "cpuset": "0-1", "link": {"delay_ms": 1, "rate_mbit": 1000}},
    "devices": [
      {"name": "mem-w1", "ip_suffix": 64, "memory": "400MiB", "desc": "worker: 18 layers, ~463 MiB"},
      {"name": "mem-hd", "ip_suffix": 65, "memory": "1GiB", "desc": "head"}
    ]
  })";
  Homelab lab(lab_spec);
  if (!lab.up()) GTEST_SKIP() << lab.skip_reason();
  const std::string model = lab.dir() + "/medium.gguf";  // 24 layers of ~27 MB
  ASSERT_EQ(run_prima({"synth", "--shape", "medium", "--type", "Q4_K_M", "-o", model}).exit_code, 0);
  const int n_gen = 8;
  std::vector<std::string> args = {"run", "-m", model, "-p", "Once upon a time", "-n", std::to_string(n_gen), "--temp",
                                   "0", "--no-display-prompt", "--ignore-eos", "-c", "128", "--ubatch-size", "16", "-t", "1"};
  const auto local = run_prima(args);
  ASSERT_EQ(local.exit_code, 0) << local.err;
  drop_from_page_cache(model);

  BackgroundProcess worker = BackgroundProcess::start(
      Homelab::in_device("mem-w1", {PRIMA_BINARY, "worker", "-m", model, "--listen", "0.0.0.0:9000", "--name", "w1", "-t", "1"}),
      lab.dir() + "/w1.log");
  ASSERT_TRUE(worker.wait_for("listening on", 20s)) << worker.log();
  std::vector<std::string> head = {PRIMA_BINARY};
  head.insert(head.end(), args.begin(), args.end());
  head.insert(head.end(), {"--workers", "10.203.0.64:9000", "--layer-window", "18,6", "--listen", "0.0.0.0:9100"});
  const auto ring = lab.run("mem-hd", head);
  ASSERT_EQ(ring.exit_code, 0) << ring.err << "\nworker:\n" << worker.log();
  EXPECT_EQ(ring.out, local.out) << ring.err;
  const std::string stats = lab.stats("mem-w1");
  EXPECT_EQ(json_number(stats, "oom_kills"), 0u) << stats;

  // The plan keeps most layers and streams a few: "kept layers [0,13), streamed [13,18) (... per token)".
  EXPECT_NE(worker.log().find("kept layers ["), std::string::npos) << worker.log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(ring.err, m, std::regex(R"(\nw1 +\S+ +\S+ +(\d+) +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +([0-9.]+) +([0-9.]+)%)")))
      << ring.err;
  const double disk_mib = std::stod(m[2]);
  const double window_mib = 18 * 705.0 / 24;  // the worker's weights
  const double steps = n_gen + 1;              // the prompt, then one pass per generated token
  // Re-reading the whole window would be window_mib per step; the overflow is about a fifth of it.
  EXPECT_LT(disk_mib / steps, 0.5 * window_mib) << ring.err << "\nworker:\n" << worker.log();
  std::printf("worker: %.0f MiB read from disk per step for an %.0f MiB window in 400 MiB\n", disk_mib / steps, window_mib);
}

}  // namespace
