// Device profiling: what Halda needs to know about this device for one model (DESIGN.md §1 "Profiling";
// docs/profiler.md has every measurement, its bounds and the cache).
//
//   profiler::ProfileOptions o{.model_path = "model.gguf"};
//   auto report = profiler::run_profile(o);             // table / JSON: report.h
//   scheduler::DeviceProfile p = report->profile;
//
// Measured (bounded by ProfileOptions::seconds, 8 s by default, for all of it):
//   - CPU FLOP/s per weight type present in the model (and F16, which prices attention over the F16 KV cache),
//     decode-shaped and prefill-shaped, on the model's row lengths, with the threads the device runs with
//     (cpu_bench.h: how compute and memory bandwidth are kept apart);
//   - memory read bandwidth (kernels::measure_read_bandwidth, repeated, median);
//   - sequential and random read speed of the model file itself (memory::probe_disk: O_DIRECT, reads only).
// Read (instant, refreshed on every call, cached or not): available and total memory and swap with the cgroup's
// limits (memory::probe_budget), effective cores under the cgroup's quota and cpuset (cpu_limits.h), OS.
// Not here: the link to the next device, which needs the cluster (link.h; the head fills it in).
//
// Cache: the measured part is stored under `cache_dir` keyed by machine and model (cache.h) and reused unless
// `reprofile` or the key changed. A cluster round asks workers one at a time (ProfileRequest -> profile_device ->
// ProfileReply) so that devices sharing hardware are not measured all at once (DESIGN.md §5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/protocol.h"
#include "core/error.h"
#include "profiler/cpu_bench.h"
#include "profiler/cpu_limits.h"
#include "profiler/estimate.h"
#include "profiler/link.h"
#include "profiler/machine.h"
#include "scheduler/device_profile.h"

namespace prima::profiler {

// Bump when a measurement changes meaning: cached profiles of another version are measured again.
// 2: memory bandwidth is the median pass (was the best), and the kernels the CPU figures time got faster.
inline constexpr int kProfilerVersion = 2;

struct ProfileOptions {
  std::string model_path;                 // required: the GGUF file the device will run
  std::string name;                       // the profile's device name ("" = from the host name)
  int threads = 0;                        // 0: CpuLimits::threads() (what the runtime uses)
  std::optional<uint64_t> memory_override;  // --mem: available memory instead of the probe's
  double seconds = 8.0;                   // time bound of the measurements (not of a cache hit: ~10 ms)
  uint64_t working_set_bytes = 0;         // streamed runs' working set; 0: 4x the last-level cache within
                                          // 64..256 MiB and a quarter of the available memory
  bool reprofile = false;                 // measure even when the cache has a valid profile
  bool use_cache = true;                  // false: neither read nor write the cache
  std::string cache_dir;                  // "" = default_cache_dir()
  std::string root;                       // prefix of /proc and /sys paths (tests)
};

struct DiskFigures {
  std::string path;
  bool direct = true;     // O_DIRECT reads (false: through the page cache, capped)
  bool in_memory = false; // tmpfs / ramfs: memory speeds, not a disk's
  Estimate sequential;    // bytes/s, 1 MiB reads
  Estimate random_4k;     // bytes/s
  Estimate random_64k;    // bytes/s: the profile's rand_read
};

struct ProfileReport {
  scheduler::DeviceProfile profile;  // what the planner reads (link left 0 unless measured)

  // How it was obtained.
  bool from_cache = false;
  std::string cache_file;        // "" when the cache is off or could not be written
  std::string measured_at;       // UTC, ISO 8601, of the measurement (the cached one's on a hit)
  double measure_seconds = 0;    // time the measurements took (on a hit: what they took then)
  double seconds = 0;            // time this call took
  std::string model_fingerprint; // "<size>:<hash>" of the GGUF header
  int threads = 1;

  MachineInfo machine;
  CpuLimits cpu;
  std::vector<TypeSpeed> types;  // in the order of the profile's decode map
  Estimate read_bandwidth;       // bytes/s
  DiskFigures disk;
  bool limited_by_cgroup = false;  // memory: the cgroup's limit is below the host's RAM
  std::string memory_cgroup;       // "/homelab/d1"
  struct Timing {
    double setup = 0, bandwidth = 0, cpu = 0, disk = 0;  // seconds of each part of the measurement
  } timing;
  std::optional<LinkMeasurement> link;
  std::vector<std::string> notes;  // noisy figures, fallbacks, what could not be measured
};

// Profiles this device for the model (or takes the cached profile). Errors: the model cannot be opened or has no
// matrix of a type our kernels compute; /proc/meminfo unreadable. Everything else degrades to a note.
Result<ProfileReport> run_profile(const ProfileOptions& options);

// The same, for a cluster round: only the profile.
Result<scheduler::DeviceProfile> profile_device(const ProfileOptions& options);

// ~/.cache/prima/profiles ($XDG_CACHE_HOME/prima/profiles when set); "" when neither HOME nor XDG_CACHE_HOME is.
std::string default_cache_dir();

// The model's identity as the cache keys it: "<file size>:<FNV-1a 64 of everything before the tensor data>".
std::string model_fingerprint(const std::string& model_path);

// --- cluster round -------------------------------------------------------------------------------------------
// ProfileRequest JSON (head -> worker), every key optional:
//   {"reprofile": false, "seconds": 8, "threads": 0, "name": "w1"}
// Unknown keys, wrong types and out-of-range values are refused (Status invalid): the request is network input.
Result<ProfileOptions> apply_request(const cluster::ProfileRequest& request, ProfileOptions base);
cluster::ProfileRequest make_request(bool reprofile, double seconds = 8.0);
// ProfileReply JSON (worker -> head): the device object of a cluster file (report.h profile_json), so the head
// can also save the replies as a cluster file.
cluster::ProfileReply make_reply(const ProfileReport& report);
// Head side: the reply validated as a cluster file's device (scheduler::parse_device_json); Status invalid naming
// `source` when it is not one.
Result<scheduler::DeviceProfile> parse_reply(const cluster::ProfileReply& reply, std::string_view source);

}  // namespace prima::profiler
