#include "memory/cgroup_path.h"

#include <fmt/format.h>

#include <algorithm>

#include "memory/proc_files.h"

namespace prima::memory {
namespace {

struct Mount {
  std::string root;   // the part of the hierarchy mounted ("/" usually)
  std::string point;  // where
};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool octal = s[i] == '\\' && i + 3 < s.size() &&
                       std::all_of(s.begin() + static_cast<long>(i) + 1, s.begin() + static_cast<long>(i) + 4,
                                   [](char c) { return c >= '0' && c <= '7'; });
    if (octal) {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The v1 hierarchy carrying `controller`, or (version 2) the cgroup2 mount.
std::optional<Mount> find_mount(std::string_view mountinfo, int version, std::string_view controller) {
  for (auto line : split(mountinfo, '\n')) {
    const auto f = words(line);
    const auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || f.end() - dash < 4) continue;  // "-" FSTYPE SOURCE SUPEROPTS
    const std::string_view fstype = dash[1], superopts = dash[3];
    const bool match = version == 1 ? fstype == "cgroup" && has_token(superopts, controller) : fstype == "cgroup2";
    if (match) return Mount{unescape(f[3]), unescape(f[4])};
  }
  return std::nullopt;
}

// The directory of cgroup `path` under the mount, nullopt when the path is not below the mounted root.
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
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  std::string dir = root + m.point;
  if (!rel.empty()) dir += "/" + std::string(rel);
  return dir;
}

}  // namespace

std::optional<CgroupGroup> find_cgroup(const std::string& root, std::string_view self,
                                       const std::optional<std::string>& mountinfo, std::string_view controller,
                                       std::vector<std::string>& notes, std::string_view v1_file) {
  std::optional<std::string> v1_path, v2_path;
  for (auto line : split(self, '\n')) {
    const size_t a = line.find(':');
    const size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1);
    const std::string_view path = trim(line.substr(b + 1));
    if (has_token(controllers, controller)) v1_path = std::string(path);
    if (id == "0" && controllers.empty()) v2_path = std::string(path);
  }
  for (int version : {1, 2}) {
    const auto& path = version == 1 ? v1_path : v2_path;
    if (!path) continue;
    std::optional<Mount> m = mountinfo ? find_mount(*mountinfo, version, controller) : std::nullopt;
    if (!m) m = Mount{"/", version == 1 ? "/sys/fs/cgroup/" + std::string(controller) : "/sys/fs/cgroup"};
    if (version == 2) {
      const auto ctl = read_text(root + m->point + "/cgroup.controllers");
      if (!ctl) continue;
      const auto w = words(trim(*ctl));
      if (std::find(w.begin(), w.end(), controller) == w.end()) continue;
    }
    auto dir = group_dir(root, *m, *path);
    if (!dir) {
      notes.push_back(fmt::format("{} cgroup path '{}' is not below the mounted root '{}': using the mount point",
                                  controller, *path, m->root));
      dir = root + m->point;
    }
    if (version == 1 && !v1_file.empty() && !read_text(*dir + "/" + std::string(v1_file))) continue;
    return CgroupGroup{version, *path, *dir, root + m->point};
  }
  return std::nullopt;
}

}  // namespace prima::memory
