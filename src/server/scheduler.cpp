#include "server/scheduler.h"

#include <algorithm>

#include "core/clock.h"
#include "core/log.h"
#include "server/kv_reuse.h"

namespace prima::server {

Scheduler::Scheduler(runtime::Engine& engine, const tokenizer::Tokenizer& tok, SchedulerOptions opt)
    : engine_(engine), tok_(tok), opt_(opt), n_ctx_(engine.n_ctx()) {
  PRIMA_CHECK(opt_.n_batch >= 1, "the scheduler's batch size must be at least 1, got {}", opt_.n_batch);
  PRIMA_CHECK(opt_.max_queue >= 0, "the request queue size must not be negative, got {}", opt_.max_queue);
  slots_.resize(static_cast<size_t>(engine.n_seq()));
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].id = static_cast<int32_t>(i);
    slots_[i].cache.reserve(static_cast<size_t>(n_ctx_));
  }
  // Whatever the engine holds is unknown to us: start from empty sequences.
  (void)engine_.kv_clear(-1);
  stats_.n_slots = static_cast<int32_t>(slots_.size());
  stats_.max_queue = opt_.max_queue;
  stats_.n_ctx = n_ctx_;
  stats_.devices = engine_.devices();
  stats_.engine = engine_.describe();
  stats_.slots.resize(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) stats_.slots[i] = {static_cast<int32_t>(i), "idle", 0, 0, 0};
  last_devices_ns_ = now_ns();
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() { shutdown(); }

void Scheduler::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<std::shared_ptr<Task>> Scheduler::submit(Job job) {
  if (job.prompt.empty()) return Status::error(Status::Code::invalid, "the prompt is empty");
  if (static_cast<int64_t>(job.prompt.size()) >= n_ctx_)
    return Status::error(Status::Code::invalid, "the prompt has {} tokens; the context holds {} per sequence",
                         job.prompt.size(), n_ctx_);
  if (!job.sampler) return Status::error(Status::Code::invalid, "the job has no sampler");
  auto task = std::make_shared<Task>(std::move(job));
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Status::error(Status::Code::cancelled, "the server is shutting down");
    const auto n_free = static_cast<int32_t>(slots_.size()) - n_busy_;  // they take queued requests at once
    if (static_cast<int32_t>(queue_.size()) >= opt_.max_queue + n_free) {
      ++stats_.requests_rejected;
      return Status::error(Status::Code::closed, "the server is busy: {} requests are waiting; try again later",
                           queue_.size());
    }
    queue_.push_back(task);
    stats_.queued = static_cast<int32_t>(queue_.size());
  }
  cv_.notify_all();
  return task;
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Scheduler::run() {
  for (;;) {
    std::vector<std::shared_ptr<Task>> admitted;
    {
      std::unique_lock lock(mu_);
      const auto n_free = [&] {
        return std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == State::idle; });
      };
      const auto busy = [&] { return static_cast<size_t>(n_free()) < slots_.size(); };
      if (!stopping_ && !busy() && queue_.empty()) cv_.wait_for(lock, std::chrono::seconds(1));
      if (stopping_) break;
      // Requests that gave up while waiting leave the queue; the rest take free slots in order.
      std::erase_if(queue_, [](const auto& t) { return t->cancelled(); });
      for (auto k = n_free(); k > 0 && !queue_.empty(); --k) {
        admitted.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stats_.queued = static_cast<int32_t>(queue_.size());
    }
    for (auto& t : admitted) admit(std::move(t));
    drop_cancelled();
    const bool work = std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state != State::idle; });
    if (work) step();
    else publish(0, 0, 0);
  }

  // Shutting down: fail whatever is left.
  for (auto& s : slots_)
    if (s.task) {
      s.task->fail("the server is shutting down", s.usage);
      release(s);
    }
  std::lock_guard lock(mu_);
  for (auto& t : queue_) t->fail("the server is shutting down", {});
  queue_.clear();
  stats_.queued = 0;
}

