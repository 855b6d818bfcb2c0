#include "profiler/cpu_limits.h"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "memory/cgroup_path.h"
#include "memory/proc_files.h"

namespace prima::profiler {
namespace {

using memory::CgroupGroup;
using memory::parse_u64;
using memory::read_text;
using memory::split;
using memory::trim;
using memory::words;

constexpr int kMaxCpus = 1 << 16;

// A signed decimal ("-1" is v1's "no quota"), nullopt for garbage.
std::optional<int64_t> parse_i64(std::string_view s) {
  s = trim(s);
  const bool neg = !s.empty() && s.front() == '-';
  if (neg) s.remove_prefix(1);
  const auto v = parse_u64(s);
  if (!v || *v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return neg ? -static_cast<int64_t>(*v) : static_cast<int64_t>(*v);
}

struct Quota {
  double cores = 0;
  double period_s = 0;
};

// Quota of one level; nullopt for no quota (and for files that are absent or garbage: noted).
std::optional<Quota> level_quota(const CgroupGroup& g, const std::string& dir, std::vector<std::string>& notes) {
  if (g.version == 1) {
    const auto q = read_text(dir + "/cpu.cfs_quota_us");
    const auto p = read_text(dir + "/cpu.cfs_period_us");
    if (!q || !p) return std::nullopt;  // ancestors above a container's view may lack them
    const auto quota = parse_i64(*q);
    const auto period = parse_i64(*p);
    if (!quota || !period || *period <= 0) {
      notes.push_back(fmt::format("{}: cpu.cfs_quota_us / cpu.cfs_period_us do not parse", dir));
      return std::nullopt;
    }
    if (*quota < 0) return std::nullopt;  // -1: no quota
    return Quota{static_cast<double>(*quota) / static_cast<double>(*period), static_cast<double>(*period) * 1e-6};
  }
  const auto t = read_text(dir + "/cpu.max");
  if (!t) return std::nullopt;  // the v2 root group has no cpu.max
  const auto w = words(trim(*t));
  if (w.empty() || w.size() > 2) {
    notes.push_back(fmt::format("{}/cpu.max: does not parse", dir));
    return std::nullopt;
  }
  if (w[0] == "max") return std::nullopt;
  const auto quota = parse_u64(w[0]);
  const auto period = w.size() == 2 ? parse_u64(w[1]) : std::optional<uint64_t>(100000);
  if (!quota || !period || *period == 0) {
    notes.push_back(fmt::format("{}/cpu.max: does not parse", dir));
    return std::nullopt;
  }
  return Quota{static_cast<double>(*quota) / static_cast<double>(*period), static_cast<double>(*period) * 1e-6};
}

// Tightest quota from the group up to the mount point.
std::optional<Quota> read_quota(const CgroupGroup& g, std::vector<std::string>& notes) {
  std::optional<Quota> best;
  std::string dir = g.dir;
  for (;;) {
    const auto q = level_quota(g, dir, notes);
    if (q && (!best || q->cores < best->cores)) best = q;
    if (dir.size() <= g.top.size()) break;
    const size_t slash = dir.rfind('/');
    if (slash == std::string::npos || slash < g.top.size()) break;
    dir.resize(slash);
  }
  return best;
}

std::optional<std::string> read_cpuset(const CgroupGroup& g) {
  if (g.version == 1) {
    for (const char* f : {"/cpuset.effective_cpus", "/cpuset.cpus"})
      if (auto t = read_text(g.dir + f); t && !trim(*t).empty()) return std::string(trim(*t));
    return std::nullopt;
  }
  std::string dir = g.dir;
  for (;;) {
    if (auto t = read_text(dir + "/cpuset.cpus.effective"); t && !trim(*t).empty()) return std::string(trim(*t));
    if (dir.size() <= g.top.size()) return std::nullopt;
    const size_t slash = dir.rfind('/');
    if (slash == std::string::npos || slash < g.top.size()) return std::nullopt;
    dir.resize(slash);
  }
}

std::optional<int> count_list(std::string_view text) {
  const auto cpus = parse_cpu_list(text);
  if (!cpus || cpus->empty()) return std::nullopt;
  return static_cast<int>(cpus->size());
}

// Cpus_allowed_list of /proc/self/status.
std::optional<int> status_affinity(std::string_view status) {
  for (auto line : split(status, '\n')) {
    constexpr std::string_view key = "Cpus_allowed_list:";
    if (line.substr(0, key.size()) == key) return count_list(line.substr(key.size()));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
  text = trim(text);
  std::vector<int> cpus;
  if (text.empty()) return cpus;
  for (auto part : split(text, ',')) {
    const size_t dash = part.find('-');
    const auto a = parse_u64(part.substr(0, dash));
    const auto b = dash == std::string_view::npos ? a : parse_u64(part.substr(dash + 1));
    if (!a || !b || *a > *b || *b >= kMaxCpus) return std::nullopt;
    for (uint64_t c = *a; c <= *b; ++c) cpus.push_back(static_cast<int>(c));
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

int CpuLimits::threads() const {
  const int want = static_cast<int>(std::ceil(effective_cores - 0.05));
  return std::clamp(want, 1, std::max(1, cpus));
}

CpuLimits read_cpu_limits(const std::string& root) {
  CpuLimits c;
  if (const auto t = read_text(root + "/sys/devices/system/cpu/online"); t && count_list(*t)) {
    c.online = *count_list(*t);
  } else {
    c.notes.push_back("/sys/devices/system/cpu/online: cannot read");
  }
  if (const auto st = read_text(root + "/proc/self/status")) c.affinity = status_affinity(*st).value_or(0);
  if (root.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
      const int n = CPU_COUNT(&set);
      if (n > 0 && (c.affinity == 0 || n < c.affinity)) c.affinity = n;
    }
  }

  const auto self = read_text(root + "/proc/self/cgroup");
  const auto mountinfo = read_text(root + "/proc/self/mountinfo");
  if (!self) {
    c.notes.push_back("/proc/self/cgroup: cannot read (no cgroup limits applied)");
  } else {
    if (const auto g = memory::find_cgroup(root, *self, mountinfo, "cpu", c.notes)) {
      c.quota_version = g->version;
      c.quota_path = g->path;
      if (const auto q = read_quota(*g, c.notes)) {
        c.quota = q->cores;
        c.period_seconds = q->period_s;
      }
    }
    if (const auto g = memory::find_cgroup(root, *self, mountinfo, "cpuset", c.notes)) {
      if (const auto list = read_cpuset(*g)) {
        c.cpuset = count_list(*list);
        if (c.cpuset)
          c.cpuset_list = *list;
        else
          c.notes.push_back(fmt::format("{}: cpuset '{}' does not parse", g->dir, list->substr(0, 40)));
      }
    }
  }

  int cpus = c.online > 0 ? c.online : kMaxCpus;
  if (c.affinity > 0) cpus = std::min(cpus, c.affinity);
  if (c.cpuset) cpus = std::min(cpus, *c.cpuset);
  if (cpus == kMaxCpus) cpus = 1;
  c.cpus = std::max(1, cpus);
  c.effective_cores = static_cast<double>(c.cpus);
  if (c.quota && *c.quota > 0) c.effective_cores = std::min(c.effective_cores, *c.quota);
  if (c.quota && *c.quota <= 0) c.notes.push_back("CPU quota of 0: ignored");
  return c;
}

}  // namespace prima::profiler
