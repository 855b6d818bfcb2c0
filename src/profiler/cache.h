// The profile cache: measured figures are kept on disk, one file per (machine, model), and reused until
// something they depend on changes.
//
// File: <dir>/<16 hex digits: FNV-1a 64 of the key>.json, written to a temporary file and renamed (a crash never
// leaves half a file), mode 0600 in a 0700 directory:
//
//   { "format": "prima-profile-cache", "version": 1,
//     "key": { "prima": "0.1.0", "profiler": 1, "cpu_model": "...", "kernel": "...", "isa": "avx512",
//              "online": 2, "cpus": 2, "quota": "0.50", "threads": 1, "memory_total": 536870912,
//              "model": "<size>:<hash>", "model_device": "254:1" },
//     "profile":  { a cluster file's device object: what the planner reads },
//     "measured": { report.h measured_json: per-type runs, bandwidth, disk, notes } }
//
// The key holds everything a measurement depends on: the CPU (model, cores and quota, the instruction set the
// kernels use), the memory limit, the kernel, prima's and the profiler's versions, the model (fingerprint of its
// header) and the file system holding it (disk speed). A file is used only when its key equals the current one.
// Cache files are untrusted input: a file that is too big, not JSON, of another format, or whose profile or
// measurements do not validate is ignored (the caller warns and measures again, overwriting it).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/error.h"

namespace prima::profiler {

inline constexpr size_t kMaxCacheFile = 1u << 20;

// <dir>/<hash of key>.json
std::string cache_path(const std::string& dir, const nlohmann::json& key);

struct CacheEntry {
  nlohmann::json profile;   // validated by the caller (scheduler::parse_device_json)
  nlohmann::json measured;  // validated by the caller (measured_from_json)
};

// nullopt when there is no file (why empty) or it is unusable (why says so: corrupt, other key, ...).
std::optional<CacheEntry> cache_load(const std::string& path, const nlohmann::json& key, std::string* why);

// Creates the directory (and parents) as needed.
Status cache_store(const std::string& path, const nlohmann::json& key, const CacheEntry& entry);

}  // namespace prima::profiler
