// Tensor element types, numbered as GGML numbers them in GGUF files (ggml_type), and their traits.
//
// A quantized type stores a row of ne0 values as ne0 / block_size blocks of type_size bytes each; ne0 must be
// a multiple of block_size. The block layouts themselves are in tensor/blocks.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace prima {

enum class ggml_type : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

struct TypeTraits {
  std::string_view name;
  uint32_t block_size;  // values per block (1 for plain types)
  uint32_t type_size;   // bytes per block
  bool quantized;
  bool supported;  // prima has kernels for it (weights of this type can be computed with)
};

// Traits of a known type id, or nullopt for an id GGML does not (or no longer) define.
std::optional<TypeTraits> type_traits(uint32_t id);
const TypeTraits& traits(ggml_type t);  // t must be a known type

inline std::string_view type_name(ggml_type t) { return traits(t).name; }
std::optional<ggml_type> type_from_name(std::string_view name);  // "Q4_K", "f16" (case-insensitive)

// Bytes of one row of n values; n must be a multiple of the block size.
inline uint64_t row_size(ggml_type t, uint64_t n) {
  const auto& tr = traits(t);
  return n / tr.block_size * tr.type_size;
}

// Every type prima can compute with, in a fixed order (for tests and benchmarks).
extern const ggml_type kSupportedTypes[14];

}  // namespace prima
