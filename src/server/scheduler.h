// The request scheduler: one thread owns the Engine and runs continuous batching over its sequence slots.
//
// Every step it builds ONE TokenBatch holding
//   1. the next token of every sequence that is generating (one token each, logits wanted), then
//   2. chunks of prompts still being evaluated, oldest request first, up to n_batch tokens in all (logits only
//      for a prompt's last token; at least n_batch / 4 prompt tokens even when step 1 alone fills n_batch),
// calls Engine::decode once, and samples the next token of every sequence whose logits came back (each request
// has its own Sampler). A request occupies one slot (= engine sequence id, its own KV cells) from admission to
// its end; requests beyond the slots wait in a bounded FIFO queue (submit() refuses when it is full). When a slot
// frees, the next request takes the free slot whose cached tokens share the longest prefix with its prompt, and
// only the rest of the prompt is evaluated (kv_reuse.h): a chat's next turn reuses the KV of the previous one.
//
// Text: the scheduler detokenizes (StreamDecoder: never half a UTF-8 character) and applies stop sequences
// (StopMatcher: never a partial stop sequence) so a request ends exactly where it should and frees its slot at
// once. A cancelled Task (client gone) is dropped at the next step. An engine failure fails the requests of
// that batch and clears their KV; the others carry on.
//
// Determinism: a sequence's tokens depend only on its own prompt, sampler and KV. With greedy sampling its output
// is the same alone or batched with others as long as the engine computes each row of a batch independently of
// the other rows (LocalEngine does; tests/server checks it).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "runtime/engine.h"
#include "server/stop_matcher.h"
#include "server/task.h"
#include "tokenizer/tokenizer.h"

namespace prima::server {

struct SchedulerOptions {
  int32_t n_batch = 512;   // tokens per engine step
  int32_t max_queue = 64;  // requests waiting for a slot (beyond those a free slot takes at once)
};

struct SlotStatus {
  int32_t id = 0;
  std::string state;  // "idle", "prompt", "generating"
  int32_t n_cached = 0;  // tokens in its KV cache
  int32_t n_prompt = 0;
  int32_t n_gen = 0;
};

// A snapshot for /metrics and the cluster view (the Engine itself is only touched by the scheduler thread).
struct SchedulerStats {
  int64_t requests_admitted = 0, requests_finished = 0, requests_cancelled = 0, requests_failed = 0;
  int64_t requests_rejected = 0;  // queue full
  int64_t prompt_tokens = 0, prompt_tokens_cached = 0, generated_tokens = 0;
  int64_t steps = 0, batch_tokens = 0;
  double step_ms = 0;             // total time in Engine::decode
  double tokens_per_second = 0;   // generated tokens / decode time, over the steps of the last 10 s
  int32_t active = 0, queued = 0, n_slots = 0, max_queue = 0, n_ctx = 0;
  std::vector<SlotStatus> slots;
  std::vector<runtime::DeviceStatus> devices;
  runtime::EngineTimings timings;
  std::string engine;  // Engine::describe()
};

class Scheduler {
 public:
  // engine and tok must outlive the scheduler. Starts the scheduler thread.
  Scheduler(runtime::Engine& engine, const tokenizer::Tokenizer& tok, SchedulerOptions opt = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request. Fails with Status::Code::closed when the queue is full, Status::Code::cancelled when the
  // scheduler has stopped, Status::Code::invalid when the prompt is empty or does not fit the context.
  Result<std::shared_ptr<Task>> submit(Job job);

  SchedulerStats stats() const;
  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_slots() const { return static_cast<int32_t>(slots_.size()); }

  // Stops the thread; requests still queued or running fail with "the server is shutting down".
  void shutdown();

 private:
  enum class State { idle, prompt, generating };
  struct Slot {
    int32_t id = 0;
    State state = State::idle;
    std::vector<int32_t> cache;  // tokens whose K/V the engine holds for this sequence
    std::shared_ptr<Task> task;
    uint64_t admitted = 0;       // admission order (prompt chunks go oldest first)
    uint64_t last_used = 0;      // for picking among equally good free slots
    size_t n_done = 0;           // prompt tokens in the cache
    int32_t pending = -1;        // sampled token to feed back next step
    int32_t n_gen = 0;
    std::optional<tokenizer::StreamDecoder> dec;
    StopMatcher stop;
    Usage usage;
    int64_t t_admit_ns = 0, t_first_ns = 0;
  };

  void run();
  void admit(std::shared_ptr<Task> task);
  void drop_cancelled();
  void step();
  void on_token(Slot& s, int32_t token);
  void finish(Slot& s, const char* reason);
  void release(Slot& s);
  void publish(double step_ms, int32_t n_batch_tokens, int32_t n_generated);

  runtime::Engine& engine_;
  const tokenizer::Tokenizer& tok_;
  SchedulerOptions opt_;
  int32_t n_ctx_ = 0;
  std::vector<Slot> slots_;  // touched by the scheduler thread only
  uint64_t clock_ = 0;

  mutable std::mutex mu_;  // guards queue_, stopping_, stats_
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Task>> queue_;  // submitted, not yet in a slot
  int32_t n_busy_ = 0;                         // slots holding a request
  bool stopping_ = false;
  SchedulerStats stats_;
  std::deque<std::tuple<int64_t, double, int32_t>> recent_;  // (time ns, decode ms, tokens generated) per step
  int64_t last_devices_ns_ = 0;

  runtime::TokenBatch batch_;
  std::vector<float> logits_;                      // [n_outputs][n_vocab]
  std::vector<Slot*> outputs_, prompting_;         // per step, kept to avoid allocating every token
  std::vector<std::pair<Slot*, int32_t>> chunks_;
  std::thread thread_;
};

}  // namespace prima::server
