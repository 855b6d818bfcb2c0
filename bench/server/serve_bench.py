#!/usr/bin/env python3
"""Aggregate generation speed of `prima serve` with 1, 2, 4 ... concurrent streams (continuous batching).

Starts `prima serve -np <max streams>` on a free port (optionally over a ring of N loopback `prima worker`s), then
for each concurrency level sends that many streaming /v1/completions requests at once (ignore_eos, so every
stream generates exactly --tokens tokens) and reports, per level: aggregate tokens/s (all generated tokens / wall
time from the first request to the last token), the mean per-stream tokens/s, and the mean time to first token.
Each level runs --repeat times after one warm-up; the best aggregate is kept.

Usage: bench/server/serve_bench.py [--model M.gguf] [--streams 1,2,4] [--tokens 128] [--threads T] [--workers N]
                                   [--ring host:port,... --listen addr:port] [--serve-args "..."]
Default model: a random-weight `prima synth --shape small --type Q4_K_M` (16 layers, 114 MiB) in /var/tmp.
Speeds are reported, never asserted (docs/contributing.md).
"""
import argparse, http.client, json, os, re, subprocess, sys, threading, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def start(cmd, pattern, timeout=30):
    """Starts cmd, waits for a line matching pattern on stdout or stderr; returns (process, match)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found = {}

    def read():
        for line in p.stdout:
            m = re.search(pattern, line)
            if m and "m" not in found:
                found["m"] = m
    threading.Thread(target=read, daemon=True).start()
    t0 = time.time()
    while "m" not in found:
        if p.poll() is not None or time.time() - t0 > timeout:
            p.kill()
            sys.exit(f"could not start: {' '.join(cmd)}")
        time.sleep(0.02)
    return p, found["m"]


def stream(port, prompt, n_tokens, out):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"prompt": prompt, "max_tokens": n_tokens, "stream": True, "ignore_eos": True,
                       "temperature": 0, "stream_options": {"include_usage": True}})
    t0 = time.time()
    c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    first, usage = None, None
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        ev = json.loads(line[6:])
        if ev.get("usage"):
            usage = ev["usage"]
        elif first is None and ev["choices"] and ev["choices"][0].get("text"):
            first = time.time()
    out.append({"start": t0, "first": first or time.time(), "end": time.time(),
                "tokens": usage["completion_tokens"] if usage else 0})


def level(port, n, n_tokens):
    results, threads = [], []
    for i in range(n):
        t = threading.Thread(target=stream, args=(port, f"Story number {i}: once upon a time", n_tokens, results))
        threads.append(t)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    total = sum(r["tokens"] for r in results)
    per = [(r["tokens"] - 1) / (r["end"] - r["first"]) for r in results if r["end"] > r["first"]]
    ttft = sum(r["first"] - r["start"] for r in results) / len(results)
    return total / wall, sum(per) / len(per), ttft, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prima", default=os.path.join(ROOT, "build", "apps", "prima", "prima"))
    ap.add_argument("--model")
    ap.add_argument("--streams", default="1,2,4")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--workers", type=int, default=0, help="loopback ring workers (0: one device)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--ring", help="workers already running, host:port,... (e.g. in homelab devices; see "
                    "bench/server/serve_homelab.sh)")
    ap.add_argument("--listen", default="127.0.0.1:0", help="where the last worker reaches the head (with --ring)")
    ap.add_argument("--serve-args", default="", help="more `prima serve` arguments, space-separated")
    a = ap.parse_args()
    model = a.model
    if not model:
        model = "/var/tmp/prima-bench/serve-small-Q4_K_M.gguf"
        if not os.path.exists(model):
            os.makedirs(os.path.dirname(model), exist_ok=True)
            subprocess.check_call([a.prima, "synth", "--shape", "small", "--type", "Q4_K_M", "-o", model])
    levels = [int(x) for x in a.streams.split(",")]
    procs = []
    try:
        ring = a.ring.split(",") if a.ring else []
        for i in range(a.workers):
            w, m = start([a.prima, "worker", "-m", model, "--listen", "127.0.0.1:0", "--name", f"w{i + 1}", "-t", "1"],
                         r"listening on (127\.0\.0\.1:\d+)")
            procs.append(w)
            ring.append(m.group(1))
        cmd = [a.prima, "serve", "-m", model, "--port", "0", "-np", str(max(levels)), "-c", str(a.tokens + 64),
               "-t", str(a.threads), "--queue", "0"]
        if ring:
            cmd += ["--workers", ",".join(ring), "--listen", a.listen]
        cmd += a.serve_args.split()
        server, m = start(cmd, r"listening on http://127\.0\.0\.1:(\d+)")
        procs.append(server)
        port = int(m.group(1))
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("GET", "/cluster")
        engine = json.loads(c.getresponse().read())["engine"]
        print(f"model {os.path.basename(model)} | {engine} | {a.tokens} tokens per stream")
        level(port, 1, 16)  # warm-up (page cache, thread pool)
        print(f"{'streams':>7} {'aggregate tok/s':>16} {'per-stream tok/s':>17} {'first token ms':>15}")
        for n in levels:
            best = max((level(port, n, a.tokens) for _ in range(a.repeat)), key=lambda r: r[0])
            print(f"{n:>7} {best[0]:>16.1f} {best[1]:>17.1f} {best[2] * 1000:>15.1f}")
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
