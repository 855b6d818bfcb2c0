#include "profiler/report.h"

#include <fmt/format.h>

#include <cmath>

#include "core/format.h"
#include "scheduler/profile_json.h"

namespace prima::profiler {
namespace {

using nlohmann::json;

// Untrusted JSON, read field by field with the path in every message.
const json& member(const json& j, std::string_view source, const std::string& path, const char* key) {
  if (!j.is_object()) fail("{}: {}: expected an object", source, path);
  const auto it = j.find(key);
  if (it == j.end()) fail("{}: {}.{}: missing", source, path, key);
  return *it;
}

double number(const json& j, std::string_view source, const std::string& path, const char* key) {
  const json& v = member(j, source, path, key);
  if (!v.is_number()) fail("{}: {}.{}: expected a number", source, path, key);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < 0 || x > 1e19) fail("{}: {}.{}: out of range", source, path, key);
  return x;
}

std::string text(const json& j, std::string_view source, const std::string& path, const char* key) {
  const json& v = member(j, source, path, key);
  if (!v.is_string() || v.get_ref<const std::string&>().size() > 4096)
    fail("{}: {}.{}: expected a string", source, path, key);
  return v.get<std::string>();
}

bool boolean(const json& j, std::string_view source, const std::string& path, const char* key) {
  const json& v = member(j, source, path, key);
  if (!v.is_boolean()) fail("{}: {}.{}: expected true or false", source, path, key);
  return v.get<bool>();
}

std::string pct(const Estimate& e) { return e.n > 1 ? fmt::format("±{:.0f}%", e.spread() * 50) : ""; }

std::string gflops(const Estimate& e) {
  return e.valid() ? fmt::format("{:8.2f} {:<5}", e.median * 1e-9, pct(e)) : fmt::format("{:>14}", "-");
}

std::string rate(double bytes_per_s) {
  if (bytes_per_s <= 0) return "unknown";
  if (bytes_per_s >= 1e9) return fmt::format("{:.2f} GB/s", bytes_per_s * 1e-9);
  return fmt::format("{:.1f} MB/s", bytes_per_s * 1e-6);
}

}  // namespace

json estimate_json(const Estimate& e) { return {{"median", e.median}, {"min", e.min}, {"max", e.max}, {"n", e.n}}; }

Estimate estimate_from_json(const json& j, std::string_view source, std::string_view field) {
  const std::string path(field);
  Estimate e;
  e.median = number(j, source, path, "median");
  e.min = number(j, source, path, "min");
  e.max = number(j, source, path, "max");
  const double n = number(j, source, path, "n");
  if (n != std::floor(n) || n > 1000) fail("{}: {}.n: expected a sample count", source, path);
  e.n = static_cast<int>(n);
  if (e.min > e.median || e.median > e.max) fail("{}: {}: min <= median <= max does not hold", source, path);
  return e;
}

json measured_json(const ProfileReport& r) {
  json types = json::array();
  for (const auto& t : r.types)
    types.push_back({{"type", std::string(type_name(t.type))},
                     {"n_in", t.n_in},
                     {"n_out", t.n_out},
                     {"n_out_hot", t.n_out_hot},
                     {"n_out_prefill", t.n_out_prefill},
                     {"stream_set_bytes", t.stream_set_bytes},
                     {"stream", estimate_json(t.stream)},
                     {"hot", estimate_json(t.hot)},
                     {"prefill", estimate_json(t.prefill)},
                     {"stream_bytes_per_s", t.stream_bytes_per_s},
                     {"bandwidth_bound", t.bandwidth_bound},
                     {"decode_flops", t.decode_flops},
                     {"seconds", t.seconds}});
  return {{"measured_at", r.measured_at},
          {"measure_seconds", r.measure_seconds},
          {"timing",
           {{"setup", r.timing.setup}, {"bandwidth", r.timing.bandwidth}, {"cpu", r.timing.cpu}, {"disk", r.timing.disk}}},
          {"threads", r.threads},
          {"types", types},
          {"read_bandwidth", estimate_json(r.read_bandwidth)},
          {"disk",
           {{"path", r.disk.path},
            {"direct", r.disk.direct},
            {"in_memory", r.disk.in_memory},
            {"sequential", estimate_json(r.disk.sequential)},
            {"random_4k", estimate_json(r.disk.random_4k)},
            {"random_64k", estimate_json(r.disk.random_64k)}}},
          {"notes", r.notes}};
}

