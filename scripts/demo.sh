#!/usr/bin/env bash
# The main job from a fresh Debian 12 checkout: installs packages, builds, and runs the default model on a ring of
# three devices on this one machine — two `prima worker`s and the head. As root (and with ../shared/tools/homelab
# and no other lab up) each device gets its own network namespace behind a Wi-Fi-like link (3 ± 1 ms, 300 Mbit/s);
# otherwise the workers listen on loopback. Prints the text, the per-device summary and the run's measurements.
#   MODEL=path.gguf ./scripts/demo.sh   another model;   DEMO_LOOPBACK=1: workers on loopback even as root;
#   DEMO_LOCAL=1: one device only
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
P=$PWD/build/apps/prima/prima
MODEL=$(realpath "${MODEL:-../shared/fixtures/models/stories260K-F32.gguf}")
PROMPT=${PROMPT:-Once upon a time}
ARGS=(run -m "$MODEL" -p "$PROMPT" -n "${N:-96}" --temp 0)
# The demo shows the ring: with --plan auto (the default) Halda would rightly run a 1 MB model on the head alone.
RING=(--plan "${PLAN:-even}")
if [ "${DEMO_LOCAL:-0}" = 1 ]; then exec "$P" "${ARGS[@]}"; fi

LOGS=$(mktemp -d)
HOMELAB=$(realpath ../shared/tools/homelab 2>/dev/null || true)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "${LAB_UP:-0}" = 1 ]; then "$HOMELAB" down >/dev/null 2>&1 || true; fi
  rm -rf "$LOGS"
}
trap cleanup EXIT

wait_listening() {  # log file -> prints the port once the worker listens
  for _ in $(seq 200); do
    if grep -qo 'listening on [0-9.]*:[0-9]*' "$1"; then grep -o 'listening on [0-9.]*:[0-9]*' "$1" | head -1 | sed 's/.*://'; return; fi
    sleep 0.05
  done
  echo "a worker did not start:" >&2; cat "$1" >&2; exit 1
}

if [ "${DEMO_LOOPBACK:-0}" != 1 ] && [ "$(id -u)" = 0 ] && [ -x "$HOMELAB" ] && [ ! -e /run/homelab/lab.json ]; then
  cat > "$LOGS/lab.json" <<'JSON'
{"defaults": {"memory": "512MiB", "cpu": 0.6, "cpuset": "0-1", "link": {"delay_ms": 3, "jitter_ms": 1, "rate_mbit": 300}},
 "devices": [{"name": "demo-w1", "ip_suffix": 91}, {"name": "demo-w2", "ip_suffix": 92}, {"name": "demo-head", "ip_suffix": 93}]}
JSON
  "$HOMELAB" up "$LOGS/lab.json" >/dev/null
  LAB_UP=1
  echo "prima demo: homelab up: demo-w1 10.203.0.91, demo-w2 10.203.0.92, demo-head 10.203.0.93 (3 ± 1 ms links)" >&2
  for w in demo-w1 demo-w2; do
    "$HOMELAB" run "$w" -- "$P" worker -m "$MODEL" --listen 0.0.0.0:9000 --name "$w" -t 1 >"$LOGS/$w.log" 2>&1 &
    PIDS+=($!)
    wait_listening "$LOGS/$w.log" >/dev/null
  done
  "$HOMELAB" run demo-head -- "$P" "${ARGS[@]}" "${RING[@]}" --workers 10.203.0.91:9000,10.203.0.92:9000 --listen 0.0.0.0:9100
else
  WORKERS=""
  for w in w1 w2; do
    "$P" worker -m "$MODEL" --listen 127.0.0.1:0 --name "$w" -t 1 >"$LOGS/$w.log" 2>&1 &
    PIDS+=($!)
    WORKERS+="${WORKERS:+,}127.0.0.1:$(wait_listening "$LOGS/$w.log")"
  done
  echo "prima demo: workers on loopback at $WORKERS" >&2
  "$P" "${ARGS[@]}" "${RING[@]}" --workers "$WORKERS"
fi
