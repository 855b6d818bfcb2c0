// vec.h kernels compiled for avx512 (x86_vec.inl).
#include "kernels/vec.h"

#if defined(__AVX512F__) && defined(__AVX512VL__)
// GCC 12 reports its own avx512fintrin.h helpers (`__Y = __Y` self-initialisation) as uninitialised.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstring>

namespace prima::kernels::detail {
namespace {
#include "kernels/x86_common.inl"
#include "kernels/x86_vf.inl"
#include "kernels/x86_vec.inl"
}  // namespace

const VecKernels* vec_avx512() {
  static const VecKernels k{f32_to_f16_x86, f16_to_f32_x86, round_f16_x86, dot_rows_x86,
                            axpy_rows_x86,  exp_row_x86,    softmax_x86,   silu_mul_x86};
  return &k;
}

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
const VecKernels* vec_avx512() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
