#include "cluster/config.h"

#include "core/error.h"

namespace prima::cluster {

namespace {

constexpr size_t kMaxName = 255;
constexpr size_t kMaxAddress = 1024;
constexpr uint64_t kMaxCount = 1u << 24;  // n_ctx, n_batch, ...: bounds, not policies

Field u64_field(const char* key, uint64_t v) { return {key, FieldValue{v}}; }
Field str_field(const char* key, std::string v) { return {key, FieldValue{std::move(v)}}; }

void add_ring(std::vector<Field>& out, const std::vector<RingMember>& ring) {
  std::vector<std::string> names, addresses;
  std::vector<uint64_t> windows;
  for (const auto& m : ring) {
    names.push_back(m.name);
    addresses.push_back(m.address);
    windows.push_back(m.window);
  }
  out.push_back({"ring.name", FieldValue{std::move(names)}});
  out.push_back({"ring.address", FieldValue{std::move(addresses)}});
  out.push_back({"ring.window", FieldValue{std::move(windows)}});
}

std::vector<RingMember> read_ring(FieldSet& fs, const char* what) {
  auto names = fs.str_list("ring.name", kMaxName);
  auto addresses = fs.str_list("ring.address", kMaxAddress);
  auto windows = fs.u64_list("ring.window", 1, 1u << 20);
  if (names.empty() || names.size() > kMaxWorld) fail("{}: the ring has {} devices, expected 1..{}", what, names.size(), kMaxWorld);
  if (addresses.size() != names.size() || windows.size() != names.size())
    fail("{}: ring.name, ring.address and ring.window have {}, {} and {} entries; they must match", what,
         names.size(), addresses.size(), windows.size());
  std::vector<RingMember> ring(names.size());
  for (size_t i = 0; i < ring.size(); ++i)
    ring[i] = {std::move(names[i]), std::move(addresses[i]), static_cast<uint32_t>(windows[i])};
  return ring;
}

WireType parse_wire_type(const std::string& s, const char* what) {
  if (s == "f32") return WireType::f32;
  if (s == "f16") return WireType::f16;
  fail("{}: field 'act_type' = '{}', expected f32 or f16", what, s);
}

void append_extra(std::vector<Field>& out, const std::vector<Field>& extra) {
  for (const auto& f : extra) out.push_back(f);
}

}  // namespace

std::string_view wire_type_name(WireType t) { return t == WireType::f16 ? "f16" : "f32"; }

std::vector<Field> config_to_fields(const Config& c) {
  PRIMA_ASSERT(c.rank < c.ring.size());
  std::vector<Field> f;
  f.push_back(u64_field("epoch", c.epoch));
  f.push_back(u64_field("rank", c.rank));
  f.push_back(u64_field("world_size", c.ring.size()));
  add_ring(f, c.ring);
  f.push_back(u64_field("k", c.k));
  f.push_back(str_field("next_hop", c.next_hop));
  f.push_back(u64_field("n_ctx", c.n_ctx));
  f.push_back(u64_field("n_batch", c.n_batch));
  f.push_back(u64_field("n_ubatch", c.n_ubatch));
  f.push_back(u64_field("n_seq_max", c.n_seq_max));
  f.push_back(str_field("kv_type", c.kv_type));
  f.push_back(str_field("act_type", std::string(wire_type_name(c.act_type))));
  f.push_back(u64_field("n_threads", c.n_threads));
  f.push_back(str_field("prefetch", c.prefetch));
  f.push_back(u64_field("mem_budget", c.mem_budget));
  append_extra(f, c.extra);
  return f;
}

Config config_from_fields(std::vector<Field> fields) {
  constexpr const char* what = "config";
  FieldSet fs(std::move(fields), what);
  Config c;
  c.epoch = fs.u64("epoch", 0, 0, UINT64_MAX);
  const uint64_t world = fs.u64("world_size", std::nullopt, 1, kMaxWorld);
  c.rank = static_cast<uint32_t>(fs.u64("rank", std::nullopt, 0, world - 1));
  c.ring = read_ring(fs, what);
  if (c.ring.size() != world) fail("config: world_size is {} but the ring lists {} devices", world, c.ring.size());
  c.k = static_cast<uint32_t>(fs.u64("k", std::nullopt, 1, 1u << 16));
  c.next_hop = fs.str("next_hop", std::nullopt, kMaxAddress);
  if (c.next_hop.empty()) fail("config: field 'next_hop' is empty");
  c.n_ctx = static_cast<uint32_t>(fs.u64("n_ctx", std::nullopt, 1, kMaxCount));
  c.n_batch = static_cast<uint32_t>(fs.u64("n_batch", std::nullopt, 1, kMaxCount));
  c.n_ubatch = static_cast<uint32_t>(fs.u64("n_ubatch", std::nullopt, 1, c.n_batch));
  c.n_seq_max = static_cast<uint32_t>(fs.u64("n_seq_max", 1, 1, 1u << 16));
  c.kv_type = fs.str("kv_type", "f16", 32);
  c.act_type = parse_wire_type(fs.str("act_type", "f32", 8), what);
  c.n_threads = static_cast<uint32_t>(fs.u64("n_threads", 0, 0, 1u << 16));
  c.prefetch = fs.str("prefetch", "auto", 32);
  c.mem_budget = fs.u64("mem_budget", 0, 0, UINT64_MAX);
  c.ignored_keys = fs.finish();
  return c;
}

std::vector<Field> plan_to_fields(const PlanChange& p) {
  PRIMA_ASSERT(p.rank < p.ring.size());
  std::vector<Field> f;
  f.push_back(u64_field("epoch", p.epoch));
  f.push_back(u64_field("rank", p.rank));
  add_ring(f, p.ring);
  f.push_back(u64_field("k", p.k));
  f.push_back(str_field("next_hop", p.next_hop));
  append_extra(f, p.extra);
  return f;
}

PlanChange plan_from_fields(std::vector<Field> fields) {
  constexpr const char* what = "plan change";
  FieldSet fs(std::move(fields), what);
  PlanChange p;
  p.epoch = fs.u64("epoch", std::nullopt, 0, UINT64_MAX);
  p.ring = read_ring(fs, what);
  p.rank = static_cast<uint32_t>(fs.u64("rank", std::nullopt, 0, p.ring.size() - 1));
  p.k = static_cast<uint32_t>(fs.u64("k", std::nullopt, 1, 1u << 16));
  p.next_hop = fs.str("next_hop", std::nullopt, kMaxAddress);
  if (p.next_hop.empty()) fail("plan change: field 'next_hop' is empty");
  p.ignored_keys = fs.finish();
  return p;
}

}  // namespace prima::cluster
