#!/usr/bin/env bash
# The main job from a fresh Debian 12 checkout: installs packages, builds, and runs the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
MODEL=${MODEL:-../shared/fixtures/models/stories260K-F32.gguf}
exec ./build/apps/prima/prima run -m "$MODEL" -p "Once upon a time" -n 96 --temp 0
