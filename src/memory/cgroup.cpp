#include "memory/cgroup.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "memory/proc_files.h"

namespace prima::memory {
namespace {

constexpr uint64_t kNoLimit = 1ull << 60;  // v1 writes "no limit" as 2^63 rounded down to a page

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    const size_t next = s.find(sep, pos);
    out.push_back(s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) return out;
    pos = next + 1;
  }
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  for (auto w : split(s, ' '))
    if (!w.empty()) out.push_back(w);
  return out;
}

bool has_token(std::string_view list, std::string_view token) {
  const auto t = split(list, ',');
  return std::find(t.begin(), t.end(), token) != t.end();
}

// cgroup.controllers: space-separated names on one line.
bool has_word(const std::optional<std::string>& text, std::string_view word) {
  if (!text) return false;
  std::string_view t = *text;
  while (!t.empty() && t.back() == '\n') t.remove_suffix(1);
  const auto w = words(t);
  return std::find(w.begin(), w.end(), word) != w.end();
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() &&
        std::all_of(s.begin() + static_cast<long>(i) + 1, s.begin() + static_cast<long>(i) + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Mount {
  std::string root;   // the part of the hierarchy mounted ("/" usually)
  std::string point;  // where
};

// The v1 memory hierarchy (version 1) or the v2 hierarchy (version 2) in /proc/self/mountinfo.
std::optional<Mount> find_mount(std::string_view mountinfo, int version) {
  for (auto line : split(mountinfo, '\n')) {
    const auto f = words(line);
    const auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || f.end() - dash < 4) continue;  // "-" FSTYPE SOURCE SUPEROPTS
    const std::string_view fstype = dash[1], superopts = dash[3];
    const bool match = version == 1 ? (fstype == "cgroup" && has_token(superopts, "memory")) : fstype == "cgroup2";
    if (match) return Mount{unescape(f[3]), unescape(f[4])};
  }
  return std::nullopt;
}

// The directory of `path` under `mount`, or nullopt when the path is not below the mounted root.
std::optional<std::string> group_dir(const std::string& root, const Mount& m, std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  for (auto part : split(path, '/'))
    if (part == "..") return std::nullopt;
  std::string_view rel = path;
  if (m.root != "/") {
    if (rel.substr(0, m.root.size()) != m.root || (rel.size() > m.root.size() && rel[m.root.size()] != '/'))
      return std::nullopt;
    rel.remove_prefix(m.root.size());
  }
  std::string dir = root + m.point;
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  if (!rel.empty()) {
    dir += '/';
    dir.append(rel);
  }
  return dir;
}

class Reader {
 public:
  explicit Reader(CgroupMemory& cg) : cg_(cg) {}
  std::optional<std::string> text(const std::string& path) {
    auto t = read_text(path);
    if (!t) note("{}: cannot read", path);
    return t;
  }
  // A number, or "max" (v2) / a huge value (v1) for no limit: nullopt for no limit and for garbage.
  std::optional<uint64_t> limit(const std::string& path) {
    const auto t = read_text(path);
    if (!t) return std::nullopt;  // parents of the group may lack limit files (v2 root): not worth a note
    std::string_view s = *t;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
    if (s == "max") return std::nullopt;
    const auto v = parse_u64(s);
    if (!v) note("{}: not a number: '{}'", path, s.substr(0, 40));
    if (!v || *v >= kNoLimit) return std::nullopt;
    return v;
  }
  std::optional<uint64_t> number(const std::string& path) {
    const auto t = read_text(path);
    if (!t) return std::nullopt;
    const auto v = parse_u64(*t);
    if (!v) note("{}: not a number", path);
    return v;
  }
  template <class... Args>
  void note(fmt::format_string<Args...> f, Args&&... args) {
    cg_.notes.push_back(fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  CgroupMemory& cg_;
};

uint64_t file_pages(std::string_view stat, int version) {
  const char* active = version == 1 ? "total_active_file" : "active_file";
  const char* inactive = version == 1 ? "total_inactive_file" : "inactive_file";
  return find_field(stat, active).value_or(0) + find_field(stat, inactive).value_or(0);
}

void tighten(std::optional<uint64_t>& v, std::optional<uint64_t> w) {
  if (w && (!v || *w < *v)) v = w;
}

// Walks from the group up to the mount point, taking the tightest limit and the least headroom.
void read_levels(CgroupMemory& cg, Reader& rd, const std::string& top) {
  const bool v1 = cg.version == 1;
  std::string dir = cg.dir;
  for (bool own = true;; own = false) {
    std::optional<uint64_t> lim = rd.limit(dir + (v1 ? "/memory.limit_in_bytes" : "/memory.max"));
    if (!v1) tighten(lim, rd.limit(dir + "/memory.high"));
    const auto usage = rd.number(dir + (v1 ? "/memory.usage_in_bytes" : "/memory.current"));
    const auto stat = read_text(dir + "/memory.stat");
    const uint64_t file = stat ? file_pages(*stat, cg.version) : 0;
    if (own) {
      cg.usage = usage.value_or(0);
      cg.file = file;
      if (stat) {
        cg.anon = find_field(*stat, v1 ? "total_rss" : "anon").value_or(0);
        // v1: the limit of ancestors we may not see (a container's mount root) is still in memory.stat.
        if (v1) {
          std::optional<uint64_t> h = find_field(*stat, "hierarchical_memory_limit");
          if (h && *h >= kNoLimit) h.reset();
          tighten(lim, h);
        }
      } else {
        rd.note("{}/memory.stat: cannot read", dir);
      }
    }
    if (lim) {
      tighten(cg.limit, lim);
      const uint64_t used = usage.value_or(cg.usage), reclaimable = usage ? file : cg.file;
      const uint64_t in_use = used > reclaimable ? used - reclaimable : 0;
      tighten(cg.headroom, *lim > in_use ? *lim - in_use : 0);
    }
    if (dir.size() <= top.size()) break;
    dir.resize(dir.rfind('/'));
    if (dir.size() < top.size()) break;
  }
}

void read_swap(CgroupMemory& cg, Reader& rd) {
  if (cg.version == 1) {
    const auto memsw = rd.limit(cg.dir + "/memory.memsw.limit_in_bytes");
    const auto used = rd.number(cg.dir + "/memory.memsw.usage_in_bytes");
    if (memsw && cg.limit) cg.swap_limit = *memsw > *cg.limit ? *memsw - *cg.limit : 0;
    if (used) cg.swap_usage = *used > cg.usage ? *used - cg.usage : 0;
  } else {
    cg.swap_limit = rd.limit(cg.dir + "/memory.swap.max");
    cg.swap_usage = rd.number(cg.dir + "/memory.swap.current").value_or(0);
  }
}

}  // namespace

CgroupMemory read_cgroup_memory(const std::string& root) {
  CgroupMemory cg;
  Reader rd(cg);
  const auto self = rd.text(root + "/proc/self/cgroup");
  if (!self) return cg;
  std::optional<std::string> v1_path, v2_path;
  for (auto line : split(*self, '\n')) {
    const size_t a = line.find(':');
    const size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (has_token(controllers, "memory")) v1_path = std::string(path);
    if (id == "0" && controllers.empty()) v2_path = std::string(path);
  }
  const auto mountinfo = read_text(root + "/proc/self/mountinfo");
  for (int version : {1, 2}) {
    const auto& path = version == 1 ? v1_path : v2_path;
    if (!path) continue;
    std::optional<Mount> m = mountinfo ? find_mount(*mountinfo, version) : std::nullopt;
    if (!m) m = Mount{"/", version == 1 ? "/sys/fs/cgroup/memory" : "/sys/fs/cgroup"};
    auto dir = group_dir(root, *m, *path);
    if (!dir) {
      rd.note("cgroup path '{}' is not below the mounted root '{}': using the mount point", *path, m->root);
      dir = root + m->point;
    }
    // v1 must have its memory files. v2 counts only with the memory controller enabled at its root (not so
    // on a hybrid host, where memory is a v1 hierarchy); its root group has no memory files but no limit.
    const bool present = version == 1 ? read_text(*dir + "/memory.usage_in_bytes").has_value()
                                      : has_word(read_text(root + m->point + "/cgroup.controllers"), "memory");
    if (!present) continue;
    cg.version = version;
    cg.path = *path;
    cg.dir = *dir;
    read_levels(cg, rd, root + m->point);
    read_swap(cg, rd);
    return cg;
  }
  rd.note("no memory cgroup found");
  return cg;
}

}  // namespace prima::memory
