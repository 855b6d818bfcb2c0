#include "server/http_server.h"

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "server/conn_probe.h"
#include "server/request.h"
#include "server/response.h"
#include "server/web_page.h"

namespace prima::server {
namespace {

using json = nlohmann::json;
using httplib::ContentReader;
using httplib::DataSink;
using httplib::Request;
using httplib::Response;

constexpr auto kPoll = std::chrono::milliseconds(100);

void send_json(Response& res, const json& j, int status = 200) {
  res.status = status;
  res.set_content(to_text(j), "application/json");
}

void send_error(Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(error_json(e), "application/json");
}

// Constant-time comparison: the time taken does not depend on where the strings differ.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

json device_json(const runtime::DeviceStatus& d) {
  json windows = json::array();
  for (const auto& [a, b] : d.windows) windows.push_back({a, b});
  return {{"name", d.name},
          {"address", d.address},
          {"alive", d.alive},
          {"memory_total", d.memory_total},
          {"memory_available", d.memory_available},
          {"windows", windows},
          {"k", d.k},
          {"last_compute_ms", d.last_compute_ms},
          {"last_network_ms", d.last_network_ms},
          {"last_disk_ms", d.last_disk_ms}};
}

// Counts a completion request from its start until its last byte is written (or given up).
class InFlight {
 public:
  explicit InFlight(std::atomic<int>& n) : n_(n) { n_.fetch_add(1); }
  ~InFlight() { n_.fetch_sub(1); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::atomic<int>& n_;
};

// The SSE side of one streaming request: called again and again by cpp-httplib's chunked writer.
struct SseStream {
  std::unique_ptr<InFlight> in_flight;
  std::shared_ptr<Task> task;
  ResponseHead head;
  bool include_usage = false;
  ConnectionProbe probe;
  bool started = false;
  Progress progress;

  bool write(DataSink& sink, const std::string& s) {
    if (sink.write(s.data(), s.size())) return true;
    task->cancel();
    return false;
  }

  // One round: the role chunk first, then whatever text arrived within kPoll, then the end.
  bool pump(DataSink& sink) {
    if (!started) {
      started = true;
      if (head.chat) return write(sink, sse_event(chunk_json(head, "", true, "", include_usage)));
    }
    task->wait(progress, kPoll);
    if (!progress.text.empty()) {
      if (!write(sink, sse_event(chunk_json(head, progress.text, false, "", include_usage)))) return false;
      progress.text.clear();
    }
    if (progress.done) {
      if (!progress.error.empty()) {
        if (!write(sink, "data: " + error_json(ApiError::server(progress.error)) + "\n\n")) return false;
      } else {
        if (!write(sink, sse_event(chunk_json(head, "", false, progress.finish_reason, include_usage)))) return false;
        if (include_usage && !write(sink, sse_event(usage_chunk_json(head, progress.usage)))) return false;
      }
      if (!write(sink, std::string(kSseDone))) return false;
      sink.done();
      return true;
    }
    if (probe.closed()) {
      task->cancel();
      return false;
    }
    return true;
  }
};

}  // namespace

struct HttpServer::Impl {
  const ServerOptions& opt;
  HttpCounters& counters;
  Backend backend;
  std::atomic<bool> ready{false};
  std::atomic<int> in_flight{0};  // completion requests not yet answered in full

  Impl(const ServerOptions& o, HttpCounters& c) : opt(o), counters(c) {}

  bool authorized(const Request& req, Response& res) const {
    if (opt.api_key.empty()) return true;
    const std::string h = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (h.size() > kBearer.size() && h.compare(0, kBearer.size(), kBearer) == 0 &&
        same_secret(std::string_view(h).substr(kBearer.size()), opt.api_key))
      return true;
    send_error(res, {401, "missing or wrong API key: send the header 'Authorization: Bearer <key>'",
                     "authentication_error", "invalid_api_key", {}});
    return false;
  }

  const Backend* loaded(Response& res) const {
    if (ready.load(std::memory_order_acquire)) return &backend;
    send_error(res, ApiError::unavailable("the model is still loading; try again shortly", "loading"));
    return nullptr;
  }

  // Authorised and loaded, or an error response is already set.
  const Backend* admit(const Request& req, Response& res) const {
    if (!authorized(req, res)) return nullptr;
    return loaded(res);
  }

