#!/usr/bin/env bash
# Configures and builds prima into build/ (Release, warnings as errors). Extra args go to cmake configure.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPRIMA_WERROR=ON "$@" >/dev/null
cmake --build build -j"$(nproc)"
