#!/usr/bin/env python3
"""Issue 28's bad-input table, re-run: each hostile or unlucky input of the issue that needs no browser, as the
user types it (a subprocess with a timeout), classified and counted.

    python benchmarks/bad_inputs.py [--timeout 120] [--only NAME ...]

clean      non-zero exit, the error on one line (argparse's usage line before it allowed), no traceback
correct    a case where success is the right outcome, and its check holds (e.g. stale folders gone)
traceback  a Python traceback on stderr
silent     exit 0 where a refusal was due (or the right outcome's check fails)
outside    a file written outside the storage folder (the scratch folder around it is watched)
hang       still running at the timeout
partial    something left that looks complete (a dataset that opens, a run folder) after a refused or failed run
Cases that need a browser, a race of two processes or a kill -9 are the tests' (tests/test_teach_server.py,
test_locks.py, test_observe.py, test_minari.py, test_teach.py); they are listed as such, not run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEVEL = "BabyAI-GoToRedBallNoDists-v0"
KINDS = ("clean", "correct", "traceback", "silent", "outside", "hang", "partial")
COVERED_BY_TESTS = [
    ("1 foreign Origin / Host drives the teaching WebSocket", "tests/test_teach_server.py"),
    ("2 two exports on one Minari id", "tests/test_minari.py"),
    ("4 teaching resumed with another --snapshot-every / crash between trainer files", "tests/test_teach.py"),
    ("5 killed export_minari", "tests/test_minari.py"),
    ("7 two train_world_model on one --model; BCO labelled copy", "tests/test_observe.py"),
    ("9 a bad newest teaching snapshot; a killed trainer", "tests/test_teach.py"),
    ("smaller: nested JSON, lone surrogate, 5 MB word, a tab gone before its first state", "tests/test_teach_server.py"),
]


@dataclass
class Case:
    name: str
    script: str
    args: list
    needle: str = ""  # in the error line when clean
    expect_ok: bool = False  # success is right; then check() must hold
    check: object = None  # check(storage) -> problem kind or None
    env: dict = field(default_factory=dict)


def py(code: str, storage: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "BABYAI_STORAGE": storage},
                   capture_output=True, text=True)


def setup(storage: str) -> None:
    """Small demos, a finished train_tc run, embodiment data, an untrained checkpoint claiming memory_dim 2e6,
    a pickle with an episode seed of -99."""
    run = lambda script, *a: subprocess.run([sys.executable, os.path.join(ROOT, "scripts", script), *map(str, a)],
                                            check=True, capture_output=True, text=True,
                                            env={**os.environ, "BABYAI_STORAGE": storage})
    run("make_agent_demos.py", "--env", LEVEL, "--episodes", 8, "--valid-episodes", 2, "--demos", "d")
    run("train_tc.py", "--env", LEVEL, "--demos", "d", "--model", "tcrun", "--memory-dim", 16, "--instr-dim", 16,
        "--batch-size", 4, "--epochs", 1, "--val-episodes", 1)
    run("make_embodiment_data.py", "--env", LEVEL, "--episodes", 4, "--demos", "emb")
    py(f"""
import os, pickle, blosc, sys
sys.path.insert(0, 'tests')
from _agent_helpers import save_untrained
from babyai.agent.loading import load_checkpoint, save_checkpoint
from babyai.demos import open_demos
s = {storage!r}
f = save_untrained(os.path.join(s, 'models', 'huge'), 'bc', memory_dim=16, instr_dim=16)
c = load_checkpoint(os.path.join(f, 'best.pt')); c['model_config']['memory_dim'] = 2_000_000
save_checkpoint(os.path.join(f, 'best.pt'), c)
eps = list(open_demos(os.path.join(s, 'demos', 'd')))[:2]
demos = [(e.mission, blosc.pack_array(e.images), e.directions.tolist(), e.actions.tolist(), e.thoughts, s_)
         for e, s_ in zip(eps, (-99, 5))]
open(os.path.join(s, 'seed-99.pkl'), 'wb').write(pickle.dumps(demos))
good = [(e.mission, blosc.pack_array(e.images), e.directions.tolist(), e.actions.tolist(), e.thoughts, e.seed)
        for e in open_demos(os.path.join(s, 'demos', 'd'))]
