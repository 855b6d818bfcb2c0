#!/bin/sh
# Runs one node test of the server: run.sh TEST.mjs WORKDIR
# Installs the locked npm packages (package-lock.json, `npm ci`) into WORKDIR once, under a lock so parallel tests
# share it, and exits 77 (CTest: skipped) with a clear message when node or the npm registry is not available.
# Needs PRIMA_BINARY and PRIMA_FIXTURES_DIR in the environment.
set -u
src=$(cd "$(dirname "$0")" && pwd)
test=$1
work=$2
mkdir -p "$work"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: node and npm are needed for $test"
  exit 77
fi
if [ "$test" = page.test.mjs ] && [ ! -x "${PRIMA_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "SKIPPED: no Chromium at ${PRIMA_CHROMIUM:-/usr/bin/chromium} (Debian package chromium; or set PRIMA_CHROMIUM)"
  exit 77
fi
(
  flock 9
  if [ ! -d "$work/node_modules" ] || ! cmp -s "$src/package-lock.json" "$work/package-lock.json"; then
    cp "$src/package.json" "$src/package-lock.json" "$work/"
    rm -rf "$work/node_modules"
    if ! (cd "$work" && npm ci --no-audit --no-fund --fetch-timeout=20000 --fetch-retries=1 --cache "$work/.npm-cache" >"$work/npm.log" 2>&1); then
      rm -f "$work/package-lock.json"  # try again next time
      echo "SKIPPED: 'npm ci' failed (is the npm registry reachable?); last lines of its log:"
      tail -5 "$work/npm.log"
      exit 77
    fi
  fi
) 9>"$work/.lock" || exit $?
cp "$src"/*.mjs "$work/"
cd "$work" && exec node --test --test-reporter=spec "$work/$test"
