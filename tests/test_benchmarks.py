"""The benchmark scripts run end to end on tiny workloads and print every figure they promise (no timing is checked)."""

import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT


def run_bench(name, *args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", name), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def ratios(out):
    return [float(x) for x in re.findall(r"(\d+\.\d+)x", out)]


def test_bench_eval_times_both_workloads():
    out = run_bench("bench_eval.py", "--levels", 3, "--limit-divisor", 500, "--steps", 2, "--repeats", 1)
    assert "1. whole episodes" in out and "2. equal work" in out
    assert out.count("ours / original's way") == 2 and all(r > 0 for r in ratios(out))
    # both loops played the same episodes: the same number of agent steps
    ours, original = re.search(r"agent steps: ours (\d+), original (\d+)", out).groups()
    assert ours == original


def test_bench_train_prints_ours_the_original_order_and_the_ceiling():
    out = run_bench("bench_train.py", "--configs", "small", "--batch-size", 2, "--batches", 1, "--repeats", 1,
                    "--image-dims", 16, 24)
    for line in ("ours (trainer step)", "original order, one row per episode", "ours / original order",
                 "ceiling set by the convolutions alone", "image 16,", "image 24,"):
        assert line in out
    assert all(r > 0 for r in ratios(out))


def test_bench_ops_prints_the_counts_per_step():
    out = run_bench("bench_ops.py", "--small", "--episodes", 1, "--max-steps", 6, "--recurrence", 4, "--top", 3)
    for line in ("training", "rollout"):
        found = re.findall(rf"^{line}: (\d+) aten calls per (time|agent) step$", out, re.M)
        assert len(found) == 1 and int(found[0][0]) > 0, out


def test_bench_demos_loops():
    out = run_bench("bench_demos.py", "--episodes", 2, "--repeats", 1, "--loops-only")
    assert "minigrid BabyAIBot" in out and "ours / minigrid" in out


@pytest.mark.parametrize("name,args", [("bench_eval.py", ["--levels", 0]), ("bench_train.py", ["--batch-size", 0])])
def test_benchmarks_refuse_bad_flags(name, args):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", name), *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "must be positive" in proc.stderr
