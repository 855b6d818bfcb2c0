#include "gguf/gguf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/bytes.h"
#include "core/error.h"

namespace prima::gguf {
namespace {

constexpr int kMaxArrayDepth = 8;

size_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::u8: case ValueType::i8: case ValueType::boolean: return 1;
    case ValueType::u16: case ValueType::i16: return 2;
    case ValueType::u32: case ValueType::i32: case ValueType::f32: return 4;
    case ValueType::u64: case ValueType::i64: case ValueType::f64: return 8;
    case ValueType::string: case ValueType::array: return 0;
  }
  return 0;
}

bool valid_value_type(uint32_t t) { return t <= 12; }

// Smallest number of bytes one element of type t can take (bounds huge counts before allocating).
size_t min_encoded_size(ValueType t) {
  if (t == ValueType::string) return 8;
  if (t == ValueType::array) return 12;
  return scalar_size(t);
}

class Parser {
 public:
  Parser(std::span<const uint8_t> bytes, const std::string& name) : r_(bytes, name), name_(name) {}

  ByteReader& reader() { return r_; }

  std::string_view string(std::string_view field) {
    const auto len = r_.read<uint64_t>(field);
    if (len > r_.remaining())
      fail("{}: truncated: {} claims a {}-byte string at offset {} but only {} bytes remain", name_, field, len,
           r_.offset() - 8, r_.remaining());
    return r_.string_view(len, field);
  }

  Value value(ValueType type, const std::string& field, int depth) {
    Value v;
    v.type = type;
    switch (type) {
      case ValueType::u8: v.u = r_.read<uint8_t>(field); break;
      case ValueType::i8: v.i = r_.read<int8_t>(field); break;
      case ValueType::u16: v.u = r_.read<uint16_t>(field); break;
      case ValueType::i16: v.i = r_.read<int16_t>(field); break;
      case ValueType::u32: v.u = r_.read<uint32_t>(field); break;
      case ValueType::i32: v.i = r_.read<int32_t>(field); break;
      case ValueType::u64: v.u = r_.read<uint64_t>(field); break;
      case ValueType::i64: v.i = r_.read<int64_t>(field); break;
      case ValueType::f32: v.f = r_.read<float>(field); break;
      case ValueType::f64: v.f = r_.read<double>(field); break;
      case ValueType::boolean: {
        const auto b = r_.read<uint8_t>(field);
        if (b > 1) fail("{}: {}: bool value {} is neither 0 nor 1", name_, field, b);
        v.u = b;
        break;
      }
      case ValueType::string: v.s = string(field); break;
      case ValueType::array: {
        if (depth >= kMaxArrayDepth) fail("{}: {}: arrays nested deeper than {}", name_, field, kMaxArrayDepth);
        const auto et = r_.read<uint32_t>(field + " (array element type)");
        if (!valid_value_type(et)) fail("{}: {}: unknown array element type {}", name_, field, et);
        v.elem = static_cast<ValueType>(et);
        v.n = r_.read<uint64_t>(field + " (array length)");
        const size_t min_size = min_encoded_size(v.elem);
        if (v.n > r_.remaining() / min_size)
          fail("{}: {}: array length {} cannot fit in the {} bytes left in the file", name_, field, v.n,
               r_.remaining());
        if (v.elem == ValueType::string) {
          v.strings.reserve(static_cast<size_t>(v.n));
          for (uint64_t j = 0; j < v.n; ++j) v.strings.push_back(string(field));
        } else if (v.elem == ValueType::array) {
          v.items.reserve(static_cast<size_t>(v.n));
          for (uint64_t j = 0; j < v.n; ++j) v.items.push_back(value(ValueType::array, field, depth + 1));
        } else {
          auto b = r_.bytes(v.n * min_size, field);
          v.raw = b.data();
          if (v.elem == ValueType::boolean)
            for (uint64_t j = 0; j < v.n; ++j)
              if (v.raw[j] > 1) fail("{}: {}: bool element {} is {}, neither 0 nor 1", name_, field, j, v.raw[j]);
        }
        break;
      }
    }
    return v;
  }

 private:
  ByteReader r_;
  const std::string& name_;
};

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Element j of a numeric array as double / int64 (with `ok` false when it does not fit an int64).
double array_f64(const Value& v, uint64_t j) {
  const uint8_t* p = v.raw + j * scalar_size(v.elem);
  switch (v.elem) {
    case ValueType::u8: case ValueType::boolean: return *p;
    case ValueType::i8: return static_cast<int8_t>(*p);
    case ValueType::u16: return load<uint16_t>(p);
    case ValueType::i16: return load<int16_t>(p);
    case ValueType::u32: return load<uint32_t>(p);
    case ValueType::i32: return load<int32_t>(p);
    case ValueType::u64: return static_cast<double>(load<uint64_t>(p));
    case ValueType::i64: return static_cast<double>(load<int64_t>(p));
    case ValueType::f32: return load<float>(p);
    case ValueType::f64: return load<double>(p);
    default: return 0;
  }
}

}  // namespace