open(os.path.join(s, 'good.pkl'), 'wb').write(pickle.dumps(good * 40))
""", storage)


def absent(*names):
    """A check: none of the storage paths exist (nothing left looking complete)."""
    return lambda s: "partial" if any(os.path.exists(os.path.join(s, n)) for n in names) else None


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def stale_folder(storage: str) -> str:
    path = os.path.join(storage, "demos", f"killed.tmp{dead_pid()}")
    os.makedirs(path, exist_ok=True)
    return path


def cases(storage: str, full: str | None) -> list[Case]:
    tc = ["--env", LEVEL, "--model", "tcrun"]
    idm = ["--env", LEVEL, "--embodiment", "emb"]
    out = [
        Case("3 teach.py on a train_tc run", "teach.py", [*tc, "--teacher", "oracle", "--episodes", 1], "tcrun"),
        Case("3 train_idm.py on a train_tc run", "train_idm.py", [*idm, "--model", "tcrun"], "tcrun"),
        Case("3 train_world_model.py on a train_tc run", "train_world_model.py", [*idm, "--model", "tcrun"], "tcrun"),
        Case("6 report_ifo.py --name ../../x", "report_ifo.py", ["--name", "../../x"], "--name"),
        Case("6 make_embodiment_data.py --demos ../../x", "make_embodiment_data.py",
             ["--env", LEVEL, "--episodes", 1, "--demos", "../../x"], "--demos"),
        Case("6 make_embodiment_data.py --demos /abs", "make_embodiment_data.py",
             ["--env", LEVEL, "--episodes", 1, "--demos", os.path.join(os.path.dirname(storage), "abs")], "--demos"),
        Case("6 make_agent_demos.py --demos ../../escape", "make_agent_demos.py",
             ["--env", LEVEL, "--episodes", 1, "--demos", "../../escape"], "--demos"),
        Case("8 import_demos.py with an episode seed of -99", "import_demos.py",
             [os.path.join(storage, "seed-99.pkl"), "--env", LEVEL, "--demos", "neg", "--trust-pickle"], "-99",
             check=absent("demos/neg")),
        Case("10 make_embodiment_data.py --workers 100000", "make_embodiment_data.py",
             ["--env", LEVEL, "--episodes", 1, "--demos", "w", "--workers", 100000], "--workers",
             check=absent("demos/w")),
        Case("10 train_world_model.py --free-nats nan", "train_world_model.py",
             [*idm, "--model", "wm1", "--free-nats", "nan"], "--free-nats", check=absent("models/wm1")),
        Case("10 train_world_model.py --free-nats inf", "train_world_model.py",
             [*idm, "--model", "wm2", "--free-nats", "inf"], "--free-nats", check=absent("models/wm2")),
        Case("10 train_aime.py --tau inf", "train_aime.py",
             ["--env", LEVEL, "--demos", "d", "--world-model", "wm", "--model", "a1", "--tau", "inf"], "--tau",
             check=absent("models/a1")),
        Case("10 teach.py --port 70000", "teach.py", ["--env", LEVEL, "--model", "t1", "--port", 70000], "--port",
             check=absent("models/t1")),
        Case("10 teach.py --level-seed -5", "teach.py",
             ["--env", LEVEL, "--model", "t2", "--teacher", "oracle", "--level-seed", -5], "--level-seed",
             check=absent("models/t2")),
        Case("10 teach.py --lr nan", "teach.py", ["--env", LEVEL, "--model", "t3", "--teacher", "oracle", "--lr", "nan"],
             "--lr", check=absent("models/t3")),
        Case("10 reproduce.py --lr nan", "reproduce.py", ["--name", "r1", "--lr", "nan"], "--lr",
             check=absent("r1")),
        Case("10 reproduce.py --seeds -1", "reproduce.py", ["--name", "r2", "--seeds", "-1"], "--seeds"),
        Case("smaller: train_idm.py --channels 100000000", "train_idm.py",
             [*idm, "--model", "big", "--channels", 100000000], "--channels", check=absent("models/big")),
        Case("smaller: a checkpoint claiming memory_dim 2,000,000", "evaluate.py",
             ["--model", "huge", "--env", LEVEL, "--episodes", 1, "--workers", 0], "memory_dim 2000000"),
        Case("smaller: killed imports' NAME.tmpPID folders go at the next import", "import_demos.py",
             [os.path.join(storage, "good.pkl"), "--env", LEVEL, "--demos", "after_kill", "--trust-pickle"],
             expect_ok=True, check=lambda s, p=stale_folder(storage): "partial" if os.path.exists(p) else None),
        Case("smaller: killed imports' NAME.tmpPID folders go at the next generation", "make_agent_demos.py",
             ["--env", LEVEL, "--episodes", 1, "--demos", "after_kill2"],
             expect_ok=True, check=lambda s, p=stale_folder(storage): "partial" if os.path.exists(p) else None),
        Case("training --model ../x", "train_tc.py", ["--env", LEVEL, "--demos", "d", "--model", "../x"], "--model"),
        Case("evaluate.py --seed -5", "evaluate.py", ["--model", "tcrun", "--env", LEVEL, "--seed", -5], "--seed"),
    ]
    if full:  # a 300 kB tmpfs as the storage of the disk-full cases
        env = {"BABYAI_STORAGE": full}
        out += [
            Case("smaller: disk full in generation", "make_agent_demos.py",
                 ["--env", LEVEL, "--episodes", 2000, "--save-interval", 50, "--demos", "g"], "no space left",
                 env=env, check=lambda s: _opens(os.path.join(full, "demos", "g"))),
            Case("smaller: disk full in import", "import_demos.py",
                 [os.path.join(storage, "good.pkl"), "--env", LEVEL, "--demos", "i", "--trust-pickle",
                  "--save-interval", 5], "no space left", env=env, check=lambda s: _opens(os.path.join(full, "demos", "i"))),
        ]
    return out


def _opens(folder: str):
    """'partial' when a dataset that a failed run left opens as complete."""
    if not os.path.exists(folder):
        return None
    try:
        with open(os.path.join(folder, "meta.json")) as f:
            return "partial" if json.load(f).get("complete") else None
    except (OSError, ValueError):
        return None


def tree(root: str, skip: tuple) -> set:
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        found.update(os.path.join(dirpath, n) for n in filenames + dirnames)
    return found


def classify(case: Case, storage: str, scratch: str, cwd: str, timeout: float) -> tuple[str, str]:
    env = {**os.environ, "BABYAI_STORAGE": storage, "MINARI_DATASETS_PATH": os.path.join(scratch, "minari"),
           "OMP_NUM_THREADS": "1", **case.env}
    watched = (storage, os.path.join(scratch, "minari"), case.env.get("BABYAI_STORAGE", ""))
    before = tree(scratch, watched)
    try:
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", case.script), *map(str, case.args)],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hang", f"still running after {timeout:.0f} s"
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if tree(scratch, watched) - before:
        return "outside", ", ".join(sorted(tree(scratch, watched) - before))[:200]
    if "Traceback (most recent call last)" in proc.stderr:
        return "traceback", last
    problem = case.check(storage) if case.check else None
    if case.expect_ok:
        return ("correct", "exit 0") if proc.returncode == 0 and not problem else (problem or "silent", last)
    if proc.returncode == 0:
        return "silent", "exit 0: " + proc.stdout.strip()[-150:]
    if problem:
        return problem, last
    if "error:" in last and (not case.needle or case.needle in last):
        return "clean", last
    return "silent", f"refused for another reason: {last}"


def mount_full(scratch: str) -> str | None:
    """A 300 kB tmpfs (root only), or None."""
    path = os.path.join(scratch, "full")
    os.makedirs(path)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", path],
                                           capture_output=True).returncode != 0:
        return None
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--timeout", type=float, default=120, help="seconds each case may run")
    p.add_argument("--only", nargs="*", default=None, help="run the cases whose name contains one of these")
    args = p.parse_args(argv)
    scratch = tempfile.mkdtemp(prefix="bad_inputs_")
    storage, cwd = os.path.join(scratch, "storage"), os.path.join(scratch, "a", "b")
    os.makedirs(cwd)
    full = mount_full(scratch)
    try:
        t0 = time.time()
        setup(storage)
        print(f"setup: {time.time() - t0:.0f} s; disk-full cases: {'a 300 kB tmpfs' if full else 'not run (not root)'}")
        counts = Counter()
        for case in cases(storage, full):
            if args.only and not any(o in case.name for o in args.only):
                continue
            t = time.time()
            kind, detail = classify(case, storage, scratch, cwd, args.timeout)
            counts[kind] += 1
            print(f"{kind:9s} {time.time() - t:5.1f}s  {case.name}: {detail[:160]}", flush=True)
        for name, test in COVERED_BY_TESTS:
            print(f"{'(tests)':9s}         {name}: {test}")
        print("counts: " + " / ".join(f"{k} {counts[k]}" for k in KINDS))
        return int(any(counts[k] for k in KINDS[2:]))
    finally:
        if full:
            subprocess.run(["umount", full])
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
