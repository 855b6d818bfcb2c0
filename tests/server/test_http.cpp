// `prima serve` driven over HTTP: the endpoints, non-streaming and streaming (raw SSE through curl) completions,
// stop sequences, concurrent requests, API keys, cancellation on disconnect, the queue bound, loading.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "run_cli.h"
#include "engine_fixture.h"
#include "processes.h"
#include "http_util.h"
#include "raw_http.h"
#include "server/http_server.h"
#include "server_process.h"

using namespace prima;
using namespace prima::test;

namespace {

// A greedy server (--temp 0) with a chat template, n_slots sequences of n_ctx tokens.
std::vector<std::string> args(std::vector<std::string> more = {}, int n_ctx = 256, int n_slots = 4) {
  std::vector<std::string> a = {"-m", kStoriesModel, "-c", std::to_string(n_ctx), "-np", std::to_string(n_slots),
                                "--chat-template", "chatml", "-t", "2", "--temp", "0"};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

json chat_body(const std::string& user, int max_tokens) {
  return {{"model", "x"}, {"messages", {{{"role", "user"}, {"content", user}}}}, {"max_tokens", max_tokens}};
}

// A request that runs until the context is full: the end-of-text token is banned.
json endless(const std::string& prompt) {
  return {{"prompt", prompt}, {"logit_bias", {{std::to_string(TinyModel::get().tok->eos()), -100}}}};
}

int64_t metric(httplib::Client& c, const std::string& name) {
  const auto r = get(c, "/metrics");
  const size_t p = r.text.find("\n" + name + " ");
  if (p == std::string::npos) return -1;
  return std::stoll(r.text.substr(p + name.size() + 2));
}

}  // namespace

TEST(Http, Endpoints) {
  ServerProcess s(args());
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  auto c = s.client();

  const auto health = get(c, "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body["status"], "ok");
  EXPECT_EQ(health.body["slots_idle"], 4);

  const auto models = get(c, "/v1/models");
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(models.body["object"], "list");
  EXPECT_EQ(models.body["data"][0]["id"], "stories260K-F32");
  EXPECT_EQ(models.body["data"][0]["meta"]["n_ctx"], 256);

  const auto page = get(c, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.text.find("<title>prima</title>"), std::string::npos);

  const auto tok = post(c, "/tokenize", {{"content", "Once upon a time"}, {"add_special", true}});
  ASSERT_EQ(tok.status, 200) << tok.text;
  const auto ids = tok.body["tokens"].get<std::vector<int32_t>>();
  EXPECT_EQ(ids, TinyModel::get().tok->encode("Once upon a time", true, false));
  const auto pieces = post(c, "/tokenize", {{"content", "Once"}, {"with_pieces", true}});
  EXPECT_EQ(pieces.body["tokens"][0]["piece"], TinyModel::get().tok->piece(pieces.body["tokens"][0]["id"].get<int32_t>()));
  const auto detok = post(c, "/detokenize", {{"tokens", ids}});
  EXPECT_EQ(detok.body["content"], TinyModel::get().tok->decode(ids));

  const auto done = post(c, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 8}});
  ASSERT_EQ(done.status, 200) << done.text;
  EXPECT_EQ(done.body["object"], "text_completion");
  EXPECT_EQ(done.body["usage"]["completion_tokens"], 8);
  EXPECT_EQ(done.body["usage"]["prompt_tokens"], ids.size());
  EXPECT_EQ(done.body["choices"][0]["finish_reason"], "length");

  const auto cluster = get(c, "/cluster");
  ASSERT_EQ(cluster.status, 200);
  ASSERT_EQ(cluster.body["devices"].size(), 1u);
  EXPECT_EQ(cluster.body["devices"][0]["name"], "head");
  EXPECT_GT(cluster.body["devices"][0]["memory_total"].get<uint64_t>(), 0u);
  EXPECT_EQ(cluster.body["devices"][0]["windows"][0][1], 5);
  EXPECT_EQ(cluster.body["slots"].size(), 4u);

