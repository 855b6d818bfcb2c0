// Bounds-checked little-endian byte reading and writing, for every byte format we decode (GGUF, wire
// protocol). A reader never reads past its span: every overrun throws prima::Error naming `what` and the
// offset, so decoders stay pure and safe on hostile input.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace prima {

static_assert(std::endian::native == std::endian::little, "prima assumes a little-endian host");

class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> data, std::string what) : data_(data), what_(std::move(what)) {}

  size_t offset() const { return pos_; }
  size_t size() const { return data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  const std::string& what() const { return what_; }

  template <class T>
  T read(std::string_view field) {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  // Returns a view of the next n bytes and advances past them.
  std::span<const uint8_t> bytes(uint64_t n, std::string_view field) {
    need(n, field);
    auto s = data_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }

  std::string_view string_view(uint64_t n, std::string_view field) {
    auto b = bytes(n, field);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }

  void skip(uint64_t n, std::string_view field) { (void)bytes(n, field); }

  void seek(uint64_t off, std::string_view field) {
    if (off > data_.size()) fail("{}: {} at offset {} is past the end ({} bytes)", what_, field, off, data_.size());
    pos_ = static_cast<size_t>(off);
  }

  void need(uint64_t n, std::string_view field) const {
    if (n > remaining())
      fail("{}: truncated: {} needs {} bytes at offset {} but only {} remain", what_, field, n, pos_, remaining());
  }

 private:
  std::span<const uint8_t> data_;
  std::string what_;
  size_t pos_ = 0;
};

class ByteWriter {
 public:
  template <class T>
  void write(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes(&v, sizeof(T));
  }
  void bytes(const void* p, size_t n) {
    if (n == 0) return;
    const size_t at = buf_.size();
    buf_.resize(at + n);
    std::memcpy(buf_.data() + at, p, n);
  }
  void bytes(std::span<const uint8_t> s) { bytes(s.data(), s.size()); }
  void zeros(size_t n) { buf_.insert(buf_.end(), n, 0); }
  size_t size() const { return buf_.size(); }
  std::vector<uint8_t>& buffer() { return buf_; }
  std::vector<uint8_t> take() { return std::move(buf_); }

 private:
  std::vector<uint8_t> buf_;
};

// Checked arithmetic for sizes computed from untrusted counts.
inline bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }
inline bool add_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_add_overflow(a, b, out); }

}  // namespace prima
