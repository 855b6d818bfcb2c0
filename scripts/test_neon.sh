#!/usr/bin/env bash
# The NEON kernels on an x86 machine: cross-compiles the kernels and their tests for aarch64 (kernels only, see
# cmake/aarch64-linux-gnu.cmake) and runs them under qemu-aarch64, where isa_available(neon) is true, so every
# kernel test compares the NEON table with the scalar reference, bit for bit.
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
ctest --test-dir "$build" --output-on-failure -j "$jobs"
