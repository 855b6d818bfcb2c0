#!/usr/bin/env bash
# Benchmark of the Halda scheduler (issue 7) on a heterogeneous homelab cluster (needs root): four devices with
# different memory, CPU quota, disk read speed and link, and a `prima synth` model larger than any one device's
# memory. Measures ms/token of greedy decode with Halda's plan (--plan auto), an even split (--plan even) and a
# memory-proportional split (--plan memory), and sets each beside Halda's prediction for that split
# (`prima plan --layer-window`, on the profiles the head measured).
# Usage: bench/scheduler/halda_homelab.sh [SHAPE] [TYPE] [N_LAYER]   (default llama3-8b Q4_K_M 16 layers)
set -euo pipefail
cd "$(dirname "$0")/../.."
P=$PWD/build/apps/prima/prima
H=$(realpath ../shared/tools/homelab)
SHAPE=${1:-llama3-8b}; TYPE=${2:-Q4_K_M}; NL=${3:-16}
N=${N:-8}   # generated tokens per run
OUT=${OUT:-/var/tmp/prima-bench}; mkdir -p "$OUT"
MODEL=$OUT/$SHAPE-$TYPE-$NL.gguf
[ -f "$MODEL" ] || "$P" synth --shape "$SHAPE" --type "$TYPE" --n-layer "$NL" -o "$MODEL"
SIZE=$(stat -c %s "$MODEL")
# Ring order: a Mac-like device (little RAM, slow random reads), a laptop, a phone, and the desktop as the head.
cat > "$OUT/haldalab.json" <<'JSON'
{"defaults": {"cpuset": "0-1", "link": {"delay_ms": 3, "jitter_ms": 1, "rate_mbit": 300}},
 "devices": [
  {"name": "hb-mac",   "ip_suffix": 121, "memory": "900MiB",  "cpu": 0.45, "disk_read_bps": "250MB/s"},
  {"name": "hb-laptop","ip_suffix": 122, "memory": "1300MiB", "cpu": 0.45, "disk_read_bps": "1000MB/s"},
  {"name": "hb-phone", "ip_suffix": 123, "memory": "600MiB",  "cpu": 0.3,  "disk_read_bps": "480MB/s",
   "link": {"delay_ms": 5, "jitter_ms": 2, "rate_mbit": 100}},
  {"name": "hb-desk",  "ip_suffix": 124, "memory": "2400MiB", "cpu": 0.6,  "disk_read_bps": "1100MB/s"}]}
JSON
"$H" up "$OUT/haldalab.json" >/dev/null
trap '"$H" down >/dev/null 2>&1 || true' EXIT
drop() { python3 -c "import os,sys; fd=os.open(sys.argv[1],os.O_RDONLY); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED); os.close(fd)" "$MODEL"; }
WORKERS=10.203.0.121:9000,10.203.0.122:9000,10.203.0.123:9000
PROFILES=$OUT/halda-cluster.json
start_workers() {
  for w in hb-mac hb-laptop hb-phone; do
    "$H" kill "$w" >/dev/null 2>&1 || true
    "$H" run "$w" --bg "$OUT/$w.log" -- "$P" worker -m "$MODEL" --listen 0.0.0.0:9000 --name "$w" -t 1 >/dev/null
  done
  sleep 1
}
run_plan() {  # PLAN [extra args]: prints the run-end line
  local plan=$1; shift
  drop; start_workers
  "$H" run hb-desk -- "$P" run -m "$MODEL" -p "Once upon a time" -n "$N" --temp 0 --ignore-eos -t 1 -c 256 \
    --workers "$WORKERS" --listen 0.0.0.0:9100 --plan "$plan" "$@" 2>&1 >/dev/null | grep '^prima: load' || echo "failed"
}
echo "model $MODEL ($((SIZE >> 20)) MiB, $NL layers); devices: mac 900 MiB, laptop 1300 MiB, phone 600 MiB, desk (head) 2400 MiB"
# Profile every device once (cached afterwards) and keep the cluster file for the predictions.
run_plan auto --reprofile --save-profiles "$PROFILES" >/dev/null
printf "%-8s %-28s %12s %14s\n" plan windows "measured ms" "predicted ms"
for plan in auto even memory; do
  line=$(run_plan "$plan")  # auto: on the cached profiles
  ms=$(sed -n 's/.*tok\/s, \([0-9.]*\) ms\/token.*/\1/p' <<<"$line")
  # per-device windows in ring order (w1 w2 w3 head; 0 for a device the plan left out) from the run-end line's
  # "name [b,e) [b,e);" lists
  win=$(python3 -c '
import re, sys
line = sys.argv[1]
w = {}
for name, b, e in re.findall(r"(w[0-9]+|head) \[([0-9]+),([0-9]+)\)", line):
    w.setdefault(name, int(e) - int(b))
print(",".join(str(w.get(n, 0)) for n in ["w1", "w2", "w3", "head"]))' "$line")
  pred=$("$P" plan -m "$MODEL" --profiles "$PROFILES" --n-ctx 256 --layer-window "$win" --json 2>/dev/null |
         python3 -c "import json,sys; print(round(json.load(sys.stdin)['predicted_ms_per_token'], 1))" || echo "?")
  printf "%-8s %-28s %12s %14s\n" "$plan" "${win:-?}" "${ms:-failed}" "$pred"
  echo "  $line" >> "$OUT/halda-runs.log"
done
echo "(run-end lines in $OUT/halda-runs.log; profiles in $PROFILES)"
