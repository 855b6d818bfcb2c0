#include "profiler/profiler.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <new>

#include "core/clock.h"
#include "core/format.h"
#include "core/log.h"
#include "gguf/gguf.h"
#include "kernels/bandwidth.h"
#include "memory/budget.h"
#include "memory/disk_probe.h"
#include "model/stats.h"
#include "profiler/cache.h"
#include "profiler/report.h"
#include "profiler/workload.h"
#include "scheduler/profile_json.h"

namespace prima::profiler {
namespace {

using nlohmann::json;
constexpr uint64_t MiB = 1u << 20;

// Shares of ProfileOptions::seconds.
constexpr double kBandwidthShare = 0.08;
constexpr double kDiskShare = 0.2;
constexpr double kCpuShare = 0.72;  // what is left of it after the bandwidth (the disk's share is kept aside)

// Cluster files refuse non-zero rates below 1 kB/s and throughputs below 1 MFLOP/s (scheduler/profile_json.h).
double plausible_rate(double bytes_per_s) { return bytes_per_s >= 1e3 ? bytes_per_s : 0; }

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string fingerprint_of(const gguf::File& f) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto bytes = f.bytes().first(static_cast<size_t>(std::min<uint64_t>(f.data_offset(), f.file_size())));
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return fmt::format("{}:{:016x}", f.file_size(), h);
}

std::string device_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return fmt::format("{}:{}", major(st.st_dev), minor(st.st_dev));
}

void note_noisy(ProfileReport& r, const Estimate& e, double limit, const std::string& what) {
  if (e.noisy(limit))
    r.notes.push_back(fmt::format("noisy: {} varied by {:.0f} % over {} samples (other load on this machine?)", what,
                                  e.spread() * 100, e.n));
}

// The figures that come from measuring (cached), into the profile.
void apply_measured(ProfileReport& r) {
  auto& p = r.profile;
  p.cpu_decode_flops.clear();
  p.cpu_prefill_flops.clear();
  for (const auto& t : r.types) {
    const std::string name(type_name(t.type));
    p.cpu_decode_flops[name] = std::max(1e6, t.decode_flops);
    if (t.prefill.valid()) p.cpu_prefill_flops[name] = std::max(1e6, t.prefill.median);
  }
  p.memory_read_bandwidth = plausible_rate(r.read_bandwidth.median);
  p.disk_seq_read = plausible_rate(r.disk.sequential.median);
  p.disk_rand_read = plausible_rate(r.disk.random_64k.median);
}

