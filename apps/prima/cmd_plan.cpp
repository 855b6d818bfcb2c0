// prima plan -m MODEL --profiles cluster.json: Halda's plan for a described cluster, without running it, so
// users can ask "what if I add my phone?". The cluster file format is docs/profiles.md; the model and the
// search are docs/scheduler.md. With --json, one JSON object on stdout (scheduler/plan_report.h plus
// "model", "n_ctx" and "baselines").
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>

#include "command.h"
#include "core/error.h"
#include "core/format.h"
#include "gguf/gguf.h"
#include "model/stats.h"
#include "scheduler/evaluate.h"
#include "scheduler/halda.h"
#include "scheduler/plan_report.h"
#include "runtime/ring_plan.h"
#include "scheduler/profile_json.h"

namespace prima::app {
namespace {

struct PlanCliOptions {
  std::string model;
  std::string profiles;
  int n_ctx = 0;  // 0: 4096, or the model's training context if smaller
  int n_past = -1;
  int n_ubatch = 512;
  std::vector<int> k_values;
  bool no_select = false;
  bool no_overlap = false;
  double max_s_per_token = 60;
  bool json = false;
  std::string layer_window;  // evaluate this split instead of planning
};

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot read: {}", path, std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(in.tellg());
  PRIMA_CHECK(size >= 0 && size <= (16 << 20), "{}: {} bytes, too big for a cluster file", path, size);
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), size);
  PRIMA_CHECK(in.good() || in.eof(), "{}: read failed", path);
  return text;
}

