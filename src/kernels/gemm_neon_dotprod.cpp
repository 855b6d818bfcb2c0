// NEON kernel table for CPUs with the dot-product extension (ARMv8.2-A dotprod: Cortex-A55 / A75 and every later
// phone core, Apple M1 and later; Isa::neon_dotprod, chosen at run time only when the CPU reports it, see
// isa.cpp). The only file compiled with -march=armv8.2-a+dotprod (cmake/simd.cmake).
//
// The quantized weights run the register-tiled kernels of neon_gemm_q32.inl / neon_gemm_k.inl with SDOT
// (vdotq_s32: 16 signed 8-bit products summed into 4 i32 lanes per instruction, against smull + smlal2 + sadalp
// for 16 products in the plain table). Integer sums are exact whatever instruction forms them, and the float
// steps are the same code as the plain table's, so the results are bit-identical to the scalar reference.
// Float weights and the activation quantizers have no 8-bit products: they are the plain NEON table's entries
// (baseline code, shared). As in the x86 tables, this file calls no inline function of another header, so that
// no out-of-line copy compiled for ARMv8.2 can reach baseline callers (neon_common.inl).
#include "kernels/gemm_impl.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#include <arm_neon.h>

#include <cstring>

#include "tensor/blocks.h"

namespace prima::kernels::detail {
namespace {
#define PRIMA_NEON_SDOT 1
#include "kernels/neon_common.inl"
#include "kernels/neon_gemm_q32.inl"
#include "kernels/neon_gemm_k.inl"
#include "kernels/neon_table.inl"
#undef PRIMA_NEON_SDOT

IsaKernels make_table() {
  IsaKernels k = *neon_kernels();
  set_quantized_tiles(k);
  return k;
}
}  // namespace

const IsaKernels* neon_dotprod_kernels() {
  static const IsaKernels k = make_table();
  return &k;
}

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
const IsaKernels* neon_dotprod_kernels() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
