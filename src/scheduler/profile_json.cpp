#include "scheduler/profile_json.h"

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/json_depth.h"
#include "scheduler/units.h"

namespace prima::scheduler {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxText = 16u << 20;
constexpr int kMaxDepth = 32;
constexpr double kMaxSize = 1152921504606846976.0;  // 2^60 bytes
constexpr double kMaxRate = 1e13;                   // 10 TB/s
constexpr double kMaxFlops = 1e18;
constexpr double kMaxRtt = 60;
constexpr double kMinRate[2] = {1e3, 1e6};  // bytes/s, FLOP/s

json parse_text(std::string_view text, std::string_view source) {
  PRIMA_CHECK(text.size() <= kMaxText, "{}: {} bytes, more than a cluster file can be ({} max)", source, text.size(),
              kMaxText);
  PRIMA_CHECK(json_depth(text, kMaxDepth) <= kMaxDepth, "{}: JSON nested more than {} levels deep", source, kMaxDepth);
  // Duplicate keys are refused: nlohmann would silently keep the last one, and a hand-written file with
  // two "available" entries is a mistake worth reporting.
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  json::parser_callback_t cb = [&](int /*depth*/, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start)
      keys.emplace_back();
    else if (ev == json::parse_event_t::object_end && !keys.empty())
      keys.pop_back();
    else if (ev == json::parse_event_t::key && !keys.empty() && parsed.is_string()) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (!keys.back().insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), cb);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", source, e.what());
  }
  PRIMA_CHECK(duplicate.empty(), "{}: key '{}' appears twice in one object", source, duplicate);
  return j;
}

std::string type_name_of(const json& j) { return j.type_name(); }

bool ignored_key(const std::string& k) { return k == "comment" || (!k.empty() && k[0] == '_'); }

// A JSON object being read, with its path for messages. Every key must be consumed or ignorable.
class Obj {
 public:
  Obj(const json& j, std::string path, std::string_view source) : j_(j), path_(std::move(path)), source_(source) {
    if (!j.is_object()) fail("{}: {}: expected an object, got {}", source_, where(), type_name_of(j));
  }
  ~Obj() = default;

  const json* get(const std::string& key) {
    seen_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string where() const { return path_.empty() ? "top level" : path_; }
  std::string_view source() const { return source_; }

  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!seen_.count(it.key()) && !ignored_key(it.key()))
        fail("{}: {}: unknown key (expected one of: {})", source_, at(it.key()), expected_list());
  }

 private:
  std::string expected_list() const {
    std::string s;
    for (const auto& k : seen_) s += (s.empty() ? "" : ", ") + k;
    return s;
  }
  const json& j_;
  std::string path_;
  std::string_view source_;
  std::set<std::string> seen_;
};

double read_quantity(const json& v, Quantity q, double max, const std::string& path, std::string_view source) {
  double x = 0;
  if (v.is_number()) {
    x = v.get<double>();
  } else if (v.is_string()) {
    std::string why;
    const auto parsed = parse_quantity(v.get_ref<const std::string&>(), q, &why);
    if (!parsed) fail("{}: {}: \"{}\": {}", source, path, v.get_ref<const std::string&>(), why);
    x = *parsed;
  } else {
    fail("{}: {}: expected a number or a string with a unit ({}), got {}", source, path, unit_list(q), type_name_of(v));
  }
  PRIMA_CHECK(std::isfinite(x) && x >= 0, "{}: {}: must be a finite value >= 0", source, path);
  PRIMA_CHECK(x <= max, "{}: {}: {} is implausibly large (at most {})", source, path, x, max);
  // Rates and throughputs are 0 (unknown / none) or at least plausible: a near-zero divisor would turn into
  // astronomically large latency coefficients.
  PRIMA_CHECK(x == 0 || q == Quantity::size || q == Quantity::time || x >= kMinRate[q == Quantity::flops],
              "{}: {}: {} is implausibly small (0, or at least {})", source, path, x, kMinRate[q == Quantity::flops]);
  return x;
}

double opt_quantity(Obj& o, const std::string& key, Quantity q, double max) {
  const json* v = o.get(key);
  return v ? read_quantity(*v, q, max, o.at(key), o.source()) : 0.0;
}

uint64_t opt_size(Obj& o, const std::string& key) {
  return static_cast<uint64_t>(std::llround(opt_quantity(o, key, Quantity::size, kMaxSize)));
}

