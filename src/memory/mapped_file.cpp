#include "memory/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace prima::memory {

MappedFile MappedFile::open(const std::string& path) {
  MappedFile m;
  m.path_ = path;
  m.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m.fd_ < 0) fail("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(m.fd_, &st) != 0) fail("{}: cannot stat: {}", path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail("{}: not a regular file", path);
  m.size_ = static_cast<uint64_t>(st.st_size);
  if (m.size_ > 0) {
    void* p = ::mmap(nullptr, static_cast<size_t>(m.size_), PROT_READ, MAP_SHARED, m.fd_, 0);
    if (p == MAP_FAILED) fail("{}: cannot mmap {} bytes: {}", path, m.size_, std::strerror(errno));
    m.data_ = static_cast<const uint8_t*>(p);
  }
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