  // Reads the request body with a size cap and a whole-body deadline.
  std::optional<ApiError> read_body(const ContentReader& reader, Response& res, std::string& body) const {
    const auto t0 = std::chrono::steady_clock::now();
    const auto deadline = t0 + std::chrono::seconds(opt.timeout_s);
    bool too_big = false;
    const bool ok = reader([&](const char* data, size_t n) {
      too_big = body.size() + n > opt.max_body_bytes;
      if (too_big || std::chrono::steady_clock::now() > deadline) return false;
      body.append(data, n);
      return true;
    });
    if (ok) return std::nullopt;
    // The rest of the body may still be on the wire: answer, then close rather than parse it as a request.
    res.set_header("Connection", "close");  // see the logger
    if (too_big || res.status == 413)
      return ApiError{413, fmt::format("the request body is larger than {} bytes", opt.max_body_bytes),
                      "invalid_request_error", "payload_too_large", {}};
    return ApiError{408, fmt::format("the request body did not arrive within {} s", opt.timeout_s),
                    "invalid_request_error", "request_timeout", {}};
  }

  // Reads, authorises and parses a JSON body; nullopt when an error response is set.
  std::optional<json> json_body(const Request& req, Response& res, const ContentReader& reader) const {
    std::string body;
    if (auto e = read_body(reader, res, body)) {
      send_error(res, *e);
      return std::nullopt;
    }
    if (!admit(req, res)) return std::nullopt;
    auto parsed = parse_json_object(body);
    if (auto* e = std::get_if<ApiError>(&parsed)) {
      send_error(res, *e);
      return std::nullopt;
    }
    return std::get<json>(std::move(parsed));
  }

  void completion(const Request& req, Response& res, const ContentReader& reader, bool chat) {
    auto guard = std::make_unique<InFlight>(in_flight);
    auto body = json_body(req, res, reader);
    if (!body) return;
    const Backend& b = backend;
    auto parsed = parse_completion_request(*body, chat, b.defaults, b.n_vocab);
    if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
    auto& cr = std::get<CompletionRequest>(parsed);

    std::vector<int32_t> prompt;
    if (chat) {
      if (!b.chat_template)
        return send_error(res, ApiError::invalid(b.chat_template_error, "messages", "no_chat_template"));
      try {
        prompt = tokenizer::encode_chat(*b.tok, *b.chat_template, cr.messages, true);
      } catch (const prima::Error& e) {
        return send_error(res, ApiError::invalid(e.what(), "messages"));
      }
    } else if (cr.prompt_is_tokens) {
      prompt = std::move(cr.prompt_tokens);
    } else {
      prompt = b.tok->encode(cr.prompt, true, false);
    }
    if (prompt.empty()) return send_error(res, ApiError::invalid("the prompt is empty", chat ? "messages" : "prompt"));
    if (static_cast<int64_t>(prompt.size()) >= b.n_ctx)
      return send_error(res, ApiError::invalid(
                                 fmt::format("the prompt has {} tokens, but the context holds {} tokens per sequence "
                                             "(prompt and answer together): shorten it, or start the server with a "
                                             "larger -c",
                                             prompt.size(), b.n_ctx),
                                 chat ? "messages" : "prompt", "context_length_exceeded"));

    Job job;
    job.prompt = std::move(prompt);
    job.sampler = std::make_unique<sampling::Sampler>(cr.sampling, b.n_vocab);
    job.max_tokens = cr.max_tokens ? static_cast<int32_t>(*cr.max_tokens) : b.default_max_tokens;
    job.stop = std::move(cr.stop);
    job.ignore_eos = cr.ignore_eos;
    auto submitted = b.scheduler->submit(std::move(job));
    if (!submitted) {
      const Status& st = submitted.status();
      if (st.code() == Status::Code::closed) return send_error(res, ApiError::unavailable(st.message(), "queue_full"));
      if (st.code() == Status::Code::cancelled)
        return send_error(res, ApiError::unavailable(st.message(), "shutting_down"));
      return send_error(res, ApiError::invalid(st.message()));
    }
    std::shared_ptr<Task> task = std::move(*submitted);
    ResponseHead head{new_response_id(chat), unix_now(), b.model_id, chat};
    ConnectionProbe probe(req.local_addr, req.local_port, req.remote_addr, req.remote_port);

    if (cr.stream) {
      auto sse = std::make_shared<SseStream>();
      sse->in_flight = std::move(guard);  // until cpp-httplib lets go of the stream
      sse->task = task;
      sse->head = std::move(head);
      sse->include_usage = cr.include_usage;
      sse->probe = probe;
      res.status = 200;
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Accel-Buffering", "no");
      res.set_chunked_content_provider(
          "text/event-stream", [sse](size_t, DataSink& sink) { return sse->pump(sink); },
          [sse](bool success) {
            if (!success) sse->task->cancel();
          });
      return;
    }

    Progress p;
    while (!p.done) {
      task->wait(p, kPoll);
      if (!p.done && probe.closed()) {
        task->cancel();
        res.status = 499;  // nobody is listening; the status only reaches the log
        return;
      }
    }
    if (!p.error.empty()) return send_error(res, ApiError::server(p.error));
    send_json(res, completion_json(head, p.text, p.finish_reason, p.usage));
  }

