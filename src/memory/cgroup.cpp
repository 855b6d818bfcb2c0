#include "memory/cgroup.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "memory/cgroup_path.h"
#include "memory/proc_files.h"

namespace prima::memory {
namespace {

constexpr uint64_t kNoLimit = 1ull << 60;  // v1 writes "no limit" as 2^63 rounded down to a page

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
  // v1 must have its memory files; v2 counts only with the memory controller enabled at its root. (A v2 root
  // group has no memory files but no limit either.)
  if (const auto g = find_cgroup(root, *self, read_text(root + "/proc/self/mountinfo"), "memory", cg.notes,
                                 "memory.usage_in_bytes")) {
    cg.version = g->version;
    cg.path = g->path;
    cg.dir = g->dir;
    read_levels(cg, rd, g->top);
    read_swap(cg, rd);
    return cg;
  }
  rd.note("no memory cgroup found");
  return cg;
}

}  // namespace prima::memory