void measured_from_json(const json& j, std::string_view source, ProfileReport& r) {
  r.measured_at = text(j, source, "measured", "measured_at");
  r.measure_seconds = number(j, source, "measured", "measure_seconds");
  const json& timing = member(j, source, "measured", "timing");
  r.timing.setup = number(timing, source, "measured.timing", "setup");
  r.timing.bandwidth = number(timing, source, "measured.timing", "bandwidth");
  r.timing.cpu = number(timing, source, "measured.timing", "cpu");
  r.timing.disk = number(timing, source, "measured.timing", "disk");
  const json& types = member(j, source, "measured", "types");
  if (!types.is_array() || types.size() > 64) fail("{}: measured.types: expected an array of at most 64", source);
  r.types.clear();
  for (size_t i = 0; i < types.size(); ++i) {
    const std::string path = fmt::format("measured.types[{}]", i);
    const json& t = types[i];
    TypeSpeed s;
    const auto type = type_from_name(text(t, source, path, "type"));
    if (!type) fail("{}: {}.type: not a weight type", source, path);
    s.type = *type;
    s.n_in = static_cast<int64_t>(number(t, source, path, "n_in"));
    s.n_out = static_cast<int64_t>(number(t, source, path, "n_out"));
    s.n_out_hot = static_cast<int64_t>(number(t, source, path, "n_out_hot"));
    s.n_out_prefill = static_cast<int64_t>(number(t, source, path, "n_out_prefill"));
    s.stream_set_bytes = static_cast<size_t>(number(t, source, path, "stream_set_bytes"));
    s.stream = estimate_from_json(member(t, source, path, "stream"), source, path + ".stream");
    s.hot = estimate_from_json(member(t, source, path, "hot"), source, path + ".hot");
    s.prefill = estimate_from_json(member(t, source, path, "prefill"), source, path + ".prefill");
    s.stream_bytes_per_s = number(t, source, path, "stream_bytes_per_s");
    s.bandwidth_bound = boolean(t, source, path, "bandwidth_bound");
    s.decode_flops = number(t, source, path, "decode_flops");
    s.seconds = number(t, source, path, "seconds");
    r.types.push_back(s);
  }
  r.read_bandwidth = estimate_from_json(member(j, source, "measured", "read_bandwidth"), source, "measured.read_bandwidth");
  const json& d = member(j, source, "measured", "disk");
  r.disk.path = text(d, source, "measured.disk", "path");
  r.disk.direct = boolean(d, source, "measured.disk", "direct");
  r.disk.in_memory = boolean(d, source, "measured.disk", "in_memory");
  r.disk.sequential = estimate_from_json(member(d, source, "measured.disk", "sequential"), source, "measured.disk.sequential");
  r.disk.random_4k = estimate_from_json(member(d, source, "measured.disk", "random_4k"), source, "measured.disk.random_4k");
  r.disk.random_64k = estimate_from_json(member(d, source, "measured.disk", "random_64k"), source, "measured.disk.random_64k");
  const json& notes = member(j, source, "measured", "notes");
  if (!notes.is_array() || notes.size() > 256) fail("{}: measured.notes: expected an array", source);
  r.notes.clear();
  for (const auto& n : notes) {
    if (!n.is_string()) fail("{}: measured.notes: expected strings", source);
    r.notes.push_back(n.get<std::string>().substr(0, 4096));
  }
}

json report_json(const ProfileReport& r) {
  json j = json::parse(scheduler::device_to_json(r.profile));
  const CpuLimits& c = r.cpu;
  json details = measured_json(r);
  details["prima"] = PRIMA_VERSION;
  details["profiler"] = kProfilerVersion;
  details["from_cache"] = r.from_cache;
  details["cache_file"] = r.cache_file;
  details["seconds"] = r.seconds;
  details["model"] = {{"path", r.disk.path}, {"fingerprint", r.model_fingerprint}};
  details["machine"] = {{"cpu_model", r.machine.cpu_model}, {"kernel", r.machine.kernel},
                        {"hostname", r.machine.hostname},   {"isa", r.machine.isa},
                        {"l2_bytes", r.machine.l2_bytes},   {"llc_bytes", r.machine.llc_bytes}};
  details["cpu_limits"] = {{"online", c.online},
                           {"affinity", c.affinity},
                           {"cpuset", c.cpuset ? json(*c.cpuset) : json(nullptr)},
                           {"cpuset_list", c.cpuset_list},
                           {"quota", c.quota ? json(*c.quota) : json(nullptr)},
                           {"cgroup_version", c.quota_version},
                           {"cgroup", c.quota_path},
                           {"cpus", c.cpus},
                           {"effective_cores", c.effective_cores},
                           {"threads", r.threads},
                           {"notes", c.notes}};
  details["memory"] = {{"limited_by_cgroup", r.limited_by_cgroup}, {"cgroup", r.memory_cgroup}};
  if (r.link) {
    details["link"] = {{"rtt", estimate_json(r.link->rtt)},
                       {"bandwidth", estimate_json(r.link->bandwidth)},
                       {"round_bytes", r.link->round_bytes},
                       {"seconds", r.link->seconds},
                       {"notes", r.link->notes}};
  }
  j["_profile"] = details;
  return j;
}

