// Without --layer-window the head profiles every device (one at a time, each measuring its link to the next) and
// lets Halda choose windows, k and the devices that take part; the profiles it saves are a cluster file that
// `prima plan` reads; a second start uses the cached profiles; the output stays token-identical to one device.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "ring_fixture.h"

using namespace prima;
using namespace prima::test;
using namespace std::chrono_literals;

namespace {

TEST(RingHalda, ProfilesPlansAndKeepsTheOutput) {
  const std::string cache = ::testing::TempDir() + "/halda-cache-" + std::to_string(::getpid());
  std::filesystem::create_directories(cache);
  ::setenv("XDG_CACHE_HOME", cache.c_str(), 1);  // the workers and the head inherit it
  const std::string model = kModels + "tiny-llama-gqa-Q4_K_M.gguf";
  auto local_args = greedy_args(model, "Once upon a time", 12);
  const auto local = run_prima(local_args);
  ASSERT_EQ(local.exit_code, 0) << local.err;

  auto workers = start_workers(model, 2, "halda");
  const std::string profiles = cache + "/cluster.json";
  std::vector<std::string> args = {"run", "-m", model, "-p", "Once upon a time", "-n", "12", "--temp", "0",
                                   "--no-display-prompt", "--ignore-eos", "-c", "512", "-t", "1",
                                   "--workers", workers.list(), "--profile-seconds", "1", "--save-profiles", profiles};
  const auto first = run_prima(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, local.out);
  EXPECT_NE(first.err.find("Halda planned"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("Halda predicted"), std::string::npos) << first.err;
  for (auto& w : workers.procs) EXPECT_TRUE(w->wait_for("profile done", 5s)) << w->log();

  // The saved profiles are a cluster file for prima plan.
  const auto plan = run_prima({"plan", "-m", model, "--profiles", profiles, "--json", "--n-ctx", "512"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("\"predicted_ms_per_token\""), std::string::npos) << plan.out;
  for (const char* d : {"\"w1\"", "\"w2\"", "\"head\""}) EXPECT_NE(plan.out.find(d), std::string::npos) << plan.out;

  // Second start: every device answers from its cache.
  const auto second = run_prima(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, local.out);
  for (auto& w : workers.procs) EXPECT_TRUE(w->wait_for("cached measurements", 5s)) << w->log();
  std::filesystem::remove_all(cache);
}

}  // namespace
