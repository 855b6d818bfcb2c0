#!/usr/bin/env bash
# Installs every Debian 12 package prima's build, tests and benchmarks need. Idempotent: packages already
# present are skipped and `apt-get update` runs at most once per invocation (and only when something is missing).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  libfmt-dev libcli11-dev nlohmann-json3-dev libpcre2-dev
  libzmq3-dev cppzmq-dev libglpk-dev libcpp-httplib-dev
  clang libclang-rt-14-dev
  iproute2 python3 curl chromium
  g++-aarch64-linux-gnu qemu-user
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node.js + npm drive the OpenAI-client tests; a NodeSource nodejs (which bundles npm) conflicts with Debian's
# npm package, so only install Debian's when there is no working node/npm at all.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#PACKAGES[@]} packages present"
fi
