// A read-only, shared memory mapping of a whole file. Weights are never copied out of it: pages come in on
// first touch and, being clean file pages, the kernel may drop them at any time (DESIGN.md §1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace prima::memory {

class MappedFile {
 public:
  // Maps `path` read-only (MAP_SHARED). Throws prima::Error naming the file on failure.
  static MappedFile open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, static_cast<size_t>(size_)}; }
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  bool is_open() const { return data_ != nullptr || (fd_ >= 0 && size_ == 0); }

 private:
  void close();
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  int fd_ = -1;
};

}  // namespace prima::memory
