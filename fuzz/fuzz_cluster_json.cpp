// libFuzzer target for the cluster-file JSON parser (src/scheduler/profile_json.h): any bytes must either parse to
// device profiles or throw prima::Error with a message — never crash, throw anything else, read out of bounds or
// recurse without bound — and whatever parses must survive a round trip: written back (cluster_to_json) it parses
// again to the very same file. The same bytes also go through parse_device_json (the profile cache, ProfileReply).
//
// PRIMA_FUZZ_SEEDS=DIR ./fuzz_cluster_json   writes a few cluster files into DIR and exits.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "scheduler/profile_json.h"

using namespace prima;
using namespace prima::scheduler;

namespace {

void write_file(const std::string& path, const std::string& text) {
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
}

void write_seeds(const char* dir) {
  DeviceProfile a;
  a.name = "laptop";
  a.cores = 8;
  a.cpu_decode_flops = {{"Q4_K", 4e10}, {"Q6_K", 3e10}, {"F16", 2e10}, {"*", 1e10}};
  a.cpu_prefill_flops = {{"Q4_K", 1.2e11}};
  a.memory_available = 4ull << 30;
  a.memory_total = 16ull << 30;
  a.swap = 2ull << 30;
  a.memory_read_bandwidth = 5e10;
  a.disk_seq_read = 3e9;
  a.disk_rand_read = 8e8;
  a.link = {0.005, 3.75e7};
  DeviceProfile b = a;
  b.name = "mac";
  b.os = Os::MacOS;
  b.gpu = {"m1", 4ull << 30, {{"Q4_K", 2e12}}, 6e10};
  const std::vector<DeviceProfile> both = {a, b};
  write_file(std::string(dir) + "/seed_cluster.json", cluster_to_json(both));
  write_file(std::string(dir) + "/seed_device.json", device_to_json(a));
  write_file(std::string(dir) + "/seed_units.json", R"({"format": "prima-cluster", "version": 1, "comment": "units",
  "devices": [{"name": "phone", "os": "android", "cores": 8,
    "cpu": {"decode": {"Q4_K": "40 GFLOP/s", "*": "24 GFLOP/s"}, "prefill": {"Q4_K": "120 GFLOP/s"}},
    "memory": {"available": "1.9 GiB", "total": "8 GiB", "swap": "2 GiB", "read_bandwidth": "10 GB/s"},
    "disk": {"seq_read": "1.37 GB/s", "rand_read": "400 MB/s"},
    "gpu": {"name": "none", "vram": 0, "decode": {}, "read_bandwidth": 0},
    "link": {"rtt": "5 ms", "bandwidth": "300 Mbit/s"}, "_note": [1, {"x": null}]}]}
)");
  std::printf("wrote 3 seeds to %s\n", dir);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("PRIMA_FUZZ_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<DeviceProfile> devices;
  try {
    devices = parse_cluster_json(text, "fuzz.json");
  } catch (const Error& e) {
    if (std::string_view(e.what()).empty()) std::abort();
  }
  if (!devices.empty()) {
    const std::string written = cluster_to_json(devices);
    std::vector<DeviceProfile> again;
    try {
      again = parse_cluster_json(written, "written.json");
    } catch (const Error& e) {
      std::fprintf(stderr, "a parsed cluster file does not parse once written back: %s\n%s\n", e.what(), written.c_str());
      std::abort();
    }
    if (cluster_to_json(again) != written) std::abort();
  }
  std::string device;
  try {
    device = device_to_json(parse_device_json(text, "fuzz-device.json"));
  } catch (const Error& e) {
    if (std::string_view(e.what()).empty()) std::abort();
    return 0;
  }
  try {
    if (device_to_json(parse_device_json(device, "written-device.json")) != device) std::abort();
  } catch (const Error& e) {
    std::fprintf(stderr, "a parsed device does not parse once written back: %s\n%s\n", e.what(), device.c_str());
    std::abort();
  }
  return 0;
}
