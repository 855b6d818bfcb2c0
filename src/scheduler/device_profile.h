// What the profiler measures on one device, and what the scheduler plans with. Hand-written or profiler-made
// `cluster.json` files hold a list of these in ring order (the last one is the head); the JSON form is in
// scheduler/profile_json.h and docs/profiles.md.
//
// Units are the base SI units throughout: bytes, bytes per second, seconds, FLOP/s.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace prima::scheduler {

// How the OS's page cache behaves when a device's weights do not fit in its memory (docs/scheduler.md):
// Linux and Android re-read only the overflow, at sequential speed; macOS (and, conservatively, Windows)
// at random-read speed.
enum class Os { Linux, MacOS, Android, Windows };  // not `linux`: a macro in GNU modes
std::string_view os_name(Os os);
std::optional<Os> os_from_name(std::string_view name);

// FLOP/s per weight type name ("Q4_K", "F16"); the key "*" stands for any type not listed.
using TypeThroughput = std::map<std::string, double, std::less<>>;

// Throughput for `type`: its own entry, else "*", else nullopt.
std::optional<double> throughput_for(const TypeThroughput& t, std::string_view type);

struct GpuProfile {
  std::string name;             // empty: no GPU
  uint64_t vram_bytes = 0;      // free VRAM for weights, KV cache and buffers
  TypeThroughput decode_flops;  // matrix-vector FLOP/s per weight type
  double read_bandwidth = 0;    // VRAM read bytes/s (0: unknown, no memory-bandwidth term)

  bool usable() const { return vram_bytes > 0 && !decode_flops.empty(); }
};

// The link from this device to the next one in the ring.
struct LinkProfile {
  double rtt = 0;        // round-trip time, seconds
  double bandwidth = 0;  // bytes/s; 0 = not limited (same machine)
};

struct DeviceProfile {
  std::string name;
  Os os = Os::Linux;
  int cores = 1;

  // CPU throughput, FLOP/s per weight type, measured with our kernels on decode-shaped work (matrix-vector,
  // model-sized rows) and on prefill-shaped work (matrix-matrix). The planner uses decode.
  TypeThroughput cpu_decode_flops;
  TypeThroughput cpu_prefill_flops;

  double memory_read_bandwidth = 0;  // bytes/s (0: unknown, no memory-bandwidth term)
  uint64_t memory_total = 0;         // bytes (informational)
  uint64_t memory_available = 0;     // bytes this process may use, cgroup limit included
  uint64_t swap = 0;                 // bytes (informational: the planner never plans to swap)

  double disk_seq_read = 0;   // bytes/s, sequential reads of the model file (0: cannot stream weights)
  double disk_rand_read = 0;  // bytes/s, random 4 KiB-aligned reads of the model file

  GpuProfile gpu;
  LinkProfile link;

  // The disk speed at which this device re-reads weights that do not fit in memory (by OS); 0 = cannot.
  double overflow_read_speed() const;
};

}  // namespace prima::scheduler
