// Rows of GGUF weights to and from f32.
//
// A row of n values of type t is n / block_size(t) blocks laid out as in tensor/blocks.h (plain types: n
// elements). n must be a multiple of the block size (check it at load; these functions trust it).
//
//   dequantize_row  exact decoding of the stored blocks (the scalar reference every dot product is checked
//                   against); used for embedding lookups and tests.
//   quantize_row    a reference quantizer for every supported type: valid blocks, round to nearest with a
//                   good scale per block (not llama.cpp's error-minimising search). Used by tests, benchmarks
//                   and tools that synthesise weights; never on the inference path.
//
// Both work for every type in prima::kSupportedTypes and are single-threaded.
#pragma once

#include <cstdint>

#include "tensor/types.h"

namespace prima::kernels {

void dequantize_row(ggml_type t, const void* src, float* dst, int64_t n);  // dst: [n]
void quantize_row(ggml_type t, const float* src, void* dst, int64_t n);    // dst: row_size(t, n) bytes

}  // namespace prima::kernels
