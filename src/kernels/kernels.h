// The kernels module: everything the model needs to multiply by GGUF weights on a CPU.
//
//   #include "kernels/kernels.h"   // or the one header you need:
//
//   kernels/isa.h          Isa, active_isa(), set_isa(), isa_available(), isa_name()   (PRIMA_ISA=scalar|avx2|avx512|neon|neondot)
//   kernels/quant.h        dequantize_row(), quantize_row()            rows of any supported type <-> f32
//   kernels/thread_pool.h  ThreadPool(n).run([](int ith, int nth){})   persistent workers, caller is ith 0
//   kernels/matmul.h       WeightMatrix, matmul(pool, w, x, n_tok, y)  y[n_tok][n_out] = x[n_tok][n_in] · Wᵀ
//   kernels/vec.h          f16 rows: conversions, dot, axpy, row-batched forms (attention over an F16 cache)
//   kernels/bandwidth.h    measure_read_bandwidth(pool, bytes, max_seconds)  (the profiler's probe)
//
// Supported weight types: prima::kSupportedTypes (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K, IQ4_NL); block layouts in tensor/blocks.h.
//
// How a matmul is computed (details in gemm_impl.h):
//   1. x is quantized once per call into the weight type's activation format (f32 for float weights; 8-bit
//      blocks of 32 with scale and sum; 256-value Q8_K blocks for the K-quants).
//   2. Work items of (rows × tokens), sized for L2, are handed to the pool's threads dynamically.
//   3. Each item runs the active ISA's tile kernel: every weight block is unpacked once into unsigned bytes and
//      multiplied with a group of tokens (8-bit dot products: vpmaddubsw, VNNI vpdpbusd / vpdpwssd, NEON
//      smull + sadalp, or NEON SDOT); float weights use register tiles of rows × tokens with FMA.
//   4. Every output is computed in one canonical order of float operations (gemm_impl.h; vec.h for the vector
//      helpers), the same on every ISA, tiling and thread count: results are bit-identical everywhere.
// Every SIMD kernel has a scalar reference (gemm_scalar.cpp, vec.cpp, act.cpp) and tests requiring equal bits.
//
// Files: isa.cpp (cpuid, dispatch) · act.cpp (activation formats) · dequantize.cpp · quantize.cpp ·
// gemm_scalar.cpp · gemm_avx2.cpp / gemm_avx512.cpp (tables built from x86_*.inl) · gemm_neon.cpp /
// gemm_neon_dotprod.cpp (tables built from neon_*.inl) · matmul.cpp · thread_pool.cpp · vec*.cpp ·
// bandwidth*.cpp · peak*.cpp (arithmetic peak probe). SIMD sources (*_avx2.cpp, *_avx512.cpp,
// *_neon_dotprod.cpp) are compiled with their instruction set's flags; the rest of the library stays baseline
// (x86-64, armv8-a), so the binary runs on any x86-64 / AArch64 CPU. The *_neon*.cpp sources hold code only on
// aarch64, where NEON is baseline (elsewhere they define their accessors as null); they are tested under qemu
// (scripts/test_neon.sh, docs/architecture.md).
#pragma once

#include "kernels/bandwidth.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "kernels/thread_pool.h"
#include "kernels/vec.h"
