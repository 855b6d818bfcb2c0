#include "gguf/writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/bytes.h"
#include "core/error.h"

namespace prima::gguf {
namespace {

void put_string(ByteWriter& w, const std::string& s) {
  w.write<uint64_t>(s.size());
  w.bytes(s.data(), s.size());
}

template <class T>
std::vector<uint8_t> scalar(T v) {
  ByteWriter w;
  w.write(v);
  return w.take();
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

void Writer::set(const std::string& key, uint32_t type, std::vector<uint8_t> payload) {
  for (auto& kv : kv_)
    if (kv.key == key) {
      kv.type = type;
      kv.payload = std::move(payload);
      return;
    }
  kv_.push_back({key, type, std::move(payload)});
}

void Writer::set_u8(const std::string& k, uint8_t v) { set(k, 0, scalar(v)); }
void Writer::set_u32(const std::string& k, uint32_t v) { set(k, 4, scalar(v)); }
void Writer::set_i32(const std::string& k, int32_t v) { set(k, 5, scalar(v)); }
void Writer::set_f32(const std::string& k, float v) { set(k, 6, scalar(v)); }
void Writer::set_bool(const std::string& k, bool v) { set(k, 7, scalar<uint8_t>(v ? 1 : 0)); }
void Writer::set_u64(const std::string& k, uint64_t v) { set(k, 10, scalar(v)); }
void Writer::set_string(const std::string& k, const std::string& v) {
  ByteWriter w;
  put_string(w, v);
  set(k, 8, w.take());
}
void Writer::set_string_array(const std::string& k, const std::vector<std::string>& v) {
  ByteWriter w;
  w.write<uint32_t>(8);
  w.write<uint64_t>(v.size());
  for (const auto& s : v) put_string(w, s);
  set(k, 9, w.take());
}
void Writer::set_f32_array(const std::string& k, const std::vector<float>& v) {
  ByteWriter w;
  w.write<uint32_t>(6);
  w.write<uint64_t>(v.size());
  w.bytes(v.data(), v.size() * sizeof(float));
  set(k, 9, w.take());
}
void Writer::set_i32_array(const std::string& k, const std::vector<int32_t>& v) {
  ByteWriter w;
  w.write<uint32_t>(5);
  w.write<uint64_t>(v.size());
  w.bytes(v.data(), v.size() * sizeof(int32_t));
  set(k, 9, w.take());
}
void Writer::set_raw(const std::string& k, uint32_t type, std::vector<uint8_t> payload) {
  set(k, type, std::move(payload));
}
void Writer::set_alignment(uint32_t a) {
  alignment_ = a;
  set_u32("general.alignment", a);
  uint64_t off = 0;
  for (auto& t : tensors_) {
    t.offset = off;
    off = align_up(off + t.size, alignment_);
  }
  data_size_ = off;
}

size_t Writer::add_tensor(const std::string& name, ggml_type type, std::vector<int64_t> ne) {
  PRIMA_CHECK(!ne.empty() && ne.size() <= kMaxDims, "gguf writer: tensor '{}' needs 1..4 dims", name);
  const auto& tr = traits(type);
  PRIMA_CHECK(ne[0] % tr.block_size == 0, "gguf writer: tensor '{}' row {} is not a multiple of {}", name, ne[0],
              tr.block_size);
  uint64_t rows = 1;
  for (size_t d = 1; d < ne.size(); ++d) rows *= static_cast<uint64_t>(ne[d]);
  const uint64_t size = row_size(type, static_cast<uint64_t>(ne[0])) * rows;
  const uint64_t offset = data_size_;
  tensors_.push_back({name, type, std::move(ne), size, offset});
  data_size_ = align_up(offset + size, alignment_);
  return tensors_.size() - 1;
}

uint64_t Writer::tensor_size(size_t index) const { return tensors_.at(index).size; }

std::vector<uint8_t> Writer::header() const {
  ByteWriter w;
  w.write<uint32_t>(kMagic);
  w.write<uint32_t>(3);
  w.write<uint64_t>(tensors_.size());
  w.write<uint64_t>(kv_.size());
  for (const auto& kv : kv_) {
    put_string(w, kv.key);
    w.write<uint32_t>(kv.type);
    w.bytes(kv.payload.data(), kv.payload.size());
  }
  for (const auto& t : tensors_) {
    put_string(w, t.name);
    w.write<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (auto n : t.ne) w.write<uint64_t>(static_cast<uint64_t>(n));
    w.write<uint32_t>(static_cast<uint32_t>(t.type));
    w.write<uint64_t>(t.offset);
  }
  w.zeros(align_up(w.size(), alignment_) - w.size());
  return w.take();
}

void Writer::write(const std::string& path, const Fill& fill, uint64_t chunk) const {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) fail("{}: cannot create: {}", path, std::strerror(errno));
  auto put = [&](const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f.get()) != n) fail("{}: write failed: {}", path, std::strerror(errno));
  };
  const auto h = header();
  put(h.data(), h.size());
  std::vector<uint8_t> buf;
  uint64_t written = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const auto& t = tensors_[i];
    std::vector<uint8_t> pad(static_cast<size_t>(t.offset - written), 0);
    put(pad.data(), pad.size());
    written = t.offset;
    for (uint64_t off = 0; off < t.size; off += chunk) {
      const uint64_t n = std::min(chunk, t.size - off);
      buf.resize(static_cast<size_t>(n));
      fill(i, off, std::span<uint8_t>(buf.data(), buf.size()));
      put(buf.data(), buf.size());
    }
    written += t.size;
  }
  std::vector<uint8_t> pad(static_cast<size_t>(data_size_ - written), 0);
  put(pad.data(), pad.size());
  if (std::fflush(f.get()) != 0) fail("{}: write failed: {}", path, std::strerror(errno));
}

std::vector<uint8_t> Writer::to_bytes(const Fill& fill) const {
  auto out = header();
  const size_t base = out.size();
  out.resize(base + static_cast<size_t>(data_size_), 0);
  for (size_t i = 0; i < tensors_.size() && fill; ++i) {
    const auto& t = tensors_[i];
    fill(i, 0, std::span<uint8_t>(out.data() + base + t.offset, static_cast<size_t>(t.size)));
  }
  return out;
}

}  // namespace prima::gguf
