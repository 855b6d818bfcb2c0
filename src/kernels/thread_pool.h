// A pool of persistent worker threads for the kernels.
//
//   ThreadPool pool(n_threads);                  // n_threads - 1 workers are started; the caller is thread 0
//   pool.run([&](int ith, int nth) { ... });     // runs fn(ith, nth) for ith = 0..nth-1, the caller doing
//                                                 // ith 0; returns when every thread has finished
//   pool.run_shared([&](int ith, int nth) { ... });  // the same for work-sharing jobs (threads take items from
//                                                 // a shared counter, any thread may do any item): a worker
//                                                 // that has not started when the caller's fn returns is
//                                                 // skipped, so a descheduled or still-sleeping worker never
//                                                 // delays the caller (fn may run on fewer than nth threads)
//
// - One caller at a time: run() is not reentrant and must not be called concurrently on one pool.
// - fn must not throw (kernels don't); an exception escaping a worker terminates the process.
// - No allocation per run(); the callable is passed by reference.
// - Idle behaviour: after a run, workers spin for a short while (spin_us, default 50 µs) so that back-to-back
//   runs (one matmul after another in a layer) start without a wake-up, then sleep on a futex (std::atomic
//   wait). A sleeping pool uses no CPU, which matters on devices under a CPU quota.
// - scratch(bytes, slot) is a grow-only, 64-byte aligned buffer owned by the pool for per-call temporaries,
//   valid until the next scratch() call on the same slot. Slot 0 is the caller's; kernels use their own slots
//   (matmul keeps its quantized activations in kScratchMatmul), so a matmul never moves the caller's buffer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

namespace prima::kernels {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads >= 1 (clamped)
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }

  template <class F>
  void run(F&& fn) {
    run_impl(trampoline<std::remove_reference_t<F>>, const_cast<void*>(static_cast<const void*>(&fn)), false);
  }
  template <class F>
  void run_shared(F&& fn) {
    run_impl(trampoline<std::remove_reference_t<F>>, const_cast<void*>(static_cast<const void*>(&fn)), true);
  }

  static constexpr int kScratchSlots = 4;
  static constexpr int kScratchMatmul = 3;
  void* scratch(size_t bytes, int slot = 0);

  // How long idle workers (and the caller waiting for them) spin before sleeping. 0 = sleep at once.
  void set_spin_us(int us) { spin_ns_.store(static_cast<int64_t>(us) * 1000, std::memory_order_relaxed); }

 private:
  using Call = void (*)(void* ctx, int ith, int nth);
  template <class Fn>
  static void trampoline(void* ctx, int ith, int nth) {
    (*static_cast<Fn*>(ctx))(ith, nth);
  }
  void run_impl(Call call, void* ctx, bool shared);
  void worker(int ith);

  int n_threads_;
  std::atomic<int64_t> spin_ns_{50'000};
  std::vector<std::thread> threads_;

  // The job of the current generation.
  Call call_ = nullptr;
  void* ctx_ = nullptr;
  // Per worker: the last generation it took part in, or was skipped for (run_shared). Whoever moves it from
  // generation - 1 to generation (the worker starting, or the caller skipping it) accounts for it in pending_.
  struct alignas(64) Slot {
    std::atomic<uint32_t> gen{0};
  };
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<uint32_t> generation_{0};  // bumped by run(); workers wait for it to change
  alignas(64) std::atomic<int> pending_{0};          // workers still running the current job
  alignas(64) std::atomic<int> sleepers_{0};         // workers blocked in generation_.wait()
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};  // read by workers that may have been skipped (no happens-before)

  struct Scratch {
    std::vector<unsigned char> bytes;
    size_t offset = 0;  // of the 64-byte aligned start within bytes
  };
  Scratch scratch_[kScratchSlots];
};

}  // namespace prima::kernels