  // Requests are counted once answered (after the client has its response): give the count a moment.
  auto m = get(c, "/metrics");
  for (int i = 0; i < 100 && m.text.find("/v1/completions\",status=\"200\"} 1") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    m = get(c, "/metrics");
  }
  EXPECT_EQ(m.status, 200);
  for (const char* line : {"prima_generated_tokens_total 8", "prima_requests_finished_total 1", "prima_slots 4",
                           "prima_device_memory_total_bytes{device=\"head\"}", "prima_device_last_compute_ms{device=\"head\"}",
                           "prima_tokens_per_second ", "prima_requests_queued 0",
                           "prima_http_requests_total{path=\"/v1/completions\",status=\"200\"} 1"})
    EXPECT_NE(m.text.find(line), std::string::npos) << line << "\n" << m.text;
}

TEST(Http, CompletionMatchesPrimaRun) {
  const std::string prompt = "Once upon a time";
  const auto run = run_prima({"run", "-m", kStoriesModel, "-p", prompt, "-n", "40", "--temp", "0", "--no-display-prompt",
                              "--ignore-eos", "-t", "2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ServerProcess s(args());
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  auto c = s.client();
  const auto r = post(c, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 40}, {"temperature", 0}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["choices"][0]["text"].get<std::string>() + "\n", run.out);
}

TEST(Http, ChatStreamingOverCurlMatchesNonStreaming) {
  ServerProcess s(args());
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  auto c = s.client();
  const json body = chat_body("Tell me a story about a cat.", 48);
  const auto whole = post(c, "/v1/chat/completions", body);
  ASSERT_EQ(whole.status, 200) << whole.text;
  EXPECT_EQ(whole.body["object"], "chat.completion");
  EXPECT_EQ(whole.body["choices"][0]["message"]["role"], "assistant");
  const std::string text = whole.body["choices"][0]["message"]["content"];
  EXPECT_FALSE(text.empty());

  json sb = body;
  sb["stream"] = true;
  sb["stream_options"] = {{"include_usage", true}};
  const Sse sse = parse_sse(curl(s.port(), "/v1/chat/completions", sb));
  EXPECT_TRUE(sse.well_formed);
  EXPECT_TRUE(sse.done);
  ASSERT_GE(sse.events.size(), 4u);
  EXPECT_EQ(sse.events[0]["object"], "chat.completion.chunk");
  EXPECT_EQ(sse.events[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(sse_text(sse), text);
  for (const auto& e : sse.events) EXPECT_EQ(e["id"], sse.events[0]["id"]);
  const json& last = sse.events.back();  // the usage chunk
  EXPECT_TRUE(last["choices"].empty());
  EXPECT_EQ(last["usage"]["completion_tokens"], whole.body["usage"]["completion_tokens"]);
  const json& fin = sse.events[sse.events.size() - 2];
  EXPECT_EQ(fin["choices"][0]["finish_reason"], whole.body["choices"][0]["finish_reason"]);

  // Without include_usage there is no usage chunk; completions stream as text_completion chunks.
  const Sse plain = parse_sse(curl(s.port(), "/v1/completions", {{"prompt", "The cat"}, {"max_tokens", 12}, {"stream", true}}));
  EXPECT_TRUE(plain.done);
  for (const auto& e : plain.events) {
    EXPECT_EQ(e["object"], "text_completion");
    EXPECT_FALSE(e.contains("usage"));
  }
  const auto plain_whole = post(c, "/v1/completions", {{"prompt", "The cat"}, {"max_tokens", 12}});
  EXPECT_EQ(sse_text(plain), plain_whole.body["choices"][0]["text"]);
}

TEST(Http, StopSequencesNeverLeakIntoTheStream) {
  ServerProcess s(args());
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  auto c = s.client();
  const auto full = post(c, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 60}});
  const std::string text = full.body["choices"][0]["text"];
  ASSERT_GT(text.size(), 40u);
  const std::string stop = text.substr(25, 5);
  const std::string expect = text.substr(0, text.find(stop));
  const Sse sse = parse_sse(curl(s.port(), "/v1/completions",
                                 {{"prompt", "Once upon a time"}, {"max_tokens", 60}, {"stop", {stop, "zzz"}}, {"stream", true}}));
  EXPECT_TRUE(sse.done);
  EXPECT_EQ(sse_text(sse), expect);
  EXPECT_EQ(sse.events.back()["choices"][0]["finish_reason"], "stop");
  const auto whole = post(c, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 60}, {"stop", stop}});
  EXPECT_EQ(whole.body["choices"][0]["text"], expect);
}

