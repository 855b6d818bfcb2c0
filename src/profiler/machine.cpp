#include "profiler/machine.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>

#include "kernels/isa.h"
#include "memory/proc_files.h"

namespace prima::profiler {
namespace {

std::string trim(std::string s) {
  const auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && sp(s.back())) s.pop_back();
  size_t b = 0;
  while (b < s.size() && sp(s[b])) ++b;
  return s.substr(b);
}

// The value of the first "key : value" line of /proc/cpuinfo.
std::string cpuinfo_field(const std::string& text, const std::string& key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    const size_t colon = line.find(':');
    if (colon == std::string::npos || trim(line.substr(0, colon)) != key) continue;
    return trim(line.substr(colon + 1)).substr(0, 128);
  }
  return "";
}

scheduler::Os this_os() {
#if defined(__ANDROID__)
  return scheduler::Os::Android;
#elif defined(__APPLE__)
  return scheduler::Os::MacOS;
#elif defined(_WIN32)
  return scheduler::Os::Windows;
#else
  return scheduler::Os::Linux;
#endif
}

}  // namespace

uint64_t parse_cache_size(const std::string& text) {
  std::string s = trim(text);
  uint64_t unit = 1;
  if (!s.empty() && (s.back() == 'K' || s.back() == 'k')) unit = 1024;
  if (!s.empty() && s.back() == 'M') unit = 1024 * 1024;
  if (unit != 1) s.pop_back();
  const auto v = memory::parse_u64(s);
  if (!v || *v > (uint64_t{1} << 40) / unit) return 0;
  return *v * unit;
}

std::string device_name_from(const std::string& hostname) {
  std::string n;
  for (char c : hostname) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    n.push_back(ok ? c : '-');
    if (n.size() == 64) break;
  }
  return n.empty() ? "device" : n;
}

MachineInfo probe_machine(const std::string& root) {
  MachineInfo m;
  m.os = this_os();
  if (const auto cpuinfo = memory::read_text(root + "/proc/cpuinfo", 4 << 20)) {
    for (const char* key : {"model name", "Hardware", "Processor", "CPU part"}) {
      m.cpu_model = cpuinfo_field(*cpuinfo, key);
      if (!m.cpu_model.empty()) break;
    }
  }
  if (root.empty()) {
    struct utsname u {};
    if (::uname(&u) == 0) m.kernel = u.release;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) m.hostname = host;
  } else {
    m.kernel = trim(memory::read_text(root + "/proc/sys/kernel/osrelease").value_or(""));
    m.hostname = trim(memory::read_text(root + "/proc/sys/kernel/hostname").value_or(""));
  }
  m.isa = std::string(kernels::isa_name(kernels::active_isa()));
  int best_level = 0;
  for (int i = 0; i < 16; ++i) {
    const std::string dir = root + "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i);
    const auto level = memory::read_text(dir + "/level");
    const auto type = memory::read_text(dir + "/type");
    const auto size = memory::read_text(dir + "/size");
    if (!level || !type || !size) continue;
    const auto lv = memory::parse_u64(*level);
    if (!lv || trim(*type) == "Instruction") continue;
    const uint64_t bytes = parse_cache_size(*size);
    if (*lv == 2) m.l2_bytes = bytes;
    if (static_cast<int>(*lv) >= best_level) {
      best_level = static_cast<int>(*lv);
      m.llc_bytes = bytes;
    }
  }
  return m;
}

}  // namespace prima::profiler
