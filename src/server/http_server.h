// The OpenAI-compatible HTTP server (cpp-httplib): routes, authentication, request bodies, SSE streaming.
// docs/server.md describes the API.
//
// Threads: cpp-httplib 0.11 accepts on the thread that calls listen and runs every connection (all its
// keep-alive requests) on one thread of a fixed pool; a handler blocks that thread while its request is queued
// and generated. The pool is sized for the sequence slots plus the queue plus spare threads for /health,
// /metrics and the page, so waiting completions never starve the cheap endpoints. Timeouts bound what a slow
// or stalled client can hold: reading a request (per read and for the whole body), writing a response (a
// client that stops reading is dropped and its request cancelled), idle keep-alive.
//
// Lifecycle: bind() and start() serve at once, /health answering 503 "loading" (and the API 503) until
// set_ready() hands over the loaded model; stop() ends listening and waits for the listener.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "sampling/params.h"
#include "server/metrics.h"
#include "server/scheduler.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace httplib {
class Server;
}

namespace prima::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                       // 0: any free port (see bound_port())
  std::string api_key;                   // "": no authentication
  size_t max_body_bytes = 8u << 20;      // larger request bodies get 413
  int timeout_s = 30;                    // read / write timeout of a connection, and the whole-body deadline
  int http_threads = 32;                 // connection threads (each connection holds one while it lasts)
};

// The loaded model as the HTTP side sees it (everything outlives the server).
struct Backend {
  const tokenizer::Tokenizer* tok = nullptr;
  const tokenizer::ChatTemplate* chat_template = nullptr;  // null: the model has none (chat -> 400)
  std::string chat_template_error;                         // why there is none
  Scheduler* scheduler = nullptr;
  std::string model_id;
  sampling::SamplingParams defaults;  // the server's sampling options, requests override them
  int32_t default_max_tokens = -1;    // max_tokens of a request that gives none (-1: no limit)
  int32_t n_vocab = 0;
  int32_t n_ctx = 0;
  int64_t n_params = 0;
  std::string arch;
  int64_t created = 0;  // unix time the model was loaded
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions opt);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket (throws prima::Error when it cannot) and returns the port.
  int bind();
  // Serves on a thread of its own.
  void start();
  void set_ready(const Backend& backend);
  void stop();

  int bound_port() const { return port_; }
  const HttpCounters& counters() const { return counters_; }

 private:
  struct Impl;
  ServerOptions opt_;
  std::unique_ptr<httplib::Server> svr_;
  std::unique_ptr<Impl> impl_;
  HttpCounters counters_;
  int port_ = -1;
  std::thread listener_;
};

}  // namespace prima::server