TEST(Http, ConcurrentRequestsEachGetTheirOwnCompletion) {
  ServerProcess s(args());
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  const std::vector<std::string> prompts = {"Once upon a time", "Tom and Lily went to the park", "The cat sat",
                                            "One day, a little bird", "Sue had a red ball. She", "Max was sad because"};
  const auto ask = [&](size_t i, bool stream) {
    auto c = s.client();
    const json body = {{"prompt", prompts[i]}, {"max_tokens", 40 + static_cast<int>(i) * 7}, {"stream", stream}};
    if (stream) return sse_text(parse_sse(curl(s.port(), "/v1/completions", body)));
    const auto r = post(c, "/v1/completions", body);
    EXPECT_EQ(r.status, 200) << r.text;
    return r.body["choices"][0]["text"].get<std::string>();
  };
  std::vector<std::string> alone;
  for (size_t i = 0; i < prompts.size(); ++i) alone.push_back(ask(i, false));
  // All at once (6 requests on 4 slots: two wait in the queue), half of them streaming.
  std::vector<std::future<std::string>> together;
  for (size_t i = 0; i < prompts.size(); ++i) together.push_back(std::async(std::launch::async, ask, i, i % 2 == 1));
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(together[i].get(), alone[i]) << prompts[i];
  auto c = s.client();
  EXPECT_EQ(metric(c, "prima_requests_finished_total"), 12);
  EXPECT_EQ(metric(c, "prima_requests_failed_total"), 0);
}

// The scheduler only talks to runtime::Engine: over a ring of two workers and the head, concurrent requests are
// batched round the ring and get what one device gives.
TEST(Http, ServesFromARingWithTheSameAnswers) {
  std::vector<std::unique_ptr<BackgroundProcess>> workers;
  std::string list;
  for (int i = 0; i < 2; ++i) {
    const std::string name = "srv-w" + std::to_string(i + 1);
    workers.push_back(std::make_unique<BackgroundProcess>(BackgroundProcess::start(
        {PRIMA_BINARY, "worker", "-m", kStoriesModel, "--listen", "127.0.0.1:0", "--name", name, "-t", "1"},
        ::testing::TempDir() + "/" + name + "_" + std::to_string(::getpid()) + ".log")));
    const auto port = workers.back()->wait_for("listening on 127\\.0\\.0\\.1:([0-9]+)", std::chrono::seconds(20));
    ASSERT_TRUE(port) << workers.back()->log();
    list += (list.empty() ? "" : ",") + ("127.0.0.1:" + *port);
  }
  const std::vector<std::string> prompts = {"Once upon a time", "Tom and Lily went to the park", "The cat sat",
                                            "One day, a little bird"};
  const auto answers = [&](ServerProcess& s) {
    std::vector<std::future<std::string>> f;
    for (const auto& p : prompts)
      f.push_back(std::async(std::launch::async, [&s, p] {
        auto c = s.client();
        const auto r = post(c, "/v1/completions", {{"prompt", p}, {"max_tokens", 32}});
        EXPECT_EQ(r.status, 200) << r.text;
        return r.status == 200 ? r.body["choices"][0]["text"].get<std::string>() : std::string();
      }));
    std::vector<std::string> out;
    for (auto& x : f) out.push_back(x.get());
    return out;
  };
  std::vector<std::string> one_device;
  {
    ServerProcess local(args());
    ASSERT_TRUE(local.started() && local.wait_ready()) << local.log();
    one_device = answers(local);
  }
  ServerProcess ring(args({"--workers", list, "--listen", "127.0.0.1:0", "--plan", "even"}));
  ASSERT_TRUE(ring.started() && ring.wait_ready()) << ring.log();
  EXPECT_EQ(answers(ring), one_device);
  auto c = ring.client();
  const auto cluster = get(c, "/cluster");
  ASSERT_EQ(cluster.body["devices"].size(), 3u) << cluster.text;
  EXPECT_EQ(cluster.body["devices"][2]["name"], "head");
  EXPECT_GT(metric(c, "prima_engine_batch_tokens_total"), metric(c, "prima_engine_steps_total"));  // batched
  EXPECT_EQ(ring.stop(), 0) << ring.log();
}

