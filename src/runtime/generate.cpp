#include "runtime/generate.h"

#include "core/clock.h"

namespace prima::runtime {

Status generate(Engine& engine, sampling::Sampler& sampler, std::span<const int32_t> prompt,
                const GenerateOptions& opt, const std::function<bool(int32_t)>& on_token, GenerateStats& stats) {
  const int32_t n_ctx = engine.n_ctx();
  int32_t n_past = engine.seq_len(opt.seq);
  if (prompt.empty()) return Status::error(Status::Code::invalid, "the prompt is empty");
  if (n_past + static_cast<int32_t>(prompt.size()) > n_ctx)
    return Status::error(Status::Code::invalid,
                         "the prompt ({} tokens{}) does not fit in the context of {} tokens (use -c to enlarge)",
                         prompt.size(), n_past > 0 ? fmt::format(" after {} already in the context", n_past) : "",
                         n_ctx);

  // Prompt: one batch (the engine splits it into micro-batches); logits of the last token only.
  TokenBatch batch;
  for (size_t i = 0; i < prompt.size(); ++i)
    batch.add(prompt[i], n_past + static_cast<int32_t>(i), opt.seq, i + 1 == prompt.size());
  std::vector<float> logits;
  Stopwatch sw;
  if (Status st = engine.decode(batch, logits); !st) return st;
  stats.n_prompt += static_cast<int32_t>(prompt.size());
  stats.prompt_ms += sw.elapsed_ms();
  n_past += static_cast<int32_t>(prompt.size());
  sampler.accept(prompt);

  Stopwatch gen;
  for (int32_t i = 0; opt.n_predict < 0 || i < opt.n_predict; ++i) {
    auto s = sampler.sample(logits);
    if (!s) return s.status();
    const int32_t token = s->token;
    sampler.accept(token);
    if (stats.n_gen == 0) gen.reset();
    if (opt.is_eog && opt.is_eog(token)) {
      stats.stop_reason = "eog";
      return Status::ok();
    }
    ++stats.n_gen;
    stats.gen_ms = gen.elapsed_ms();
    if (!on_token(token)) {
      stats.stop_reason = "stopped";
      return Status::ok();
    }
    if (opt.n_predict >= 0 && i + 1 >= opt.n_predict) break;
    if (n_past >= n_ctx) {
      stats.stop_reason = "context";
      return Status::ok();
    }
    batch.clear();
    batch.add(token, n_past, opt.seq, true);
    if (Status st = engine.decode(batch, logits); !st) return st;
    ++n_past;
    stats.gen_ms = gen.elapsed_ms();
  }
  stats.stop_reason = "length";
  return Status::ok();
}

}  // namespace prima::runtime
