// prima serve -m MODEL [--host 127.0.0.1] [--port 8080] [-np N] [--api-key KEY] [engine and sampling options]:
// the OpenAI-compatible HTTP server with its web page (docs/server.md). Listens at once (GET /health answers
// 503 while the model loads, 200 when ready), serves until SIGINT / SIGTERM, then prints one line of what it
// served.
#include <fmt/format.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "command.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "options.h"
#include "server/http_server.h"
#include "server/scheduler.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace prima::app {
namespace {

struct ServeCli {
  EngineCli engine;
  SamplingCli sampling;
  server::ServerOptions http;
  std::string chat_template, alias;
  int32_t n_slots = 1;
  int32_t max_queue = 64;
  int32_t n_predict = -1;
  int32_t max_body_mib = 8;
};

std::string model_id(const ServeCli& o) {
  if (!o.alias.empty()) return o.alias;
  std::string name = std::filesystem::path(o.engine.model).filename().string();
  if (name.size() > 5 && name.ends_with(".gguf")) name.resize(name.size() - 5);
  return name;
}

// "-np N" / "-npN" from the arguments CLI11 did not recognise; anything else there is an error.
void parse_np(const std::vector<std::string>& extras, int32_t& n_slots) {
  for (size_t i = 0; i < extras.size(); ++i) {
    std::string value;
    if (extras[i] == "-np" && i + 1 < extras.size()) value = extras[++i];
    else if (extras[i].starts_with("-np") && extras[i].size() > 3) value = extras[i].substr(3);
    else fail("unexpected argument '{}' (see prima serve --help)", extras[i]);
    int32_t n = 0;
    const auto r = std::from_chars(value.data(), value.data() + value.size(), n);
    if (r.ec != std::errc() || r.ptr != value.data() + value.size() || n < 1 || n > 256)
      fail("-np {}: the number of parallel sequences must be in 1..256", value);
    n_slots = n;
  }
}

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<ServeCli>();
  o->http.http_threads = 0;  // sized below from the slots and the queue
  add_engine_options(sub, o->engine);
  add_sampling_options(sub, o->sampling);
  sub.add_option("--host", o->http.host, "address to listen on (0.0.0.0: every interface)")->capture_default_str();
  sub.add_option("--port", o->http.port, "port to listen on (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  sub.add_option("--parallel", o->n_slots,
                 "sequences served at once, each with its own KV cache of -c tokens (also -np N, as llama.cpp spells it)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sub.add_option("--queue", o->max_queue, "requests that may wait for a free sequence before new ones get 503")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  sub.add_option("--api-key", o->http.api_key,
                 "require 'Authorization: Bearer KEY' (default: $PRIMA_API_KEY, else no authentication)");
  sub.add_option("--timeout", o->http.timeout_s, "seconds a client may take to send a request or read the answer")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  sub.add_option("--max-body", o->max_body_mib, "largest request body in MiB")->check(CLI::Range(1, 1024))->capture_default_str();
  sub.add_option("--http-threads", o->http.http_threads, "HTTP connection threads (0: slots + queue + 16)")
      ->check(CLI::Range(0, 4096));
  sub.add_option("--n-predict", o->n_predict, "default max_tokens of a request (-1: until end of text or full context)")
      ->check(CLI::Range(-1, 1 << 24));
  sub.add_option("--chat-template", o->chat_template, "chat template family instead of the model's");
  sub.add_option("--alias", o->alias, "model id the API reports (default: the file name)");
  // CLI11 only knows one-letter short options: "-np N" arrives among the extras and is read here.
  sub.allow_extras();
  return [o, &sub]() {
    parse_np(sub.remaining(), o->n_slots);
    if (o->engine.verbose) log::set_level(log::Level::debug);
    if (o->http.api_key.empty())
      if (const char* k = std::getenv("PRIMA_API_KEY")) o->http.api_key = k;
    o->http.max_body_bytes = static_cast<size_t>(o->max_body_mib) << 20;
    if (o->http.http_threads == 0) o->http.http_threads = o->n_slots + o->max_queue + 16;
    o->engine.n_seq = o->n_slots;

    // SIGINT / SIGTERM go to one thread that waits for them (blocked everywhere else: threads inherit the mask).
    // While loading (a ring may wait long for its workers) there is nothing to wind down: exit at once.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    auto loaded = std::make_shared<std::atomic<bool>>(false);
    auto signalled = std::make_shared<std::promise<int>>();
    std::future<int> stop_signal = signalled->get_future();
    std::thread([stop_signals, loaded, signalled] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      if (!loaded->load()) {
        std::fprintf(stderr, "prima serve: signal %d while loading: exiting\n", sig);
        std::_Exit(128 + sig);
      }
      signalled->set_value(sig);
    }).detach();

