// prima run -m MODEL -p PROMPT [-n N] [sampling options]: continue a prompt (or, with --chat, answer it as one
// user message through the model's chat template), streaming text to stdout. Ends with one stderr line of
// what it measured.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>

#include "command.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "options.h"
#include "runtime/generate.h"
#include "sampling/sampler.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace prima::app {
namespace {

struct RunCli {
  EngineCli engine;
  SamplingCli sampling;
  std::string prompt, prompt_file, system, chat_template;
  int32_t n_predict = -1;
  bool chat = false;
  bool no_display_prompt = false;
  bool ignore_eos = false;
};

std::string read_prompt_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot read the prompt file", path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<RunCli>();
  add_engine_options(sub, o->engine);
  add_sampling_options(sub, o->sampling);
  sub.add_option("-p,--prompt", o->prompt, "prompt text");
  sub.add_option("-f,--file", o->prompt_file, "read the prompt from a file (exact bytes)");
  sub.add_option("-n,--n-predict", o->n_predict, "tokens to generate (-1 = until end of text or full context)")
      ->check(CLI::Range(-1, 1 << 24));
  sub.add_flag("--chat", o->chat, "send the prompt as one user message through the model's chat template");
  sub.add_option("--system-prompt", o->system, "system message (with --chat)");
  sub.add_option("--chat-template", o->chat_template, "chat template family instead of the model's");
  sub.add_flag("--no-display-prompt", o->no_display_prompt, "print only the generated text");
  sub.add_flag("--ignore-eos", o->ignore_eos, "keep generating past end-of-text tokens");
  return [o]() {
    if (!o->prompt_file.empty()) {
      if (!o->prompt.empty()) fail("give the prompt with -p or -f, not both");
      o->prompt = read_prompt_file(o->prompt_file);
    }
    if (o->prompt.empty()) fail("no prompt: give one with -p TEXT or -f FILE");

    if (o->engine.verbose) log::set_level(log::Level::debug);
    Stopwatch load;
    auto model = model::Model::open(o->engine.model);
    auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    const auto params = sampling_params(o->sampling, model->hparams().n_vocab);
    auto engine = make_engine(o->engine, *model);
    const double load_s = load.elapsed_s();

    std::vector<tokenizer::token_id> prompt;
    if (o->chat) {
      const auto tmpl = tokenizer::ChatTemplate::from_gguf(model->file(), o->chat_template);
      std::vector<tokenizer::ChatMessage> msgs;
      if (!o->system.empty()) msgs.push_back({"system", o->system});
      msgs.push_back({"user", o->prompt});
      prompt = tokenizer::encode_chat(*tok, tmpl, msgs, true);
    } else {
      prompt = tok->encode(o->prompt, true, false);
    }

    if (!o->no_display_prompt && !o->chat) {
      std::fwrite(o->prompt.data(), 1, o->prompt.size(), stdout);
      std::fflush(stdout);
    }
    sampling::Sampler sampler(params, model->hparams().n_vocab);
    tokenizer::StreamDecoder dec(*tok);
    runtime::GenerateOptions gen;
    gen.n_predict = o->n_predict;
    if (!o->ignore_eos) gen.is_eog = [&](int32_t t) { return tok->is_eog(t); };
    runtime::GenerateStats stats;
    const Status st = runtime::generate(*engine, sampler, prompt, gen,
                                        [&](int32_t t) {
                                          const std::string s = dec.push(t);
                                          std::fwrite(s.data(), 1, s.size(), stdout);
                                          std::fflush(stdout);
                                          return true;
                                        },
                                        stats);
    const std::string rest = dec.flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (const std::string s = engine->summary(); !s.empty()) std::fprintf(stderr, "%s", s.c_str());
    if (!st) fail("{}", st.message());
    std::fprintf(stderr,
                 "prima: load %.2f s | prompt %d tokens, %.1f tok/s | generated %d tokens, %.2f tok/s, %.2f ms/token | "
                 "memory pressure %.1f %% | stop: %s | %s\n",
                 load_s, stats.n_prompt, stats.prompt_tps(), stats.n_gen, stats.gen_tps(), stats.ms_per_token(),
                 engine->memory_pressure_percent(), stats.stop_reason.c_str(), engine->describe().c_str());
    return 0;
  };
}

}  // namespace
PRIMA_COMMAND(run, "run", "Continue a prompt (or answer it with --chat), streaming the text", 10, setup);
}  // namespace prima::app
