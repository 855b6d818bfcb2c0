#!/usr/bin/env bash
# Benchmark of the piped ring (issue 3) on a homelab cluster (needs root): 4 devices, each 1 core, 3 ms one-way
# delay per link (± 0 jitter), 300 Mbit/s; a `prima synth` model. Measures
#   1. ms/token of greedy decode on the ring (3 workers + head, even split, k = 1) vs the same model on one device
#      of the same lab (1 core);
#   2. the time of a 1024-token prompt on the ring with and without micro-batch pipelining.
# Usage: bench/ring/ring_bench.sh [SHAPE] [TYPE] [N_LAYER]   (default: llama3-8b Q4_K_M 16 layers)
set -euo pipefail
cd "$(dirname "$0")/../.."
P=$PWD/build/apps/prima/prima
H=$(realpath ../shared/tools/homelab)
SHAPE=${1:-llama3-8b}; TYPE=${2:-Q4_K_M}; NL=${3:-16}
OUT=${OUT:-/var/tmp/prima-bench}; mkdir -p "$OUT"
MODEL=$OUT/$SHAPE-$TYPE-$NL.gguf
[ -f "$MODEL" ] || "$P" synth --shape "$SHAPE" --type "$TYPE" --n-layer "$NL" -o "$MODEL"
cat > "$OUT/lab.json" <<'JSON'
{"defaults": {"memory": "6GiB", "cpu": 1.0, "cpuset": "0-1", "link": {"delay_ms": 3, "jitter_ms": 0, "rate_mbit": 300}},
 "devices": [{"name": "rb-w1", "ip_suffix": 101}, {"name": "rb-w2", "ip_suffix": 102},
             {"name": "rb-w3", "ip_suffix": 103}, {"name": "rb-hd", "ip_suffix": 104}]}
JSON
"$H" up "$OUT/lab.json" >/dev/null
trap '"$H" down >/dev/null 2>&1 || true' EXIT
# Warm the page cache so the disk is not what we measure.
cat "$MODEL" > /dev/null

run_head() {  # args...: prints the run-end line
  "$H" run rb-hd -- "$P" run -m "$MODEL" -t 1 --temp 0 --ignore-eos "$@" 2>&1 >/dev/null | grep -E '^prima: load|^w[0-9]|^head|^device'
}
echo "== one device (rb-hd, 1 core): decode"
run_head -p "Once upon a time" -n 32 -c 2048
for w in rb-w1 rb-w2 rb-w3; do
  "$H" run "$w" --bg "$OUT/$w.log" -- "$P" worker -m "$MODEL" --listen 0.0.0.0:9000 --name "$w" -t 1 >/dev/null
done
sleep 1
WORKERS=10.203.0.101:9000,10.203.0.102:9000,10.203.0.103:9000
RING=(--workers "$WORKERS" --listen 0.0.0.0:9100 --plan even)
echo "== ring of 4 (3 workers + head, 1 core each, 3 ms links, even split): decode"
run_head -p "Once upon a time" -n 32 -c 2048 "${RING[@]}"
# A 1024-token prompt: `prima bench -p 1024` (the synthetic vocabulary makes text prompts tokenize unpredictably).
bench_head() {  # args...: prints the pp row
  "$H" run rb-hd -- "$P" bench -m "$MODEL" -t 1 -p 1024 -n 0 -r 1 -c 2048 --no-roofline "$@" 2>/dev/null | grep pp1024
}
echo "== ring of 4: 1024-token prompt, pipelined (micro-batches of 128)"
bench_head --ubatch-size 128 "${RING[@]}"
echo "== ring of 4: 1024-token prompt, not pipelined (micro-batches of 128, one at a time)"
bench_head --ubatch-size 128 --no-pipeline "${RING[@]}"
echo "== one device: 1024-token prompt (micro-batches of 128)"
bench_head --ubatch-size 128
