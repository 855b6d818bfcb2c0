// A chat on one sequence of an Engine that keeps its KV cache from turn to turn (`prima chat`).
//
// Each turn re-renders the whole conversation through the chat template and tokenizes it. The tokens already in
// the sequence's KV cache are compared with the new ones: the common prefix is kept, the cache is truncated
// where they differ (the previous answer re-tokenized differently, a reset, a dropped turn), and only the rest
// is evaluated. Usually that is just the new user turn: the reply's tokens went into the cache as they were
// generated.
//
// When the conversation outgrows the context, the oldest user/assistant exchange is dropped (the system prompt
// stays) until it fits; a single message that does not fit is an error and leaves the conversation unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "runtime/engine.h"
#include "sampling/sampler.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace prima::server {

struct TurnStats {
  int32_t n_prompt = 0;   // tokens of the rendered conversation
  int32_t n_reused = 0;   // of which were already in the KV cache
  int32_t n_dropped = 0;  // exchanges dropped to make room
  int32_t n_gen = 0;
  double prompt_ms = 0, gen_ms = 0;
  std::string stop_reason;  // "eog", "length", "context", "stopped"
};

class Conversation {
 public:
  // engine, tok and tmpl must outlive the conversation; seq: the engine's sequence slot to use.
  Conversation(runtime::Engine& engine, const tokenizer::Tokenizer& tok, const tokenizer::ChatTemplate& tmpl,
               int32_t seq = 0);

  void set_system(std::string system);
  // One turn: the user's message in, the assistant's answer out (streamed through on_text; returning false
  // stops the answer there). n_predict: -1 = until end of generation or a full context. The sampler is reset
  // and sees the whole conversation (penalties). On error the conversation is as before the turn.
  Status turn(std::string_view user, sampling::Sampler& sampler, int32_t n_predict,
              const std::function<bool(std::string_view)>& on_text, TurnStats& stats);
  // Forgets the exchanges (the system prompt stays). The KV cache is kept: the next turn reuses whatever prefix
  // still matches (the system prompt).
  void reset();

  const std::vector<tokenizer::ChatMessage>& messages() const { return messages_; }
  int32_t n_cached() const { return static_cast<int32_t>(cache_.size()); }

 private:
  runtime::Engine& engine_;
  const tokenizer::Tokenizer& tok_;
  const tokenizer::ChatTemplate& tmpl_;
  int32_t seq_;
  std::string system_;
  std::vector<tokenizer::ChatMessage> messages_;  // system (if any) first, then user/assistant turns
  std::vector<int32_t> cache_;                    // tokens whose K/V the engine holds for seq_
};

}  // namespace prima::server
