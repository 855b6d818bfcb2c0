// prima bench -m MODEL -p 512 -n 128 -r 5 [-o md|json]: prompt processing (pp) and text generation (tg)
// speed, mean ± sd over repetitions, as llama-bench reports them; plus the memory-bandwidth roofline of tg
// (weight bytes read per token ÷ measured read bandwidth), so every run says how close it is to the limit.
//
// The bandwidth is measured between the generated tokens: one pass of kernels::ReadProbe (1 GiB in huge pages,
// every thread its slice) before the first token and after each, and every token is held to the mean of the two
// passes around it. On a shared host the memory's rate moves by 2x within seconds (this VM: single 30 ms passes
// read 21-53 GB/s within one run), so a probe from another second says little about this token. The passes are
// not counted in the t/s. The fraction of the limit is, per repetition, the time the tokens would take at the
// bandwidth around each ÷ the time they took. Before the first repetition the weights' own pages are read 3
// times beside probe passes (kernels::read_pass): the page cache may hold a file in pages that stream slower than
// the probe's huge pages (on this VM 0.85x after hours of memory pressure, 0.92-0.96x when freshly read), and
// that part of the gap is the pages', not the kernels'.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>

#include "command.h"
#include "core/clock.h"
#include "core/format.h"
#include "kernels/bandwidth.h"
#include "kernels/isa.h"
#include "kernels/peak.h"
#include "memory/huge_pages.h"
#include "tensor/types.h"
#include "model/model.h"
#include "model/stats.h"
#include "core/log.h"
#include "options.h"
#include "profiler/estimate.h"
#include "runtime/local_engine.h"