void measure(ProfileReport& r, const ProfileOptions& o, const std::vector<MatrixShape>& work,
             const memory::MemoryBudget& budget) {
  Stopwatch sw;
  const double seconds = std::max(0.2, o.seconds);
  const auto left = [&] { return seconds - sw.elapsed_s(); };
  kernels::ThreadPool pool(r.threads);

  // Working sets: several times the last-level cache, within a quarter of the available memory.
  const uint64_t llc = r.machine.llc_bytes ? r.machine.llc_bytes : 32 * MiB;
  const uint64_t l2 = r.machine.l2_bytes ? r.machine.l2_bytes : MiB / 2;
  uint64_t stream = std::clamp<uint64_t>(4 * llc, 64 * MiB, 256 * MiB);
  stream = std::max<uint64_t>(8 * MiB, std::min(stream, budget.available_bytes / 4));
  if (o.working_set_bytes > 0) stream = std::max<uint64_t>(MiB, o.working_set_bytes);
  if (stream < 2 * llc)
    r.notes.push_back(fmt::format("a working set of only {} against a {} cache: streamed figures may be optimistic",
                                  format_bytes(stream), format_bytes(llc)));
  r.timing.setup = sw.elapsed_s();

  // Memory read bandwidth: the median of three short probes (each the median of its passes: the rate a
  // token's stream of weights sustains; allocating and first touching the buffer comes on top of the time given).
  {
    Stopwatch t;
    std::vector<double> v;
    for (int i = 0; i < 3; ++i) {
      const auto bw = kernels::measure_read_bandwidth(pool, static_cast<size_t>(stream), seconds * kBandwidthShare / 3);
      v.push_back(bw.median_gbs * 1e9);
    }
    r.read_bandwidth = estimate(v);
    note_noisy(r, r.read_bandwidth, kNoisyCpu, "memory read bandwidth");
    r.timing.bandwidth = t.elapsed_s();
  }

  // CPU, type by type, sharing what is left once the disk's share is set aside.
  {
    Stopwatch t;
    CpuBenchConfig c;
    c.stream_bytes = static_cast<size_t>(stream);
    c.hot_bytes = static_cast<size_t>(
        std::max<uint64_t>(256u << 10, std::min<uint64_t>(l2 * static_cast<uint64_t>(r.threads) / 2, llc / 8)));
    c.read_bandwidth = r.read_bandwidth.median;
    if (r.cpu.quota && r.cpu.period_seconds > 0) c.min_sample_seconds = std::min(0.2, 2 * r.cpu.period_seconds);
    WeightArena arena;
    for (size_t i = 0; i < work.size(); ++i) {
      const auto& m = work[i];
      const double cpu_left = left() - seconds * kDiskShare;
      c.seconds = std::max(seconds * kCpuShare / static_cast<double>(work.size()) / 3,
                           cpu_left / static_cast<double>(work.size() - i));
      r.types.push_back(measure_type(pool, m.type, m.n_in, m.n_out, c, arena));
      const auto& s = r.types.back();
      const std::string name(type_name(s.type));
      note_noisy(r, s.bandwidth_bound ? s.hot : s.stream, kNoisyCpu, name + " decode");
      note_noisy(r, s.prefill, kNoisyCpu, name + " prefill");
    }
    r.timing.cpu = t.elapsed_s();
  }

  // Disk: the model file itself, read-only, O_DIRECT; three short probes, medians per phase.
  {
    Stopwatch t;
    std::vector<double> seq, r4k, r64k;
    memory::DiskProbeOptions d;
    d.seconds = std::max(seconds * kDiskShare / 2, left()) / 3;
    d.random_blocks = {4096, 64u << 10};
    r.disk.path = o.model_path;
    for (int i = 0; i < 3; ++i) {
      auto p = memory::probe_disk(o.model_path, d);
      if (!p) {
        r.notes.push_back("disk not measured: " + p.status().message());
        break;
      }
      r.disk.direct = p->direct;
      r.disk.in_memory = p->in_memory;
      seq.push_back(p->sequential.bytes_per_s());
      r4k.push_back(p->random[0].bytes_per_s());
      r64k.push_back(p->random[1].bytes_per_s());
      if (i == 0 && !p->note.empty()) r.notes.push_back("disk: " + p->note);
      d.seed += 7;
    }
    r.disk.sequential = estimate(seq);
    r.disk.random_4k = estimate(r4k);
    r.disk.random_64k = estimate(r64k);
    if (r.disk.in_memory) r.notes.push_back("the model file is in memory (tmpfs): disk figures are memory speeds");
    note_noisy(r, r.disk.sequential, kNoisyDisk, "disk sequential reads");
    note_noisy(r, r.disk.random_64k, kNoisyDisk, "disk random reads");
    r.timing.disk = t.elapsed_s();
  }
  r.measured_at = utc_now();
  r.measure_seconds = sw.elapsed_s();
}

// The cached measurements, if the file is there, for this key, and valid.
bool load_cached(ProfileReport& r, const std::string& path, const json& key, const std::vector<MatrixShape>& work) {
  std::string why;
  const auto entry = cache_load(path, key, &why);
  if (entry) {
    try {
      const scheduler::DeviceProfile cached = scheduler::parse_device_json(entry->profile.dump(), path);
      ProfileReport m;
      measured_from_json(entry->measured, path, m);
      for (const auto& w : work)
        if (!cached.cpu_decode_flops.count(type_name(w.type)) ||
            std::none_of(m.types.begin(), m.types.end(), [&](const TypeSpeed& t) { return t.type == w.type; }))
          fail("{}: no figure for {}", path, type_name(w.type));
      r.types = std::move(m.types);
      r.read_bandwidth = m.read_bandwidth;
      r.disk = m.disk;
      r.measured_at = m.measured_at;
      r.measure_seconds = m.measure_seconds;
      r.notes.insert(r.notes.end(), m.notes.begin(), m.notes.end());
      apply_measured(r);
      // The profile's own figures win over the details (they are what the planner was given).
      r.profile.cpu_decode_flops = cached.cpu_decode_flops;
      r.profile.cpu_prefill_flops = cached.cpu_prefill_flops;
      r.profile.memory_read_bandwidth = cached.memory_read_bandwidth;
      r.profile.disk_seq_read = cached.disk_seq_read;
      r.profile.disk_rand_read = cached.disk_rand_read;
      return true;
    } catch (const Error& e) {
      why = e.what();
      if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
    }
  }
  if (!why.empty()) {
    log::warn("ignoring the cached profile {}: {}; measuring again", path, why);
    r.notes.push_back(fmt::format("cached profile ignored ({}) and measured again", why));
  }
  return false;
}

