// One request as the scheduler runs it: what to generate (Job) and the channel its text comes back through
// (Task). The HTTP thread that owns the request waits on the Task; the scheduler thread fills it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sampling/sampler.h"
#include "server/response.h"

namespace prima::server {

struct Job {
  std::vector<int32_t> prompt;                 // [n_prompt] token ids, 1 <= n_prompt < n_ctx (checked by the caller)
  std::unique_ptr<sampling::Sampler> sampler;  // this request's own sampler (validated parameters)
  int32_t max_tokens = -1;                     // -1: until end of generation or a full context
  std::vector<std::string> stop;               // stop sequences (never shown to the client)
  bool ignore_eos = false;
};

// What has happened to a request since the last look.
struct Progress {
  std::string text;           // new text (valid UTF-8, stop sequences held back)
  int32_t n_tokens = 0;       // tokens generated so far
  bool done = false;
  std::string finish_reason;  // when done without error: "stop" or "length"
  std::string error;          // when the request failed (the engine failed, the server stops)
  Usage usage;                // complete when done
};

class Task {
 public:
  explicit Task(Job job) : job_(std::move(job)) {}

  // HTTP side. Waits up to `timeout` for news; appends new text to out.text and copies the rest.
  // Returns true when something changed (new text or the end).
  bool wait(Progress& out, std::chrono::milliseconds timeout);
  // The client went away or gave up: the scheduler frees the slot at its next step.
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Scheduler side.
  Job& job() { return job_; }
  void emit(std::string_view text, int32_t n_tokens);
  void finish(std::string finish_reason, const Usage& usage);
  void fail(std::string error, const Usage& usage);

 private:
  Job job_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;  // not yet taken by the HTTP side
  int32_t n_tokens_ = 0;
  bool done_ = false;
  std::string finish_reason_, error_;
  Usage usage_;
};

}  // namespace prima::server
