#!/usr/bin/env bash
# Aggregate tokens/s of `prima serve` with 1, 2, 4 concurrent streams on a 3-device homelab ring (issue 8; needs
# root): two workers and the head, 1 core each, 3 ± 1 ms one-way links at 300 Mbit/s, even split. The client runs in
# the head's device (the lab's addresses are not reachable from the host namespace).
# Usage: bench/server/serve_homelab.sh [MODEL [serve_bench.py options]]   (default: prima synth --shape small --type Q4_K_M)
set -euo pipefail
cd "$(dirname "$0")/../.."
P=$PWD/build/apps/prima/prima
H=$(realpath ../shared/tools/homelab)
OUT=${OUT:-/var/tmp/prima-bench}; mkdir -p "$OUT"
MODEL=${1:-$OUT/serve-small-Q4_K_M.gguf}; [ $# -gt 0 ] && shift
[ -f "$MODEL" ] || "$P" synth --shape small --type Q4_K_M -o "$MODEL"
cat > "$OUT/servelab.json" <<'JSON'
{"defaults": {"memory": "2GiB", "cpu": 1.0, "cpuset": "0-1", "link": {"delay_ms": 3, "jitter_ms": 1, "rate_mbit": 300}},
 "devices": [{"name": "sv-w1", "ip_suffix": 131}, {"name": "sv-w2", "ip_suffix": 132}, {"name": "sv-hd", "ip_suffix": 133}]}
JSON
"$H" up "$OUT/servelab.json" >/dev/null
trap '"$H" down >/dev/null 2>&1 || true' EXIT
for w in sv-w1 sv-w2; do
  "$H" run "$w" --bg "$OUT/$w.log" -- "$P" worker -m "$MODEL" --listen 0.0.0.0:9000 --name "$w" -t 1 >/dev/null
done
sleep 1
"$H" run sv-hd -- python3 bench/server/serve_bench.py --model "$MODEL" --threads 1 \
  --ring 10.203.0.131:9000,10.203.0.132:9000 --listen 0.0.0.0:9100 --serve-args "--plan even" "$@"
