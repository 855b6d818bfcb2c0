// prima chat -m MODEL [--system-prompt S] [--chat-template NAME] [-n N] [sampling options]: an interactive chat.
// Reads one user message per line from stdin (a line ending in '\' continues on the next), streams each answer to
// stdout, and keeps the conversation and its KV cache between turns, so a turn only evaluates what is new
// (server/conversation.h). Commands: /exit (or end of input), /reset (forget the conversation). Works with a
// pipe as well as a terminal; after every turn one stderr line says what it measured.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "command.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "options.h"
#include "sampling/sampler.h"
#include "server/conversation.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace prima::app {
namespace {

struct ChatCli {
  EngineCli engine;
  SamplingCli sampling;
  std::string system, chat_template;
  int32_t n_predict = -1;
};

// One message: a line, or several joined while they end in a backslash. False at end of input.
bool read_message(std::string& msg) {
  msg.clear();
  std::string line;
  bool any = false;
  while (std::getline(std::cin, line)) {
    any = true;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line.back() == '\\') {
      line.pop_back();
      msg += line;
      msg += '\n';
      continue;
    }
    msg += line;
    return true;
  }
  return any && !msg.empty();
}

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<ChatCli>();
  add_engine_options(sub, o->engine);
  add_sampling_options(sub, o->sampling);
  sub.add_option("--system-prompt", o->system, "system message at the start of the conversation");
  sub.add_option("--chat-template", o->chat_template, "chat template family instead of the model's");
  sub.add_option("-n,--n-predict", o->n_predict, "most tokens per answer (-1 = until end of turn or full context)")
      ->check(CLI::Range(-1, 1 << 24));
  return [o]() {
    if (o->engine.verbose) log::set_level(log::Level::debug);
    Stopwatch load;
    auto model = model::Model::open(o->engine.model);
    auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    const auto params = sampling_params(o->sampling, model->hparams().n_vocab);
    const auto tmpl = tokenizer::ChatTemplate::from_gguf(model->file(), o->chat_template);
    auto engine = make_engine(o->engine, *model);
    sampling::Sampler sampler(params, model->hparams().n_vocab);
    server::Conversation conv(*engine, *tok, tmpl);
    if (!o->system.empty()) conv.set_system(o->system);

    const bool tty = ::isatty(STDIN_FILENO) != 0;
    std::fprintf(stderr, "prima chat: %s loaded in %.2f s (%s, template %s). /reset forgets, /exit ends.\n",
                 o->engine.model.c_str(), load.elapsed_s(), engine->describe().c_str(),
                 std::string(tmpl.name()).c_str());
    int turns = 0, failed = 0;
    std::string msg;
    for (;;) {
      if (tty) {
        std::fputs("> ", stderr);
        std::fflush(stderr);
      }
      if (!read_message(msg)) break;
      if (msg == "/exit" || msg == "/quit") break;
      if (msg == "/reset") {
        conv.reset();
        std::fputs("prima: conversation reset\n", stderr);
        continue;
      }
      if (msg.find_first_not_of(" \t\n") == std::string::npos) continue;
      server::TurnStats ts;
      const Status st = conv.turn(msg, sampler, o->n_predict,
                                  [](std::string_view s) {
                                    std::fwrite(s.data(), 1, s.size(), stdout);
                                    std::fflush(stdout);
                                    return true;
                                  },
                                  ts);
      std::fputc('\n', stdout);
      std::fflush(stdout);
      ++turns;
      if (!st) {
        ++failed;
        std::fprintf(stderr, "prima: error: %s\n", st.message().c_str());
        continue;
      }
      const double gen_tps = ts.gen_ms > 0 && ts.n_gen > 1 ? (ts.n_gen - 1) * 1000.0 / ts.gen_ms : 0;
      const int32_t n_eval = ts.n_prompt - ts.n_reused;
      std::fprintf(stderr,
                   "prima: turn %d | prompt %d tokens (%d reused, %d evaluated, %.1f tok/s)%s | answer %d tokens, "
                   "%.2f tok/s | stop: %s\n",
                   turns, ts.n_prompt, ts.n_reused, n_eval, ts.prompt_ms > 0 ? n_eval * 1000.0 / ts.prompt_ms : 0.0,
                   ts.n_dropped > 0 ? fmt::format(" | {} old exchanges dropped", ts.n_dropped).c_str() : "", ts.n_gen,
                   gen_tps, ts.stop_reason.c_str());
    }
    return failed > 0 && failed == turns ? 1 : 0;
  };
}

}  // namespace
PRIMA_COMMAND(chat, "chat", "Chat interactively (stdin), keeping the conversation and its KV cache", 11, setup);
}  // namespace prima::app
