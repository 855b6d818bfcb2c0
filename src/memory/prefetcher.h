// Prefetch of the next layer window, and release of the one just used (DESIGN.md §1, "Prefetch, and why
// k > 1"). After a device computes a window and hands its result on, the runtime calls
//   prefetcher.release(window_just_used);   // only when the device's windows do not fit (release_policy.h)
//   prefetcher.prefetch(next_window, mode);
// and goes back to waiting for the next message. prefetch() returns at once; the work runs on one
// background thread at low priority (nice 19, lowest best-effort I/O priority), so reading the next window
// overlaps the other devices' compute and the network.
//
// Modes (the CLI's --prefetch=off|willneed|touch; "on" is accepted for willneed):
//   off       nothing: pages come in lazily on first touch (the baseline to compare with)
//   willneed  MADV_WILLNEED over the merged, page-aligned ranges, in chunks the kernel honours in full
//   touch     willneed, then read one byte per page, so the window is in when the token comes round
//
// One prefetch at a time: a newer prefetch() cancels the one running (latest wins), release() and cancel()
// stop it and wait until the thread no longer touches the mapping. The thread checks for cancellation
// between pages; a page it is waiting on from disk finishes first (milliseconds).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/error.h"
#include "memory/advise.h"
#include "memory/mapped_file.h"
#include "memory/ranges.h"

namespace prima::memory {

enum class PrefetchMode { off, willneed, touch };
std::string_view to_string(PrefetchMode mode);
std::optional<PrefetchMode> parse_prefetch_mode(std::string_view s);  // "off", "willneed" or "on", "touch"

enum class PrefetchState { idle, running, done, cancelled, failed };
std::string_view to_string(PrefetchState state);

struct PrefetchStats {
  uint64_t id = 0;  // 1 for the first prefetch() of this Prefetcher, then 2, ...; 0 before any
  PrefetchMode mode = PrefetchMode::off;
  PrefetchState state = PrefetchState::idle;
  uint64_t bytes_requested = 0;  // bytes of the ranges asked for (whole pages, clamped to the file)
  uint64_t bytes_advised = 0;    // covered by MADV_WILLNEED (reads started, maybe not finished)
  uint64_t bytes_touched = 0;    // touch: pages read by the thread
  int64_t major_faults = 0;      // touch: pages the thread had to wait for from disk
  int64_t elapsed_ns = 0;        // from prefetch() until the thread finished or stopped (so far, if running)
  std::string error;             // state failed: what went wrong
};

struct PrefetchOptions {
  int nice = 19;                 // the thread's nice value (Linux: per thread)
  bool lowest_io_priority = true;  // ioprio best-effort level 7
  uint64_t chunk_bytes = 0;      // bytes per MADV_WILLNEED; 0 = readahead_chunk_bytes(fd)
};

class Prefetcher {
 public:
  // `file` must outlive the Prefetcher. Starts the background thread.
  explicit Prefetcher(const MappedFile& file, PrefetchOptions options = {});
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Starts prefetching `ranges` and returns its id at once; a prefetch still running is cancelled.
  // Mode off only cancels. The ranges must be owned (map_only) for as long as the prefetch runs.
  uint64_t prefetch(const ByteRanges& ranges, PrefetchMode mode);

  // Stops any prefetch (and waits until it has stopped), then drops `ranges` (release_ranges).
  Result<AdviseStats> release(const ByteRanges& ranges);

  // Stops any prefetch and waits until the thread no longer touches the mapping.
  void cancel();

  // Waits until the latest prefetch has finished or stopped; false when `timeout` passed first.
  bool wait(std::chrono::nanoseconds timeout);

  // The latest prefetch.
  PrefetchStats stats() const;

 private:
  struct Job {
    uint64_t id = 0;
    ByteRanges ranges;
    PrefetchMode mode = PrefetchMode::off;
    int64_t t0_ns = 0;
  };
  void run();
  void lower_priority() const;
  void do_job(const Job& job);

  const MappedFile& file_;
  const PrefetchOptions options_;
  uint64_t chunk_bytes_ = 0;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the thread waits for a job or stop
  std::condition_variable idle_cv_;  // callers wait for the thread to become idle
  std::optional<Job> pending_;
  bool busy_ = false;
  bool stop_ = false;
  uint64_t next_id_ = 1;
  int64_t t0_ns_ = 0;  // when the job the thread runs was asked for
  PrefetchStats stats_;
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

}  // namespace prima::memory