TypeThroughput read_throughput(const json& v, const std::string& path, std::string_view source, bool required) {
  Obj o(v, path, source);
  TypeThroughput t;
  PRIMA_CHECK(v.size() <= 64, "{}: {}: more than 64 entries", source, path);
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& type = it.key();
    if (ignored_key(type)) continue;
    o.get(type);
    bool ok = type == "*" || (!type.empty() && type.size() <= 16);
    for (char c : type)
      if (type != "*" && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
        ok = false;
    PRIMA_CHECK(ok, "{}: {}: '{}' is not a weight type name (like \"Q4_K\", or \"*\" for any other type)", source, path,
                type);
    const double f = read_quantity(*it, Quantity::flops, kMaxFlops, path + "." + type, source);
    PRIMA_CHECK(f > 0, "{}: {}.{}: throughput must be > 0", source, path, type);
    t[type] = f;
  }
  PRIMA_CHECK(!required || !t.empty(), "{}: {}: needs at least one weight type", source, path);
  o.finish();
  return t;
}

DeviceProfile read_device(const json& j, const std::string& path, std::string_view source) {
  Obj o(j, path, source);
  DeviceProfile d;

  const json* name = o.get("name");
  PRIMA_CHECK(name, "{}: {}: missing", source, o.at("name"));
  PRIMA_CHECK(name->is_string(), "{}: {}: expected a string, got {}", source, o.at("name"), type_name_of(*name));
  d.name = name->get<std::string>();
  bool name_ok = !d.name.empty() && d.name.size() <= 64;
  for (char c : d.name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      name_ok = false;
  PRIMA_CHECK(name_ok, "{}: {}: must be 1-64 characters of A-Z a-z 0-9 . _ -", source, o.at("name"));

  if (const json* os = o.get("os")) {
    PRIMA_CHECK(os->is_string(), "{}: {}: expected a string, got {}", source, o.at("os"), type_name_of(*os));
    const auto parsed = os_from_name(os->get_ref<const std::string&>());
    PRIMA_CHECK(parsed, "{}: {}: '{}' is not one of linux, macos, android, windows", source, o.at("os"),
                os->get_ref<const std::string&>());
    d.os = *parsed;
  }
  if (const json* cores = o.get("cores")) {
    PRIMA_CHECK(cores->is_number_integer(), "{}: {}: expected an integer, got {}", source, o.at("cores"),
                type_name_of(*cores));
    const auto c = cores->get<int64_t>();
    PRIMA_CHECK(c >= 1 && c <= 4096, "{}: {}: {} is not in 1..4096", source, o.at("cores"), c);
    d.cores = static_cast<int>(c);
  }

  const json* cpu = o.get("cpu");
  PRIMA_CHECK(cpu, "{}: {}: missing (CPU throughput per weight type)", source, o.at("cpu"));
  {
    Obj c(*cpu, o.at("cpu"), source);
    const json* decode = c.get("decode");
    PRIMA_CHECK(decode, "{}: {}: missing", source, c.at("decode"));
    d.cpu_decode_flops = read_throughput(*decode, c.at("decode"), source, true);
    if (const json* prefill = c.get("prefill"))
      d.cpu_prefill_flops = read_throughput(*prefill, c.at("prefill"), source, false);
    c.finish();
  }

  const json* mem = o.get("memory");
  PRIMA_CHECK(mem, "{}: {}: missing", source, o.at("memory"));
  {
    Obj m(*mem, o.at("memory"), source);
    PRIMA_CHECK(m.get("available"), "{}: {}: missing", source, m.at("available"));
    d.memory_available = opt_size(m, "available");
    d.memory_total = opt_size(m, "total");
    d.swap = opt_size(m, "swap");
    d.memory_read_bandwidth = opt_quantity(m, "read_bandwidth", Quantity::rate, kMaxRate);
    m.finish();
    PRIMA_CHECK(d.memory_total == 0 || d.memory_available <= d.memory_total,
                "{}: {}: available ({} bytes) exceeds total ({} bytes)", source, o.at("memory"), d.memory_available,
                d.memory_total);
  }

  if (const json* disk = o.get("disk")) {
    Obj k(*disk, o.at("disk"), source);
    d.disk_seq_read = opt_quantity(k, "seq_read", Quantity::rate, kMaxRate);
    d.disk_rand_read = opt_quantity(k, "rand_read", Quantity::rate, kMaxRate);
    k.finish();
  }

  if (const json* gpu = o.get("gpu")) {
    Obj g(*gpu, o.at("gpu"), source);
    if (const json* n = g.get("name")) {
      PRIMA_CHECK(n->is_string() && n->get_ref<const std::string&>().size() <= 128,
                  "{}: {}: expected a string of at most 128 characters", source, g.at("name"));
      d.gpu.name = n->get<std::string>();
    }
    d.gpu.vram_bytes = opt_size(g, "vram");
    if (const json* dec = g.get("decode")) d.gpu.decode_flops = read_throughput(*dec, g.at("decode"), source, false);
    d.gpu.read_bandwidth = opt_quantity(g, "read_bandwidth", Quantity::rate, kMaxRate);
    g.finish();
  }

  if (const json* link = o.get("link")) {
    Obj l(*link, o.at("link"), source);
    d.link.rtt = opt_quantity(l, "rtt", Quantity::time, kMaxRtt);
    d.link.bandwidth = opt_quantity(l, "bandwidth", Quantity::rate, kMaxRate);
    l.finish();
  }
  o.finish();
  return d;
}

json throughput_json(const TypeThroughput& t) {
  json j = json::object();
  for (const auto& [k, v] : t) j[k] = v;
  return j;
}

json device_json(const DeviceProfile& d) {
  json j;
  j["name"] = d.name;
  j["os"] = std::string(os_name(d.os));
  j["cores"] = d.cores;
  j["cpu"]["decode"] = throughput_json(d.cpu_decode_flops);
  if (!d.cpu_prefill_flops.empty()) j["cpu"]["prefill"] = throughput_json(d.cpu_prefill_flops);
  j["memory"] = {{"available", d.memory_available},
                 {"total", d.memory_total},
                 {"swap", d.swap},
                 {"read_bandwidth", d.memory_read_bandwidth}};
  j["disk"] = {{"seq_read", d.disk_seq_read}, {"rand_read", d.disk_rand_read}};
  if (!d.gpu.name.empty() || d.gpu.vram_bytes > 0 || !d.gpu.decode_flops.empty()) {
    j["gpu"] = {{"name", d.gpu.name},
                {"vram", d.gpu.vram_bytes},
                {"decode", throughput_json(d.gpu.decode_flops)},
                {"read_bandwidth", d.gpu.read_bandwidth}};
  }
  j["link"] = {{"rtt", d.link.rtt}, {"bandwidth", d.link.bandwidth}};
  return j;
}

}  // namespace

