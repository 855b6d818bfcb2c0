#include "options.h"

#include "core/error.h"
#include "core/log.h"
#include "runtime/local_engine.h"

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
}

std::unique_ptr<runtime::Engine> make_engine(const EngineCli& o, const model::Model& model) {
  runtime::LocalOptions lo;
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
