#include "cluster/fields.h"

#include <algorithm>

#include "core/error.h"

namespace prima::cluster {

namespace {

bool valid_key(std::string_view k) {
  if (k.empty() || k.size() > kMaxKey) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

std::string_view type_name(FieldType t) {
  switch (t) {
    case FieldType::unknown: return "unknown";
    case FieldType::u64: return "u64";
    case FieldType::i64: return "i64";
    case FieldType::f64: return "f64";
    case FieldType::str: return "string";
    case FieldType::u64_list: return "u64 list";
    case FieldType::str_list: return "string list";
  }
  return "?";
}

void write_value(ByteWriter& w, const FieldValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          PRIMA_ASSERT(false && "a field needs a value");
        } else if constexpr (std::is_same_v<T, std::string>) {
          PRIMA_ASSERT(x.size() <= kMaxFieldString);
          w.write<uint32_t>(static_cast<uint32_t>(x.size()));
          w.bytes(x.data(), x.size());
        } else if constexpr (std::is_same_v<T, std::vector<uint64_t>>) {
          PRIMA_ASSERT(x.size() <= kMaxFieldList);
          w.write<uint32_t>(static_cast<uint32_t>(x.size() * 8));
          for (uint64_t u : x) w.write<uint64_t>(u);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          PRIMA_ASSERT(x.size() <= kMaxFieldList);
          size_t n = 2;
          for (const auto& s : x) n += 2 + s.size();
          w.write<uint32_t>(static_cast<uint32_t>(n));
          w.write<uint16_t>(static_cast<uint16_t>(x.size()));
          for (const auto& s : x) {
            PRIMA_ASSERT(s.size() <= 0xffff);
            w.write<uint16_t>(static_cast<uint16_t>(s.size()));
            w.bytes(s.data(), s.size());
          }
        } else {  // u64, i64, f64
          w.write<uint32_t>(8);
          w.write<T>(x);
        }
      },
      v);
}

FieldValue read_value(ByteReader& r, FieldType t, uint32_t len, std::string_view what, const std::string& key) {
  auto scalar_len = [&] {
    if (len != 8) fail("{}: field '{}' ({}) has length {}, expected 8", what, key, type_name(t), len);
  };
  switch (t) {
    case FieldType::u64: scalar_len(); return r.read<uint64_t>(key);
    case FieldType::i64: scalar_len(); return r.read<int64_t>(key);
    case FieldType::f64: scalar_len(); return r.read<double>(key);
    case FieldType::str:
      if (len > kMaxFieldString) fail("{}: field '{}' string of {} bytes exceeds {}", what, key, len, kMaxFieldString);
      return std::string(r.string_view(len, key));
    case FieldType::u64_list: {
      if (len % 8 != 0) fail("{}: field '{}' u64 list length {} is not a multiple of 8", what, key, len);
      if (len / 8 > kMaxFieldList) fail("{}: field '{}' list of {} values exceeds {}", what, key, len / 8, kMaxFieldList);
      r.need(len, key);
      std::vector<uint64_t> v(len / 8);
      for (auto& u : v) u = r.read<uint64_t>(key);
      return v;
    }
    case FieldType::str_list: {
      ByteReader sub(r.bytes(len, key), std::string(what) + " field '" + key + "'");
      const uint16_t n = sub.read<uint16_t>("count");
      if (n > kMaxFieldList) fail("{}: field '{}' list of {} strings exceeds {}", what, key, n, kMaxFieldList);
      if (size_t{n} * 2 > sub.remaining())
        fail("{}: field '{}' claims {} strings but has only {} bytes", what, key, n, sub.remaining());
      std::vector<std::string> v;
      v.reserve(n);
      for (uint16_t i = 0; i < n; ++i) {
        const uint16_t sl = sub.read<uint16_t>("string length");
        v.emplace_back(sub.string_view(sl, "string"));
      }
      if (sub.remaining() != 0) fail("{}: field '{}' has {} stray bytes after its strings", what, key, sub.remaining());
      return v;
    }
    case FieldType::unknown: break;
  }
  PRIMA_ASSERT(false);
}

}  // namespace

void write_fields(ByteWriter& w, const std::vector<Field>& fields) {
  PRIMA_ASSERT(fields.size() <= kMaxFields);
  w.write<uint16_t>(static_cast<uint16_t>(fields.size()));
  for (const Field& f : fields) {
    PRIMA_ASSERT(valid_key(f.key));
    w.write<uint8_t>(static_cast<uint8_t>(f.key.size()));
    w.bytes(f.key.data(), f.key.size());
    w.write<uint8_t>(static_cast<uint8_t>(f.value.index() | (f.critical ? kFieldCritical : 0)));
    write_value(w, f.value);
  }
}

