// CPU instruction sets the kernels can use, detected at run time.
//
// The library is compiled for the baseline (x86-64 / armv8-a); each SIMD variant lives in its own translation
// unit compiled for one instruction set, and every kernel entry point (matmul, vec.h, ...) dispatches on
// active_isa() when it is called. The first call picks the best available set, unless the environment
// variable PRIMA_ISA=scalar|avx2|avxvnni|avx512|amx|neon|neondot forces one (for tests and benchmarks).
//
//   scalar   portable C++ reference (every kernel has one; SIMD kernels are tested against it)
//   avx2     AVX2 + FMA + F16C + BMI2 (Haswell / Zen 1 and later)
//   avxvnni  avx2 plus AVX-VNNI, the VEX-encoded vpdpbusd / vpdpwssd on ymm (Alder Lake and later client Intel
//            cores and the E-core Xeons, which have it without AVX-512): the avx2 kernels with VNNI dot products
//   avx512   AVX-512 F/BW/VL/DQ/VNNI/BF16 (Ice Lake / Zen 4 and later); uses VNNI dot products
//   amx      avx512 plus the AMX tile unit's 8-bit products (AMX-TILE + AMX-INT8: Xeon Sapphire Rapids and
//            later) for the prefill of the K-quants; every other kernel is avx512's. Linux only: the kernel
//            must grant the process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM), asked on detection.
//   neon     ARMv8-A NEON (AArch64 builds only, where every CPU has it): 8-bit products with smull / sadalp
//   neondot  NEON with the ARMv8.2 dot-product extension (SDOT: Cortex-A55 / A75 and later, Apple M1 and later;
//            Linux: HWCAP_ASIMDDP, macOS: hw.optional.arm.FEAT_DotProd); the same kernels as neon with SDOT
//            for the 8-bit sums. CPUs with it can still be forced to plain neon, and tests compare both.
#pragma once

#include <string_view>

namespace prima::kernels {

enum class Isa { scalar, avx2, avx_vnni, avx512, amx, neon, neon_dotprod };

// Every instruction set, in enum order (PRIMA_ISA's names, tests that loop over the available ones).
inline constexpr Isa kAllIsas[] = {Isa::scalar, Isa::avx2, Isa::avx_vnni, Isa::avx512,
                                   Isa::amx,    Isa::neon, Isa::neon_dotprod};

// The instruction set kernels use now.
Isa active_isa();
// Forces one (tests, benchmarks). Throws prima::Error if it is not available on this CPU / in this build.
void set_isa(Isa isa);
// The best set available here (what active_isa() starts as when PRIMA_ISA is unset).
Isa best_isa();
// Whether this CPU supports the set and this build has kernels for it.
bool isa_available(Isa isa);
std::string_view isa_name(Isa isa);  // "scalar", "avx2", "avxvnni", "avx512", "amx", "neon", "neondot"

}  // namespace prima::kernels