namespace prima::app {
namespace {

struct BenchCli {
  EngineCli engine;
  std::string output = "md";
  int32_t n_prompt = 512, n_gen = 128, reps = 5;
  bool no_roofline = false;
};

struct Result {
  std::string test;
  int32_t n_prompt, n_gen;
  std::vector<double> ts;  // tokens per second of each repetition
  double mean() const { return std::accumulate(ts.begin(), ts.end(), 0.0) / static_cast<double>(ts.size()); }
  double sd() const {
    if (ts.size() < 2) return 0.0;
    const double m = mean();
    double s = 0;
    for (double x : ts) s += (x - m) * (x - m);
    return std::sqrt(s / static_cast<double>(ts.size() - 1));
  }
};

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<BenchCli>();
  add_engine_options(sub, o->engine);
  sub.add_option("-p,--n-prompt", o->n_prompt, "prompt tokens for the pp test (0 = skip)")->check(CLI::Range(0, 65536));
  sub.add_option("-n,--n-gen", o->n_gen, "generated tokens for the tg test (0 = skip)")->check(CLI::Range(0, 65536));
  sub.add_option("-r,--repetitions", o->reps, "repetitions of each test")->check(CLI::Range(1, 1000));
  sub.add_option("-o,--output", o->output, "md (table) or json")->check(CLI::IsMember({"md", "json"}));
  sub.add_flag("--no-roofline", o->no_roofline, "skip the memory-bandwidth measurement");
  return [o]() {
    Stopwatch load;
    if (o->engine.verbose) log::set_level(log::Level::debug);
    auto model = model::Model::open(o->engine.model);
    const auto& hp = model->hparams();
    if (o->engine.n_ctx == 0) o->engine.n_ctx = std::max(o->n_prompt, o->n_gen) + 8;
    auto engine_ptr = make_engine(o->engine, *model);
    runtime::Engine& engine = *engine_ptr;
    const int nth = runtime::resolve_threads(o->engine.threads);

    std::mt19937 rng(42);
    std::uniform_int_distribution<int32_t> tok(0, hp.n_vocab - 1);
    std::vector<float> logits;
    auto run_pp = [&](int32_t n) {
      (void)engine.kv_clear(-1);
      runtime::TokenBatch b;
      for (int32_t i = 0; i < n; ++i) b.add(tok(rng), i, 0, i == n - 1);
      Stopwatch sw;
      if (Status st = engine.decode(b, logits); !st) fail("{}", st.message());
      return sw.elapsed_s();
    };
    // tg: n tokens; with a probe, one pass of it before the first token and after each (bw, GB/s) and each
    // token's own time (tok_s) for the roofline.
    std::unique_ptr<kernels::ThreadPool> probe_pool;
    std::unique_ptr<kernels::ReadProbe> probe;
    auto run_tg = [&](int32_t n, std::vector<double>* tok_s, std::vector<double>* bw) {
      (void)engine.kv_clear(-1);
      runtime::TokenBatch b;
      if (probe) bw->push_back(probe->pass());
      double total = 0;
      for (int32_t i = 0; i < n; ++i) {
        b.clear();
        b.add(tok(rng), i, 0, true);
        Stopwatch sw;
        if (Status st = engine.decode(b, logits); !st) fail("{}", st.message());
        const double s = sw.elapsed_s();
        total += s;
        if (tok_s) tok_s->push_back(s);
        if (probe) bw->push_back(probe->pass());
      }
      return total;
    };

    // Warm up: pages in, caches, thread pool.
    if (o->n_prompt > 0) run_pp(std::min(o->n_prompt, 32));
    if (o->n_gen > 0) run_tg(2, nullptr, nullptr);

    std::vector<Result> results;
    if (o->n_prompt > 0) {
      Result r{fmt::format("pp{}", o->n_prompt), o->n_prompt, 0, {}};
      for (int i = 0; i < o->reps; ++i) r.ts.push_back(o->n_prompt / run_pp(o->n_prompt));
      results.push_back(r);
    }
    const bool roofline = !o->no_roofline && o->engine.workers.empty();
    std::vector<std::vector<double>> tg_tok_s, tg_bw;  // per repetition: each token's seconds, the passes around
    std::vector<double> model_read, model_ratio;        // the weights' pages: GB/s, and ÷ the probe pass beside it
    double model_huge_share = -1;                       // of the mapped file, in huge pages (-1: unknown)
    if (o->n_gen > 0) {
      if (roofline) {
        probe_pool = std::make_unique<kernels::ThreadPool>(nth);
        probe = std::make_unique<kernels::ReadProbe>(*probe_pool, size_t{1} << 30);
        probe->pass();  // the first pass after the first touch runs slow on some hosts
        // The weights' own pages (the file ranges a token reads: every layer's, the output layer's) against the
        // probe's huge pages: 3 pairs of passes, the probe first in every other pair.
        std::vector<kernels::MemRange> weights;
        const uint8_t* file = model->file().mapping().data();
        auto add = [&](const std::vector<model::FileRange>& ranges) {
          for (const model::FileRange& r : ranges) weights.push_back({file + r.offset, r.size});
        };
        for (int32_t il = 0; il < hp.n_layer; ++il) add(model->layer(il).ranges);
        add(model->head().output_ranges);
        for (int k = 0; k < 3; ++k) {
          double m, p;
          if (k % 2) {
            p = probe->pass();
            m = kernels::read_pass(*probe_pool, weights).gbs;
          } else {
            m = kernels::read_pass(*probe_pool, weights).gbs;
            p = probe->pass();
          }
          model_read.push_back(m);
          model_ratio.push_back(m / p);
        }
        // Every weight page is mapped now: how many by huge-page (PMD) entries.
        if (auto use = memory::huge_page_use(model->file().mapping()); use && use->rss_bytes > 0)
          model_huge_share = static_cast<double>(use->pmd_bytes) / static_cast<double>(use->rss_bytes);
      }
      Result r{fmt::format("tg{}", o->n_gen), 0, o->n_gen, {}};
      for (int i = 0; i < o->reps; ++i) {
        tg_tok_s.emplace_back();
        tg_bw.emplace_back();
        r.ts.push_back(o->n_gen / run_tg(o->n_gen, &tg_tok_s.back(), &tg_bw.back()));
      }
      results.push_back(r);
      probe.reset();
      probe_pool.reset();
    }

    uint64_t n_params = 0;
    for (const auto& t : model->file().tensors()) n_params += static_cast<uint64_t>(t.n_elements());
    // Bytes one decode step reads: every layer, the output matrix, one embedding row.
    uint64_t bytes_per_token = static_cast<uint64_t>(hp.n_embd) * 4;
    for (int32_t il = 0; il < hp.n_layer; ++il) bytes_per_token += model->layer_bytes(il);
    bytes_per_token += model->head().output.row_bytes * static_cast<uint64_t>(model->head().output.n_out);
    // Arithmetic of one prompt token, from the scheduler's model statistics: the layers' matrices, attention
    // (a prompt of n attends to (n - 1) / 2 cached positions on average) and the output layer once per prompt.
    // The layer matrices are mostly quantized (int8 kernels) or float (f32 FMA).
    const scheduler::ModelStats stats = model::compute_stats(model->file());
    double layer_flops = 0, quantized_flops = 0;
    for (const auto& l : stats.layers)
      for (const auto& [type, flops] : l.flops_by_type) {
        layer_flops += flops;
        if (const auto t = type_from_name(type); t && traits(*t).quantized) quantized_flops += flops;
      }
    const bool int8_units = quantized_flops * 2 > layer_flops;
    auto flops_per_prompt_token = [&](int32_t n) {
      const double attn = stats.attn_flops_per_token_per_layer_per_pos * (n - 1) / 2.0 * stats.n_layer;
      return layer_flops + attn + stats.output_flops / n;
    };
    // tg against the bandwidth around each token: per repetition, the time at the limit ÷ the time taken; the
    // mean over the repetitions. bw: the mean of all passes (the limit printed), min / max over them.
    struct Roofline {
      double fraction = 0, bw = 0, bw_min = 0, bw_max = 0;  // bw*: bytes/s
      size_t passes = 0;
    } roof;
    if (!tg_bw.empty() && !tg_bw[0].empty()) {
      roof.bw_min = roof.bw_max = tg_bw[0][0] * 1e9;
      for (size_t rep = 0; rep < tg_bw.size(); ++rep) {
        const auto& bw = tg_bw[rep];
        const auto& ts = tg_tok_s[rep];
        double ideal = 0, taken = 0;
        for (size_t k = 0; k < ts.size(); ++k) {
          ideal += static_cast<double>(bytes_per_token) / ((bw[k] + bw[k + 1]) / 2 * 1e9);
          taken += ts[k];
        }
        roof.fraction += ideal / taken / static_cast<double>(tg_bw.size());
        for (double g : bw) {
          roof.bw += g * 1e9;
          roof.bw_min = std::min(roof.bw_min, g * 1e9);
          roof.bw_max = std::max(roof.bw_max, g * 1e9);
          ++roof.passes;
        }
      }
      roof.bw /= static_cast<double>(roof.passes);
    }
    kernels::PeakRates peak;
    if (roofline && o->n_prompt > 0) {
      kernels::ThreadPool pool(nth);
      peak = kernels::measure_peak(pool, 0.6);
    }
    const double peak_gops = int8_units ? peak.int8_gops : peak.f32_gflops;
    const char* peak_name = int8_units ? "int8 multiply-add peak of the vector units" : "f32 FMA peak";

    const std::string name = fmt::format("{} {}", hp.arch.name, hp.name);
    if (const std::string s = engine.summary(); !s.empty()) std::fprintf(stderr, "%s", s.c_str());
    std::fprintf(stderr, "prima: %s\n", engine.describe().c_str());
    const std::string isa(kernels::isa_name(kernels::active_isa()));
    if (o->output == "json") {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& r : results) {
        nlohmann::json j = {{"model", hp.name}, {"model_size", model->file().file_size()}, {"model_n_params", n_params},
                            {"n_threads", nth}, {"isa", isa}, {"n_prompt", r.n_prompt}, {"n_gen", r.n_gen},
                            {"test", r.test}, {"avg_ts", r.mean()}, {"stddev_ts", r.sd()}, {"samples_ts", r.ts}};
        if (r.n_gen > 0 && roof.bw > 0) {
          j["bytes_per_token"] = bytes_per_token;
          j["read_bandwidth_gbs"] = roof.bw / 1e9;
          j["read_bandwidth_min_gbs"] = roof.bw_min / 1e9;
          j["read_bandwidth_max_gbs"] = roof.bw_max / 1e9;
          j["read_bandwidth_passes_gbs"] = tg_bw;  // per repetition: before the first token, after each
          j["token_seconds"] = tg_tok_s;
          j["roofline_ts"] = roof.bw / static_cast<double>(bytes_per_token);
          j["roofline_fraction"] = roof.fraction;
          j["model_read_gbs"] = profiler::estimate(model_read).median;
          j["model_read_fraction"] = profiler::estimate(model_ratio).median;
          if (model_huge_share >= 0) j["model_huge_page_fraction"] = model_huge_share;
        }
        if (r.n_prompt > 0 && peak_gops > 0) {
          const double gflops = r.mean() * flops_per_prompt_token(r.n_prompt) * 1e-9;
          j["gflops"] = gflops;
          j["peak_gops"] = peak_gops;
          j["peak_units"] = int8_units ? "int8" : "f32";
          j["peak_fraction"] = gflops / peak_gops;
          if (int8_units && peak.int8_tile_gops > 0) {  // amx: the tile unit's peak beside the vector units'
            j["peak_tile_gops"] = peak.int8_tile_gops;
            j["peak_tile_fraction"] = gflops / peak.int8_tile_gops;
          }
        }
        arr.push_back(j);
      }
      fmt::print("{}\n", arr.dump(2));
    } else {
      fmt::print("| model | size | params | isa | threads | test | t/s |\n");
      fmt::print("| --- | ---: | ---: | --- | ---: | ---: | ---: |\n");
      for (const auto& r : results)
        fmt::print("| {} | {} | {} | {} | {} | {} | {:.2f} ± {:.2f} |\n", name, format_bytes(model->file().file_size()),
                   format_count(n_params), isa, nth, r.test, r.mean(), r.sd());
      for (const auto& r : results)
        if (r.n_gen > 0 && roof.bw > 0) {
          const double limit = roof.bw / static_cast<double>(bytes_per_token);
          fmt::print("\n{}: {:.2f} t/s = {:.0f} % of the memory-bandwidth limit {:.2f} t/s ({} read per token at {:.1f} GB/s: "
                     "mean of {} read passes, one between every two tokens, {:.1f}-{:.1f} GB/s; each token is held to "
                     "the two passes around it)\n",
                     r.test, r.mean(), 100.0 * roof.fraction, limit, format_bytes(bytes_per_token), roof.bw / 1e9,
                     roof.passes, roof.bw_min / 1e9, roof.bw_max / 1e9);
          if (!model_read.empty())
            fmt::print("the weights' own pages{} read at {:.1f} GB/s, {:.0f} % of a probe pass beside them (median of 3 "
                       "pairs): the part of the limit the page cache's pages allow (docs/benchmarks.md)\n",
                       model_huge_share >= 0 ? fmt::format(" ({:.0f} % of them mapped in {} pages)", 100.0 * model_huge_share,
                                                           format_bytes(memory::huge_page_size()))
                                             : "",
                       profiler::estimate(model_read).median, 100.0 * profiler::estimate(model_ratio).median);
        }
      for (const auto& r : results)
        if (r.n_prompt > 0 && peak_gops > 0) {
          const double gflop_tok = flops_per_prompt_token(r.n_prompt) * 1e-9;
          const double gflops = r.mean() * gflop_tok;
          const std::string tile = int8_units && peak.int8_tile_gops > 0
                                       ? fmt::format("; AMX tile int8 peak {:.0f} GOP/s: {:.0f} % of it", peak.int8_tile_gops,
                                                     100.0 * gflops / peak.int8_tile_gops)
                                       : "";
          fmt::print("{}: {:.2f} t/s x {:.2f} GFLOP per token = {:.0f} GFLOP/s = {:.0f} % of the measured {} {:.0f} GOP/s "
                     "(f32 FMA peak {:.0f} GFLOP/s{})\n",
                     r.test, r.mean(), gflop_tok, gflops, 100.0 * gflops / peak_gops, peak_name, peak_gops, peak.f32_gflops,
                     tile);
        }
    }
    return 0;
  };
}

}  // namespace
PRIMA_COMMAND(bench, "bench", "Measure prompt processing and generation speed (llama-bench style)", 50, setup);
}  // namespace prima::app
