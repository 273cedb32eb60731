#!/usr/bin/env python3
"""Training memory vs dataset size: peak RSS of train_tc.py on a small and on a large dataset.

    python benchmarks/bench_memory.py [--sizes 1000 100000] [--cache DIR]

Generates GoToLocal datasets of the given sizes (kept in --cache, default ./storage/bench_memory, so a
second run reuses them), then runs the same short training (one epoch of 512 episodes, small model,
no validation levels) on each in a fresh process and prints its peak resident memory. The dataset
is read lazily: only an index (offsets, seeds, lengths) grows with the number of episodes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEVEL = "BabyAI-GoToLocal-v0"


def peak_rss_mb(cmd: list[str]) -> float:
    """Peak RSS (MiB) of a child process, from wait4's resource usage."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"bench_memory: {' '.join(cmd[1:3])} failed:\n{proc.stderr.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    p.add_argument("--cache", default=os.path.join("storage", "bench_memory"))
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes generating the demos")
    args = p.parse_args()
    py, scripts = sys.executable, os.path.join(ROOT, "scripts")
    results = {}
    for n in args.sizes:
        name = os.path.abspath(os.path.join(args.cache, f"{LEVEL}_{n}"))
        subprocess.run([py, os.path.join(scripts, "make_agent_demos.py"), "--env", LEVEL, "--episodes", str(n),
                        "--seed", "1", "--demos", name, "--workers", str(args.workers), "--save-interval", "10000"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with tempfile.TemporaryDirectory() as tmp:
            results[n] = peak_rss_mb([py, os.path.join(scripts, "train_tc.py"), "--env", LEVEL, "--demos", name,
                                      "--model", "m", "--storage-dir", tmp, "--memory-dim", "128", "--instr-dim", "64",
                                      "--batch-size", "64", "--epochs", "1", "--epoch-length", "512",
                                      "--val-episodes", "0", "--device", "cpu"])
        print(f"  {n:>8,} episodes: peak RSS {results[n]:8.1f} MiB", flush=True)
    small, large = min(args.sizes), max(args.sizes)
    print(f"RSS({large:,}) - RSS({small:,}) = {results[large] - results[small]:.1f} MiB  (target <= 200)")


if __name__ == "__main__":
    main()
