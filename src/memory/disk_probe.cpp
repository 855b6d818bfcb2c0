#include "memory/disk_probe.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

#include "core/clock.h"

namespace prima::memory {
namespace {

constexpr uint64_t kAlign = 4096;  // O_DIRECT offsets, sizes and buffers: a multiple of any logical block size

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

enum class ReadResult { ok, not_direct, error };

// One phase: reads of `block` bytes at offsets from `next_offset` until the deadline (at least one read).
template <class NextOffset>
ReadResult run_phase(int fd, uint8_t* buf, uint32_t block, double seconds, uint64_t max_bytes, NextOffset next_offset,
                     ReadSpeed& out, std::string& error) {
  out = ReadSpeed{};
  out.block = block;
  const Stopwatch sw;
  do {
    const uint64_t off = next_offset();
    const ssize_t n = ::pread(fd, buf, block, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL) return ReadResult::not_direct;
    if (n <= 0) {
      error = n < 0 ? std::strerror(errno) : "unexpected end of file";
      return ReadResult::error;
    }
    ++out.reads;
    out.bytes += static_cast<uint64_t>(n);
  } while (sw.elapsed_s() < seconds && out.bytes < max_bytes);
  out.seconds = sw.elapsed_s();
  return ReadResult::ok;
}

}  // namespace

Result<DiskProbe> probe_disk(const std::string& path, const DiskProbeOptions& options) {
  DiskProbe p;
  p.path = path;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | (options.try_direct ? O_DIRECT : 0)));
  if (!options.try_direct) {
    p.direct = false;
    p.note = "plain reads through the page cache (asked for)";
  } else if (fd.get() < 0 && errno == EINVAL) {
    p.direct = false;
    p.note = "O_DIRECT not supported here: plain reads through the page cache";
    fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  }
  if (fd.get() < 0) return Status::error(Status::Code::io, "{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::error(Status::Code::io, "{}: cannot stat: {}", path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Status::error(Status::Code::invalid, "{}: not a regular file", path);
  p.file_bytes = static_cast<uint64_t>(st.st_size);
  struct statfs fs {};
  if (::fstatfs(fd.get(), &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC)) {
    p.in_memory = true;
    p.note = "the file is on tmpfs/ramfs: memory speeds, not a disk";
  }
  const uint64_t usable = p.file_bytes / kAlign * kAlign;  // whole aligned blocks only
  if (usable < kAlign) return Status::error(Status::Code::invalid, "{}: too small for a disk probe (< 4 KiB)", path);

  auto fit = [&](uint32_t block) {
    return static_cast<uint32_t>(std::clamp<uint64_t>(block / kAlign * kAlign, kAlign, usable));
  };
  uint32_t biggest = fit(options.sequential_block);
  for (uint32_t b : options.random_blocks) biggest = std::max(biggest, fit(b));
  std::unique_ptr<uint8_t, FreeDeleter> buf(static_cast<uint8_t*>(std::aligned_alloc(kAlign, biggest)));
  if (!buf) return Status::error(Status::Code::internal, "{}: cannot allocate {} bytes", path, biggest);

  std::mt19937_64 rng(options.seed);
  const double seq_share = options.random_blocks.empty() ? 1.0 : 0.4;
  const double rand_seconds =
      options.random_blocks.empty() ? 0 : options.seconds * (1 - seq_share) / static_cast<double>(options.random_blocks.size());

  // Phases: sequential first, then one per random block size. A file system that accepts O_DIRECT at open
  // but not at read (EINVAL) sends us back to plain reads for every phase.
  for (size_t phase = 0; phase <= options.random_blocks.size(); ++phase) {
    const bool seq = phase == 0;
    const uint32_t block = fit(seq ? options.sequential_block : options.random_blocks[phase - 1]);
    const uint64_t span = usable - block;  // last offset at which a whole block fits
    uint64_t cursor = std::uniform_int_distribution<uint64_t>(0, span / kAlign)(rng) * kAlign;
    auto next = [&]() -> uint64_t {
      if (!seq) return std::uniform_int_distribution<uint64_t>(0, span / kAlign)(rng) * kAlign;
      if (cursor > span) cursor = 0;  // wrap round at the end of the file
      const uint64_t off = cursor;
      cursor += block;
      return off;
    };
    ReadSpeed speed;
    std::string error;
    const uint64_t max_bytes = p.direct ? UINT64_MAX : options.buffered_max_bytes;
    ReadResult r = run_phase(fd.get(), buf.get(), block, seq ? options.seconds * seq_share : rand_seconds, max_bytes,
                             next, speed, error);
    if (r == ReadResult::not_direct && p.direct) {
      p.direct = false;
      p.note = (p.in_memory ? p.note + "; " : "") + "O_DIRECT reads rejected here: plain reads through the page cache";
      fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) return Status::error(Status::Code::io, "{}: cannot reopen: {}", path, std::strerror(errno));
      p.random.clear();
      phase = static_cast<size_t>(-1);  // start again (++phase makes it 0), all phases buffered
      continue;
    }
    if (r != ReadResult::ok)
      return Status::error(Status::Code::io, "{}: read of {} bytes failed: {}", path, block,
                           r == ReadResult::not_direct ? "invalid argument" : error);
    if (seq)
      p.sequential = speed;
    else
      p.random.push_back(speed);
  }
  if (!p.direct) p.note += fmt::format(" (at most {} MiB per phase)", options.buffered_max_bytes >> 20);
  return p;
}

}  // namespace prima::memory
