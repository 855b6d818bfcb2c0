// AVX-512 kernel table: 8-bit products with VNNI (vpdpbusd / vpdpwssd on ymm: Zen 4 runs zmm as two halves
// anyway, and ymm keeps the unpacking simple; the packed prefill kernels put 16 rows in a zmm and the K-quant
// decode a whole super-block, where fewer instructions per product pay), float kernels on zmm.
// The x86_*.inl files hold the kernels, shared with the other x86 table; see x86_common.inl for the rules.
#include "kernels/gemm_impl.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__)
// GCC 12 reports its own avx512fintrin.h helpers (`__Y = __Y` self-initialisation) as uninitialised.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
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

const IsaKernels* avx512_kernels() {
  static const IsaKernels k = make_table();
  return &k;
}

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
const IsaKernels* avx512_kernels() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