// The best feasible plan of a baseline split (every device computes) over every k, or nothing.
struct Baseline {
  int k = 0;
  double ms = 0;
};
template <class Split>
std::optional<Baseline> best_baseline(const std::vector<scheduler::DeviceProfile>& devs,
                                      const scheduler::ModelStats& stats, const scheduler::PlanOptions& o,
                                      Split split) {
  std::optional<Baseline> best;
  for (int k : scheduler::divisors(stats.n_layer)) {
    if (stats.n_layer / k < static_cast<int>(devs.size())) break;  // a baseline uses every device
    auto p = scheduler::evaluate(devs, stats, split(k), o);
    if (!p || !p->feasible) continue;
    if (!best || p->predicted_ms_per_token < best->ms) best = Baseline{k, p->predicted_ms_per_token};
  }
  return best;
}

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<PlanCliOptions>();
  sub.add_option("-m,--model", o->model, "GGUF model file")->required();
  sub.add_option("--profiles", o->profiles, "cluster file: device profiles in ring order, head last (docs/profiles.md)")
      ->required();
  sub.add_option("--n-ctx", o->n_ctx,
                 "context length to reserve the KV cache for (default 4096, or the model's if smaller)")
      ->check(CLI::Range(1, 1 << 24));
  sub.add_option("--n-past", o->n_past, "cached tokens a decode step attends to (default: n-ctx / 2)")
      ->check(CLI::Range(0, 1 << 24));
  sub.add_option("--ubatch-size", o->n_ubatch, "tokens per prompt micro-batch the devices will run (sizes their work buffers)")
      ->check(CLI::Range(1, 8192));
  sub.add_option("--k", o->k_values, "cycle counts to consider, comma-separated (default: every divisor of the layers)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1 << 16));
  sub.add_flag("--no-select", o->no_select, "use every device (no device selection)");
  sub.add_flag("--no-overlap", o->no_overlap, "assume disk reads never overlap the rest of the ring");
  sub.add_option("--max-s-per-token", o->max_s_per_token, "report plans slower than this as infeasible")
      ->check(CLI::Range(0.001, 1e6));
  sub.add_flag("--json", o->json, "print one JSON object");
  sub.add_option("--layer-window", o->layer_window,
                 "predict this split instead of planning: layers per cycle of each device, head last (0 = left out)");
  return [o]() {
    const auto devs = scheduler::parse_cluster_json(read_text_file(o->profiles), o->profiles);
    const auto file = gguf::File::open(o->model);
    const scheduler::ModelStats stats = model::compute_stats(file);

    const int n_ctx = o->n_ctx > 0 ? o->n_ctx : (stats.n_ctx_train > 0 ? std::min(4096, stats.n_ctx_train) : 4096);
    scheduler::PlanOptions po;
    po.n_ctx = n_ctx;
    po.n_past = o->n_past;
    po.n_ubatch = o->n_ubatch;
    po.k_values = o->k_values;
    po.device_selection = !o->no_select;
    po.overlap_disk = !o->no_overlap;
    po.max_ms_per_token = o->max_s_per_token * 1e3;
    Result<scheduler::Plan> plan = Status::error(Status::Code::internal, "no plan");
    if (!o->layer_window.empty()) {
      scheduler::Assignment a;
      int sum = 0;
      for (int w : runtime::parse_int_list(o->layer_window, "--layer-window")) {
        if (w < 0) fail("--layer-window: window {} is negative", w);
        a.windows.push_back(w);
        sum += w;
      }
      if (a.windows.size() != devs.size())
        fail("--layer-window lists {} windows for the {} devices of {}", a.windows.size(), devs.size(), o->profiles);
      if (sum == 0 || stats.n_layer % sum != 0)
        fail("--layer-window: the windows add up to {}, which does not divide the model's {} layers", sum, stats.n_layer);
      a.k = stats.n_layer / sum;
      a.gpu_layers.assign(a.windows.size(), 0);
      plan = scheduler::evaluate(devs, stats, a, po);
    } else {
      plan = scheduler::halda(devs, stats, po);
    }
    if (!plan) fail("{}", plan.status().message());

    const auto even = best_baseline(
        devs, stats, po, [&](int k) { return scheduler::even_split(static_cast<int>(devs.size()), stats.n_layer, k); });
    const auto mem = best_baseline(devs, stats, po,
                                   [&](int k) { return scheduler::memory_proportional_split(devs, stats.n_layer, k); });

    if (o->json) {
      nlohmann::json j = scheduler::plan_to_json(*plan);
      j["model"] = {{"path", o->model},         {"name", stats.name},     {"arch", stats.arch},
                    {"n_layer", stats.n_layer}, {"n_embd", stats.n_embd}, {"weight_bytes", stats.weight_bytes}};
      j["n_ctx"] = n_ctx;
      auto baseline = [](const std::optional<Baseline>& b) {
        return b ? nlohmann::json{{"k", b->k}, {"predicted_ms_per_token", std::round(b->ms * 1e3) / 1e3}}
                 : nlohmann::json(nullptr);
      };
      j["baselines"] = {{"even", baseline(even)}, {"memory_proportional", baseline(mem)}};
      fmt::print("{}\n", j.dump(2));
      return 0;
    }

    fmt::print("model:   {} ({}), {} layers, n_embd {}, {}; n_ctx {}\n", stats.name, stats.arch, stats.n_layer,
               stats.n_embd, format_bytes(stats.weight_bytes), n_ctx);
    fmt::print("cluster: {} devices from {}, head '{}'\n", devs.size(), o->profiles, devs.back().name);
    fmt::print("{}", scheduler::plan_table(*plan));
    auto line = [](const char* what, const std::optional<Baseline>& b) {
      if (b)
        fmt::print("{}: {:.1f} ms/token at best (k = {})\n", what, b->ms, b->k);
      else
        fmt::print("{}: no k where it fits with every device computing\n", what);
    };
    fmt::print("\nfor comparison, with the same model:\n");
    line("  even split              ", even);
    line("  memory-proportional     ", mem);
    return 0;
  };
}

}  // namespace
PRIMA_COMMAND(plan, "plan", "Plan a model on a described cluster (Halda), without running it", 60, setup);
}  // namespace prima::app
