// `prima plan`: the JSON object, the table, and clear errors for bad cluster files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_cli.h"

namespace {

using prima::test::CliResult;

// `prima plan ARGS...`. Through run_cli.h: its stderr file is unique per process and call, so the CmdPlan tests,
// which CTest runs in parallel, do not read each other's errors (a shared file here failed CmdPlan.Errors twice
// in four runs of ctest -j8).
CliResult run(std::vector<std::string> args) {
  args.insert(args.begin(), "plan");
  return prima::test::run_prima(args);
}

const std::string kModel = std::string(PRIMA_FIXTURES_DIR) + "/models/tiny-llama-gqa-Q4_K_M.gguf";
const std::string kTestbed = std::string(PRIMA_SOURCE_DIR) + "/docs/examples/paper-testbed.json";

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST(CmdPlan, JsonObject) {
  const CliResult r = run({"-m", kModel, "--profiles", kTestbed, "--json", "--no-select", "--n-ctx", "256"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const int k = j.at("k").get<int>();
  EXPECT_GE(k, 1);
  ASSERT_EQ(j.at("devices").size(), 4u);
  int layers = 0;
  for (const auto& d : j.at("devices")) {
    EXPECT_TRUE(d.at("name").is_string());
    EXPECT_TRUE(d.at("selected").get<bool>()) << "--no-select keeps every device";
    EXPECT_EQ(d.at("gpu_layers").get<int>(), 0);
    layers += d.at("window").get<int>() * k;
  }
  EXPECT_EQ(layers, 4);
  EXPECT_EQ(j.at("devices")[3].at("name"), "mac-m1");
  const double ms = j.at("predicted_ms_per_token").get<double>();
  EXPECT_GT(ms, 0);
  const auto& b = j.at("breakdown");
  const double sum = b.at("compute_ms").get<double>() + b.at("memory_ms").get<double>() +
                     b.at("disk_ms").get<double>() + b.at("comm_ms").get<double>();
  EXPECT_NEAR(sum, ms, 0.01);
  EXPECT_GT(b.at("comm_ms").get<double>(), 0) << "four devices: hops";
  EXPECT_EQ(j.at("model").at("n_layer"), 4);
  EXPECT_EQ(j.at("n_ctx"), 256);
}

TEST(CmdPlan, TableSelectsTheHeadAloneForATinyModel) {
  const CliResult r = run({"-m", kModel, "--profiles", kTestbed});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 of 4 devices"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(not selected)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory-proportional"), std::string::npos) << r.out;
}

TEST(CmdPlan, Errors) {
  CliResult r = run({"-m", kModel, "--profiles", "/nonexistent/cluster.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/cluster.json: cannot read"), std::string::npos) << r.err;

  const std::string bad =
      write_temp("bad-cluster.json", R"({"devices": [{"name": "pc", "cpu": {"decode": {"*": "50 GFLOP/s"}},
      "memory": {"available": "lots"}}]})");
  r = run({"-m", kModel, "--profiles", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("devices[0].memory.available"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  const std::string no_disk =
      write_temp("no-disk.json", R"({"devices": [{"name": "pc", "cpu": {"decode": {"*": "50 GFLOP/s"}},
      "memory": {"available": "8 MiB"}}]})");
  r = run({"-m", kModel, "--profiles", no_disk, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("head 'pc'"), std::string::npos) << r.err;

  r = run({"-m", kModel, "--profiles", kTestbed, "--k", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("k = 3"), std::string::npos) << r.err;
}

TEST(CmdPlan, PredictsAGivenSplit) {
  // The same prediction Halda optimises, for a split the user chooses: k = L / sum of windows.
  CliResult r = run({"-m", kModel, "--profiles", kTestbed, "--json", "--n-ctx", "256", "--layer-window", "1,0,0,1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("k").get<int>(), 2);
  EXPECT_EQ(j.at("devices")[0].at("window").get<int>(), 1);
  EXPECT_FALSE(j.at("devices")[1].at("selected").get<bool>());
  EXPECT_GT(j.at("predicted_ms_per_token").get<double>(), 0);
  // Halda's own plan is never slower than the split it could have chosen.
  const CliResult best = run({"-m", kModel, "--profiles", kTestbed, "--json", "--n-ctx", "256"});
  ASSERT_EQ(best.exit_code, 0) << best.err;
  EXPECT_LE(nlohmann::json::parse(best.out).at("predicted_ms_per_token").get<double>(),
            j.at("predicted_ms_per_token").get<double>() + 1e-6);

  r = run({"-m", kModel, "--profiles", kTestbed, "--layer-window", "1,1,1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("3 windows for the 4 devices"), std::string::npos) << r.err;
  r = run({"-m", kModel, "--profiles", kTestbed, "--layer-window", "1,1,1,0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not divide"), std::string::npos) << r.err;
}