void Scheduler::admit(std::shared_ptr<Task> task) {
  Job& job = task->job();
  // The free slot whose cache shares the longest prefix with the prompt; among equals the least recently used.
  Slot* best = nullptr;
  int32_t best_keep = -1;
  for (auto& s : slots_) {
    if (s.state != State::idle) continue;
    const int32_t keep = reusable_prefix(s.cache, job.prompt);
    if (keep > best_keep || (keep == best_keep && s.last_used < best->last_used)) {
      best = &s;
      best_keep = keep;
    }
  }
  PRIMA_ASSERT(best != nullptr);
  Slot& s = *best;
  if (Status st = engine_.kv_truncate(s.id, best_keep); !st) {
    task->fail(st.message(), {});
    return;
  }
  s.cache.resize(static_cast<size_t>(best_keep));
  s.task = std::move(task);
  s.state = State::prompt;
  s.admitted = ++clock_;
  s.n_done = static_cast<size_t>(best_keep);
  s.pending = -1;
  s.n_gen = 0;
  s.dec.emplace(tok_);
  s.stop = StopMatcher(job.stop);
  s.usage = {};
  s.usage.prompt_tokens = static_cast<int32_t>(job.prompt.size());
  s.usage.cached_tokens = best_keep;
  s.t_admit_ns = now_ns();
  s.t_first_ns = 0;
  job.sampler->accept(job.prompt);  // penalties see the whole prompt
  std::lock_guard lock(mu_);
  ++n_busy_;
  ++stats_.requests_admitted;
  stats_.prompt_tokens += static_cast<int64_t>(job.prompt.size());
  stats_.prompt_tokens_cached += best_keep;
}

void Scheduler::drop_cancelled() {
  for (auto& s : slots_) {
    if (!s.task || !s.task->cancelled()) continue;
    {
      std::lock_guard lock(mu_);
      ++stats_.requests_cancelled;
    }
    s.task->fail("cancelled", s.usage);
    release(s);
  }
}

void Scheduler::release(Slot& s) {
  {
    std::lock_guard lock(mu_);
    --n_busy_;
  }
  s.task.reset();
  s.state = State::idle;
  s.pending = -1;
  s.dec.reset();
  s.last_used = ++clock_;
}

void Scheduler::step() {
  batch_.clear();
  auto& outputs = outputs_;  // slots whose logits come back, in batch order
  auto& chunks = chunks_;    // prompt slots and how many tokens they put in
  outputs.clear();
  chunks.clear();
  // 1. One token per generating sequence.
  for (auto& s : slots_) {
    if (s.state != State::generating) continue;
    batch_.add(s.pending, static_cast<int32_t>(s.cache.size()), s.id, true);
    outputs.push_back(&s);
  }
  const size_t n_decode = outputs.size();
  // 2. Prompt chunks, oldest request first, in what is left of the step's budget.
  auto& prompting = prompting_;
  prompting.clear();
  for (auto& s : slots_)
    if (s.state == State::prompt) prompting.push_back(&s);
  std::sort(prompting.begin(), prompting.end(), [](const Slot* a, const Slot* b) { return a->admitted < b->admitted; });
  // At least a quarter of a step goes to prompts, so new requests progress even when the generating sequences
  // alone fill the batch (-np larger than --ubatch-size).
  int32_t budget = std::max(opt_.n_batch - batch_.size(), std::max(1, opt_.n_batch / 4));
  for (Slot* s : prompting) {
    if (budget == 0) break;
    const auto& prompt = s->task->job().prompt;
    const int32_t take = std::min<int32_t>(budget, static_cast<int32_t>(prompt.size() - s->n_done));
    for (int32_t i = 0; i < take; ++i) {
      const size_t p = s->n_done + static_cast<size_t>(i);
      batch_.add(prompt[p], static_cast<int32_t>(p), s->id, p + 1 == prompt.size());
    }
    chunks.emplace_back(s, take);
    if (s->n_done + static_cast<size_t>(take) == prompt.size()) outputs.push_back(s);
    budget -= take;
  }

  Stopwatch sw;
  const Status st = engine_.decode(batch_, logits_);
  const double ms = sw.elapsed_ms();
  if (!st) {
    log::error("engine step of {} tokens failed: {}", batch_.size(), st.message());
    std::vector<Slot*> failed(outputs.begin(), outputs.begin() + static_cast<long>(n_decode));
    for (auto& [s, take] : chunks) failed.push_back(s);
    for (Slot* s : failed) {
      if (!s->task) continue;
      {
        std::lock_guard lock(mu_);
        ++stats_.requests_failed;
      }
      s->task->fail(st.message(), s->usage);
      (void)engine_.kv_clear(s->id);
      s->cache.clear();
      release(*s);
    }
    publish(ms, batch_.size(), 0);
    return;
  }

  // The tokens just evaluated are in the cache now.
  for (size_t i = 0; i < n_decode; ++i) outputs[i]->cache.push_back(outputs[i]->pending);
  for (auto& [s, take] : chunks) {
    const auto& prompt = s->task->job().prompt;
    s->cache.insert(s->cache.end(), prompt.begin() + static_cast<long>(s->n_done),
                    prompt.begin() + static_cast<long>(s->n_done + static_cast<size_t>(take)));
    s->n_done += static_cast<size_t>(take);
  }
  const size_t n_vocab = static_cast<size_t>(engine_.hparams().n_vocab);
  int32_t n_generated = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    Slot& s = *outputs[i];
    auto& sampler = *s.task->job().sampler;
    auto r = sampler.sample({logits_.data() + i * n_vocab, n_vocab});
    if (!r) {
      {
        std::lock_guard lock(mu_);
        ++stats_.requests_failed;
      }
      s.task->fail(r.status().message(), s.usage);
      release(s);
      continue;
    }
    ++n_generated;
    {
      std::lock_guard lock(mu_);  // counted before the client can hear of it: on_token may finish the request
      ++stats_.generated_tokens;
    }
    on_token(s, r->token);
  }
  publish(ms, batch_.size(), n_generated);
}