ProfileReport run(const ProfileOptions& o) {
  Stopwatch sw;
  PRIMA_CHECK(!o.model_path.empty(), "no model file given");
  ProfileReport r;
  const gguf::File file = gguf::File::open(o.model_path);
  const scheduler::ModelStats stats = model::compute_stats(file);
  r.model_fingerprint = fingerprint_of(file);
  const std::vector<MatrixShape> work = matrices_to_measure(file, stats, r.notes);

  r.machine = probe_machine(o.root);
  r.cpu = read_cpu_limits(o.root);
  r.threads = o.threads > 0 ? o.threads : r.cpu.threads();
  if (o.threads > r.cpu.cpus)
    r.notes.push_back(fmt::format("{} threads on {} usable CPUs: threads will take turns", o.threads, r.cpu.cpus));
  auto budget = memory::probe_budget({.root = o.root, .override_bytes = o.memory_override});
  if (!budget) fail("{}", budget.status().message());

  // Read every time (cheap, and they change): name, OS, cores, memory.
  auto& p = r.profile;
  p.name = device_name_from(o.name.empty() ? r.machine.hostname : o.name);
  p.os = r.machine.os;
  p.cores = std::clamp(r.threads, 1, 4096);
  p.memory_available = budget->available_bytes;
  p.memory_total = std::max(budget->total_bytes, budget->available_bytes);
  p.swap = budget->swap_total_bytes;
  r.limited_by_cgroup = budget->limited_by_cgroup;
  r.memory_cgroup = budget->cgroup.path;
  if (budget->overridden) r.notes.push_back(fmt::format("available memory set by hand: {}", format_bytes(p.memory_available)));
  r.disk.path = o.model_path;

  const json key = {{"prima", PRIMA_VERSION},
                    {"profiler", kProfilerVersion},
                    {"cpu_model", r.machine.cpu_model},
                    {"kernel", r.machine.kernel},
                    {"isa", r.machine.isa},
                    {"online", r.cpu.online},
                    {"cpus", r.cpu.cpus},
                    {"quota", fmt::format("{:.2f}", r.cpu.effective_cores)},
                    {"threads", r.threads},
                    {"memory_total", budget->total_bytes},
                    {"model", r.model_fingerprint},
                    {"model_device", device_of(o.model_path)}};
  const std::string dir = o.use_cache ? (o.cache_dir.empty() ? default_cache_dir() : o.cache_dir) : "";
  const std::string path = dir.empty() ? "" : cache_path(dir, key);
  if (o.use_cache && dir.empty()) r.notes.push_back("no cache directory (neither HOME nor XDG_CACHE_HOME is set)");

  if (!path.empty() && !o.reprofile && load_cached(r, path, key, work)) {
    r.from_cache = true;
    r.cache_file = path;
  } else {
    measure(r, o, work, *budget);
    apply_measured(r);
    if (!path.empty()) {
      if (Status s = cache_store(path, key, {json::parse(scheduler::device_to_json(r.profile)), measured_json(r)}); s) {
        r.cache_file = path;
      } else {
        log::warn("profile not cached: {}", s.message());
        r.notes.push_back("not cached: " + s.message());
      }
    }
  }
  r.seconds = sw.elapsed_s();
  return r;
}

}  // namespace

Result<ProfileReport> run_profile(const ProfileOptions& options) {
  try {
    return run(options);
  } catch (const Error& e) {
    return Status::error(Status::Code::invalid, "{}", e.what());
  } catch (const std::bad_alloc&) {
    return Status::error(Status::Code::internal, "profiling {}: out of memory", options.model_path);
  }
}

Result<scheduler::DeviceProfile> profile_device(const ProfileOptions& options) {
  auto r = run_profile(options);
  if (!r) return r.status();
  return std::move(r->profile);
}

std::string default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && x[0] == '/') return std::string(x) + "/prima/profiles";
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] != '\0') return std::string(h) + "/.cache/prima/profiles";
  return "";
}

std::string model_fingerprint(const std::string& model_path) { return fingerprint_of(gguf::File::open(model_path)); }

}  // namespace prima::profiler
