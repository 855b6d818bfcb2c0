#include "profiler/cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/json_depth.h"
#include "memory/proc_files.h"

namespace prima::profiler {
namespace {

using nlohmann::json;
constexpr const char* kFormat = "prima-profile-cache";
constexpr int kVersion = 1;

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

Status write_all(int fd, const std::string& s, const std::string& path) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::error(Status::Code::io, "{}: write failed: {}", path, std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

}  // namespace

std::string cache_path(const std::string& dir, const json& key) {
  return fmt::format("{}/{:016x}.json", dir, fnv1a(key.dump()));
}

std::optional<CacheEntry> cache_load(const std::string& path, const json& key, std::string* why) {
  why->clear();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;  // no cache yet: not worth a word
  if (!S_ISREG(st.st_mode)) {
    *why = "not a regular file";
    return std::nullopt;
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxCacheFile) {
    *why = fmt::format("{} bytes, more than a profile can be", st.st_size);
    return std::nullopt;
  }
  const auto text = memory::read_text(path, kMaxCacheFile + 1);
  if (!text) {
    *why = "cannot read it";
    return std::nullopt;
  }
  // The parser's own depth is bounded by the file size (1 MiB); nlohmann recurses per level, so refuse deep
  // nesting first, as the cluster file parser does.
  if (json_depth(*text, 32) > 32) {
    *why = "nested too deeply";
    return std::nullopt;
  }
  const json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *why = "not a JSON object";
    return std::nullopt;
  }
  const auto f = j.find("format");
  const auto v = j.find("version");
  if (f == j.end() || *f != kFormat || v == j.end() || *v != kVersion) {
    *why = fmt::format("not a {} version {} file", kFormat, kVersion);
    return std::nullopt;
  }
  const auto k = j.find("key");
  if (k == j.end() || *k != key) {
    *why = "made for another machine, model or prima version";
    return std::nullopt;
  }
  const auto p = j.find("profile");
  const auto m = j.find("measured");
  if (p == j.end() || !p->is_object() || m == j.end() || !m->is_object()) {
    *why = "no profile in it";
    return std::nullopt;
  }
  return CacheEntry{*p, *m};
}

Status cache_store(const std::string& path, const json& key, const CacheEntry& entry) {
  const std::filesystem::path file(path);
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return Status::error(Status::Code::io, "{}: cannot create: {}", file.parent_path().string(), ec.message());
  ::chmod(file.parent_path().c_str(), 0700);  // best effort: the profile says what hardware this is

  const json j = {{"format", kFormat}, {"version", kVersion}, {"key", key}, {"profile", entry.profile},
                  {"measured", entry.measured}};
  const std::string text = j.dump(2) + "\n";
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error(Status::Code::io, "{}: cannot create: {}", tmp, std::strerror(errno));
  Status s = write_all(fd, text, tmp);
  if (s && ::fsync(fd) != 0) s = Status::error(Status::Code::io, "{}: fsync failed: {}", tmp, std::strerror(errno));
  ::close(fd);
  if (s && ::rename(tmp.c_str(), path.c_str()) != 0)
    s = Status::error(Status::Code::io, "{}: cannot rename to {}: {}", tmp, path, std::strerror(errno));
  if (!s) ::unlink(tmp.c_str());
  return s;
}

}  // namespace prima::profiler
