// AVX2 + FMA + F16C kernel table (8-bit products with vpmaddubsw, float kernels on ymm).
// The x86_*.inl files hold the kernels, shared with the other x86 table; see x86_common.inl for the rules.
#include "kernels/gemm_impl.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "tensor/blocks.h"

namespace prima::kernels::detail {
namespace {
#include "kernels/x86_common.inl"
#include "kernels/x86_act.inl"
#include "kernels/x86_vf.inl"
#include "kernels/x86_gemm_float.inl"
#include "kernels/x86_gemm_k.inl"
#include "kernels/x86_gemm_q32.inl"
#include "kernels/x86_table.inl"
}  // namespace

const IsaKernels* avx2_kernels() {
  static const IsaKernels k = make_table();
  return &k;
}

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
const IsaKernels* avx2_kernels() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
