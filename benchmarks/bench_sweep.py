"""Throughput of a Hydra sweep on 1 and 2 joblib workers.

Usage: python benchmarks/bench_sweep.py [--runs 200] [--workers 1 2] [--keep DIR]

Runs ``--runs`` default scenarios (seeds 1..N, plots off) through
``hydra/launcher=joblib`` with each worker count, and reports runs per second,
the speed-up over one worker (target >= 1.7x on 2 workers) and the peak
memory of a worker (max RSS recorded in each job's manifest).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.7


def run_sweep(out: Path, runs: int, workers: int) -> float:
    cmd = [sys.executable, "-m", "sim", "-m", "hydra/launcher=joblib", f"hydra.launcher.n_jobs={workers}",
           f"hydra.sweep.dir={out}", "output.plots=false", f"seed=range(1,{runs + 1})"]  # fmt: skip
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"sweep failed: {r.stderr[-2000:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--keep", type=Path, default=None, help="keep the sweep folders here")
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    rates = {}
    for w in args.workers:
        out = base / f"w{w}"
        shutil.rmtree(out, ignore_errors=True)
        dt = run_sweep(out, args.runs, w)
        rss = [json.loads(p.read_text())["peak_rss_mb"] for p in out.glob("*/manifest.json")]
        rates[w] = args.runs / dt
        print(f"{w} worker(s): {args.runs} runs in {dt:.1f} s = {rates[w]:.2f} runs/s; peak memory per worker {max(rss):.0f} MB")
    if 1 in rates:
        for w, r in rates.items():
            if w > 1:
                ok = "meets" if r / rates[1] >= TARGET else "MISSES"
                print(f"speed-up with {w} workers: {r / rates[1]:.2f}x ({ok} >= {TARGET}x)")
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