  void models(const Request& req, Response& res) const {
    const Backend* b = admit(req, res);
    if (!b) return;
    json model = {{"id", b->model_id},
                  {"object", "model"},
                  {"created", b->created},
                  {"owned_by", "prima"},
                  {"meta", {{"n_ctx", b->n_ctx}, {"n_vocab", b->n_vocab}, {"n_params", b->n_params}, {"arch", b->arch}}}};
    send_json(res, {{"object", "list"}, {"data", json::array({model})}});
  }

  void health(Response& res) const {
    if (!ready.load(std::memory_order_acquire)) {
      send_json(res, {{"status", "loading"}}, 503);
      return;
    }
    const SchedulerStats s = backend.scheduler->stats();
    send_json(res, {{"status", "ok"}, {"slots_idle", s.n_slots - s.active}, {"slots_processing", s.active},
                    {"requests_queued", s.queued}});
  }

  void metrics(const Request& req, Response& res) const {
    const Backend* b = admit(req, res);
    if (!b) return;
    res.set_content(render_metrics(b->scheduler->stats(), counters), "text/plain; version=0.0.4");
  }

  void cluster(const Request& req, Response& res) const {
    const Backend* b = admit(req, res);
    if (!b) return;
    const SchedulerStats s = b->scheduler->stats();
    json devices = json::array();
    for (const auto& d : s.devices) devices.push_back(device_json(d));
    json slots = json::array();
    for (const auto& sl : s.slots)
      slots.push_back({{"id", sl.id}, {"state", sl.state}, {"n_cached", sl.n_cached}, {"n_prompt", sl.n_prompt},
                       {"n_gen", sl.n_gen}});
    send_json(res, {{"model", b->model_id},
                    {"engine", s.engine},
                    {"n_ctx", s.n_ctx},
                    {"n_slots", s.n_slots},
                    {"active", s.active},
                    {"queued", s.queued},
                    {"tokens_per_second", s.tokens_per_second},
                    {"generated_tokens", s.generated_tokens},
                    {"devices", devices},
                    {"slots", slots}});
  }

  void tokenize(const Request& req, Response& res, const ContentReader& reader) const {
    auto body = json_body(req, res, reader);
    if (!body) return;
    const Backend& b = backend;
    const auto c = body->find("content");
    if (c == body->end() || !c->is_string()) return send_error(res, ApiError::invalid("'content' must be a string", "content"));
    bool add_special = false, parse_special = true, with_pieces = false;
    for (auto [name, out] : {std::pair{"add_special", &add_special}, std::pair{"parse_special", &parse_special},
                             std::pair{"with_pieces", &with_pieces}}) {
      const auto it = body->find(name);
      if (it == body->end() || it->is_null()) continue;
      if (!it->is_boolean()) return send_error(res, ApiError::invalid(fmt::format("'{}' must be true or false", name), name));
      *out = it->get<bool>();
    }
    const auto ids = b.tok->encode(c->get_ref<const std::string&>(), add_special, parse_special);
    json tokens = json::array();
    for (const int32_t id : ids) {
      if (!with_pieces) {
        tokens.push_back(id);
        continue;
      }
      const std::string piece = b.tok->piece(id, true);
      json p = piece;
      // A piece that is not valid UTF-8 (one byte of a character) is given as its bytes.
      try {
        (void)p.dump();
      } catch (const json::exception&) {
        p = json::array();
        for (unsigned char ch : piece) p.push_back(ch);
      }
      tokens.push_back({{"id", id}, {"piece", p}});
    }
    send_json(res, {{"tokens", tokens}});
  }

