"""A CPU-scale reproduction of the paper's comparisons: one pipeline from demos to report.

Stages, each skipped when its output is already complete (so a killed run resumes where it stopped):
1. demos: the oracle's thought-annotated demonstrations (``make_agent_demos.py``);
2. training: Thought Cloning, Behavioral Cloning and TC without imitating thought, one run per method
   and seed, identical data and budgets (``train_tc.py`` / ``train_il.py``; a killed run resumes
   from its last checkpoint, a finished one is not retrained);
3. the zero-shot suite (``make_testing_levels.py``);
4. evaluation of every run's best model: in-distribution success, the zero-shot suite (with oracle
   thoughts for TC), and for TC the Future Action Declaration Score, Precrime Intervention and
   oracle-thought steering (the evaluation scripts, their JSON/CSV results kept per model);
5. the report (``babyai.evaluate.report``).

Everything heavy lives in ``<storage>/reproduce_<name>/``; the report in ``<results>/<name>/``.
Every stage is a script of this project run as a subprocess, with one thread per process, so the
numbers do not depend on how many runs share the machine.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from babyai.evaluate.cli import EVAL_FIRST_SEED

logger = logging.getLogger("babyai.reproduce")

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts")
METHODS = {  # label -> (run tag, script, extra flags)
    "TC": ("TC", "train_tc.py", []),
    "BC": ("BC", "train_il.py", []),
    "TC w/o thought": ("TCnothought", "train_tc.py", ["--sg-coef", "0"]),
}
DEMO_FIRST_SEED = 1
VAL_SEED = 1_000_000  # validation levels during training: above the demos' seeds


class StageError(RuntimeError):
    """A stage's script failed; its log names the reason."""


@dataclass
class Plan:
    """What to reproduce and with which budgets (all methods get the same)."""

    name: str
    env: str = "BabyAI-MiniBossLevel-v0"
    demos: int = 5000  # training demonstrations
    valid_demos: int = 256  # validation demonstrations (action accuracy)
    noise_rate: float = 0.01  # the paper's noisy demonstrations
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    epochs: int = 5
    epoch_length: int = 400  # episodes per epoch: about 10k frames on MiniBossLevel
    stop_tf: int = 3
    batch_size: int = 64
    lr: float = 5e-4
    recurrence: int = 20
    memory_dim: int = 128
    instr_dim: int = 64
    val_episodes: int = 100  # fresh levels per validation (the learning curve)
    eval_episodes: int = 200  # fresh levels for the final in-distribution success
    tc_eval_episodes: int = 100  # fresh levels for FADS, Precrime and steering (TC only)
    levels_per_bin: int = 10  # zero-shot suite
    suite_max_seeds: int = 3000
    jobs: int = 2  # runs trained / evaluated at once

    def run_name(self, method: str, seed: int) -> str:
        return f"{METHODS[method][0]}_seed{seed}"