std::vector<Field> read_fields(ByteReader& r, std::string_view what) {
  const uint16_t n = r.read<uint16_t>("field count");
  if (n > kMaxFields) fail("{}: {} fields exceed the limit of {}", what, n, kMaxFields);
  // The smallest field is 7 bytes (1-byte key, type, length, empty string): bound the reservation by the input.
  if (size_t{n} * 7 > r.remaining()) fail("{}: claims {} fields but only {} bytes follow", what, n, r.remaining());
  std::vector<Field> out;
  out.reserve(n);
  for (uint16_t i = 0; i < n; ++i) {
    Field f;
    const uint8_t kl = r.read<uint8_t>("key length");
    f.key = std::string(r.string_view(kl, "key"));
    if (!valid_key(f.key)) fail("{}: field {} has an invalid key (1..{} bytes of [a-z0-9_.])", what, i, kMaxKey);
    for (const Field& g : out)
      if (g.key == f.key) fail("{}: field '{}' appears twice", what, f.key);
    const uint8_t tb = r.read<uint8_t>(f.key);
    f.critical = (tb & kFieldCritical) != 0;
    f.wire_type = tb & 0x7f;
    const uint32_t len = r.read<uint32_t>(f.key);
    if (f.wire_type == 0 || f.wire_type > static_cast<uint8_t>(FieldType::str_list)) {
      r.skip(len, f.key);  // a type from a newer version: keep the key so the compatibility rule can apply
      f.value = std::monostate{};
    } else {
      f.value = read_value(r, static_cast<FieldType>(f.wire_type), len, what, f.key);
    }
    out.push_back(std::move(f));
  }
  return out;
}

FieldSet::FieldSet(std::vector<Field> fields, std::string what)
    : fields_(std::move(fields)), used_(fields_.size(), false), what_(std::move(what)) {}

const Field* FieldSet::find(std::string_view key, FieldType type, bool required) {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].key != key) continue;
    used_[i] = true;
    if (fields_[i].type() != type)
      fail("{}: field '{}' has type {} (wire type {}), expected {}", what_, key, type_name(fields_[i].type()),
           fields_[i].wire_type, type_name(type));
    return &fields_[i];
  }
  if (required) fail("{}: required field '{}' is missing", what_, key);
  return nullptr;
}

uint64_t FieldSet::u64(std::string_view key, std::optional<uint64_t> def, uint64_t min, uint64_t max) {
  const Field* f = find(key, FieldType::u64, !def.has_value());
  const uint64_t v = f ? std::get<uint64_t>(f->value) : *def;
  if (v < min || v > max) fail("{}: field '{}' = {} is outside [{}, {}]", what_, key, v, min, max);
  return v;
}

std::string FieldSet::str(std::string_view key, std::optional<std::string> def, size_t max_len) {
  const Field* f = find(key, FieldType::str, !def.has_value());
  std::string v = f ? std::get<std::string>(f->value) : *def;
  if (v.size() > max_len) fail("{}: field '{}' is {} bytes long, the limit is {}", what_, key, v.size(), max_len);
  return v;
}

std::vector<uint64_t> FieldSet::u64_list(std::string_view key, uint64_t min, uint64_t max) {
  const Field* f = find(key, FieldType::u64_list, true);
  const auto& v = std::get<std::vector<uint64_t>>(f->value);
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] < min || v[i] > max) fail("{}: field '{}'[{}] = {} is outside [{}, {}]", what_, key, i, v[i], min, max);
  return v;
}

std::vector<std::string> FieldSet::str_list(std::string_view key, size_t max_len) {
  const Field* f = find(key, FieldType::str_list, true);
  const auto& v = std::get<std::vector<std::string>>(f->value);
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].empty() || v[i].size() > max_len)
      fail("{}: field '{}'[{}] must be 1..{} bytes, got {}", what_, key, i, max_len, v[i].size());
  return v;
}

std::vector<std::string> FieldSet::finish() {
  std::vector<std::string> ignored;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (used_[i]) continue;
    if (fields_[i].critical)
      fail("{}: the sender requires field '{}', which this build does not know (upgrade this device)", what_,
           fields_[i].key);
    ignored.push_back(fields_[i].key);
  }
  return ignored;
}

}  // namespace prima::cluster
