// Test helpers: a temporary file on a disk-backed file system (page-cache behaviour differs on tmpfs), with
// known content, and a fake /proc + /sys tree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace prima::memory::testing {

// A directory on a disk-backed file system for page-cache tests: $TMPDIR, /var/tmp, /tmp or the working
// directory, the first that is not tmpfs. "" when there is none.
std::string disk_temp_dir();

// The 8-byte word the test files hold at `offset` (a multiple of 8).
uint64_t pattern_at(uint64_t offset);

class TempFile {
 public:
  // Creates `bytes` bytes of pattern_at() content in `dir`, synced and dropped from the page cache (cold).
  TempFile(uint64_t bytes, const std::string& dir);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  void drop_cache() const;  // posix_fadvise(DONTNEED) on this file only

 private:
  std::string path_;
};

// `content` written to a new file in `dir` 4 KiB at a time and synced: the page cache keeps it, clean, in the
// 4 KiB folios those writes made (as after a download or `cp`). Removed at the end.
class SmallFolioFile {
 public:
  SmallFolioFile(std::string_view content, const std::string& dir);
  ~SmallFolioFile();
  SmallFolioFile(const SmallFolioFile&) = delete;
  SmallFolioFile& operator=(const SmallFolioFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};
// `bytes` bytes of pattern_at() content.
std::string pattern_bytes(uint64_t bytes);

// A scratch directory tree, removed at the end; write() creates parent directories.
class FakeTree {
 public:
  FakeTree();
  ~FakeTree();
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;
  const std::string& root() const { return root_; }
  void write(const std::string& path, const std::string& content) const;  // path like "/proc/meminfo"

 private:
  std::string root_;
};

}  // namespace prima::memory::testing