std::string report_table(const ProfileReport& r) {
  const auto& p = r.profile;
  const CpuLimits& c = r.cpu;
  std::string s;
  auto line = [&](std::string_view what, const std::string& text) { s += fmt::format("{:<9} {}\n", what, text); };

  line("device", fmt::format("{} ({}), {} {}", p.name, scheduler::os_name(p.os), r.machine.cpu_model.empty() ? "CPU" : r.machine.cpu_model,
                             r.machine.isa));
  std::string limits = fmt::format("{} online", c.online);
  if (c.cpuset) limits += fmt::format(", cpuset {} ({})", c.cpuset_list, *c.cpuset);
  if (c.quota) limits += fmt::format(", quota {:.2f} (cgroup v{} {})", *c.quota, c.quota_version, c.quota_path);
  line("cores", fmt::format("{:.2f} effective ({}) -> {} thread{}", c.effective_cores, limits, r.threads,
                            r.threads == 1 ? "" : "s"));
  line("memory", fmt::format("available {} of {}{}, swap {}; read bandwidth {} {}", format_bytes(p.memory_available),
                             format_bytes(p.memory_total),
                             r.limited_by_cgroup ? fmt::format(" (cgroup {} limit)", r.memory_cgroup) : "",
                             format_bytes(p.swap), rate(p.memory_read_bandwidth), pct(r.read_bandwidth)));
  line("disk", fmt::format("{}{}: sequential {} {}, random 64 KiB {} {}, random 4 KiB {}", r.disk.path,
                           r.disk.in_memory ? " (in memory)" : r.disk.direct ? " (O_DIRECT)" : " (buffered)",
                           rate(p.disk_seq_read), pct(r.disk.sequential), rate(p.disk_rand_read), pct(r.disk.random_64k),
                           rate(r.disk.random_4k.median)));
  if (r.link)
    line("link", fmt::format("rtt {:.2f} ms {}, bandwidth {} {}", p.link.rtt * 1e3, pct(r.link->rtt),
                             p.link.bandwidth > 0 ? fmt::format("{:.1f} Mbit/s", p.link.bandwidth * 8e-6) : "unknown",
                             pct(r.link->bandwidth)));
  else
    line("link", "not measured (the head measures it at start; `prima profile --next ADDR` by hand)");

  s += fmt::format("\n{:<7} {:>14} {:>14} {:>14} {:>14}  {:<14} {}\n", "type", "decode GFLOP/s", "streamed", "in cache",
                   "prefill", "matrix", "decode figure from");
  for (const auto& t : r.types) {
    const double decode = scheduler::throughput_for(p.cpu_decode_flops, type_name(t.type)).value_or(0);
    s += fmt::format("{:<7} {:>14.2f} {} {} {}  {:<14} {}\n", type_name(t.type), decode * 1e-9, gflops(t.stream),
                     gflops(t.hot), gflops(t.prefill), fmt::format("{}x{}", t.n_out, t.n_in),
                     t.bandwidth_bound ? fmt::format("in cache ({} streamed: bandwidth-bound)", rate(t.stream_bytes_per_s))
                                       : fmt::format("streamed ({})", rate(t.stream_bytes_per_s)));
  }
  s += "\n";
  if (r.from_cache)
    line("profile", fmt::format("from the cache ({}), measured {} in {:.1f} s; --reprofile to measure again",
                                r.cache_file, r.measured_at, r.measure_seconds));
  else
    line("profile", fmt::format("measured {} in {:.1f} s (bandwidth {:.1f}, cpu {:.1f}, disk {:.1f}){}", r.measured_at,
                                r.measure_seconds, r.timing.bandwidth, r.timing.cpu, r.timing.disk,
                                r.cache_file.empty() ? " (not cached)" : ", cached in " + r.cache_file));
  for (const auto& n : r.notes) line("note", n);
  for (const auto& n : c.notes) line("note", n);
  if (r.link)
    for (const auto& n : r.link->notes) line("note", "link: " + n);
  return s;
}

}  // namespace prima::profiler