TEST(Http, ApiKey) {
  ServerProcess s(args({"--api-key", "sesame"}));
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  auto c = s.client();
  const json body = {{"prompt", "Once"}, {"max_tokens", 2}};
  for (const httplib::Headers& h : {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer wrong"}},
                                    httplib::Headers{{"Authorization", "sesame"}}, httplib::Headers{{"Authorization", "Bearer sesame2"}}}) {
    const auto r = post(c, "/v1/completions", body, h);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body["error"]["code"], "invalid_api_key");
    EXPECT_EQ(r.body["error"]["type"], "authentication_error");
  }
  EXPECT_EQ(get(c, "/v1/models").status, 401);
  EXPECT_EQ(get(c, "/metrics").status, 401);
  EXPECT_EQ(get(c, "/cluster").status, 401);
  EXPECT_EQ(post(c, "/tokenize", {{"content", "x"}}).status, 401);
  const httplib::Headers key = {{"Authorization", "Bearer sesame"}};
  EXPECT_EQ(post(c, "/v1/completions", body, key).status, 200);
  EXPECT_EQ(get(c, "/v1/models", key).status, 200);
  EXPECT_EQ(get(c, "/health").status, 200);  // open: load balancers and the page ask it
  EXPECT_EQ(get(c, "/").status, 200);
}

TEST(Http, ClientDisconnectCancelsTheRequest) {
  ServerProcess s(args({}, 4096, 2));
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  auto c = s.client();
  for (const bool stream : {true, false}) {
    json body = endless("Once upon a time");
    body["stream"] = stream;
    {
      RawConn conn(s.port());
      const std::string b = body.dump();
      ASSERT_TRUE(conn.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(b.size()) + "\r\n\r\n" + b));
      // Wait until it is generating, then hang up.
      for (int i = 0; i < 200 && get(c, "/health").body["slots_processing"] != 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      EXPECT_EQ(get(c, "/health").body["slots_processing"], 1);
    }
    // The slot is free long before the 4096-token context could have filled.
    bool freed = false;
    for (int i = 0; i < 100 && !freed; ++i) {
      freed = get(c, "/health").body["slots_processing"] == 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(freed) << (stream ? "streaming" : "non-streaming");
  }
  EXPECT_EQ(metric(c, "prima_requests_cancelled_total"), 2);
  EXPECT_EQ(metric(c, "prima_requests_finished_total"), 0);
  EXPECT_EQ(post(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 3}}).status, 200);
}

