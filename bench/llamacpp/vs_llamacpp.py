#!/usr/bin/env python3
"""prima against llama.cpp on one GGUF file and one device, instruction set by instruction set, in turns.

  bench/llamacpp/vs_llamacpp.py --prima build/apps/prima/prima -m MODEL [--isa auto,avx2,...] [-p 512] [-n 64]
                                [--rounds 2] [-t 2]

llama.cpp is the prebuilt CPU build of the npm package node-llama-cpp (pinned in package.json and its lock;
installed into bench/llamacpp/node_modules on first use with `npm install --no-save --ignore-scripts`: npm 11's
`npm ci` rejects the lock, which lacks the other platforms' optional packages). Its x86-64 build holds one ggml
CPU library per CPU generation and loads the best one the CPU runs; to compare like with like, this script hides
all but one of them for each run (and puts them back at the end):

  prima PRIMA_ISA   llama.cpp ggml CPU library   the CPUs it stands for
  avx2              haswell                      AVX2 without VNNI (Zen 2/3, Intel before 2021)
  avxvnni           alderlake                    AVX-VNNI without AVX-512 (Intel laptops and desktops since 2021)
  avx512            zen4                         AVX-512 with VNNI and BF16 (Zen 4/5)
  amx               sapphirerapids               AMX (Xeon since 2023)
  auto              (every library)              each engine's own choice

Each round runs, for every set, `prima bench -r 1 -o json` and then llama.cpp with the same -p, -n and -t, so
both see the same minutes of the host. Prints every run, then per set the medians and the median of
prima / llama.cpp per round.
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
VARIANT = {"avx2": "haswell", "avxvnni": "alderlake", "avx512": "zen4", "amx": "sapphirerapids", "auto": None}


def bins_dir():
    return HERE / "node_modules" / "@node-llama-cpp" / "linux-x64" / "bins" / "linux-x64"


def ensure_installed():
    if (HERE / "node_modules" / "node-llama-cpp").is_dir():
        return
    print("installing node-llama-cpp (npm install --no-save --ignore-scripts) ...", file=sys.stderr, flush=True)
    subprocess.run(["npm", "install", "--no-save", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=HERE, check=True)


class Variants:
    """Hides every ggml CPU library but one from the loader; restore() puts them all back."""

    def __init__(self):
        self.bins = bins_dir()
        self.hidden = self.bins.parent / "hidden-by-vs_llamacpp"

    def restore(self):
        if self.hidden.is_dir():
            for f in self.hidden.iterdir():
                shutil.move(str(f), self.bins / f.name)
            self.hidden.rmdir()

    def select(self, variant):
        self.restore()
        if variant is None:
            return
        if not (self.bins / f"libggml-cpu-{variant}.so").is_file():
            sys.exit(f"vs_llamacpp: llama.cpp has no CPU library '{variant}' in {self.bins}")
        self.hidden.mkdir()
        for f in self.bins.glob("libggml-cpu-*.so"):
            if f.name != f"libggml-cpu-{variant}.so":
                shutil.move(str(f), self.hidden / f.name)


def run_prima(args, isa):
    env = dict(os.environ)
    if isa != "auto":
        env["PRIMA_ISA"] = isa
    cmd = [args.prima, "bench", "-m", args.model, "-p", str(args.p), "-n", str(args.n), "-r", "1", "-t",
           str(args.t), "-o", "json", "--no-roofline"]
    rows = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
    out = {"pp": None, "tg": None}
    for row in rows:
        out["pp" if row["n_prompt"] > 0 else "tg"] = row["avg_ts"]
    return out


def run_llamacpp(args):
    cmd = ["node", str(HERE / "llamacpp_bench.mjs"), args.model, "-p", str(args.p), "-n", str(args.n), "-r", "1",
           "-t", str(args.t)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"vs_llamacpp: llama.cpp failed:\n{res.stderr}")
    j = json.loads(res.stdout.strip().splitlines()[-1])
    return {"pp": j["pp"][0] if j["pp"] else None, "tg": j["tg"][0] if j["tg"] else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prima", required=True, help="prima binary")
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("--isa", default="auto", help="comma-separated: " + ",".join(VARIANT))
    ap.add_argument("-p", type=int, default=512, help="prompt tokens (pp; 0 = skip)")
    ap.add_argument("-n", type=int, default=64, help="generated tokens (tg; 0 = skip)")
    ap.add_argument("-t", type=int, default=2, help="threads")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    isas = args.isa.split(",")
    for isa in isas:
        if isa not in VARIANT:
            sys.exit(f"vs_llamacpp: unknown --isa '{isa}' (one of {', '.join(VARIANT)})")
    if args.p <= 0 and args.n <= 0:
        sys.exit("vs_llamacpp: nothing to measure (-p and -n are both 0)")
    if args.t < 1:
        sys.exit("vs_llamacpp: -t must be at least 1")
    if args.rounds < 1:
        sys.exit("vs_llamacpp: --rounds must be at least 1")
    if not os.path.isfile(args.model):
        sys.exit(f"vs_llamacpp: no model file '{args.model}'")
    ensure_installed()
    variants = Variants()
    tests = [t for t, k in (("pp", args.p), ("tg", args.n)) if k > 0]
    ts = {isa: {e: {t: [] for t in tests} for e in ("prima", "llama.cpp")} for isa in isas}
    try:
        for r in range(args.rounds):
            for isa in isas:
                variants.select(VARIANT[isa])
                res = {"prima": run_prima(args, isa), "llama.cpp": run_llamacpp(args)}
                line = f"round {r + 1} {isa:8}"
                for e, v in res.items():
                    for t in tests:
                        ts[isa][e][t].append(v[t])
                    line += f"  {e} " + " ".join(f"{t} {v[t]:.2f}" for t in tests)
                print(line, flush=True)
    finally:
        variants.restore()
    size = {"pp": args.p, "tg": args.n}
    print("\n| set (prima / llama.cpp) | test | prima t/s | llama.cpp t/s | prima / llama.cpp |")
    print("| --- | --- | ---: | ---: | ---: |")
    for isa in isas:
        for t in tests:
            a, b = ts[isa]["prima"][t], ts[isa]["llama.cpp"][t]
            ratio = statistics.median(x / y for x, y in zip(a, b))
            name = f"{isa} / {VARIANT[isa] or 'auto'}"
            print(f"| {name} | {t}{size[t]} | {statistics.median(a):.2f} | {statistics.median(b):.2f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
