#!/usr/bin/env python3
"""Before/after speed of two prima binaries on one model, interleaved: A, B, A, B, ... so that both see the
same minutes of a host whose memory bandwidth and CPU share move (see docs/benchmarks.md).

  bench/ab/ab_bench.py --a OLD/prima --b NEW/prima -m MODEL [-n 32] [-p 0] [--rounds 5] [-t 2]

Each round runs `prima bench -r 1 -o json` once per binary; prints every round's t/s (and, for tg, the
fraction of the bandwidth limit around that run), then the medians and the median of B/A per round.
"""
import argparse
import json
import statistics
import subprocess
import sys


def run(binary, args):
    cmd = [binary, "bench", "-m", args.model, "-p", str(args.p), "-n", str(args.n), "-r", "1", "-t", str(args.t),
           "-o", "json"]
    if args.p > 0 and args.n == 0:
        cmd.append("--no-roofline")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)
    return rows[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="baseline prima binary")
    ap.add_argument("--b", required=True, help="changed prima binary")
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("-n", type=int, default=32, help="generated tokens (tg); 0 with -p for prefill")
    ap.add_argument("-p", type=int, default=0, help="prompt tokens (pp)")
    ap.add_argument("-t", type=int, default=2, help="threads")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if (args.n > 0) == (args.p > 0):
        sys.exit("ab_bench: give either -n (tg) or -p (pp), not both")
    ts = {"a": [], "b": []}
    frac = {"a": [], "b": []}
    for r in range(args.rounds):
        line = f"round {r + 1}:"
        for k in ("a", "b"):
            j = run(getattr(args, k), args)
            ts[k].append(j["avg_ts"])
            line += f"  {k} {j['avg_ts']:.2f} t/s"
            if "roofline_fraction" in j:
                frac[k].append(j["roofline_fraction"])
                line += f" ({100 * j['roofline_fraction']:.0f} % of limit at {j['read_bandwidth_gbs']:.1f} GB/s)"
        print(line, flush=True)
    ratio = [b / a for a, b in zip(ts["a"], ts["b"])]
    print(f"median t/s: a {statistics.median(ts['a']):.2f}  b {statistics.median(ts['b']):.2f}  "
          f"median b/a per round {statistics.median(ratio):.3f}")
    if frac["a"]:
        print(f"median fraction of the bandwidth limit: a {100 * statistics.median(frac['a']):.0f} %  "
              f"b {100 * statistics.median(frac['b']):.0f} %")


if __name__ == "__main__":
    main()
