# SIMD kernels live in their own translation units compiled for one ISA each; the baseline build stays
# portable (x86-64 / armv8-a) and the dispatcher picks the best variant at run time by CPU feature.
set(PRIMA_X86 OFF)
set(PRIMA_ARM OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  set(PRIMA_X86 ON)
  set(PRIMA_FLAGS_AVX2 -mavx2 -mfma -mf16c -mbmi2)
  set(PRIMA_FLAGS_AVX512 -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mavx2 -mfma -mf16c -mbmi2)
  # AVX-VNNI (GCC 11, Clang 12 and later); without compiler support the avxvnni set is left out of the build.
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag("-mavxvnni" PRIMA_HAVE_AVXVNNI_FLAG)
  set(PRIMA_FLAGS_AVXVNNI ${PRIMA_FLAGS_AVX2})
  if(PRIMA_HAVE_AVXVNNI_FLAG)
    list(APPEND PRIMA_FLAGS_AVXVNNI -mavxvnni)
  endif()
  # The AMX tile unit (GCC 11, Clang 12 and later); without compiler support the amx set is left out of the build.
  check_cxx_compiler_flag("-mamx-tile -mamx-int8" PRIMA_HAVE_AMX_FLAGS)
  set(PRIMA_FLAGS_AMX ${PRIMA_FLAGS_AVX512})
  if(PRIMA_HAVE_AMX_FLAGS)
    list(APPEND PRIMA_FLAGS_AMX -mamx-tile -mamx-int8)
  endif()
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(PRIMA_ARM ON)
  # ARMv8.2-A with the dot-product extension (SDOT): Cortex-A55 / A75 and later, Apple M1 and later.
  set(PRIMA_FLAGS_DOTPROD -march=armv8.2-a+dotprod)
  # The NEON matmul kernels are unrolled register tiles that fit the 32 vector registers as written; GCC's
  # scheduling before register allocation interleaves them until they spill (e.g. 286 spilled q registers in one
  # Q6_K prefill tile, 0 without it). A GCC flag (clang warns that it does not support it).
  set(PRIMA_FLAGS_NEON_GEMM)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set(PRIMA_FLAGS_NEON_GEMM -fno-schedule-insns)
  endif()
endif()
