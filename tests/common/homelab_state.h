// The machine's one homelab lab (../shared/tools/homelab keeps its state in /run/homelab/lab.json): whether one is
// up, and whether it still has a test's devices. Another process on this machine (another checkout's test run)
// may replace or take down the lab at any time; CTest's RESOURCE_LOCK only orders our own tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>

namespace prima::test {

inline constexpr char kHomelabState[] = "/run/homelab/lab.json";

inline bool homelab_lab_up() { return std::filesystem::exists(kHomelabState); }

// Whether the lab that is up now has every one of `devices` (by name): still the lab this test brought up.
inline bool homelab_lab_has(std::initializer_list<std::string_view> devices) {
  std::ifstream in(kHomelabState);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::string_view d : devices)
    if (text.find(d) == std::string::npos) return false;
  return !text.empty();
}

}  // namespace prima::test
