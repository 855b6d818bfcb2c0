// Profiles of the fixture models: a positive throughput for every weight type the model computes with, a valid
// cluster-file device (round trip through the scheduler's parser, and a plan on it), the cluster round's request
// and reply, and the errors.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <set>

#include "gguf/gguf.h"
#include "model/stats.h"
#include "profiler/cpu_bench.h"
#include "profiler/profiler.h"
#include "profiler/report.h"
#include "profiler/workload.h"
#include "scheduler/halda.h"
#include "scheduler/profile_json.h"
#include "test_util.h"

namespace prima::profiler {
namespace {

using nlohmann::json;

std::string fixture(const std::string& name) { return std::string(PRIMA_FIXTURES_DIR) + "/models/" + name; }

ProfileOptions fast(const std::string& model) {
  ProfileOptions o;
  o.model_path = fixture(model);
  o.seconds = 0.4;
  o.use_cache = false;
  o.working_set_bytes = 8u << 20;
  o.name = "fixture-device";
  return o;
}

// Every type of every matrix the model computes with (blocks and output).
std::set<std::string> model_types(const scheduler::ModelStats& s) {
  std::set<std::string> t;
  for (const auto& l : s.layers)
    for (const auto& [type, f] : l.flops_by_type)
      if (f > 0) t.insert(type);
  for (const auto& [type, f] : s.output_flops_by_type)
    if (f > 0) t.insert(type);
  return t;
}

class FixtureProfile : public ::testing::TestWithParam<const char*> {};

TEST_P(FixtureProfile, EveryTypeMeasuredAndTheJsonRoundTrips) {
  const auto o = fast(GetParam());
  auto r = run_profile(o);
  ASSERT_TRUE(r) << r.status().message();
  const auto stats = model::compute_stats(gguf::File::open(o.model_path));
  const auto& p = r->profile;

  const auto types = model_types(stats);
  ASSERT_FALSE(types.empty());
  for (const auto& t : types) {
    ASSERT_TRUE(p.cpu_decode_flops.count(t)) << t;
    EXPECT_GE(p.cpu_decode_flops.at(t), 1e6) << t;
    ASSERT_TRUE(p.cpu_prefill_flops.count(t)) << t;
    EXPECT_GE(p.cpu_prefill_flops.at(t), 1e6) << t;
  }
  EXPECT_TRUE(p.cpu_decode_flops.count("F16")) << "attention is priced at the F16 figure";
  for (const auto& t : r->types) {
    EXPECT_TRUE(t.stream.valid() && t.hot.valid() && t.prefill.valid()) << type_name(t.type);
    EXPECT_EQ(t.n_in % static_cast<int64_t>(traits(t.type).block_size), 0);
  }
  EXPECT_EQ(p.name, "fixture-device");
  EXPECT_GE(p.cores, 1);
  EXPECT_GT(p.memory_available, 0u);
  EXPECT_GE(p.memory_total, p.memory_available);
  EXPECT_GT(p.memory_read_bandwidth, 1e8);
  EXPECT_GT(p.disk_seq_read, 0);
  EXPECT_GT(p.disk_rand_read, 0);
  EXPECT_FALSE(r->from_cache);
  EXPECT_FALSE(r->measured_at.empty());
  EXPECT_LT(r->seconds, 3.0);  // bounded (0.4 s asked; weight synthesis and set-up on top)

  // The profile's own JSON, and the report's (with "_profile"), both parse as a device and as a cluster file.
  const auto back = scheduler::parse_device_json(scheduler::device_to_json(p), "profile");
  EXPECT_EQ(back.cpu_decode_flops, p.cpu_decode_flops);
  EXPECT_EQ(back.cpu_prefill_flops, p.cpu_prefill_flops);
  EXPECT_EQ(back.memory_available, p.memory_available);
  EXPECT_DOUBLE_EQ(back.disk_seq_read, p.disk_seq_read);
  const json full = report_json(*r);
  ASSERT_TRUE(full.contains("_profile"));
  const auto from_report = scheduler::parse_device_json(full.dump(2), "report");
  EXPECT_EQ(from_report.cpu_decode_flops, p.cpu_decode_flops);
  EXPECT_EQ(from_report.name, p.name);
  const json cluster = {{"format", "prima-cluster"}, {"version", 1}, {"devices", json::array({full})}};
  const auto devs = scheduler::parse_cluster_json(cluster.dump(), "cluster");
  ASSERT_EQ(devs.size(), 1u);

  // And the planner accepts it: the tiny model on this one device.
  scheduler::PlanOptions po;
  po.n_ctx = 256;
  auto plan = scheduler::halda(devs, stats, po);
  ASSERT_TRUE(plan) << plan.status().message();
  EXPECT_TRUE(plan->feasible);

  // The measured part reads back as it was written (what the cache relies on).
  ProfileReport again;
  measured_from_json(measured_json(*r), "measured", again);
  ASSERT_EQ(again.types.size(), r->types.size());
  EXPECT_DOUBLE_EQ(again.types[0].decode_flops, r->types[0].decode_flops);
  EXPECT_DOUBLE_EQ(again.read_bandwidth.median, r->read_bandwidth.median);

  const std::string table = report_table(*r);
  for (const auto& t : types) EXPECT_NE(table.find(t), std::string::npos) << table;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureProfile,
                         ::testing::Values("tiny-llama-gqa-Q4_K_M.gguf", "tiny-qwen2-Q5_K_M.gguf",
                                           "tiny-llama-gqa-IQ4_NL.gguf", "stories260K-Q4_0.gguf",
                                           "tiny-llama-gqa-BF16.gguf"));

TEST(Workload, ShapesAreTheModels) {
  const auto file = gguf::File::open(fixture("tiny-llama-gqa-Q4_K_M.gguf"));
  const auto stats = model::compute_stats(file);
  std::vector<std::string> notes;
  const auto work = matrices_to_measure(file, stats, notes);
  EXPECT_TRUE(notes.empty());
  std::set<std::string> measured;
  for (const auto& m : work) {
    measured.insert(std::string(type_name(m.type)));
    EXPECT_TRUE(m.n_in == stats.n_embd || m.n_in == stats.n_ff) << m.tensor << " " << m.n_in;
    EXPECT_GT(m.n_out, 1);
  }
  auto want = model_types(stats);
  want.insert("F16");
  EXPECT_EQ(measured, want);
}

TEST(CpuBench, ComputeAndBandwidthAreSeparated) {
  // The decode figure is the streamed run's, unless that run moved bytes at the read bandwidth (then the hot run's:
  // the planner's memory term supplies the rest). Fake bandwidths put the same measurement on either side.
  kernels::ThreadPool pool(1);
  WeightArena arena;
  CpuBenchConfig c;
  c.seconds = 0.1;
  c.samples = 3;
  c.stream_bytes = 4u << 20;
  c.hot_bytes = 256u << 10;
  for (double bw : {0.0, 1e15, 1e3}) {
    c.read_bandwidth = bw;
    const TypeSpeed t = measure_type(pool, ggml_type::Q4_K, 2048, 1024, c, arena);
    ASSERT_TRUE(t.stream.valid() && t.hot.valid() && t.prefill.valid());
    EXPECT_EQ(t.n_in, 2048);
    EXPECT_EQ(t.n_out, 1024);  // 1 MiB of Q4_K: the model's shape fits the working set
    EXPECT_GE(t.stream_set_bytes, 2 * 1024 * row_size(ggml_type::Q4_K, 2048));
    EXPECT_DOUBLE_EQ(t.stream_bytes_per_s, t.stream.median * row_size(ggml_type::Q4_K, 2048) / (2.0 * 2048));
    EXPECT_EQ(t.bandwidth_bound, bw == 1e3) << bw;
    if (t.bandwidth_bound)
      EXPECT_DOUBLE_EQ(t.decode_flops, std::max(t.hot.median, t.stream.median));
    else
      EXPECT_DOUBLE_EQ(t.decode_flops, t.stream.median);
  }
  // A matrix bigger than half the working set keeps its row length and loses rows.
  const TypeSpeed big = measure_type(pool, ggml_type::F32, 4096, 4096, c, arena);
  EXPECT_EQ(big.n_in, 4096);
  EXPECT_EQ(big.n_out, (2 << 20) / (4096 * 4));
  EXPECT_LE(big.n_out_hot, big.n_out);
}

TEST(Profile, ThreadsAsAsked) {
  ProfileOptions o = fast("stories260K-Q8_0.gguf");
  o.threads = 1;
  auto r = run_profile(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->threads, 1);
  EXPECT_EQ(r->profile.cores, 1);
}

TEST(Profile, ErrorsAreStatuses) {
  ProfileOptions o = fast("does-not-exist.gguf");
  auto r = run_profile(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("does-not-exist"), std::string::npos);

  testing::TempDir dir;
  dir.write("/junk.gguf", std::string(8192, 'x'));
  o.model_path = dir.path() + "/junk.gguf";
  EXPECT_FALSE(run_profile(o));
  o.model_path = "";
  EXPECT_FALSE(run_profile(o));
  EXPECT_FALSE(profile_device(o));
}

TEST(Profile, DefaultCacheDir) {
  const char* home = std::getenv("HOME");
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const std::string saved_home = home ? home : "", saved_xdg = xdg ? xdg : "";
  ::setenv("HOME", "/home/u", 1);
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(default_cache_dir(), "/home/u/.cache/prima/profiles");
  ::setenv("XDG_CACHE_HOME", "/x/cache", 1);
  EXPECT_EQ(default_cache_dir(), "/x/cache/prima/profiles");
  ::setenv("XDG_CACHE_HOME", "relative", 1);  // the XDG spec says: ignore a relative path
  EXPECT_EQ(default_cache_dir(), "/home/u/.cache/prima/profiles");
  ::unsetenv("XDG_CACHE_HOME");
  ::unsetenv("HOME");
  EXPECT_EQ(default_cache_dir(), "");
  if (home) ::setenv("HOME", saved_home.c_str(), 1);
  if (xdg) ::setenv("XDG_CACHE_HOME", saved_xdg.c_str(), 1);
}

TEST(Profile, FingerprintIsTheHeaders) {
  const std::string a = model_fingerprint(fixture("tiny-llama-gqa-Q4_K_M.gguf"));
  EXPECT_EQ(a, model_fingerprint(fixture("tiny-llama-gqa-Q4_K_M.gguf")));
  EXPECT_NE(a, model_fingerprint(fixture("tiny-llama-gqa-Q4_0.gguf")));
  EXPECT_NE(a.find(':'), std::string::npos);
}

TEST(ClusterRound, RequestOptions) {
  ProfileOptions base;
  base.model_path = "m.gguf";
  auto o = apply_request({R"({"reprofile": true, "seconds": 3.5, "threads": 2, "name": "w1", "_x": [1]})"}, base);
  ASSERT_TRUE(o) << o.status().message();
  EXPECT_TRUE(o->reprofile);
  EXPECT_DOUBLE_EQ(o->seconds, 3.5);
  EXPECT_EQ(o->threads, 2);
  EXPECT_EQ(o->name, "w1");
  EXPECT_EQ(o->model_path, "m.gguf");
  EXPECT_TRUE(apply_request({""}, base));
  EXPECT_TRUE(apply_request({"{}"}, base));
  auto made = apply_request(make_request(true, 2.0), base);
  ASSERT_TRUE(made);
  EXPECT_TRUE(made->reprofile);
  EXPECT_DOUBLE_EQ(made->seconds, 2.0);
  for (const char* bad : {"[]", "{", "nope", R"({"reprofile": 1})", R"({"seconds": -1})", R"({"seconds": 1e308})",
                          R"({"seconds": "8"})", R"({"threads": 2.5})", R"({"threads": 100000})", R"({"name": ""})",
                          R"({"name": "a b"})", R"({"model": "/etc/passwd"})", R"({"reprofile": {"a": 1}})",
                          R"({"seconds": 1, "seconds": 2, "x": 1})"}) {
    auto r = apply_request({bad}, base);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.status().code(), Status::Code::invalid) << bad;
    }
  }
  EXPECT_FALSE(apply_request({std::string(100000, ' ')}, base));
  EXPECT_FALSE(apply_request({std::string(5000, '[')}, base));
}

TEST(ClusterRound, ReplyRoundTrips) {
  auto r = run_profile(fast("stories260K-Q8_0.gguf"));
  ASSERT_TRUE(r);
  const cluster::ProfileReply reply = make_reply(*r);
  EXPECT_LT(reply.json.size(), cluster::kMaxJson);
  auto p = parse_reply(reply, "worker w1");
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_EQ(p->cpu_decode_flops, r->profile.cpu_decode_flops);
  EXPECT_EQ(p->name, r->profile.name);
  auto bad = parse_reply({R"({"name": "x"})"}, "worker w1");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("worker w1"), std::string::npos);
  EXPECT_FALSE(parse_reply({"\x01\x02"}, "worker w1"));
}

}  // namespace
}  // namespace prima::profiler