void Scheduler::on_token(Slot& s, int32_t token) {
  Job& job = s.task->job();
  job.sampler->accept(token);
  const int64_t t = now_ns();
  if (s.t_first_ns == 0) {
    s.t_first_ns = t;
    s.usage.prompt_ms = static_cast<double>(t - s.t_admit_ns) * 1e-6;
  }
  s.usage.gen_ms = static_cast<double>(t - s.t_first_ns) * 1e-6;
  if (!job.ignore_eos && tok_.is_eog(token)) return finish(s, "stop");
  ++s.n_gen;
  s.usage.completion_tokens = s.n_gen;
  const std::string text = s.stop.push(s.dec->push(token));
  s.task->emit(text, s.n_gen);
  if (s.stop.matched()) return finish(s, "stop");
  if (job.max_tokens >= 0 && s.n_gen >= job.max_tokens) return finish(s, "length");
  // The token must be stored at position cache.size() before the next one can be computed.
  if (static_cast<int32_t>(s.cache.size()) >= n_ctx_) return finish(s, "length");
  s.pending = token;
  s.state = State::generating;
}

void Scheduler::finish(Slot& s, const char* reason) {
  if (!s.stop.matched()) {
    std::string rest = s.stop.push(s.dec->flush());
    rest += s.stop.flush();
    if (!rest.empty()) s.task->emit(rest, s.n_gen);
  }
  {
    std::lock_guard lock(mu_);  // counted before the client can hear of it
    ++stats_.requests_finished;
  }
  s.task->finish(reason, s.usage);
  release(s);
}

void Scheduler::publish(double step_ms, int32_t n_batch_tokens, int32_t n_generated) {
  const int64_t t = now_ns();
  // Device status costs a probe of the system's memory: refresh it twice a second at most.
  std::optional<std::vector<runtime::DeviceStatus>> devices;
  std::string engine;
  if (t - last_devices_ns_ > 500'000'000) {
    devices = engine_.devices();
    engine = engine_.describe();  // a ring may re-plan
    last_devices_ns_ = t;
  }
  const runtime::EngineTimings timings = engine_.timings();
  std::lock_guard lock(mu_);
  if (n_batch_tokens > 0) {
    ++stats_.steps;
    stats_.batch_tokens += n_batch_tokens;
    stats_.step_ms += step_ms;
    recent_.emplace_back(t, step_ms, n_generated);  // (generated_tokens is counted per token, in step)
  }
  while (!recent_.empty() && t - std::get<0>(recent_.front()) > 10'000'000'000) recent_.pop_front();
  double busy_ms = 0;
  int64_t gen = 0;
  for (const auto& [when, ms, n] : recent_) {
    busy_ms += ms;
    gen += n;
  }
  stats_.tokens_per_second = busy_ms > 0 ? static_cast<double>(gen) * 1000.0 / busy_ms : 0;
  stats_.timings = timings;
  if (devices) {
    stats_.devices = std::move(*devices);
    stats_.engine = std::move(engine);
  }
  int32_t active = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    auto& o = stats_.slots[i];
    o.state = s.state == State::idle ? "idle" : s.state == State::prompt ? "prompt" : "generating";
    o.n_cached = static_cast<int32_t>(s.cache.size());
    o.n_prompt = s.task ? static_cast<int32_t>(s.task->job().prompt.size()) : 0;
    o.n_gen = s.n_gen;
    active += s.state != State::idle;
  }
  stats_.active = active;
}

}  // namespace prima::server