std::vector<DeviceProfile> parse_cluster_json(std::string_view text, std::string_view source) {
  const json j = parse_text(text, source);
  Obj top(j, "", source);
  if (const json* f = top.get("format"))
    PRIMA_CHECK(f->is_string() && f->get_ref<const std::string&>() == "prima-cluster",
                "{}: format: expected \"prima-cluster\"", source);
  if (const json* v = top.get("version"))
    PRIMA_CHECK(v->is_number_integer() && v->get<int64_t>() == 1, "{}: version: only version 1 is known", source);
  const json* devs = top.get("devices");
  top.finish();
  PRIMA_CHECK(devs, "{}: devices: missing (a list of device profiles in ring order, head last)", source);
  PRIMA_CHECK(devs->is_array(), "{}: devices: expected an array, got {}", source, type_name_of(*devs));
  PRIMA_CHECK(!devs->empty(), "{}: devices: empty (at least the head is needed)", source);
  PRIMA_CHECK(devs->size() <= static_cast<size_t>(kMaxDevices), "{}: devices: {} devices, at most {} are supported",
              source, devs->size(), kMaxDevices);

  std::vector<DeviceProfile> out;
  std::set<std::string> names;
  for (size_t i = 0; i < devs->size(); ++i) {
    const std::string path = "devices[" + std::to_string(i) + "]";
    out.push_back(read_device((*devs)[i], path, source));
    PRIMA_CHECK(names.insert(out.back().name).second, "{}: {}.name: '{}' is used by an earlier device", source, path,
                out.back().name);
  }
  return out;
}

DeviceProfile parse_device_json(std::string_view text, std::string_view source) {
  const json j = parse_text(text, source);
  return read_device(j, "", source);
}

std::string cluster_to_json(std::span<const DeviceProfile> devices) {
  json j;
  j["format"] = "prima-cluster";
  j["version"] = 1;
  j["devices"] = json::array();
  for (const auto& d : devices) j["devices"].push_back(device_json(d));
  return j.dump(2) + "\n";
}

std::string device_to_json(const DeviceProfile& device) { return device_json(device).dump(2) + "\n"; }

}  // namespace prima::scheduler
