// prima bench: the llama-bench-like table, and the tg roofline's per-token read passes in the JSON output.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "run_cli.h"

using namespace prima;

namespace {

const std::string kModel = std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F32.gguf";

TEST(BenchCli, JsonHoldsEveryTokenToTheReadPassesAroundIt) {
  constexpr int kGen = 4, kReps = 2;
  const auto r = test::run_prima({"bench", "-m", kModel, "-p", "8", "-n", std::to_string(kGen), "-r",
                                  std::to_string(kReps), "-t", "2", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 2) << r.out;
  EXPECT_EQ(j[0]["test"], "pp8");
  EXPECT_EQ(j[0]["samples_ts"].size(), static_cast<size_t>(kReps));
  const auto& tg = j[1];
  EXPECT_EQ(tg["test"], "tg" + std::to_string(kGen));
  // One pass before the first token and one after each, per repetition; each token's own time.
  ASSERT_EQ(tg["read_bandwidth_passes_gbs"].size(), static_cast<size_t>(kReps)) << tg.dump();
  ASSERT_EQ(tg["token_seconds"].size(), static_cast<size_t>(kReps));
  double ideal = 0, gbs_sum = 0;
  int passes = 0;
  for (int rep = 0; rep < kReps; ++rep) {
    const auto& bw = tg["read_bandwidth_passes_gbs"][rep];
    const auto& ts = tg["token_seconds"][rep];
    ASSERT_EQ(bw.size(), static_cast<size_t>(kGen + 1));
    ASSERT_EQ(ts.size(), static_cast<size_t>(kGen));
    double rep_ideal = 0, rep_taken = 0;
    for (int k = 0; k < kGen; ++k) {
      EXPECT_GT(ts[k].get<double>(), 0.0);
      rep_ideal += tg["bytes_per_token"].get<double>() / ((bw[k].get<double>() + bw[k + 1].get<double>()) / 2 * 1e9);
      rep_taken += ts[k].get<double>();
    }
    ideal += rep_ideal / rep_taken / kReps;
    // t/s of the repetition: its tokens over their summed times (the passes are not counted).
    EXPECT_NEAR(tg["samples_ts"][rep].get<double>(), kGen / rep_taken, 1e-6 * kGen / rep_taken);
    for (const auto& g : bw) {
      EXPECT_GT(g.get<double>(), 0.1);
      gbs_sum += g.get<double>();
      ++passes;
    }
  }
  // The reported fraction is the mean over the repetitions of (time at the limit) / (time taken), and the
  // reported bandwidth the mean of the passes.
  EXPECT_NEAR(tg["roofline_fraction"].get<double>(), ideal, 1e-9 * ideal);
  // The weights' own pages beside the probe: a rate and its ratio to the probe (on this 1 MB model a read of
  // cache-resident pages that the dispatch dominates, so only their presence and sign are checked).
  EXPECT_GT(tg["model_read_gbs"].get<double>(), 0.0) << tg.dump();
  EXPECT_GT(tg["model_read_fraction"].get<double>(), 0.0) << tg.dump();
  EXPECT_TRUE(std::isfinite(tg["model_read_fraction"].get<double>())) << tg.dump();
  // The share of the mapped file in huge pages: this model (1 MB) is smaller than one.
  EXPECT_EQ(tg["model_huge_page_fraction"].get<double>(), 0.0) << tg.dump();
  EXPECT_NEAR(tg["read_bandwidth_gbs"].get<double>(), gbs_sum / passes, 1e-9 * gbs_sum);
}

TEST(BenchCli, NoRooflineSkipsThePasses) {
  const auto r =
      test::run_prima({"bench", "-m", kModel, "-p", "0", "-n", "2", "-r", "1", "--no-roofline", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 1) << r.out;
  EXPECT_FALSE(j[0].contains("read_bandwidth_passes_gbs"));
  EXPECT_FALSE(j[0].contains("roofline_fraction"));
  EXPECT_FALSE(j[0].contains("model_read_fraction"));
}

TEST(BenchCli, HugePagesTakesAutoOrOff) {
  const auto off = test::run_prima({"bench", "-m", kModel, "-p", "0", "-n", "1", "-r", "1", "--no-roofline",
                                    "--huge-pages", "off", "-o", "json"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  const auto bad = test::run_prima({"bench", "-m", kModel, "-p", "0", "-n", "1", "--huge-pages", "sometimes"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--huge-pages"), std::string::npos) << bad.err;
}

}  // namespace