    server::HttpServer http(o->http);
    const int port = http.bind();
    http.start();
    std::printf("prima serve: listening on http://%s:%d\n", o->http.host.c_str(), port);
    std::fflush(stdout);

    Stopwatch load;
    auto model = model::Model::open(o->engine.model);
    auto tok = tokenizer::Tokenizer::from_gguf(model->file());
    const auto& hp = model->hparams();
    auto params = sampling_params(o->sampling, hp.n_vocab);
    std::optional<tokenizer::ChatTemplate> tmpl;
    std::string tmpl_error;
    try {
      tmpl = tokenizer::ChatTemplate::from_gguf(model->file(), o->chat_template);
    } catch (const prima::Error& e) {
      if (!o->chat_template.empty()) throw;  // a wrong --chat-template is the user's to fix now
      tmpl_error = fmt::format("{} (start the server with --chat-template NAME to use /v1/chat/completions)", e.what());
      log::warn("{}; /v1/chat/completions is unavailable", e.what());
    }
    auto engine = make_engine(o->engine, *model);
    server::SchedulerOptions so;
    so.n_batch = o->engine.n_ubatch;
    so.max_queue = o->max_queue;
    server::Scheduler scheduler(*engine, *tok, so);

    server::Backend b;
    b.tok = tok.get();
    b.chat_template = tmpl ? &*tmpl : nullptr;
    b.chat_template_error = tmpl_error;
    b.scheduler = &scheduler;
    b.model_id = model_id(*o);
    b.defaults = params;
    b.n_vocab = hp.n_vocab;
    b.n_ctx = engine->n_ctx();
    b.default_max_tokens = o->n_predict;
    for (const auto& t : model->file().tensors()) b.n_params += t.n_elements();
    b.arch = std::string(hp.arch.name);
    b.created = static_cast<int64_t>(std::time(nullptr));
    http.set_ready(b);
    log::info("ready in {:.2f} s: {} | {} | chat template: {} | sampling: {}", load.elapsed_s(), b.model_id,
              scheduler.stats().engine, tmpl ? std::string(tmpl->name()) : std::string("none"), sampling::describe(params));

    loaded->store(true);
    const int sig = stop_signal.get();
    log::info("signal {}: stopping", sig);
    // The scheduler first: requests still running end at once (with an error), so no handler keeps the HTTP
    // server's threads waiting; then the server stops accepting and joins them.
    scheduler.shutdown();
    http.stop();
    const auto s = scheduler.stats();
    std::fprintf(stderr,
                 "prima serve: %lld requests (%lld cancelled, %lld failed, %lld refused) | prompt %lld tokens (%lld "
                 "reused) | generated %lld tokens in %lld steps, %.2f s of decode | %s\n",
                 static_cast<long long>(s.requests_admitted), static_cast<long long>(s.requests_cancelled),
                 static_cast<long long>(s.requests_failed), static_cast<long long>(s.requests_rejected),
                 static_cast<long long>(s.prompt_tokens), static_cast<long long>(s.prompt_tokens_cached),
                 static_cast<long long>(s.generated_tokens), static_cast<long long>(s.steps), s.step_ms / 1000.0,
                 engine->describe().c_str());
    if (const std::string summary = engine->summary(); !summary.empty()) std::fputs(summary.c_str(), stderr);
    return 0;
  };
}

}  // namespace
PRIMA_COMMAND(serve, "serve", "Serve the OpenAI-compatible HTTP API and a chat page", 12, setup);
}  // namespace prima::app