std::string_view value_type_name(ValueType t) {
  switch (t) {
    case ValueType::u8: return "u8";
    case ValueType::i8: return "i8";
    case ValueType::u16: return "u16";
    case ValueType::i16: return "i16";
    case ValueType::u32: return "u32";
    case ValueType::i32: return "i32";
    case ValueType::f32: return "f32";
    case ValueType::boolean: return "bool";
    case ValueType::string: return "string";
    case ValueType::array: return "array";
    case ValueType::u64: return "u64";
    case ValueType::i64: return "i64";
    case ValueType::f64: return "f64";
  }
  return "?";
}

bool Value::is_integer() const {
  switch (type) {
    case ValueType::u8: case ValueType::i8: case ValueType::u16: case ValueType::i16: case ValueType::u32:
    case ValueType::i32: case ValueType::u64: case ValueType::i64: return true;
    default: return false;
  }
}

std::string Value::to_string(size_t max_items) const {
  switch (type) {
    case ValueType::u8: case ValueType::u16: case ValueType::u32: case ValueType::u64: return fmt::format("{}", u);
    case ValueType::i8: case ValueType::i16: case ValueType::i32: case ValueType::i64: return fmt::format("{}", i);
    case ValueType::f32: case ValueType::f64: return fmt::format("{}", f);
    case ValueType::boolean: return u ? "true" : "false";
    case ValueType::string: {
      std::string s(this->s.substr(0, 120));
      for (auto& c : s)
        if (c == '\n') c = ' ';
      return fmt::format("\"{}\"{}", s, this->s.size() > 120 ? "..." : "");
    }
    case ValueType::array: {
      std::string out = fmt::format("{}[{}] = [", value_type_name(elem), n);
      for (uint64_t j = 0; j < n && j < max_items; ++j) {
        if (j) out += ", ";
        if (elem == ValueType::string) out += fmt::format("\"{}\"", strings[j].substr(0, 40));
        else if (elem == ValueType::array) out += items[j].to_string(2);
        else out += fmt::format("{}", array_f64(*this, j));
      }
      if (n > max_items) out += ", ...";
      return out + "]";
    }
  }
  return "?";
}

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (int d = 0; d < n_dims; ++d) s += fmt::format("{}{}", d ? ", " : "", ne[d]);
  return s + "]";
}

File File::open(const std::string& path) {
  File f;
  f.name_ = path;
  f.map_ = memory::MappedFile::open(path);
  f.bytes_ = f.map_.bytes();
  f.parse_all();
  return f;
}

File File::parse(std::span<const uint8_t> bytes, std::string name) {
  File f;
  f.name_ = std::move(name);
  f.bytes_ = bytes;
  f.parse_all();
  return f;
}

