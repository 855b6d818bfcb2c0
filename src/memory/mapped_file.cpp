#include "memory/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"
#include "memory/huge_pages.h"

namespace prima::memory {
namespace {

// Maps the file at an address that is a multiple of the huge page size (when the file spans one), so that file
// offset and address agree modulo a huge page: the condition for the kernel to map a 2 MiB page-cache folio with
// one PMD entry (huge_pages.h). Reserves the size plus one huge page, maps the file over it at the first
// boundary and returns the slack.
const uint8_t* map_aligned(int fd, uint64_t size, const std::string& path) {
  const auto n = static_cast<size_t>(size);
  const uint64_t h = huge_page_size();
  if (size < h) {
    void* p = ::mmap(nullptr, n, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) fail("{}: cannot mmap {} bytes: {}", path, size, std::strerror(errno));
    return static_cast<const uint8_t*>(p);
  }
  const size_t reserved = n + static_cast<size_t>(h);
  void* r = ::mmap(nullptr, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) fail("{}: cannot reserve {} bytes of address space: {}", path, reserved, std::strerror(errno));
  const auto lo = reinterpret_cast<uintptr_t>(r);
  const uintptr_t at = (lo + h - 1) & ~static_cast<uintptr_t>(h - 1);
  void* p = ::mmap(reinterpret_cast<void*>(at), n, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    const int e = errno;
    ::munmap(r, reserved);
    fail("{}: cannot mmap {} bytes: {}", path, size, std::strerror(e));
  }
  const uintptr_t end = at + (n + page_size() - 1) / page_size() * page_size();
  if (at > lo) ::munmap(r, at - lo);
  if (lo + reserved > end) ::munmap(reinterpret_cast<void*>(end), lo + reserved - end);
  return static_cast<const uint8_t*>(p);
}

}  // namespace

MappedFile MappedFile::open(const std::string& path) {
  MappedFile m;
  m.path_ = path;
  m.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m.fd_ < 0) fail("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(m.fd_, &st) != 0) fail("{}: cannot stat: {}", path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail("{}: not a regular file", path);
  m.size_ = static_cast<uint64_t>(st.st_size);
  if (m.size_ > 0) m.data_ = map_aligned(m.fd_, m.size_, path);
  return m;
}

MappedFile MappedFile::open(const std::string& path, const ByteRanges& owned) {
  MappedFile m = open(path);
  const Status st = map_only(m, owned);
  if (!st) fail("{}: {}", path, st.message());
  return m;
}

MappedFile::MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    close();
    path_ = std::move(o.path_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

MappedFile::~MappedFile() { close(); }

void MappedFile::close() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), static_cast<size_t>(size_));
  if (fd_ >= 0) ::close(fd_);
  data_ = nullptr;
  fd_ = -1;
  size_ = 0;
}

Status map_only(const MappedFile& file, const ByteRanges& owned) {
  if (file.data() == nullptr) return Status::ok();  // an empty file has no mapping
  auto* base = const_cast<uint8_t*>(file.data());
  const ByteRanges all = ByteRanges::whole(file.size());
  const ByteRanges keep = owned.clamp(file.size());
  // Not owned: replace with a reservation. MAP_FIXED replaces atomically, so the addresses are never free.
  for (const ByteRange& r : all.subtract(keep)) {
    void* p = ::mmap(base + r.begin, r.size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                     -1, 0);
    if (p == MAP_FAILED)
      return Status::error(Status::Code::io, "cannot reserve [{:#x}, {:#x}): {}", r.begin, r.end, std::strerror(errno));
  }
  // Owned: a view of the file at base + offset, as in the whole-file mapping.
  for (const ByteRange& r : keep) {
    void* p = ::mmap(base + r.begin, r.size(), PROT_READ, MAP_SHARED | MAP_FIXED, file.fd(), static_cast<off_t>(r.begin));
    if (p == MAP_FAILED)
      return Status::error(Status::Code::io, "cannot map [{:#x}, {:#x}): {}", r.begin, r.end, std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace prima::memory
