// prima mem [--file PATH] [--json]: the memory budget as this process sees it (host RAM bounded by its own
// cgroup's limits), the process's counters, and with --file a quick read-only disk probe of that file.
// With --stream it also reads the file through the mapping window by window, the way a device cycles through
// its layer windows (prefetching the next, releasing the last when they do not all fit), and reports what it
// cost: a check that a device can stream a model bigger than its memory (used by the homelab test).
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "command.h"
#include "core/clock.h"
#include "core/format.h"
#include "memory/accounting.h"
#include "memory/budget.h"
#include "memory/disk_probe.h"
#include "memory/mapped_file.h"
#include "memory/prefetcher.h"
#include "memory/release_policy.h"
#include "memory/residency.h"

namespace prima::app {
namespace {

using nlohmann::json;
using namespace prima::memory;

struct MemOptions {
  std::string file;
  bool json = false;
  bool no_probe = false;
  double seconds = 1.0;
  std::optional<double> mem_gib;
  bool stream = false;
  double window_mib = 0;  // 0: a quarter of the available memory
  std::string prefetch = "willneed";
  std::string release = "auto";
  std::string access = "sequential";
  int passes = 2;
};

struct StreamResult {
  uint64_t window_bytes = 0;
  size_t n_windows = 0;
  size_t n_released = 0;  // windows released after use
  ReleasePlan plan;
  struct Pass {
    double seconds = 0;
    CounterDelta io;
    int64_t page_in_ns = 0;
    uint64_t resident_end = 0;  // of the whole file, after the pass
  };
  std::vector<Pass> passes;
  uint64_t max_rss_anon = 0;
  uint64_t cgroup_file_end = 0;  // the cgroup's page cache after the last pass
};

StreamResult stream_file(const MemOptions& o, const MemoryBudget& budget, PrefetchMode mode) {
  StreamResult r;
  const MappedFile map = MappedFile::open(o.file);
  const Access access = o.access == "normal" ? Access::normal : o.access == "random" ? Access::random : Access::sequential;
  PRIMA_CHECK(advise_access(map, ByteRanges::whole(map.size()), access).is_ok(), "{}: madvise failed", o.file);
  const uint64_t page = page_size();
  const uint64_t want = o.window_mib > 0 ? static_cast<uint64_t>(o.window_mib * 1048576.0) : budget.available_bytes / 4;
  r.window_bytes = std::max<uint64_t>(want / page * page, 1 << 20);
  PRIMA_CHECK(map.size() / r.window_bytes < 4096, "{}: {} windows of {}: use a larger --window", o.file,
              map.size() / r.window_bytes + 1, format_bytes(r.window_bytes));
  std::vector<ByteRanges> windows;
  std::vector<uint64_t> sizes;
  for (uint64_t off = 0; off < map.size(); off += r.window_bytes) {
    windows.emplace_back();
    windows.back().add(off, std::min(r.window_bytes, map.size() - off));
    sizes.push_back(windows.back().bytes());
  }
  r.n_windows = windows.size();
  // Leave a tenth of the available memory for everything that is not weights.
  r.plan = plan_release(budget.available_bytes / 10 * 9, sizes);
  std::vector<bool> release(windows.size(), o.release == "on");
  if (o.release == "auto") release = r.plan.release_window;
  r.n_released = static_cast<size_t>(std::count(release.begin(), release.end(), true));
  Prefetcher prefetcher(map);
  for (int pass = 0; pass < o.passes; ++pass) {
    StreamResult::Pass p;
    const ProcessCounters c0 = sample_process();
    for (size_t i = 0; i < windows.size(); ++i) {
      p.page_in_ns += page_in(map, windows[i]).wait_ns;  // the "compute" of this window
      if (release[i]) (void)prefetcher.release(windows[i]);
      prefetcher.prefetch(windows[(i + 1) % windows.size()], mode);
      r.max_rss_anon = std::max(r.max_rss_anon, sample_process().rss_anon);
    }
    prefetcher.cancel();
    const ProcessCounters c1 = sample_process();
    p.io = delta(c0, c1);
    p.seconds = p.io.seconds;
    p.resident_end = residency(map, ByteRanges::whole(map.size())).resident_bytes;
    r.passes.push_back(p);
  }
  r.cgroup_file_end = read_cgroup_memory().file;
  return r;
}

json budget_json(const MemoryBudget& b) {
  const CgroupMemory& cg = b.cgroup;
  auto opt = [](const std::optional<uint64_t>& v) { return v ? json(*v) : json(nullptr); };
  return {{"total_bytes", b.total_bytes},
          {"available_bytes", b.available_bytes},
          {"swap_total_bytes", b.swap_total_bytes},
          {"swap_free_bytes", b.swap_free_bytes},
          {"host_total_bytes", b.host_total_bytes},
          {"host_available_bytes", b.host_available_bytes},
          {"limited_by_cgroup", b.limited_by_cgroup},
          {"overridden", b.overridden},
          {"cgroup",
           {{"version", cg.version},
            {"path", cg.path},
            {"limit_bytes", opt(cg.limit)},
            {"headroom_bytes", opt(cg.headroom)},
            {"usage_bytes", cg.usage},
            {"file_bytes", cg.file},
            {"anon_bytes", cg.anon},
            {"swap_limit_bytes", opt(cg.swap_limit)}}},
          {"notes", b.notes}};
}

json speed_json(const ReadSpeed& s) {
  return {{"block", s.block}, {"bytes", s.bytes}, {"reads", s.reads}, {"seconds", s.seconds},
          {"bytes_per_s", s.bytes_per_s()}, {"iops", s.iops()}};
}

std::string speed_text(const ReadSpeed& s) {
  return fmt::format("{} reads {:.0f} MB/s ({:.0f} IOPS)", format_bytes(s.block), s.bytes_per_s() / 1e6, s.iops());
}

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<MemOptions>();
  sub.add_option("--file", o->file, "a file (the model) to probe the disk with: read-only, O_DIRECT, time-bounded");
  sub.add_flag("--json", o->json, "print JSON on stdout");
  sub.add_option("--seconds", o->seconds, "disk probe duration")->check(CLI::Range(0.05, 60.0));
  sub.add_flag("--no-probe", o->no_probe, "skip the disk probe");
  sub.add_option("--mem", o->mem_gib, "available memory in GiB, instead of what the OS says")->check(CLI::Range(0.0, 1e6));
  sub.add_flag("--stream", o->stream, "read --file through the mapping window by window and report the cost");
  sub.add_option("--window", o->window_mib, "--stream: window size in MiB (default: a quarter of available, at least 1)")
      ->check(CLI::Range(0.0, 1e7));
  sub.add_option("--prefetch", o->prefetch, "--stream: off, willneed (on) or touch")
      ->check(CLI::IsMember({"off", "on", "willneed", "touch"}));
  sub.add_option("--release", o->release, "--stream: auto (when the windows do not fit), on or off")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  sub.add_option("--access", o->access, "--stream: page-fault read-ahead: sequential, normal or random")
      ->check(CLI::IsMember({"sequential", "normal", "random"}));
  sub.add_option("--passes", o->passes, "--stream: passes over the file")->check(CLI::Range(1, 1000));
  return [o]() {
    PRIMA_CHECK(!o->stream || !o->file.empty(), "--stream needs --file");
    BudgetOptions bo;
    if (o->mem_gib) bo.override_bytes = static_cast<uint64_t>(*o->mem_gib * 1073741824.0);
    auto budget = probe_budget(bo);
    PRIMA_CHECK(budget.is_ok(), "{}", budget.status().message());
    std::optional<DiskProbe> disk;
    if (!o->file.empty() && !o->no_probe) {
      auto p = probe_disk(o->file, {.seconds = o->seconds});
      PRIMA_CHECK(p.is_ok(), "{}", p.status().message());
      disk = *p;
    }
    std::optional<StreamResult> stream;
    if (o->stream) stream = stream_file(*o, *budget, *parse_prefetch_mode(o->prefetch));
    const ProcessCounters pc = sample_process();
    const double pressure = memory_pressure(pc, *budget);

    if (o->json) {
      json j = {{"budget", budget_json(*budget)},
                {"process", {{"rss_anon_bytes", pc.rss_anon}, {"rss_file_bytes", pc.rss_file},
                             {"read_bytes", pc.read_bytes}, {"major_faults", pc.major_faults},
                             {"memory_pressure", pressure}}}};
      if (disk) {
        json rnd = json::array();
        for (const auto& s : disk->random) rnd.push_back(speed_json(s));
        j["disk"] = {{"path", disk->path}, {"file_bytes", disk->file_bytes}, {"direct", disk->direct},
                     {"in_memory", disk->in_memory}, {"note", disk->note},
                     {"sequential", speed_json(disk->sequential)}, {"random", rnd}};
      }
      if (stream) {
        json passes = json::array();
        for (const auto& p : stream->passes)
          passes.push_back({{"seconds", p.seconds}, {"read_bytes", p.io.read_bytes},
                            {"major_faults", p.io.major_faults}, {"page_in_ms", static_cast<double>(p.page_in_ns) * 1e-6},
                            {"resident_end_bytes", p.resident_end}});
        j["stream"] = {{"window_bytes", stream->window_bytes}, {"windows", stream->n_windows},
                       {"released_windows", stream->n_released}, {"pair_fits", stream->plan.pair_fits},
                       {"prefetch", o->prefetch}, {"access", o->access}, {"passes", passes},
                       {"max_rss_anon_bytes", stream->max_rss_anon},
                       {"cgroup_file_end_bytes", stream->cgroup_file_end}};
      }
      fmt::print("{}\n", j.dump(2));
      return 0;
    }
    fmt::print("memory: {}\n", describe(*budget));
    if (budget->cgroup.version != 0)
      fmt::print("cgroup: usage {}, page cache {}, anonymous {}\n", format_bytes(budget->cgroup.usage),
                 format_bytes(budget->cgroup.file), format_bytes(budget->cgroup.anon));
    for (const auto& n : budget->notes) fmt::print("note: {}\n", n);
    if (disk) {
      fmt::print("disk: {} ({}{}): sequential {}\n", disk->path, format_bytes(disk->file_bytes),
                 disk->direct ? ", O_DIRECT" : "", speed_text(disk->sequential));
      for (const auto& s : disk->random) fmt::print("  random {}\n", speed_text(s));
      if (!disk->note.empty()) fmt::print("  note: {}\n", disk->note);
    }
    if (stream) {
      fmt::print("stream: {} windows of {}, prefetch {}, release {} ({} windows), access {}{}\n", stream->n_windows,
                 format_bytes(stream->window_bytes), o->prefetch, o->release, stream->n_released, o->access,
                 stream->plan.pair_fits ? "" : " (two windows do not fit: prefetch evicts what is in use)");
      for (size_t i = 0; i < stream->passes.size(); ++i) {
        const auto& p = stream->passes[i];
        fmt::print("  pass {}: {:.3f} s, read {} from disk, {} major faults, page-in wait {:.1f} ms, resident {}\n", i + 1,
                   p.seconds, format_bytes(p.io.read_bytes), p.io.major_faults, static_cast<double>(p.page_in_ns) * 1e-6,
                   format_bytes(p.resident_end));
      }
    }
    fmt::print("process: anonymous RSS {}, memory pressure {:.1f} % of {}\n", format_bytes(pc.rss_anon), pressure * 100,
               format_bytes(budget->total_bytes));
    return 0;
  };
}

}  // namespace
PRIMA_COMMAND(mem, "mem", "Show the memory budget this process sees (cgroup limits included), probe a disk", 92, setup);
}  // namespace prima::app
