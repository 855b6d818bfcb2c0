// GGUF writer (version 3), for tests, fixtures made on the fly, and `prima synth`.
// Tensor data is produced by a callback, tensor by tensor, and streamed to the file, so multi-GiB files
// never have to exist in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf.h"

namespace prima::gguf {

class Writer {
 public:
  void set_u8(const std::string& key, uint8_t v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string(const std::string& key, const std::string& v);
  void set_string_array(const std::string& key, const std::vector<std::string>& v);
  void set_f32_array(const std::string& key, const std::vector<float>& v);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& v);
  // A raw value (type + little-endian payload as it appears after the type field); for malformed files.
  void set_raw(const std::string& key, uint32_t type, std::vector<uint8_t> payload);
  void set_alignment(uint32_t a);

  // Declares a tensor; ne[0] is the row length. Returns its index.
  size_t add_tensor(const std::string& name, ggml_type type, std::vector<int64_t> ne);
  uint64_t tensor_size(size_t index) const;

  // Writes the whole file. fill(index, out) must fill out (tensor_size(index) bytes), in chunks of at most
  // `chunk` bytes: it is called repeatedly with consecutive pieces (offset given) of each tensor.
  using Fill = std::function<void(size_t index, uint64_t offset, std::span<uint8_t> out)>;
  void write(const std::string& path, const Fill& fill, uint64_t chunk = 64ull << 20) const;
  // The whole file in memory (small test files).
  std::vector<uint8_t> to_bytes(const Fill& fill) const;

 private:
  struct Kv {
    std::string key;
    uint32_t type;
    std::vector<uint8_t> payload;
  };
  struct Tensor {
    std::string name;
    ggml_type type;
    std::vector<int64_t> ne;
    uint64_t size;
    uint64_t offset;
  };
  void set(const std::string& key, uint32_t type, std::vector<uint8_t> payload);
  std::vector<uint8_t> header() const;

  std::vector<Kv> kv_;
  std::vector<Tensor> tensors_;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_size_ = 0;
};

}  // namespace prima::gguf
