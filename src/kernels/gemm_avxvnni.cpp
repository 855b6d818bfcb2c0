// AVX-VNNI kernel table: the avx2 table's kernels with the VEX-encoded vpdpbusd / vpdpwssd on ymm (Alder Lake and
// later client Intel cores: AVX-VNNI without AVX-512). One instruction per four 8-bit products where avx2 needs
// vpmaddubsw + vpmaddwd, and the packed prefill kernels take the VNNI layout (x86_rows.inl: 8 rows per ymm), so
// Q8_0 and IQ4_NL are packed too (unsigned values with an offset, where avx2 keeps the sign trick).
// The x86_*.inl files hold the kernels, shared with the other x86 tables; see x86_common.inl for the rules.
#include "kernels/gemm_impl.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && defined(__AVXVNNI__)
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

const IsaKernels* avxvnni_kernels() {
  static const IsaKernels k = make_table();
  return &k;
}

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
const IsaKernels* avxvnni_kernels() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