void File::parse_all() {
  Parser p(bytes_, name_);
  auto& r = p.reader();
  const std::string& fn = name_;

  if (bytes_.size() < 4) fail("{}: not a GGUF file: only {} bytes long", fn, bytes_.size());
  const auto magic = r.read<uint32_t>("magic");
  if (magic != kMagic) {
    fail("{}: not a GGUF file: bad magic {:02x} {:02x} {:02x} {:02x} (expected \"GGUF\")", fn, magic & 0xff,
         (magic >> 8) & 0xff, (magic >> 16) & 0xff, magic >> 24);
  }
  version_ = r.read<uint32_t>("version");
  if (version_ == 1) fail("{}: GGUF version 1 is obsolete; re-convert the model with a current converter", fn);
  if (const uint32_t swapped = __builtin_bswap32(version_); swapped >= 1 && swapped <= 3)
    fail("{}: big-endian GGUF files are not supported", fn);
  if (version_ != 2 && version_ != 3) fail("{}: unknown GGUF version {} (prima reads versions 2 and 3)", fn, version_);

  const auto n_tensors = r.read<uint64_t>("tensor count");
  const auto n_kv = r.read<uint64_t>("metadata key-value count");
  // Each kv takes at least 13 bytes (key length, type, 1-byte value); each tensor info at least 32.
  if (n_kv > r.remaining() / 13)
    fail("{}: metadata key-value count {} is larger than the file can hold", fn, n_kv);
  if (n_tensors > r.remaining() / 32) fail("{}: tensor count {} is larger than the file can hold", fn, n_tensors);

  kv_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t k = 0; k < n_kv; ++k) {
    const std::string field = fmt::format("metadata key #{}", k);
    std::string key(p.string(field));
    const std::string vfield = fmt::format("metadata '{}'", key);
    const auto t = r.read<uint32_t>(vfield + " (value type)");
    if (!valid_value_type(t)) fail("{}: {}: unknown value type {}", fn, vfield, t);
    Value v = p.value(static_cast<ValueType>(t), vfield, 0);
    if (kv_index_.count(key)) fail("{}: duplicate metadata key '{}'", fn, key);
    kv_index_.emplace(key, kv_.size());
    kv_.emplace_back(std::move(key), std::move(v));
  }

  if (auto al = find_u64("general.alignment")) {
    if (*al == 0 || *al > (1u << 30) || (*al & (*al - 1)) != 0)
      fail("{}: general.alignment {} is not a power of two from 1 to 2^30", fn, *al);
    alignment_ = static_cast<uint32_t>(*al);
  }

  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t ti = 0; ti < n_tensors; ++ti) {
    TensorInfo t;
    t.name = std::string(p.string(fmt::format("name of tensor #{}", ti)));
    const std::string field = fmt::format("tensor '{}'", t.name);
    const auto n_dims = r.read<uint32_t>(field + " n_dims");
    if (n_dims < 1 || n_dims > kMaxDims) fail("{}: {}: n_dims {} is not in 1..{}", fn, field, n_dims, kMaxDims);
    t.n_dims = static_cast<int>(n_dims);
    uint64_t n_elem = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto ne = r.read<uint64_t>(field + " ne");
      if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail("{}: {}: dimension {} has invalid size {}", fn, field, d, ne);
      if (mul_overflows(n_elem, ne, &n_elem) || n_elem > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail("{}: {}: element count overflows", fn, field);
      t.ne[d] = static_cast<int64_t>(ne);
    }
    const auto type_id = r.read<uint32_t>(field + " type");
    const auto tr = type_traits(type_id);
    if (!tr) fail("{}: {}: unknown tensor type id {}", fn, field, type_id);
    t.type = static_cast<ggml_type>(type_id);
    if (t.ne[0] % tr->block_size != 0)
      fail("{}: {}: row length {} is not a multiple of the {} block size {}", fn, field, t.ne[0], tr->name,
           tr->block_size);
    uint64_t size = 0;
    if (mul_overflows(n_elem / tr->block_size, tr->type_size, &size)) fail("{}: {}: byte size overflows", fn, field);
    t.size = size;
    t.offset = r.read<uint64_t>(field + " offset");
    if (t.offset % alignment_ != 0)
      fail("{}: {}: data offset {} is not a multiple of the alignment {}", fn, field, t.offset, alignment_);
    if (tensor_index_.count(t.name)) fail("{}: duplicate tensor name '{}'", fn, t.name);
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  const uint64_t end_of_infos = r.offset();
  data_offset_ = (end_of_infos + alignment_ - 1) / alignment_ * alignment_;
  if (!tensors_.empty() && data_offset_ > bytes_.size())
    fail("{}: truncated: tensor data would start at offset {} but the file has {} bytes", fn, data_offset_,
         bytes_.size());
  const uint64_t data_size = data_offset_ <= bytes_.size() ? bytes_.size() - data_offset_ : 0;

  for (auto& t : tensors_) {
    uint64_t end = 0;
    if (add_overflows(t.offset, t.size, &end) || end > data_size)
      fail("{}: tensor '{}' ({} bytes at data offset {}) lies outside the file ({} bytes of tensor data); is the "
           "file truncated?",
           fn, t.name, t.size, t.offset, data_size);
    t.data = bytes_.data() + data_offset_ + t.offset;
  }

  // Tensors must not overlap.
  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const auto& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t j = 1; j < by_offset.size(); ++j)
    if (by_offset[j - 1]->offset + by_offset[j - 1]->size > by_offset[j]->offset)
      fail("{}: tensors '{}' and '{}' overlap", fn, by_offset[j - 1]->name, by_offset[j]->name);
}

const Value* File::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

namespace {
[[noreturn]] void wrong_type(const std::string& file, std::string_view key, const Value& v, const char* expected) {
  fail("{}: key '{}' is {}, expected {}", file, key, value_type_name(v.type), expected);
}
}  // namespace

std::optional<uint64_t> File::find_u64(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer()) wrong_type(name_, key, *v, "an unsigned integer");
  switch (v->type) {
    case ValueType::i8: case ValueType::i16: case ValueType::i32: case ValueType::i64:
      if (v->i < 0) fail("{}: key '{}' is {}, expected a non-negative value", name_, key, v->i);
      return static_cast<uint64_t>(v->i);
    default: return v->u;
  }
}

