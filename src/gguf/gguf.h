// GGUF reader (versions 2 and 3, little-endian).
//
// File layout (all integers little-endian):
//   u32  magic            "GGUF" = 0x46554747
//   u32  version          2 or 3 (1 is obsolete: 32-bit counts; big-endian files show a byte-swapped version)
//   u64  n_tensors
//   u64  n_kv
//   n_kv times:  string key, u32 value_type, value
//   n_tensors times (tensor info):
//        string name, u32 n_dims (1..4), u64 ne[n_dims], u32 ggml_type, u64 offset (relative to data start)
//   padding to `general.alignment` (u32, default 32, a power of two)
//   tensor data: each tensor at data_offset + offset, offset a multiple of the alignment
// string = u64 length + bytes (no terminator).
// value_type: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array, 10 u64, 11 i64, 12 f64
// array = u32 element value_type, u64 count, count values (arrays of arrays allowed).
//
// The reader validates everything once, at open: truncation, magic, version, counts and sizes that
// overflow, duplicate keys and tensor names, tensors outside the file, unknown tensor types, bad dims.
// Every problem throws prima::Error naming the file and the field. After that the contents are trusted.
// Strings and numeric arrays are views into the mapping: no copies, even for a 150k-entry vocab.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "memory/mapped_file.h"
#include "tensor/types.h"

namespace prima::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF"
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

enum class ValueType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
  string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};
std::string_view value_type_name(ValueType t);

struct Value {
  ValueType type = ValueType::u8;
  // scalars (exactly one is meaningful, by type)
  uint64_t u = 0;       // u8/u16/u32/u64, bool
  int64_t i = 0;        // i8/i16/i32/i64
  double f = 0;         // f32/f64
  std::string_view s;   // string
  // arrays
  ValueType elem = ValueType::u8;          // element type
  uint64_t n = 0;                          // element count
  const uint8_t* raw = nullptr;            // packed little-endian elements (numeric arrays)
  std::vector<std::string_view> strings;   // string arrays
  std::vector<Value> items;                // arrays of arrays

  bool is_integer() const;
  bool is_float() const { return type == ValueType::f32 || type == ValueType::f64; }
  std::string to_string(size_t max_items = 8) const;  // for `prima info`
};

struct TensorInfo {
  std::string name;
  ggml_type type = ggml_type::F32;
  int n_dims = 0;
  int64_t ne[kMaxDims] = {1, 1, 1, 1};  // ne[0] is the row length (contiguous)
  uint64_t offset = 0;                  // from the start of the data section
  uint64_t size = 0;                    // bytes
  const uint8_t* data = nullptr;        // into the mapping

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  uint64_t row_bytes() const { return size / static_cast<uint64_t>(n_rows()); }
  std::string shape_string() const;  // "[4096, 32000]"
};

class File {
 public:
  // Maps and parses a GGUF file. Throws prima::Error "<path>: <what is wrong>" on any defect.
  static File open(const std::string& path);
  // Parses bytes already in memory (tests, fuzzing); `name` is used in messages. The bytes must outlive
  // the File.
  static File parse(std::span<const uint8_t> bytes, std::string name);

  const std::string& path() const { return name_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return bytes_.size(); }
  std::span<const uint8_t> bytes() const { return bytes_; }
  const memory::MappedFile& mapping() const { return map_; }  // empty for parse()

  // Metadata, in file order.
  const std::vector<std::pair<std::string, Value>>& kv() const { return kv_; }
  const Value* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters. The required forms throw "<path>: missing required key '<key>'" or
  // "<path>: key '<key>' is <type>, expected <...>"; the optional forms return nullopt when absent but
  // still throw on a wrong type. Integer getters accept any integer type whose value fits.
  uint64_t get_u64(std::string_view key) const;
  uint32_t get_u32(std::string_view key) const;
  int64_t get_i64(std::string_view key) const;
  float get_f32(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::string_view get_string(std::string_view key) const;
  std::optional<uint64_t> find_u64(std::string_view key) const;
  std::optional<uint32_t> find_u32(std::string_view key) const;
  std::optional<float> find_f32(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  std::optional<std::string_view> find_string(std::string_view key) const;
  // Arrays: element-converted copies (numeric) or views (strings).
  std::vector<std::string_view> get_string_array(std::string_view key) const;
  std::vector<float> get_f32_array(std::string_view key) const;
  std::vector<int64_t> get_int_array(std::string_view key) const;
  uint64_t array_size(std::string_view key) const;  // element count; throws if absent / not an array

  // Tensors, in file order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;
  const TensorInfo& tensor(std::string_view name) const;  // throws "<path>: missing tensor '<name>'"

 private:
  File() = default;
  void parse_all();

  std::string name_;
  memory::MappedFile map_;
  std::span<const uint8_t> bytes_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace prima::gguf