TEST(Http, FullQueueIs503) {
  ServerProcess s(args({"--queue", "1"}, 4096, 1));
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  auto c = s.client();
  const auto until = [&](const char* field, int value) {
    for (int i = 0; i < 300 && get(c, "/health").body[field] != value; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return get(c, "/health").body[field] == value;
  };
  RawConn running(s.port()), waiting(s.port());
  for (RawConn* conn : {&running, &waiting}) {
    json body = endless("Once upon a time");
    body["stream"] = true;
    const std::string b = body.dump();
    ASSERT_TRUE(conn->send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(b.size()) +
                           "\r\n\r\n" + b));
    ASSERT_TRUE(until(conn == &running ? "slots_processing" : "requests_queued", 1));  // one slot busy, one waiting
  }
  const auto r = post(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 3}});
  EXPECT_EQ(r.status, 503) << r.text;
  EXPECT_EQ(r.body["error"]["code"], "queue_full");
  EXPECT_EQ(r.body["error"]["type"], "unavailable_error");
  waiting.close();
  EXPECT_TRUE(until("requests_queued", 0));  // it gave up while waiting: it leaves the queue
  running.close();
  EXPECT_TRUE(until("slots_processing", 0));
  EXPECT_EQ(post(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 3}}).status, 200);
  EXPECT_EQ(metric(c, "prima_requests_rejected_total"), 1);
  EXPECT_EQ(metric(c, "prima_requests_admitted_total"), 2);  // the request that left the queue never ran
}

TEST(Http, ChatWithoutATemplateIsAClearError) {
  ServerProcess s({"-m", kStoriesModel, "-c", "256", "-t", "2"});
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  auto c = s.client();
  const auto r = post(c, "/v1/chat/completions", chat_body("hi", 4));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["code"], "no_chat_template");
  EXPECT_NE(r.body["error"]["message"].get<std::string>().find("--chat-template"), std::string::npos);
  EXPECT_EQ(post(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 3}}).status, 200);
}

TEST(Http, StopsCleanlyOnSigtermEvenWithRequestsRunning) {
  ServerProcess s(args({}, 4096, 2));
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  auto c = s.client();
  EXPECT_EQ(post(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 3}}).status, 200);
  // Two requests that would run until their 4096-token contexts are full, one streaming, one not.
  RawConn a(s.port()), b(s.port());
  for (RawConn* conn : {&a, &b}) {
    json body = endless("Once upon a time");
    body["stream"] = conn == &a;
    const std::string t = body.dump();
    ASSERT_TRUE(conn->send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(t.size()) +
                           "\r\n\r\n" + t));
  }
  for (int i = 0; i < 300 && get(c, "/health").body["slots_processing"] != 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s.stop(), 0) << s.log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_NE(s.log().find("prima serve: 3 requests"), std::string::npos) << s.log();
  // Both clients heard that the server stopped: an error event in the stream, a 500 for the other.
  const std::string sa = a.read_all(std::chrono::seconds(2)), sb = b.read_all(std::chrono::seconds(2));
  EXPECT_NE(sa.find("shutting down"), std::string::npos) << sa.substr(sa.size() > 300 ? sa.size() - 300 : 0);
  EXPECT_EQ(status_of(sb), 500) << sb;
}

// In process: /health answers 503 while the model loads and 200 once the backend is handed over.
TEST(Http, HealthIs503WhileLoading) {
  server::ServerOptions o;
  o.port = 0;
  server::HttpServer http(o);
  const int port = http.bind();
  http.start();
  httplib::Client c("127.0.0.1", port);
  auto r = get(c, "/health");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body["status"], "loading");
  r = post(c, "/v1/completions", {{"prompt", "x"}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body["error"]["code"], "loading");
  EXPECT_EQ(get(c, "/").status, 200);

  const auto& m = TinyModel::get();
  auto engine = m.engine(1);
  server::Scheduler sched(*engine, *m.tok);
  server::Backend b;
  b.tok = m.tok.get();
  b.scheduler = &sched;
  b.model_id = "tiny";
  b.n_vocab = m.model->hparams().n_vocab;
  b.n_ctx = engine->n_ctx();
  http.set_ready(b);
  EXPECT_EQ(get(c, "/health").status, 200);
  r = post(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 2}});
  EXPECT_EQ(r.status, 200) << r.text;
  http.stop();
}
