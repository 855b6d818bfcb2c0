// The generation loop over any Engine: evaluate the prompt (continuing the sequence where it stands), then
// sample one token at a time until the end-of-generation token, the token budget, the context, or the caller
// says stop.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "runtime/engine.h"
#include "sampling/sampler.h"

namespace prima::runtime {

struct GenerateOptions {
  int32_t n_predict = -1;  // tokens to generate; -1 = until end of generation or a full context
  int32_t seq = 0;
  std::function<bool(int32_t)> is_eog;  // end-of-generation tokens (EOS, EOT, ...)
};

struct GenerateStats {
  int32_t n_prompt = 0;
  double prompt_ms = 0;
  int32_t n_gen = 0;
  double gen_ms = 0;  // from the first sampled token to the last
  std::string stop_reason;  // "eog", "length", "context", "stopped"

  double prompt_tps() const { return prompt_ms > 0 ? n_prompt * 1000.0 / prompt_ms : 0; }
  double gen_tps() const { return gen_ms > 0 && n_gen > 1 ? (n_gen - 1) * 1000.0 / gen_ms : 0; }
  double ms_per_token() const { return n_gen > 1 ? gen_ms / (n_gen - 1) : 0; }
};

// on_token(token) is called for every generated token, the end-of-generation token excepted; returning false
// stops. The sampler sees the prompt tokens (penalties) and every generated token.
Status generate(Engine& engine, sampling::Sampler& sampler, std::span<const int32_t> prompt,
                const GenerateOptions& opt, const std::function<bool(int32_t)>& on_token, GenerateStats& stats);

}  // namespace prima::runtime
