#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 checkout (with ../shared beside it): installs packages,
# builds, runs every CTest test. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900
