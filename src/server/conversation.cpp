#include "server/conversation.h"

#include "runtime/generate.h"
#include "server/kv_reuse.h"

namespace prima::server {

Conversation::Conversation(runtime::Engine& engine, const tokenizer::Tokenizer& tok,
                           const tokenizer::ChatTemplate& tmpl, int32_t seq)
    : engine_(engine), tok_(tok), tmpl_(tmpl), seq_(seq) {
  PRIMA_CHECK(seq >= 0 && seq < engine.n_seq(), "sequence {} is outside the engine's {} slots", seq, engine.n_seq());
  if (Status st = engine_.kv_clear(seq_); !st) fail("{}", st.message());
}

void Conversation::set_system(std::string system) {
  system_ = std::move(system);
  reset();
}

void Conversation::reset() {
  messages_.clear();
  if (!system_.empty()) messages_.push_back({"system", system_});
}

Status Conversation::turn(std::string_view user, sampling::Sampler& sampler, int32_t n_predict,
                          const std::function<bool(std::string_view)>& on_text, TurnStats& stats) {
  stats = {};
  const auto before = messages_;
  messages_.push_back({"user", std::string(user)});
  const size_t first_turn = system_.empty() ? 0 : 1;
  const int32_t n_ctx = engine_.n_ctx();

  // Render; drop the oldest exchanges while the conversation (plus one answer token) does not fit.
  std::vector<int32_t> tokens;
  for (;;) {
    try {
      tokens = tokenizer::encode_chat(tok_, tmpl_, messages_, true);
    } catch (const prima::Error& e) {
      messages_ = before;
      return Status::error(Status::Code::invalid, "{}", e.what());
    }
    if (static_cast<int32_t>(tokens.size()) < n_ctx) break;
    if (messages_.size() - first_turn < 3) {
      const size_t n = tokens.size();
      messages_ = before;
      return Status::error(Status::Code::invalid,
                           "the message needs {} tokens with the conversation's system prompt, but the context holds {} "
                           "(use -c to enlarge it)",
                           n, n_ctx);
    }
    messages_.erase(messages_.begin() + static_cast<long>(first_turn),
                    messages_.begin() + static_cast<long>(first_turn + 2));
    ++stats.n_dropped;
  }

  // Keep the cached prefix the new rendering shares; evaluate the rest.
  const int32_t keep = reusable_prefix(cache_, tokens);
  if (Status st = engine_.kv_truncate(seq_, keep); !st) {
    messages_ = before;
    return st;
  }
  cache_.resize(static_cast<size_t>(keep));
  stats.n_prompt = static_cast<int32_t>(tokens.size());
  stats.n_reused = keep;

  sampler.reset();
  sampler.accept(std::span<const int32_t>(tokens).first(static_cast<size_t>(keep)));
  tokenizer::StreamDecoder dec(tok_);
  std::string reply;
  std::vector<int32_t> generated;
  runtime::GenerateOptions opt;
  opt.n_predict = n_predict;
  opt.seq = seq_;
  opt.is_eog = [&](int32_t t) { return tok_.is_eog(t); };
  runtime::GenerateStats gs;
  const Status st = runtime::generate(
      engine_, sampler, std::span<const int32_t>(tokens).subspan(static_cast<size_t>(keep)), opt,
      [&](int32_t t) {
        generated.push_back(t);
        const std::string s = dec.push(t);
        reply += s;
        return s.empty() || on_text(s);
      },
      gs);
  const std::string rest = dec.flush();
  if (!rest.empty()) {
    reply += rest;
    on_text(rest);
  }

  // The cache now holds the prompt and every generated token the engine evaluated (all but the last, usually).
  std::vector<int32_t> all = std::move(tokens);
  all.insert(all.end(), generated.begin(), generated.end());
  const int32_t n_kv = engine_.seq_len(seq_);
  cache_.assign(all.begin(), all.begin() + std::min<long>(n_kv, static_cast<long>(all.size())));
  if (static_cast<size_t>(n_kv) > all.size()) {  // never expected: resynchronise by forgetting the cache
    (void)engine_.kv_clear(seq_);
    cache_.clear();
  }
  if (!st) {
    messages_ = before;
    return st;
  }
  messages_.push_back({"assistant", reply});
  stats.n_gen = gs.n_gen;
  stats.prompt_ms = gs.prompt_ms;
  stats.gen_ms = gs.gen_ms;
  stats.stop_reason = gs.stop_reason;
  return Status::ok();
}

}  // namespace prima::server
