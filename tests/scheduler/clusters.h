// Synthetic clusters for the scheduler tests.
#pragma once

#include <string>
#include <vector>

#include "scheduler/device_profile.h"

namespace prima::scheduler::testing {

constexpr double GiB = 1073741824.0;
constexpr double GB = 1e9;
constexpr double GFLOPS = 1e9;

inline DeviceProfile device(std::string name, Os os, double avail_gib, double seq_gbs, double rand_gbs,
                            double q4k_gflops, double mem_gbs) {
  DeviceProfile d;
  d.name = std::move(name);
  d.os = os;
  d.cores = 8;
  d.cpu_decode_flops = {
      {"Q4_K", q4k_gflops * GFLOPS}, {"Q6_K", 0.8 * q4k_gflops * GFLOPS}, {"F16", 0.5 * q4k_gflops * GFLOPS}};
  d.memory_available = static_cast<uint64_t>(avail_gib * GiB);
  d.memory_total = 2 * d.memory_available;
  d.memory_read_bandwidth = mem_gbs * GB;
  d.disk_seq_read = seq_gbs * GB;
  d.disk_rand_read = rand_gbs * GB;
  d.link.rtt = 0.005;            // Wi-Fi
  d.link.bandwidth = 300e6 / 8;  // 300 Mbit/s
  return d;
}

// The paper's four-device testbed (free memory and disk read speed from the paper; the Mac re-reads at its
// random-read speed), ring order with the Mac as head.
inline std::vector<DeviceProfile> paper_testbed() {
  return {
      device("laptop-i9", Os::Linux, 4.1, 2.98, 1.1, 60, 40),
      device("desktop-i9", Os::Linux, 9.7, 3.17, 1.2, 100, 60),
      device("phone", Os::Android, 1.9, 1.37, 0.4, 20, 20),
      device("mac-m1", Os::MacOS, 2.4, 2.5, 0.72, 50, 60),
  };
}

}  // namespace prima::scheduler::testing