  void detokenize(const Request& req, Response& res, const ContentReader& reader) const {
    auto body = json_body(req, res, reader);
    if (!body) return;
    const Backend& b = backend;
    const auto t = body->find("tokens");
    if (t == body->end() || !t->is_array()) return send_error(res, ApiError::invalid("'tokens' must be an array of token ids", "tokens"));
    std::vector<int32_t> ids;
    for (const auto& v : *t) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= b.n_vocab)
        return send_error(res, ApiError::invalid(fmt::format("'tokens' must hold token ids in [0, {})", b.n_vocab), "tokens"));
      ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    send_json(res, {{"content", b.tok->decode(ids)}});
  }
};

HttpServer::HttpServer(ServerOptions opt)
    : opt_(std::move(opt)), svr_(std::make_unique<httplib::Server>()), impl_(std::make_unique<Impl>(opt_, counters_)) {
  PRIMA_CHECK(opt_.timeout_s >= 1 && opt_.timeout_s <= 3600, "the HTTP timeout must be in 1..3600 s, got {}", opt_.timeout_s);
  PRIMA_CHECK(opt_.max_body_bytes >= 1024, "the request body limit must be at least 1024 bytes");
  auto& svr = *svr_;
  Impl& im = *impl_;
  PRIMA_CHECK(opt_.http_threads >= 1, "the HTTP server needs at least one thread");
  const size_t n_threads = static_cast<size_t>(opt_.http_threads);
  svr.new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
  svr.set_read_timeout(opt_.timeout_s, 0);
  svr.set_write_timeout(opt_.timeout_s, 0);
  svr.set_keep_alive_timeout(std::min(5, opt_.timeout_s));
  svr.set_keep_alive_max_count(100);
  svr.set_payload_max_length(opt_.max_body_bytes);
  svr.set_tcp_nodelay(true);  // SSE events are small: send each at once

  svr.Post("/v1/chat/completions",
           [&im](const Request& q, Response& r, const ContentReader& c) { im.completion(q, r, c, true); });
  svr.Post("/v1/completions",
           [&im](const Request& q, Response& r, const ContentReader& c) { im.completion(q, r, c, false); });
  svr.Post("/tokenize", [&im](const Request& q, Response& r, const ContentReader& c) { im.tokenize(q, r, c); });
  svr.Post("/detokenize", [&im](const Request& q, Response& r, const ContentReader& c) { im.detokenize(q, r, c); });
  for (const char* path : {"/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize"})
    svr.Get(path, [](const Request& q, Response& r) {
      send_error(r, {405, fmt::format("{} takes POST", q.path), "invalid_request_error", "method_not_allowed", {}});
    });
  svr.Get("/v1/models", [&im](const Request& q, Response& r) { im.models(q, r); });
  svr.Get("/health", [&im](const Request&, Response& r) { im.health(r); });
  svr.Get("/metrics", [&im](const Request& q, Response& r) { im.metrics(q, r); });
  svr.Get("/cluster", [&im](const Request& q, Response& r) { im.cluster(q, r); });
  const auto page = [](const Request&, Response& r) {
    r.set_header("Cache-Control", "no-cache");
    r.set_content(std::string(web_page()), "text/html; charset=utf-8");
  };
  svr.Get("/", page);
  svr.Get("/index.html", page);

  svr.set_error_handler([](const Request& q, Response& r) {
    if (!r.body.empty()) return;
    // cpp-httplib's own errors (unparsable request line or headers, oversized body): the connection cannot be
    // trusted to carry another request, so it closes after this answer instead of idling in keep-alive.
    if (r.status != 404) r.set_header("Connection", "close");  // see the logger
    if (r.status == 404)
      send_error(r, {404, fmt::format("no route for {} {}", q.method, q.path), "not_found_error", "not_found", {}});
    else
      send_error(r, {r.status, fmt::format("HTTP {}", r.status), r.status >= 500 ? "server_error" : "invalid_request_error",
                     r.status == 413 ? "payload_too_large" : "bad_request", {}});
  });
  svr.set_exception_handler([](const Request& q, Response& r, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::error("{} {}: {}", q.method, q.path, what);
    send_error(r, ApiError::server(what));
  });
  svr.set_logger([this](const Request& q, const Response& r) {
    counters_.count(q.path, r.status);
    // The answer is out (the logger runs after it is written). A connection we marked "close" carries an unread or
    // unparsable request: stop reading it, so cpp-httplib closes it now instead of idling in keep-alive.
    if (r.get_header_value("Connection") == "close")
      ConnectionProbe(q.local_addr, q.local_port, q.remote_addr, q.remote_port).shutdown_read();
    log::debug("{} {} -> {} (peer {}:{})", q.method, q.path, r.status, q.remote_addr, q.remote_port);
  });
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  // A client that vanishes mid-write must not kill the process: writes then fail with EPIPE instead.
  ::signal(SIGPIPE, SIG_IGN);
  if (opt_.port == 0) {
    port_ = svr_->bind_to_any_port(opt_.host);
    if (port_ <= 0) fail("cannot listen on {} (any port)", opt_.host);
  } else {
    if (!svr_->bind_to_port(opt_.host, opt_.port)) fail("cannot listen on {}:{} (in use, or not an address of this host)", opt_.host, opt_.port);
    port_ = opt_.port;
  }
  return port_;
}

void HttpServer::start() {
  PRIMA_CHECK(port_ > 0, "bind() before start()");
  listener_ = std::thread([this] { svr_->listen_after_bind(); });
}

void HttpServer::set_ready(const Backend& backend) {
  impl_->backend = backend;
  impl_->ready.store(true, std::memory_order_release);
}

void HttpServer::stop() {
  if (!listener_.joinable()) return;
  // Let answers in progress finish (the scheduler has normally failed their requests already), then close every
  // connection: cpp-httplib's stop() joins its threads, and a thread idling in keep-alive would hold it up to the
  // keep-alive timeout.
  for (int i = 0; i < 200 && impl_->in_flight.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  svr_->stop();
  shutdown_connections(port_);
  listener_.join();
}

}  // namespace prima::server
