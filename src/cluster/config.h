// The runtime configuration the head sends to every worker (Config), and the re-plan (PlanChange), as typed
// structs. On the wire both are field lists (fields.h) with these keys — docs/protocol.md has the table:
//
//   Config                                     PlanChange
//   epoch       u64       (default 0)          epoch       u64   required, grows with every plan
//   rank        u64       required             rank        u64   required
//   world_size  u64       required, 1..256     (world_size = ring size)
//   ring.name   strings   [world_size]         ring.name / ring.address / ring.window   required
//   ring.address strings  [world_size]
//   ring.window u64 list  [world_size], >= 1   k           u64   required
//   k           u64       required, >= 1       next_hop    string required
//   next_hop    string    required
//   n_ctx, n_batch, n_ubatch   u64 required (n_ubatch <= n_batch)
//   n_seq_max   u64  (1)        kv_type   string ("f16")     act_type  string "f32"|"f16" ("f32")
//   n_threads   u64  (0 = auto) prefetch  string ("auto")    mem_budget u64 bytes (0 = measure)
//
// The cluster module only checks shapes and ranges; what the values mean is the runtime's business.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/fields.h"

namespace prima::cluster {

inline constexpr uint32_t kMaxWorld = 256;

enum class WireType : uint8_t { f32 = 0, f16 = 1 };
std::string_view wire_type_name(WireType t);

// One device of the ring, in ring order (d1 … dN-1, head last).
struct RingMember {
  std::string name;     // "w1", "head"
  std::string address;  // "10.203.0.12:9000": where its predecessor sends activations
  uint32_t window = 0;  // layers per cycle
  bool operator==(const RingMember&) const = default;
};

struct Config {
  uint64_t epoch = 0;  // plan number; PlanChange raises it
  uint32_t rank = 0;   // this device's index in `ring`
  std::vector<RingMember> ring;
  uint32_t k = 1;        // cycles per token
  std::string next_hop;  // address this device sends its activations to
  uint32_t n_ctx = 0;
  uint32_t n_batch = 0;
  uint32_t n_ubatch = 0;
  uint32_t n_seq_max = 1;
  std::string kv_type = "f16";     // ggml type name of the KV cache
  WireType act_type = WireType::f32;  // dtype of activations on the wire
  uint32_t n_threads = 0;          // for this device; 0 = auto
  std::string prefetch = "auto";   // prefetch mode name (the runtime defines them)
  uint64_t mem_budget = 0;         // bytes; 0 = measure

  std::vector<Field> extra;                // encode: additional fields (options newer than this struct)
  std::vector<std::string> ignored_keys;   // decoded: non-critical keys this build did not know

  uint32_t world_size() const { return static_cast<uint32_t>(ring.size()); }
  bool operator==(const Config&) const = default;
};

struct PlanChange {
  uint64_t epoch = 0;
  uint32_t rank = 0;
  std::vector<RingMember> ring;
  uint32_t k = 1;
  std::string next_hop;

  std::vector<Field> extra;
  std::vector<std::string> ignored_keys;
  bool operator==(const PlanChange&) const = default;
};

std::vector<Field> config_to_fields(const Config& c);
std::vector<Field> plan_to_fields(const PlanChange& p);
// Throw prima::Error naming the key and what is wrong.
Config config_from_fields(std::vector<Field> fields);
PlanChange plan_from_fields(std::vector<Field> fields);

}  // namespace prima::cluster