std::optional<uint32_t> File::find_u32(std::string_view key) const {
  auto v = find_u64(key);
  if (!v) return std::nullopt;
  if (*v > std::numeric_limits<uint32_t>::max()) fail("{}: key '{}' = {} is too large", name_, key, *v);
  return static_cast<uint32_t>(*v);
}

std::optional<float> File::find_f32(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_float()) return static_cast<float>(v->f);
  if (v->is_integer()) {
    switch (v->type) {
      case ValueType::i8: case ValueType::i16: case ValueType::i32: case ValueType::i64:
        return static_cast<float>(v->i);
      default: return static_cast<float>(v->u);
    }
  }
  wrong_type(name_, key, *v, "a number");
}

std::optional<bool> File::find_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != ValueType::boolean) wrong_type(name_, key, *v, "a bool");
  return v->u != 0;
}

std::optional<std::string_view> File::find_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != ValueType::string) wrong_type(name_, key, *v, "a string");
  return v->s;
}

#define PRIMA_REQUIRED(getter, key)                                          \
  do {                                                                       \
    auto v = getter(key);                                                    \
    if (!v) fail("{}: missing required key '{}'", name_, key);               \
    return *v;                                                               \
  } while (0)

uint64_t File::get_u64(std::string_view key) const { PRIMA_REQUIRED(find_u64, key); }
uint32_t File::get_u32(std::string_view key) const { PRIMA_REQUIRED(find_u32, key); }
float File::get_f32(std::string_view key) const { PRIMA_REQUIRED(find_f32, key); }
bool File::get_bool(std::string_view key) const { PRIMA_REQUIRED(find_bool, key); }
std::string_view File::get_string(std::string_view key) const { PRIMA_REQUIRED(find_string, key); }
#undef PRIMA_REQUIRED

int64_t File::get_i64(std::string_view key) const {
  const Value* v = find(key);
  if (!v) fail("{}: missing required key '{}'", name_, key);
  if (!v->is_integer()) wrong_type(name_, key, *v, "an integer");
  switch (v->type) {
    case ValueType::i8: case ValueType::i16: case ValueType::i32: case ValueType::i64: return v->i;
    default:
      if (v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail("{}: key '{}' = {} is too large", name_, key, v->u);
      return static_cast<int64_t>(v->u);
  }
}

uint64_t File::array_size(std::string_view key) const {
  const Value* v = find(key);
  if (!v) fail("{}: missing required key '{}'", name_, key);
  if (v->type != ValueType::array) wrong_type(name_, key, *v, "an array");
  return v->n;
}

std::vector<std::string_view> File::get_string_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) fail("{}: missing required key '{}'", name_, key);
  if (v->type != ValueType::array || v->elem != ValueType::string) wrong_type(name_, key, *v, "an array of strings");
  return v->strings;
}

std::vector<float> File::get_f32_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) fail("{}: missing required key '{}'", name_, key);
  if (v->type != ValueType::array || v->raw == nullptr || v->elem == ValueType::boolean)
    wrong_type(name_, key, *v, "an array of numbers");
  std::vector<float> out(static_cast<size_t>(v->n));
  for (uint64_t j = 0; j < v->n; ++j) out[j] = static_cast<float>(array_f64(*v, j));
  return out;
}

std::vector<int64_t> File::get_int_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) fail("{}: missing required key '{}'", name_, key);
  if (v->type != ValueType::array || v->raw == nullptr || v->elem == ValueType::f32 || v->elem == ValueType::f64)
    wrong_type(name_, key, *v, "an array of integers");
  std::vector<int64_t> out(static_cast<size_t>(v->n));
  const size_t es = scalar_size(v->elem);
  for (uint64_t j = 0; j < v->n; ++j) {
    const uint8_t* p = v->raw + j * es;
    switch (v->elem) {
      case ValueType::u8: case ValueType::boolean: out[j] = *p; break;
      case ValueType::i8: out[j] = static_cast<int8_t>(*p); break;
      case ValueType::u16: out[j] = load<uint16_t>(p); break;
      case ValueType::i16: out[j] = load<int16_t>(p); break;
      case ValueType::u32: out[j] = load<uint32_t>(p); break;
      case ValueType::i32: out[j] = load<int32_t>(p); break;
      case ValueType::i64: out[j] = load<int64_t>(p); break;
      case ValueType::u64: {
        const auto u = load<uint64_t>(p);
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          fail("{}: key '{}' element {} = {} is too large", name_, key, j, u);
        out[j] = static_cast<int64_t>(u);
        break;
      }
      default: break;
    }
  }
  return out;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::tensor(std::string_view name) const {
  const TensorInfo* t = find_tensor(name);
  if (!t) fail("{}: missing tensor '{}'", name_, name);
  return *t;
}

}  // namespace prima::gguf
