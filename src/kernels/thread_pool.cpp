#include "kernels/thread_pool.h"

#include <algorithm>

#include "core/clock.h"

namespace prima::kernels {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until pred() holds or spin_ns pass; returns pred()'s last value.
template <class Pred>
bool spin_until(Pred pred, int64_t spin_ns) {
  if (pred()) return true;
  if (spin_ns <= 0) return false;
  const int64_t deadline = now_ns() + spin_ns;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      cpu_relax();
      if (pred()) return true;
    }
    if (now_ns() > deadline) return pred();
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)), slots_(new Slot[std::max(1, n_threads)]) {
  threads_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_relaxed);  // published by the seq_cst generation bump below
  generation_.fetch_add(1);  // seq_cst; publishes stop_
  generation_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::run_impl(Call call, void* ctx, bool shared) {
  if (n_threads_ == 1) {
    call(ctx, 0, 1);
    return;
  }
  call_ = call;
  ctx_ = ctx;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  const uint32_t gen = generation_.fetch_add(1) + 1;  // seq_cst: publishes the job, before the sleepers_ check
  if (sleepers_.load() > 0) generation_.notify_all();

  call(ctx, 0, n_threads_);

  if (shared) {  // skip the workers that have not started yet: the work is done or taken
    for (int i = 1; i < n_threads_; ++i) {
      uint32_t expected = gen - 1;
      if (slots_[i].gen.compare_exchange_strong(expected, gen)) pending_.fetch_sub(1);
    }
  }
  if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; }, spin_ns_.load(std::memory_order_relaxed))) {
    caller_sleeping_.store(true);
    for (int p; (p = pending_.load()) != 0;) pending_.wait(p);
    caller_sleeping_.store(false, std::memory_order_relaxed);
  }
}

void ThreadPool::worker(int ith) {
  uint32_t seen = 0;  // generation_ starts at 0 and only run() / the destructor advance it
  for (;;) {
    if (!spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; }, spin_ns_.load(std::memory_order_relaxed))) {
      sleepers_.fetch_add(1);
      while (generation_.load() == seen) generation_.wait(seen);
      sleepers_.fetch_sub(1);
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_relaxed)) return;
    // Claim this generation (a run_shared caller may have skipped us already: then there is nothing to do).
    // Every earlier generation ended with our slot at that generation, so it holds seen - 1 unless skipped.
    uint32_t expected = seen - 1;
    if (!slots_[ith].gen.compare_exchange_strong(expected, seen)) continue;
    call_(ctx_, ith, n_threads_);
    // seq_cst decrement, then the check: either we see the caller asleep, or it sees pending_ == 0.
    if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) pending_.notify_one();
  }
}

void* ThreadPool::scratch(size_t bytes, int slot) {
  Scratch& s = scratch_[slot];
  if (s.bytes.size() < bytes + 64) {
    s.bytes.assign(bytes + bytes / 4 + 64, 0);
    const auto addr = reinterpret_cast<uintptr_t>(s.bytes.data());
    s.offset = static_cast<size_t>((64 - addr % 64) % 64);
  }
  return s.bytes.data() + s.offset;
}

}  // namespace prima::kernels
