// vec.h kernels compiled for avx2 (x86_vec.inl).
#include "kernels/vec.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include <immintrin.h>

#include <cmath>
#include <cstring>

namespace prima::kernels::detail {
namespace {
#include "kernels/x86_common.inl"
#include "kernels/x86_vf.inl"
#include "kernels/x86_vec.inl"
}  // namespace

const VecKernels* vec_avx2() {
  static const VecKernels k{f32_to_f16_x86, f16_to_f32_x86, round_f16_x86, dot_rows_x86,
                            axpy_rows_x86,  exp_row_x86,    softmax_x86,   silu_mul_x86};
  return &k;
}

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
const VecKernels* vec_avx2() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