class Pipeline:
    def __init__(self, plan: Plan, storage: str, results: str, command: str = ""):
        self.plan = plan
        self.command = command or f"python scripts/reproduce.py --name {plan.name}"  # shown in the report
        self.root = os.path.abspath(os.path.join(storage, f"reproduce_{plan.name}"))  # demos, models, evaluations
        self.results = os.path.join(results, plan.name)
        self.demos = os.path.join(self.root, "demos", plan.name)
        self.suites = os.path.join(self.root, "testing_levels.json")
        self.logs = os.path.join(self.root, "logs")
        os.makedirs(self.logs, exist_ok=True)

    # ----------------------------------------------------------------------------------------------
    def script(self, name: str, *args, log: str) -> None:
        """Run one of this project's scripts (one thread), its output in logs/<log>.log."""
        cmd = [sys.executable, os.path.join(SCRIPTS, name), *map(str, args)]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "BABYAI_STORAGE": self.root}
        path = os.path.join(self.logs, f"{log}.log")
        with open(path, "a") as out:
            out.write(f"\n$ {' '.join(cmd[1:])}\n")
            out.flush()
            code = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        if code != 0:
            raise StageError(f"{name} failed (exit {code}); see {path}")

    def parallel(self, tasks: Sequence, fn) -> None:
        with ThreadPoolExecutor(max(1, self.plan.jobs)) as pool:
            for f in [pool.submit(fn, t) for t in tasks]:
                f.result()

    def models(self) -> list[tuple[str, int, str]]:
        return [(m, s, self.plan.run_name(m, s)) for m in METHODS for s in self.plan.seeds]

    def model_dir(self, run: str) -> str:
        return os.path.join(self.root, "models", run)

    def eval_dir(self, run: str) -> str:
        return os.path.join(self.root, "eval", run)

    # ----------------------------------------------------------------------------------------------
    def run(self) -> str:
        self._check_plan()
        p, t0 = self.plan, time.time()
        logger.info(f"reproduction {p.name}: {p.env}, {p.demos} demos, {len(METHODS)} methods x {len(p.seeds)} seeds, "
                    f"{p.epochs} epochs of {p.epoch_length} episodes; work folder {self.root}")
        self.stage("demos", self.make_demos)
        self.stage("training", lambda: self.parallel(self.models(), self.train))
        self.stage("zero-shot suite", self.make_suite)
        self.stage("evaluation", lambda: self.parallel(self.models(), self.evaluate))
        from babyai.evaluate.report import write_report

        path = write_report(self, time.time() - t0)
        logger.info(f"report: {path}")
        return path

    def stage(self, what: str, fn) -> None:
        start = time.time()
        logger.info(f"{what} ...")
        fn()
        logger.info(f"{what}: done in {time.time() - start:.0f} s")

    def _check_plan(self) -> None:
        """The same name must mean the same plan: a resumed reproduction may not change its budgets."""
        path = os.path.join(self.root, "plan.json")
        mine = {k: v for k, v in asdict(self.plan).items() if k != "jobs"}
        if os.path.exists(path):
            with open(path) as f:
                saved = {k: v for k, v in json.load(f).items() if k != "jobs"}
            diffs = [f"{k} {saved.get(k)!r} -> {mine.get(k)!r}" for k in sorted(set(saved) | set(mine)) if saved.get(k) != mine.get(k)]
            if diffs:
                raise StageError(f"reproduction {self.plan.name} exists with other settings ({'; '.join(diffs)}); "
                                 "use another --name")
        else:
            from babyai.evaluate.io import write_json

            write_json(path, asdict(self.plan))

    # ----------------------------------------------------------------------------------------------
    def make_demos(self) -> None:
        p = self.plan
        self.script("make_agent_demos.py", "--env", p.env, "--episodes", p.demos, "--valid-episodes", p.valid_demos,
                    "--seed", DEMO_FIRST_SEED, "--noise-rate", p.noise_rate, "--demos", self.demos,
                    "--workers", max(1, p.jobs), log="demos")

    def train(self, item: tuple[str, int, str]) -> None:
        method, seed, run = item
        p = self.plan
        _, script, extra = METHODS[method]
        logger.info(f"training {run}")
        self.script(script, "--env", p.env, "--demos", self.demos, "--model", run, "--seed", seed,
                    "--epochs", p.epochs, "--epoch-length", p.epoch_length,
                    "--stop-tf", p.stop_tf, "--batch-size", p.batch_size, "--lr", p.lr, "--recurrence", p.recurrence,
                    "--memory-dim", p.memory_dim, "--instr-dim", p.instr_dim, "--val-episodes", p.val_episodes,
                    "--val-seed", VAL_SEED, "--patience", 10**6, "--device", "cpu", *extra, log=f"train_{run}")
        logger.info(f"trained {run}")

    def make_suite(self) -> None:
        if os.path.exists(self.suites):
            return
        p = self.plan
        self.script("make_testing_levels.py", "--env", p.env, "--levels-per-bin", p.levels_per_bin,
                    "--max-seeds", p.suite_max_seeds, "--out", self.suites, "--workers", max(1, p.jobs),
                    "--exclude-demos", self.demos, log="suite")

    def evaluate(self, item: tuple[str, int, str]) -> None:
        method, _, run = item
        p, out = self.plan, self.eval_dir(run)
        common = ["--model", run, "--env", p.env, "--out-dir", out, "--workers", 0]
        steps = [("indist", f"evaluate_{run}.json", "evaluate.py", ["--episodes", p.eval_episodes]),
                 ("zeroshot", f"zeroshot_{run}.csv", "evaluate_levels.py",
                  ["--testing-levels-path", self.suites, "--no-plot", *(["--oracle-thoughts"] if method == "TC" else [])])]
        if method == "TC":
            n = ["--episodes", p.tc_eval_episodes]
            steps += [("fads", f"fads_{run}.json", "evaluate_fads.py", [*n, "--testing-levels-path", self.suites]),
                      ("precrime", f"precrime_{run}.json", "evaluate_precrime.py", n),
                      ("steering", f"steering_{run}.json", "evaluate_steering.py", n)]
        for what, result, script, args in steps:
            if os.path.exists(os.path.join(out, result)):
                continue
            seed = [] if what == "zeroshot" else ["--seed", EVAL_FIRST_SEED]
            self.script(script, *common, *seed, *args, log=f"eval_{what}_{run}")
        logger.info(f"evaluated {run}")
