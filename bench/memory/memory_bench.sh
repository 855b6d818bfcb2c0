#!/usr/bin/env bash
# Benchmark of weights-from-disk (issue 6), on a homelab cluster (needs root): a worker and a head, each holding
# less RAM than its share of a `prima synth` model several GiB large, the disk throttled so that reading matters.
# For k = 1 and k = K (smaller windows), and for --prefetch off | on | touch with and without release:
# ms/token of greedy decode and bytes each device read from disk per token (cgroup blkio counters).
# Usage: bench/memory/memory_bench.sh [SHAPE] [TYPE] [N_LAYER] [K]   (default llama3-8b Q4_K_M 16 layers, K = 8)
set -euo pipefail
cd "$(dirname "$0")/../.."
P=$PWD/build/apps/prima/prima
H=$(realpath ../shared/tools/homelab)
SHAPE=${1:-llama3-8b}; TYPE=${2:-Q4_K_M}; NL=${3:-16}; K=${4:-8}
N=${N:-6}                 # generated tokens per run
MEM=${MEM:-768MiB}        # per device
DISK=${DISK:-400MB/s}     # per device read throttle
OUT=${OUT:-/var/tmp/prima-bench}; mkdir -p "$OUT"
MODEL=$OUT/$SHAPE-$TYPE-$NL.gguf
[ -f "$MODEL" ] || "$P" synth --shape "$SHAPE" --type "$TYPE" --n-layer "$NL" -o "$MODEL"
SIZE=$(stat -c %s "$MODEL")
cat > "$OUT/memlab.json" <<JSON
{"defaults": {"memory": "$MEM", "cpu": 1.0, "cpuset": "0-1", "disk_read_bps": "$DISK",
              "link": {"delay_ms": 3, "jitter_ms": 0, "rate_mbit": 300}},
 "devices": [{"name": "mb-w1", "ip_suffix": 111}, {"name": "mb-hd", "ip_suffix": 112}]}
JSON
"$H" up "$OUT/memlab.json" >/dev/null
trap '"$H" down >/dev/null 2>&1 || true' EXIT
drop() { python3 -c "import os,sys; fd=os.open(sys.argv[1],os.O_RDONLY); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED); os.close(fd)" "$MODEL"; }
blk() { "$H" stats "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['blkio_read_bytes'])"; }
echo "model $MODEL ($((SIZE >> 20)) MiB, $NL layers), devices of $MEM, disk $DISK, $N tokens per run"
printf "%-4s %-9s %-8s %12s %14s %14s\n" k prefetch release "ms/token" "w1 MiB/token" "head MiB/token"
for k in 1 "$K"; do
  half=$((NL / 2 / k)); WIN="$half,$half"
  for pf in off on touch; do
    for rel in auto off; do
      drop; "$H" reset-stats >/dev/null
      w1_before=$(blk mb-w1); hd_before=$(blk mb-hd)  # the cgroup's read counter only grows
      "$H" run mb-w1 --bg "$OUT/w1.log" -- "$P" worker -m "$MODEL" --listen 0.0.0.0:9000 --name w1 -t 1 --sessions 1 >/dev/null
      sleep 0.5
      line=$("$H" run mb-hd -- "$P" run -m "$MODEL" -p "Once upon a time" -n "$N" --temp 0 --ignore-eos -t 1 -c 256 \
               --workers 10.203.0.111:9000 --layer-window "$WIN" --listen 0.0.0.0:9100 \
               --prefetch "$pf" --release "$rel" 2>&1 >/dev/null | grep '^prima: load' || true)
      ms=$(sed -n 's/.*tok\/s, \([0-9.]*\) ms\/token.*/\1/p' <<<"$line")
      steps=$((N + 1))
      printf "%-4s %-9s %-8s %12s %14s %14s\n" "$k" "$pf" "$rel" "${ms:-fail}" \
        "$(python3 -c "print(round(($(blk mb-w1) - $w1_before) / $steps / 1048576))")" \
        "$(python3 -c "print(round(($(blk mb-hd) - $hd_before) / $steps / 1048576))")"
      sleep 0.5
    done
  done
done
