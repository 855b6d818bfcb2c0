// The ring computes exactly what one device computes: greedy output of `prima run --workers ...` is
// token-for-token the single-device output, for 2, 3 and 4 devices and several window settings, k >= 2 included,
// with pipelined and unpipelined prefill over several micro-batches.
#include <gtest/gtest.h>

#include "ring_fixture.h"

using namespace prima;
using namespace prima::test;

namespace {

struct Case {
  std::string name;
  std::string model;   // file name under fixtures/models, or "synth-tiny" (8 layers, written by the test)
  int n_workers;
  std::string windows;  // "" = even split
  std::vector<std::string> extra;  // more head flags
};

std::string model_path(const std::string& m) {
  if (m != "synth-tiny") return kModels + m;
  // One file per test process: CTest runs the cases of this binary in parallel processes.
  struct SynthFile {
    std::string path = ::testing::TempDir() + "/ring-synth-tiny-" + std::to_string(::getpid()) + ".gguf";
    SynthFile() {
      const auto r = run_prima({"synth", "--shape", "tiny", "--type", "Q4_K_M", "-o", path});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    ~SynthFile() { std::remove(path.c_str()); }
  };
  static SynthFile file;
  return file.path;
}

// The prompt is long enough (and the micro-batches small enough) that prefill crosses the ring in several
// micro-batches.
const std::string kPrompt =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.";

class RingEqualsOneDevice : public ::testing::TestWithParam<Case> {};

TEST_P(RingEqualsOneDevice, GreedyOutputIsTokenIdentical) {
  const Case& c = GetParam();
  const std::string model = model_path(c.model);
  auto args = greedy_args(model, kPrompt, 24);
  args.insert(args.end(), {"--ubatch-size", "7"});
  const auto local = run_prima(args);
  ASSERT_EQ(local.exit_code, 0) << local.err;

  auto workers = start_workers(model, c.n_workers, c.name);
  args.insert(args.end(), {"--workers", workers.list()});
  if (!c.windows.empty()) args.insert(args.end(), {"--layer-window", c.windows});
  args.insert(args.end(), c.extra.begin(), c.extra.end());
  const auto ring = run_prima(args);
  ASSERT_EQ(ring.exit_code, 0) << ring.err;
  EXPECT_EQ(ring.out, local.out) << ring.err;
  EXPECT_NE(ring.err.find(std::to_string(c.n_workers + 1) + " devices"), std::string::npos) << ring.err;
  // The per-device summary lists every device.
  for (int i = 1; i <= c.n_workers; ++i) EXPECT_NE(ring.err.find("\nw" + std::to_string(i) + " "), std::string::npos) << ring.err;
  EXPECT_NE(ring.err.find("\nhead "), std::string::npos) << ring.err;
}

INSTANTIATE_TEST_SUITE_P(
    Loopback, RingEqualsOneDevice,
    ::testing::Values(
        Case{"stories_2dev", "stories260K-F32.gguf", 1, "3,2", {}},
        Case{"stories_3dev_even", "stories260K-F32.gguf", 2, "", {}},
        Case{"stories_4dev", "stories260K-F32.gguf", 3, "2,1,1,1", {}},
        Case{"llama_gqa_2dev_k2", "tiny-llama-gqa-Q4_K_M.gguf", 1, "1,1", {}},
        Case{"llama_gqa_2dev_k2_unpipelined", "tiny-llama-gqa-Q4_K_M.gguf", 1, "1,1", {"--no-pipeline"}},
        Case{"llama_gqa_3dev", "tiny-llama-gqa-Q8_0.gguf", 2, "2,1,1", {}},
        Case{"llama_gqa_4dev", "tiny-llama-gqa-F16.gguf", 3, "1,1,1,1", {}},
        Case{"qwen2_3dev", "tiny-qwen2-Q5_K_M.gguf", 2, "1,1,1", {}},
        Case{"synth_2dev_k4", "synth-tiny", 1, "1,1", {}},
        Case{"synth_3dev_k2", "synth-tiny", 2, "1,2,1", {}},
        Case{"synth_4dev_k2", "synth-tiny", 3, "1,1,1,1", {"--device-threads", "1,1,1,2"}},
        Case{"synth_4dev_k2_unpipelined", "synth-tiny", 3, "1,1,1,1", {"--no-pipeline"}}),
    [](const auto& p) { return p.param.name; });

TEST(RingLoopback, HalfPrecisionActivationsRun) {
  // f16 on the wire rounds the hidden state at every hop, so the text may differ from one device's; it must
  // still run to the end and the workers must have been told.
  const std::string model = kModels + "tiny-llama-gqa-Q4_K_M.gguf";
  auto workers = start_workers(model, 1, "f16act");
  auto args = greedy_args(model, kPrompt, 16);
  args.insert(args.end(), {"--workers", workers.list(), "--layer-window", "1,1", "--act-type", "f16"});
  const auto r = run_prima(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("generated 16 tokens"), std::string::npos) << r.err;
}

TEST(RingLoopback, AWorkerServesHeadsOneAfterAnother) {
  const std::string model = kModels + "stories260K-F32.gguf";
  auto workers = start_workers(model, 1, "serial");
  auto args = greedy_args(model, "Once upon a time", 8);
  args.insert(args.end(), {"--workers", workers.list()});
  const auto first = run_prima(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto second = run_prima(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(first.out, second.out);
}

}  // namespace
