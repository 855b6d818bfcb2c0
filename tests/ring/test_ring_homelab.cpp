// The ring across emulated devices (../shared/tools/homelab): each device in its own network namespace behind a
// Wi-Fi-like link (3 ± 1 ms each way, 300 Mbit/s), workers and head in separate namespaces. Greedy output must be
// token-for-token the single-device output. Needs root; skipped otherwise.
#include <gtest/gtest.h>

#include "homelab.h"
#include "processes.h"
#include "ring_fixture.h"

using namespace prima;
using namespace prima::test;
using namespace std::chrono_literals;

namespace {

const char* kLab = R"({
  "defaults": {"memory": "512MiB", "cpu": 0.6, "cpuset": "0-1",
               "link": {"delay_ms": 3, "jitter_ms": 1, "rate_mbit": 300}},
  "devices": [
    {"name": "ring-w1", "ip_suffix": 81, "desc": "worker 1"},
    {"name": "ring-w2", "ip_suffix": 82, "desc": "worker 2"},
    {"name": "ring-hd", "ip_suffix": 83, "desc": "head"}
  ]
})";

TEST(RingHomelab, TokenIdenticalAcrossNamespacesWithWifiDelay) {
  Homelab lab(kLab);
  if (!lab.up()) GTEST_SKIP() << lab.skip_reason();

  const std::string synth = lab.dir() + "/synth-tiny.gguf";
  ASSERT_EQ(run_prima({"synth", "--shape", "tiny", "--type", "Q4_K_M", "-o", synth}).exit_code, 0);
  struct Case {
    std::string model, windows;
  };
  for (const Case& c : {Case{kModels + "stories260K-F32.gguf", "2,2,1"}, Case{synth, "1,2,1"}}) {
    SCOPED_TRACE(c.model + " windows " + c.windows);
    const auto args = greedy_args(c.model, "Once upon a time, there was a little girl", 24);
    const auto local = run_prima(args);
    ASSERT_EQ(local.exit_code, 0) << local.err;

    std::vector<std::unique_ptr<BackgroundProcess>> workers;
    for (const char* w : {"ring-w1", "ring-w2"}) {
      workers.push_back(std::make_unique<BackgroundProcess>(BackgroundProcess::start(
          Homelab::in_device(w, {PRIMA_BINARY, "worker", "-m", c.model, "--listen", "0.0.0.0:9000", "--name", w, "-t", "1"}),
          lab.dir() + "/" + w + ".log")));
      ASSERT_TRUE(workers.back()->wait_for("listening on", 20s)) << workers.back()->log();
    }
    std::vector<std::string> head = {PRIMA_BINARY};
    head.insert(head.end(), args.begin(), args.end());
    head.insert(head.end(), {"--workers", "10.203.0.81:9000,10.203.0.82:9000", "--layer-window", c.windows,
                             "--listen", "0.0.0.0:9100"});
    const auto ring = lab.run("ring-hd", head);
    ASSERT_EQ(ring.exit_code, 0) << ring.err << "\nw1:\n" << workers[0]->log();
    EXPECT_EQ(ring.out, local.out) << ring.err;
    // The last worker reached the head at its namespace address.
    EXPECT_TRUE(workers[1]->wait_for("next hop head at 10\\.203\\.0\\.83:9100", 5s)) << workers[1]->log();
  }
}

}  // namespace
