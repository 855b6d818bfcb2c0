// A ring takes a new plan while it runs (what Halda does after the profile round, and what recovery does after a
// lost device): new windows and k, a worker dropped from the ring goes back to waiting, and the output stays
// token-identical to one device.
#include <gtest/gtest.h>

#include "model/model.h"
#include "ring_fixture.h"
#include "runtime/generate.h"
#include "runtime/local_engine.h"
#include "runtime/ring_engine.h"
#include "sampling/sampler.h"

using namespace prima;
using namespace prima::test;
using namespace std::chrono_literals;

namespace {

std::vector<int32_t> greedy(runtime::Engine& e, const std::vector<int32_t>& prompt, int n) {
  EXPECT_TRUE(e.kv_clear(-1).is_ok());
  sampling::Sampler sampler(sampling::SamplingParams::greedy(), e.hparams().n_vocab);
  std::vector<int32_t> out;
  runtime::GenerateOptions g;
  g.n_predict = n;
  runtime::GenerateStats st;
  const Status s = runtime::generate(e, sampler, prompt, g, [&](int32_t t) { out.push_back(t); return true; }, st);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return out;
}

TEST(RingReplan, NewWindowsAndDeviceSelectionKeepTheOutput) {
  const std::string path = kModels + "tiny-llama-gqa-Q8_0.gguf";  // 4 layers
  auto model = model::Model::open(path);
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 432, 383, 286};
  runtime::LocalOptions lo;
  lo.n_threads = 1;
  lo.n_ctx = 64;
  runtime::LocalEngine local(*model, lo);
  const auto expected = greedy(local, prompt, 12);

  auto workers = start_workers(path, 3, "replan");
  runtime::RingOptions ro;
  ro.workers = workers.addresses;
  ro.n_threads = 1;
  ro.n_ctx = 64;
  ro.auto_plan = false;
  runtime::RingEngine ring(*model, ro);  // even split: 1,1,1,1
  EXPECT_EQ(greedy(ring, prompt, 12), expected);

  ring.replan({1, 1}, {1});  // only w2 and the head, k = 2; w1 and w3 wait again
  EXPECT_EQ(ring.plan().k, 2);
  EXPECT_EQ(greedy(ring, prompt, 12), expected);
  EXPECT_TRUE(workers.procs[0]->wait_for("not selected by the plan[^\\n]*\\n[^\\n]*waiting for a head", 10s))
      << workers.procs[0]->log();
  EXPECT_TRUE(workers.procs[1]->wait_for("plan 2: rank 0 of 2: layers \\[0, 1\\) \\[2, 3\\)", 5s)) << workers.procs[1]->log();

  // A worker sent back to waiting has left the session: a plan that counts on it is refused at once.
  try {
    ring.replan({2, 1, 1}, {2, 1});
    FAIL() << "a plan with a worker that left was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has left this session"), std::string::npos) << e.what();
  }
  EXPECT_EQ(greedy(ring, prompt, 12), expected);  // the ring still works with the plan it had
}

}  // namespace
