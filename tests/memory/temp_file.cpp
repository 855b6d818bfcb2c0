#include "temp_file.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace prima::memory::testing {

std::string disk_temp_dir() {
  std::vector<std::string> dirs;
  if (const char* t = std::getenv("TMPDIR")) dirs.emplace_back(t);
  dirs.insert(dirs.end(), {"/var/tmp", "/tmp", std::filesystem::current_path().string()});
  for (const auto& d : dirs) {
    struct statfs s {};
    if (::statfs(d.c_str(), &s) == 0 && s.f_type != TMPFS_MAGIC && ::access(d.c_str(), W_OK) == 0) return d;
  }
  return "";
}

uint64_t pattern_at(uint64_t offset) { return offset * 0x9E3779B97F4A7C15ull ^ 0x5bd1e995ull; }

TempFile::TempFile(uint64_t bytes, const std::string& dir) {
  std::string tmpl = dir + "/prima-memtest-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed in " + dir);
  path_ = tmpl;
  std::vector<uint64_t> buf(1 << 17);  // 1 MiB
  for (uint64_t off = 0; off < bytes;) {
    const uint64_t n = std::min<uint64_t>(bytes - off, buf.size() * 8);
    for (uint64_t i = 0; i < (n + 7) / 8; ++i) buf[i] = pattern_at(off + i * 8);
    if (::pwrite(fd, buf.data(), n, static_cast<off_t>(off)) != static_cast<ssize_t>(n)) {
      ::close(fd);
      throw std::runtime_error("cannot write " + path_);
    }
    off += n;
  }
  ::fdatasync(fd);  // dirty pages cannot be dropped
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

TempFile::~TempFile() { ::unlink(path_.c_str()); }

void TempFile::drop_cache() const {
  const int fd = ::open(path_.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

SmallFolioFile::SmallFolioFile(std::string_view content, const std::string& dir) {
  std::string tmpl = dir + "/prima-smallfolio-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed in " + dir);
  path_ = tmpl;
  for (size_t off = 0; off < content.size(); off += 4096) {
    const size_t n = std::min<size_t>(4096, content.size() - off);
    if (::pwrite(fd, content.data() + off, n, static_cast<off_t>(off)) != static_cast<ssize_t>(n)) {
      ::close(fd);
      throw std::runtime_error("cannot write " + path_);
    }
  }
  ::fdatasync(fd);  // dirty pages cannot be dropped
  ::close(fd);
}

SmallFolioFile::~SmallFolioFile() { ::unlink(path_.c_str()); }

std::string pattern_bytes(uint64_t bytes) {
  std::string s(static_cast<size_t>(bytes), '\0');
  for (uint64_t off = 0; off < bytes; off += 8) {
    const uint64_t v = pattern_at(off);
    std::memcpy(s.data() + off, &v, static_cast<size_t>(std::min<uint64_t>(8, bytes - off)));
  }
  return s;
}

FakeTree::FakeTree() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "prima-fake-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
}

FakeTree::~FakeTree() {
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

void FakeTree::write(const std::string& path, const std::string& content) const {
  const std::filesystem::path p = root_ + path;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

}  // namespace prima::memory::testing
