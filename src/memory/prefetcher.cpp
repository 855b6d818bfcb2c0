#include "memory/prefetcher.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "memory/residency.h"

namespace prima::memory {

std::string_view to_string(PrefetchMode mode) {
  switch (mode) {
    case PrefetchMode::off: return "off";
    case PrefetchMode::willneed: return "willneed";
    case PrefetchMode::touch: return "touch";
  }
  return "?";
}

std::optional<PrefetchMode> parse_prefetch_mode(std::string_view s) {
  if (s == "off") return PrefetchMode::off;
  if (s == "willneed" || s == "on") return PrefetchMode::willneed;
  if (s == "touch") return PrefetchMode::touch;
  return std::nullopt;
}

std::string_view to_string(PrefetchState state) {
  switch (state) {
    case PrefetchState::idle: return "idle";
    case PrefetchState::running: return "running";
    case PrefetchState::done: return "done";
    case PrefetchState::cancelled: return "cancelled";
    case PrefetchState::failed: return "failed";
  }
  return "?";
}

Prefetcher::Prefetcher(const MappedFile& file, PrefetchOptions options)
    : file_(file), options_(options), chunk_bytes_(options.chunk_bytes) {
  if (chunk_bytes_ == 0 && file_.fd() >= 0) chunk_bytes_ = readahead_chunk_bytes(file_.fd());
  thread_ = std::thread([this] { run(); });
  ::pthread_setname_np(thread_.native_handle(), "prima-prefetch");
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    cancel_.store(true);
  }
  work_cv_.notify_all();
  thread_.join();
}

uint64_t Prefetcher::prefetch(const ByteRanges& ranges, PrefetchMode mode) {
  std::unique_lock lk(mu_);
  const uint64_t id = next_id_++;
  if (busy_) cancel_.store(true);  // latest wins; the thread picks up the new job as soon as it stops
  stats_ = PrefetchStats{};
  stats_.id = id;
  stats_.mode = mode;
  if (mode == PrefetchMode::off || file_.data() == nullptr) {
    pending_.reset();
    stats_.state = PrefetchState::done;
    return id;
  }
  Job job{id, ranges.clamp(file_.size()), mode, now_ns()};
  stats_.state = PrefetchState::running;
  stats_.bytes_requested = job.ranges.bytes();
  pending_ = std::move(job);
  lk.unlock();
  work_cv_.notify_one();
  return id;
}

void Prefetcher::cancel() {
  std::unique_lock lk(mu_);
  if (pending_) {
    if (stats_.id == pending_->id) {
      stats_.state = PrefetchState::cancelled;
      stats_.elapsed_ns = now_ns() - pending_->t0_ns;
    }
    pending_.reset();
  }
  if (busy_) {
    cancel_.store(true);
    idle_cv_.wait(lk, [this] { return !busy_; });
  }
}

Result<AdviseStats> Prefetcher::release(const ByteRanges& ranges) {
  cancel();
  return release_ranges(file_, ranges);
}

bool Prefetcher::wait(std::chrono::nanoseconds timeout) {
  std::unique_lock lk(mu_);
  return idle_cv_.wait_for(lk, timeout, [this] { return !busy_ && !pending_; });
}

PrefetchStats Prefetcher::stats() const {
  std::lock_guard lk(mu_);
  PrefetchStats s = stats_;
  if (s.state == PrefetchState::running) s.elapsed_ns = now_ns() - t0_ns_;
  return s;
}

void Prefetcher::lower_priority() const {
  const pid_t tid = ::gettid();
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), options_.nice) != 0)
    log::debug("prefetch: cannot set nice {}", options_.nice);
  if (options_.lowest_io_priority) {
    constexpr int kWhoProcess = 1, kClassBestEffort = 2, kClassShift = 13, kLowestLevel = 7;
    if (::syscall(SYS_ioprio_set, kWhoProcess, tid, (kClassBestEffort << kClassShift) | kLowestLevel) != 0)
      log::debug("prefetch: cannot lower the I/O priority");
  }
}

void Prefetcher::run() {
  lower_priority();
  std::unique_lock lk(mu_);
  for (;;) {
    work_cv_.wait(lk, [this] { return stop_ || pending_.has_value(); });
    if (stop_) break;
    const Job job = std::move(*pending_);
    pending_.reset();
    busy_ = true;
    cancel_.store(false);
    t0_ns_ = job.t0_ns;
    lk.unlock();
    do_job(job);
    lk.lock();
    busy_ = false;
    idle_cv_.notify_all();
  }
  busy_ = false;
  idle_cv_.notify_all();
}

void Prefetcher::do_job(const Job& job) {
  uint64_t advised = 0, touched = 0;
  int64_t faults = 0;
  PrefetchState state = PrefetchState::done;
  std::string error;
  auto advice = advise_willneed(file_, job.ranges, chunk_bytes_, &cancel_);
  if (!advice) {
    state = PrefetchState::failed;
    error = advice.status().message();
  } else {
    advised = advice->bytes;
    if (job.mode == PrefetchMode::touch && advised == job.ranges.bytes()) {
      const PageIn p = page_in(file_, job.ranges, &cancel_);
      touched = p.bytes;
      faults = p.major_faults;
    }
    if (cancel_.load()) state = PrefetchState::cancelled;
  }
  std::lock_guard lk(mu_);
  if (stats_.id != job.id) return;  // a newer prefetch owns the stats
  stats_.state = state;
  stats_.bytes_advised = advised;
  stats_.bytes_touched = touched;
  stats_.major_faults = faults;
  stats_.elapsed_ns = now_ns() - job.t0_ns;
  stats_.error = std::move(error);
}

}  // namespace prima::memory
