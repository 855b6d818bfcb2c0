#include "scheduler/device_profile.h"

namespace prima::scheduler {

std::string_view os_name(Os os) {
  switch (os) {
    case Os::Linux:
      return "linux";
    case Os::MacOS:
      return "macos";
    case Os::Android:
      return "android";
    case Os::Windows:
      return "windows";
  }
  return "linux";
}

std::optional<Os> os_from_name(std::string_view name) {
  for (Os os : {Os::Linux, Os::MacOS, Os::Android, Os::Windows})
    if (os_name(os) == name) return os;
  return std::nullopt;
}

std::optional<double> throughput_for(const TypeThroughput& t, std::string_view type) {
  if (auto it = t.find(type); it != t.end()) return it->second;
  if (auto it = t.find("*"); it != t.end()) return it->second;
  return std::nullopt;
}

double DeviceProfile::overflow_read_speed() const {
  switch (os) {
    case Os::Linux:
    case Os::Android:
      return disk_seq_read;
    case Os::MacOS:
    case Os::Windows:
      return disk_rand_read;
  }
  return disk_seq_read;
}

}  // namespace prima::scheduler
