// Typed key/value fields: the extensible part of the wire protocol (Config and PlanChange payloads).
//
// Encoding of a field list (little-endian):
//   u16 n_fields (<= kMaxFields), then n_fields times:
//     u8  key_len (1..kMaxKey), key bytes in [a-z0-9_.]
//     u8  type | 0x80 if critical      type: 1 u64, 2 i64, 3 f64, 4 string, 5 u64 list, 6 string list
//     u32 value_len                    always present, so a receiver can skip a value it does not understand
//     value:  u64/i64/f64: 8 bytes; string: value_len bytes; u64 list: value_len/8 values;
//             string list: u16 count, count × (u16 len, bytes), exactly value_len bytes in all
//
// Compatibility rule: a receiver ignores (and reports) keys it does not know, unless the sender marked them
// critical, in which case it refuses the whole message: a head can require a feature from its workers.
// A key never changes type or meaning; a missing optional key takes its documented default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/bytes.h"

namespace prima::cluster {

inline constexpr size_t kMaxFields = 1024;
inline constexpr size_t kMaxKey = 64;
inline constexpr size_t kMaxFieldString = 64 * 1024;
inline constexpr size_t kMaxFieldList = 4096;
inline constexpr uint8_t kFieldCritical = 0x80;

enum class FieldType : uint8_t { unknown = 0, u64 = 1, i64 = 2, f64 = 3, str = 4, u64_list = 5, str_list = 6 };

// Index i of the variant is FieldType i; monostate holds a value of a type this build does not know.
using FieldValue = std::variant<std::monostate, uint64_t, int64_t, double, std::string, std::vector<uint64_t>,
                                std::vector<std::string>>;

struct Field {
  std::string key;
  FieldValue value;
  bool critical = false;
  uint8_t wire_type = 0;  // decoded: the type byte as sent (without the critical bit)

  FieldType type() const { return static_cast<FieldType>(value.index()); }
  bool operator==(const Field& o) const { return key == o.key && value == o.value && critical == o.critical; }
};

void write_fields(ByteWriter& w, const std::vector<Field>& fields);
// Throws prima::Error naming `what`, the key and the problem. Keys must be unique.
std::vector<Field> read_fields(ByteReader& r, std::string_view what);

// Typed access to a decoded field list, with defaults, bounds and the compatibility rule. Every getter throws
// prima::Error naming the message and the key.
class FieldSet {
 public:
  FieldSet(std::vector<Field> fields, std::string what);

  uint64_t u64(std::string_view key, std::optional<uint64_t> def, uint64_t min, uint64_t max);
  std::string str(std::string_view key, std::optional<std::string> def, size_t max_len);
  std::vector<uint64_t> u64_list(std::string_view key, uint64_t min, uint64_t max);
  std::vector<std::string> str_list(std::string_view key, size_t max_len);

  // After every known key was read: fails on an unknown critical key, returns the unknown others.
  std::vector<std::string> finish();

 private:
  const Field* find(std::string_view key, FieldType type, bool required);

  std::vector<Field> fields_;
  std::vector<bool> used_;
  std::string what_;
};

}  // namespace prima::cluster
