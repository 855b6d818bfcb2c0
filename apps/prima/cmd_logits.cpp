// prima logits -m MODEL --tokens "1 403 407" --mode batch|seq -o FILE
// Evaluates the token ids (all in one batch, or one at a time) and writes the logits of every position as
// float32 little-endian [n_tokens][n_vocab] — the layout of the llama.cpp reference files.
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <memory>

#include "command.h"
#include "model/model.h"
#include "runtime/local_engine.h"

namespace prima::app {
namespace {

struct LogitsOptions {
  std::string model, tokens, mode = "batch", out;
  int threads = 0;
  int n_ctx = 0;
};

std::vector<int32_t> parse_tokens(const std::string& s) {
  std::vector<int32_t> ids;
  const char* p = s.data();
  const char* end = s.data() + s.size();
  while (p < end) {
    if (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') {
      ++p;
      continue;
    }
    int32_t v = 0;
    auto [q, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || (q < end && *q != ' ' && *q != ',' && *q != '\t' && *q != '\n'))
      fail("--tokens: '{}' is not a token id", std::string(p, static_cast<size_t>(std::find_if(p, end, [](char c) { return c == ' ' || c == ','; }) - p)));
    ids.push_back(v);
    p = q;
  }
  if (ids.empty()) fail("--tokens: no token ids given");
  return ids;
}

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<LogitsOptions>();
  sub.add_option("-m,--model", o->model, "GGUF model file")->required();
  sub.add_option("--tokens", o->tokens, "token ids, space- or comma-separated")->required();
  sub.add_option("--mode", o->mode, "batch (one prefill pass) or seq (one token at a time)")
      ->check(CLI::IsMember({"batch", "seq"}));
  sub.add_option("-o,--output", o->out, "output file (float32 [n_tokens][n_vocab])")->required();
  sub.add_option("-t,--threads", o->threads, "threads (0 = all cores)");
  sub.add_option("-c,--ctx-size", o->n_ctx, "context size (0 = the model's, capped at 4096)");
  return [o]() {
    const auto ids = parse_tokens(o->tokens);
    auto model = model::Model::open(o->model);
    runtime::LocalOptions lo;
    lo.n_threads = o->threads;
    lo.n_ctx = o->n_ctx != 0 ? o->n_ctx : std::max<int32_t>(static_cast<int32_t>(ids.size()), std::min(model->hparams().n_ctx_train, 4096));
    runtime::LocalEngine engine(*model, lo);
    const size_t n_vocab = static_cast<size_t>(model->hparams().n_vocab);
    std::vector<float> all(ids.size() * n_vocab), logits;
    runtime::TokenBatch batch;
    if (o->mode == "batch") {
      for (size_t i = 0; i < ids.size(); ++i) batch.add(ids[i], static_cast<int32_t>(i), 0, true);
      if (Status st = engine.decode(batch, logits); !st) fail("{}", st.message());
      all = logits;
    } else {
      for (size_t i = 0; i < ids.size(); ++i) {
        batch.clear();
        batch.add(ids[i], static_cast<int32_t>(i), 0, true);
        if (Status st = engine.decode(batch, logits); !st) fail("{}", st.message());
        std::copy(logits.begin(), logits.end(), all.begin() + static_cast<long>(i * n_vocab));
      }
    }
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(o->out.c_str(), "wb"), &std::fclose);
    if (!f) fail("{}: cannot create", o->out);
    if (std::fwrite(all.data(), sizeof(float), all.size(), f.get()) != all.size()) fail("{}: write failed", o->out);
    std::fprintf(stderr, "prima: wrote logits of %zu tokens x %zu vocab to %s\n", ids.size(), n_vocab, o->out.c_str());
    return 0;
  };
}

}  // namespace
PRIMA_COMMAND(logits, "logits", "Evaluate token ids and write the logits of every position (float32)", 60, setup);
}  // namespace prima::app
