#!/usr/bin/env bash
# The NEON kernels on an x86 machine: cross-compiles the kernels and their tests for aarch64 (kernels only, see
# cmake/aarch64-linux-gnu.cmake) and runs them under qemu-aarch64 twice:
#   1. on qemu's default CPU ("max", which has the dot-product extension): neon and neondot are both available,
#      so every kernel test compares both NEON tables with the scalar reference, bit for bit;
#   2. as a Cortex-A53 (QEMU_CPU=cortex-a53, ARMv8.0, no dotprod): neondot must be unavailable, and the plain
#      NEON table must run without a single ARMv8.2 instruction reaching it (qemu would stop it as illegal).
# PRIMA_EXPECT_ISAS tells the test Isa.AvailableSetsAreTheExpectedOnes what each CPU must offer.
#
#   scripts/test_neon.sh [build dir]     (default: build-aarch64 in the source tree)
#
# Exits 77 (CTest's SKIP_RETURN_CODE for the NeonKernelsUnderQemu test) when the cross compiler or qemu is
# missing: scripts/setup.sh installs both (g++-aarch64-linux-gnu, qemu-user).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$src/build-aarch64}"
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "test_neon: $tool not found (scripts/setup.sh installs it); skipping"
    exit 77
  fi
done
jobs="$(nproc)"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPRIMA_WERROR=ON -DPRIMA_KERNELS_ONLY=ON \
  -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" >/dev/null
cmake --build "$build" -j "$jobs"
# A file compiled for ARMv8.2 must not define a weak (inline or template) function: the linker could pick that copy
# for baseline callers, and an ARMv8.0 CPU cannot run it (see neon_common.inl).
objs="$(find "$build" -name '*_neon_dotprod.cpp.o')"
[ -n "$objs" ] || { echo "test_neon: no *_neon_dotprod.cpp.o in $build"; exit 1; }
weak="$(aarch64-linux-gnu-nm -C --defined-only $objs | awk '$2 == "W" || $2 == "w" || $2 == "u"')"
if [ -n "$weak" ]; then
  echo "test_neon: weak functions defined in the dotprod objects:"
  echo "$weak"
  exit 1
fi
echo "test_neon: qemu's default CPU (dotprod): scalar, neon and neondot"
PRIMA_EXPECT_ISAS="scalar neon neondot" ctest --test-dir "$build" --output-on-failure -j "$jobs"
echo "test_neon: Cortex-A53 (ARMv8.0, no dotprod): scalar and neon"
QEMU_CPU=cortex-a53 PRIMA_EXPECT_ISAS="scalar neon" ctest --test-dir "$build" --output-on-failure -j "$jobs"
