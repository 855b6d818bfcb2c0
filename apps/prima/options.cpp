#include "options.h"

#include "core/error.h"
#include "core/log.h"
#include "runtime/local_engine.h"
#include "runtime/ring_engine.h"

namespace prima::app {

void add_engine_options(CLI::App& sub, EngineCli& o) {
  sub.add_option("-m,--model", o.model, "GGUF model file")->required();
  sub.add_option("-c,--ctx-size", o.n_ctx, "context size per sequence (0 = the model's, capped at 4096)")
      ->check(CLI::Range(0, 1 << 22));
  sub.add_option("-t,--threads", o.threads, "threads (0 = all cores)")->check(CLI::Range(0, 1024));
  sub.add_option("--ubatch-size", o.n_ubatch, "tokens per forward pass when evaluating a prompt")
      ->check(CLI::Range(1, 8192));
  sub.add_option("--cache-type", o.kv_type, "KV cache type: f16 or f32")->check(CLI::IsMember({"f16", "f32"}));
  sub.add_flag("-v,--verbose", o.verbose, "log more (per-token timings)");
  sub.add_option("--prefetch", o.prefetch,
                 "read the next window ahead: off, on (madvise), touch (read its pages in the background), "
                 "auto (touch when this device streams windows)")
      ->check(CLI::IsMember({"off", "on", "willneed", "touch", "auto"}));
  sub.add_option("--mem", o.mem_gib, "memory this device may use, GiB (default: measured, cgroup limits included)")
      ->check(CLI::Range(0.0, 1e6));
  sub.add_option("--release", o.release,
                 "drop windows after use: auto (only the streamed ones, when the weights do not fit), off, always")
      ->check(CLI::IsMember({"auto", "off", "always"}));
  sub.add_option("--huge-pages", o.huge_pages,
                 "auto: map the weights in 2 MiB pages, re-reading kept layers the page cache holds in small ones "
                 "(once; decode reads them faster), off: leave the pages as they are")
      ->check(CLI::IsMember({"auto", "off"}));
  auto* g = sub.add_option_group("ring", "spread the layers over several devices running `prima worker`");
  g->add_option("--workers", o.workers, "workers in ring order: host:port,host:port,... (the head comes last)");
  g->add_option("--layer-window", o.layer_window, "layers per cycle of each device, head last: a,b,c (default: even)");
  g->add_option("--listen", o.listen, "where the last worker reaches the head (address:port; port 0 = any)");
  g->add_option("--device-threads", o.device_threads, "threads of each device, head last (0 = all its cores)");
  g->add_option("--device-mem", o.device_mem, "memory each device may use in GiB, head last (0 = measured)");
  g->add_option("--act-type", o.act_type, "hidden states on the wire: f32 or f16 (half the bytes)")
      ->check(CLI::IsMember({"f32", "f16"}));
  g->add_option("--cluster-key", o.cluster_key, "shared CURVE key of the cluster (see `prima worker --help`)");
  g->add_flag("--no-pipeline", o.no_pipeline, "send prompt micro-batches round the ring one at a time");
  g->add_option("--plan", o.plan,
                "without --layer-window: auto (profile every device, one at a time, and let Halda choose windows, k "
                "and the devices that take part), even (an even split over every device) or memory (windows "
                "proportional to each device's memory, k = 1, as llama.cpp RPC and exo split)")
      ->check(CLI::IsMember({"auto", "even", "memory"}));
  g->add_flag("--recover", o.recover,
              "when a worker is lost, re-plan on the others, rebuild the caches and carry on (default: stop, naming it)");
  g->add_flag("--reprofile", o.reprofile, "measure the devices again instead of using their cached profiles");
  g->add_option("--profile-seconds", o.profile_seconds, "time bound of one device's measurements")
      ->check(CLI::Range(0.5, 120.0));
  g->add_option("--save-profiles", o.save_profiles, "write the devices' profiles to this cluster file (for prima plan)");
}

namespace {
runtime::MemoryOptions memory_options(const EngineCli& o) {
  runtime::MemoryOptions m;
  m.prefetch = o.prefetch;
  if (o.mem_gib > 0) m.budget_bytes = static_cast<uint64_t>(o.mem_gib * 1073741824.0);
  m.release = o.release == "off" ? runtime::ReleaseMode::off
              : o.release == "always" ? runtime::ReleaseMode::always
                                      : runtime::ReleaseMode::automatic;
  m.huge_pages = o.huge_pages != "off";
  return m;
}
}  // namespace

std::unique_ptr<runtime::Engine> make_engine(const EngineCli& o, const model::Model& model) {
  if (!o.workers.empty()) {
    runtime::RingOptions ro;
    for (size_t p = 0; p <= o.workers.size();) {
      const size_t q = std::min(o.workers.find(',', p), o.workers.size());
      if (q > p) ro.workers.push_back(o.workers.substr(p, q - p));
      p = q + 1;
    }
    if (!o.layer_window.empty()) ro.windows = runtime::parse_int_list(o.layer_window, "--layer-window");
    if (!o.device_threads.empty()) ro.device_threads = runtime::parse_int_list(o.device_threads, "--device-threads");
    ro.listen = o.listen;
    ro.n_ctx = o.n_ctx;
    ro.n_seq = o.n_seq;
    ro.n_ubatch = o.n_ubatch;
    ro.n_threads = o.threads;
    ro.kv_type = o.kv_type == "f32" ? ggml_type::F32 : ggml_type::F16;
    ro.act_type = o.act_type == "f16" ? cluster::WireType::f16 : cluster::WireType::f32;
    ro.pipeline = !o.no_pipeline;
    ro.cluster_key = o.cluster_key;
    ro.memory = memory_options(o);
    ro.auto_plan = o.plan == "auto" || o.plan == "memory";
    ro.memory_plan = o.plan == "memory";
    ro.reprofile = o.reprofile;
    ro.recover = o.recover;
    ro.profile_seconds = o.profile_seconds;
    ro.save_profiles = o.save_profiles;
    ro.device_prefetch = o.prefetch;
    if (!o.device_mem.empty()) {
      std::string list = o.device_mem;
      for (size_t p = 0; p <= list.size();) {
        const size_t q = std::min(list.find(',', p), list.size());
        const std::string item = list.substr(p, q - p);
        char* end = nullptr;
        const double gib = std::strtod(item.c_str(), &end);
        if (item.empty() || end != item.c_str() + item.size() || !(gib >= 0) || gib > 1e6)
          fail("--device-mem: '{}' is not a size in GiB", item);
        ro.device_mem.push_back(static_cast<uint64_t>(gib * 1073741824.0));
        p = q + 1;
      }
    }
    return std::make_unique<runtime::RingEngine>(model, ro);
  }
  if (!o.device_mem.empty() || !o.device_threads.empty()) fail("--device-mem and --device-threads need --workers");
  runtime::LocalOptions lo;
  if (!o.layer_window.empty()) {
    const auto w = runtime::parse_int_list(o.layer_window, "--layer-window");
    if (w.size() != 1) fail("--layer-window lists {} windows but there is one device (add --workers)", w.size());
    lo.window = w[0];
  }
  lo.memory = memory_options(o);
  lo.n_ctx = o.n_ctx;
  lo.n_threads = o.threads;
  lo.n_ubatch = o.n_ubatch;
  lo.n_seq = o.n_seq;
  lo.kv_type = o.kv_type == "f32" ? ggml_type::F32 : ggml_type::F16;
  return std::make_unique<runtime::LocalEngine>(model, lo);
}

void add_sampling_options(CLI::App& sub, SamplingCli& o) {
  auto& p = o.params;
  sub.add_option("--temp", p.temperature, "temperature (0 = greedy)");
  sub.add_option("--top-k", p.top_k, "top-k (0 = off)");
  sub.add_option("--top-p", p.top_p, "top-p (1 = off)");
  sub.add_option("--min-p", p.min_p, "min-p (0 = off)");
  sub.add_option("--repeat-penalty", p.repeat_penalty, "repetition penalty (1 = off)");
  sub.add_option("--repeat-last-n", p.repeat_last_n, "tokens the penalties look back at (0 = off, -1 = all)");
  sub.add_option("--presence-penalty", p.presence_penalty, "presence penalty (0 = off)");
  sub.add_option("--frequency-penalty", p.frequency_penalty, "frequency penalty (0 = off)");
  sub.add_option("-s,--seed", o.seed, "random seed (-1 = random)");
}

sampling::SamplingParams sampling_params(const SamplingCli& o, int32_t n_vocab) {
  auto p = o.params;
  if (o.seed < -1) fail("--seed {} is invalid (-1 = random, or a non-negative number)", o.seed);
  if (o.seed >= 0) p.seed = static_cast<uint64_t>(o.seed);
  if (Status st = p.validate(n_vocab); !st) fail("{}", st.message());
  return p;
}

}  // namespace prima::app
