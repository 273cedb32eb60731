"""A CPU-scale study of the paper's comparisons: one pipeline from demos to report.

Stages, each skipped when its output is already complete (so a killed run resumes where it stopped):
1. demos: the oracle's thought-annotated demonstrations (one dataset per noise rate studied);
2. the zero-shot suite (kept in the results folder: the same levels on every machine);
3. every run, one per method and seed (Thought Cloning, Behavioral Cloning, TC without imitating
   thought, TC on the other noise rates; identical data and budgets): training (a killed run resumes
   from its last checkpoint), then the evaluation of its best model: in-distribution success, the
   zero-shot suite (with oracle thoughts for TC), and for TC the Future Action Declaration Score,
   Precrime Intervention and oracle-thought steering. A finished run keeps its log.csv and evaluation
   results in ``<results>/<name>/runs/<run>/`` (small files, committed with the report), so a study
   spans machines: a run kept there is neither retrained nor re-evaluated;
4. the report (``babyai.study.report``) and summary.json.

A development sweep that chooses the configuration comes before, in ``babyai.study.sweep``.
Models and datasets live in ``<storage>/reproduce_<name>/``; the plan, suite, kept runs and report in
``<results>/<name>/``. Every stage is a command of this package run as a subprocess (``python -m ...``),
with one thread per process, so the numbers do not depend on how many runs share the machine.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from babyai.atomic import atomic_folder
from babyai.evaluate.io import atomic_write_text, write_json
from babyai.evaluate.session import EVAL_FIRST_SEED

logger = logging.getLogger("babyai.study")

# stage -> the package module whose main runs it (``python -m MODULE ...``, the flags of scripts/STAGE.py)
STAGE_NAMES = ("make_agent_demos", "train_tc", "train_il", "make_testing_levels", "evaluate", "evaluate_levels",
               "evaluate_fads", "evaluate_precrime", "evaluate_steering")
STAGES = {name: f"babyai.commands.{name}" for name in STAGE_NAMES}
DEMO_FIRST_SEED = 1
FINISHED = "finished.json"  # in a run's kept folder: its training and evaluation are complete
VAL_SEED = 1_000_000  # validation levels during training (and the sweep's scores): above the demos' seeds


class StageError(RuntimeError):
    """A stage failed; its log names the reason."""


@dataclass(frozen=True)
class Method:
    tag: str  # run names: TAG_seedN
    algo: str  # "tc" or "bc"
    sg_coef: float | None = None  # None: the plan's
    noise_rate: float | None = None  # None: the plan's (its dataset)
    flags: tuple = ()  # training flags of this method alone (a remedy, an ablation)
    thinks: bool = False  # its thoughts are evaluated (FADS, Precrime, steering, thoughts played beside the oracle)


def stage_command(stage: str) -> list[str]:
    """The command line that runs a stage: its package module (so an installed package needs no scripts/)."""
    return [sys.executable, "-m", STAGES[stage]]


@dataclass
class Plan:
    """What to study and with which budgets (all methods get the same)."""

    name: str
    env: str = "BabyAI-MiniBossLevel-v0"
    demos: int = 5000  # training demonstrations
    valid_demos: int = 256  # validation demonstrations (action accuracy)
    noise_rate: float = 0.01  # the paper's noisy demonstrations
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    epochs: int = 5
    epoch_length: int = 400  # episodes per epoch: about 10k frames on MiniBossLevel
    stop_tf: int = 3
    tf_until_nll: float | None = None  # TC: teacher forcing phased out only once the validation thought NLL is below it
    history_noise: float | None = None  # TC: share of teacher-forced frames whose thought history reads a random thought
    best_ties_by_thoughts: bool | None = None  # TC: best.pt on equal success goes to the better thoughts played
    checkpoint: str | None = None  # the model each run is evaluated with: best.pt (None: the paper's) or "last"
    batch_size: int = 64
    lr: float = 5e-4
    recurrence: int = 20
    memory_dim: int = 128
    instr_dim: int = 64
    image_dim: int = 128
    episodes_per_lane: int = 3
    sg_coef: float = 2.0
    noise_variants: list[float] = field(default_factory=list)  # TC also trained on datasets of these noise rates
    noise_seeds: list[int] = field(default_factory=list)  # their seeds (default: the first three seeds)
    variants: list[str] = field(default_factory=list)  # more TC methods: "aux", "noise=P", "sampling=P" (VARIANTS)
    history_sampling_steps: int = 0  # the "sampling=P" variants: optimizer steps over which P is reached
    val_episodes: int = 100  # fresh levels per validation (the learning curve)
    val_interval: int = 1
    eval_episodes: int = 200  # fresh levels for the final in-distribution success
    tc_eval_episodes: int = 100  # fresh levels for FADS, Precrime and steering (TC only)
    levels_per_bin: int = 10  # zero-shot suite
    suite_max_seeds: int = 3000
    chosen_by: str = ""  # how this configuration was chosen (shown in the report before its numbers)
    jobs: int = 2  # runs trained / evaluated at once

    @property
    def optimizer_steps(self) -> int:
        """The training budget of every run, in optimizer steps."""
        return self.epochs * (self.epoch_length // self.batch_size)

    def methods(self) -> dict[str, Method]:
        out = {"TC": Method("TC", "tc", thinks=True), "BC": Method("BC", "bc"),
               "TC w/o thought": Method("TCnothought", "tc", sg_coef=0.0)}
        for variant in self.variants:
            out.update([variant_method(variant, self.history_sampling_steps)])
        for rate in self.noise_variants:
            out[noise_label(rate)] = Method(f"TCnoise{rate:g}", "tc", noise_rate=rate)
        return out

    def seeds_of(self, method: str) -> list[int]:
        if method.startswith("TC noise"):
            return self.noise_seeds or self.seeds[:3]
        return self.seeds


VARIANTS = {  # the TC variants a study may add: label, run tag and training flags, from the variant's value
    "aux": lambda v, steps: ("TC aux-only", "TCaux", ("--thought-aux-only",)),
    "noise": lambda v, steps: (f"TC + history noise {v:g}", f"TChnoise{v:g}", ("--thought-history-noise", v)),
    "sampling": lambda v, steps: (f"TC + history sampling {v:g}", f"TChsamp{v:g}",
                                  ("--thought-history-sampling", v, "--history-sampling-steps", steps)),
}


def variant_method(variant: str, sampling_steps: int = 0) -> tuple[str, Method]:
    """The method of a TC variant ("aux", "noise=P", "sampling=P"; departures from the paper): (label, Method);
    a ValueError for anything else."""
    name, _, value = variant.partition("=")
    if name not in VARIANTS or (name == "aux") != (value == ""):
        raise ValueError(f"unknown study variant {variant!r}: aux, noise=P or sampling=P (P in [0, 1])")
    try:
        number = float(value) if value else 0.0
    except ValueError:
        number = float("nan")
    if not 0 < number <= 1 and name != "aux":
        raise ValueError(f"study variant {variant!r}: P must lie in (0, 1]")
    label, tag, flags = VARIANTS[name](number, sampling_steps)
    return label, Method(tag, "tc", flags=flags, thinks=True)


def noise_label(rate: float) -> str:
    return f"TC noise {100 * rate:g}%"


def demos_name(level: str, noise_rate: float) -> str:
    """The dataset name of a level at a noise rate (in the study's work folder)."""
    return f"{level.removeprefix('BabyAI-').removesuffix('-v0')}_noise{noise_rate:g}"


class Pipeline:
    def __init__(self, plan: Plan, storage: str, results: str, command: str = ""):
        self.plan = plan
        self.command = command or f"python scripts/reproduce.py --name {plan.name}"  # shown in the report
        self.root = os.path.abspath(os.path.join(storage, f"reproduce_{plan.name}"))  # demos, models, evaluations
        self.results = os.path.join(results, plan.name)
        # what a finished run leaves (its log.csv and evaluation results: small files, meant to be committed),
        # so that a study spans machines: a run kept there is neither retrained nor re-evaluated
        self.kept = os.path.join(self.results, "runs")
        self.suites = os.path.join(self.results, "testing_levels.json")
        self.logs = os.path.join(self.root, "logs")
        os.makedirs(self.logs, exist_ok=True)

    def demos(self, noise_rate: float | None = None) -> str:
        """The training dataset of the plan's level at a noise rate (default: the plan's)."""
        return self.demos_for(self.plan.env, self.plan.noise_rate if noise_rate is None else noise_rate)

    def demos_for(self, level: str, noise_rate: float) -> str:
        return os.path.join(self.root, "demos", demos_name(level, noise_rate))

    # ----------------------------------------------------------------------------------------------
    def script(self, stage: str, *args, log: str) -> None:
        """Run one stage of this package (one thread), its output in logs/<log>.log."""
        cmd = [*stage_command(stage), *map(str, args)]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "BABYAI_STORAGE": self.root}
        path = os.path.join(self.logs, f"{log}.log")
        with open(path, "a") as out:
            out.write(f"\n$ {stage} {' '.join(map(str, args))}\n")
            out.flush()
            code = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent)
        if code != 0:
            raise StageError(f"{stage} failed (exit {code}); see {path}")

    def parallel(self, tasks: Sequence, fn) -> None:
        with ThreadPoolExecutor(max(1, self.plan.jobs)) as pool:
            for f in [pool.submit(fn, t) for t in tasks]:
                f.result()

    def models(self) -> list[tuple[str, int, str]]:
        return [(m, s, f"{spec.tag}_seed{s}") for m, spec in self.plan.methods().items() for s in self.plan.seeds_of(m)]

    def model_dir(self, run: str) -> str:
        return os.path.join(self.root, "models", run)

    def eval_dir(self, run: str) -> str:
        return os.path.join(self.kept, run)

    def finished(self, run: str) -> bool:
        return os.path.exists(os.path.join(self.eval_dir(run), FINISHED))

    # ----------------------------------------------------------------------------------------------
    def run(self) -> str:
        self._check_plan()
        p, t0 = self.plan, time.time()
        logger.info(f"study {p.name}: {p.env}, {p.demos} demos, {len(p.methods())} methods, seeds {p.seeds}, "
                    f"{p.epochs} epochs of {p.epoch_length} episodes; work folder {self.root}")
        rates = sorted({p.noise_rate, *p.noise_variants})
        if not all(self.finished(run) for *_, run in self.models()):  # kept runs and suite need no demos
            self.stage("demos", lambda: [self.make_demos(r) for r in rates])
        self.stage("zero-shot suite", self.make_suite)
        # seed by seed (TC, BC, TC w/o thought of seed 1 first): a study that spans sessions compares as it goes
        order = sorted(self.models(), key=lambda m: (m[1], list(p.methods()).index(m[0])))
        self.stage("training and evaluation", lambda: self.parallel(order, self.train_and_evaluate))
        from babyai.study.report import write_report

        path = write_report(self, time.time() - t0)
        logger.info(f"report: {path}")
        self.ship_agent()
        return path

    def stage(self, what: str, fn) -> None:
        start = time.time()
        logger.info(f"{what} ...")
        fn()
        logger.info(f"{what}: done in {time.time() - start:.0f} s")

    def _check_plan(self) -> None:
        """The same name must mean the same plan: a resumed study may not change its budgets."""
        path = os.path.join(self.results, "plan.json")
        mine = {k: v for k, v in asdict(self.plan).items() if k != "jobs"}
        if os.path.exists(path):
            with open(path) as f:
                saved = {**asdict(Plan(name=self.plan.name)), **json.load(f)}  # plans saved before a setting existed had its default
            saved.pop("jobs")
            diffs = [f"{k} {saved.get(k)!r} -> {mine.get(k)!r}" for k in sorted(set(saved) | set(mine)) if saved.get(k) != mine.get(k)]
            if diffs:
                raise StageError(f"reproduction {self.plan.name} exists with other settings ({'; '.join(diffs)}); "
                                 "use another --name")
        else:
            os.makedirs(self.results, exist_ok=True)
            write_json(path, asdict(self.plan))

    # ----------------------------------------------------------------------------------------------
    def make_demos(self, noise_rate: float) -> None:
        self.make_demos_for(self.plan.env, noise_rate)

    def make_demos_for(self, level: str, noise_rate: float) -> None:
        """The dataset of a level (the same seeds for every level and noise rate); a finished one is kept."""
        p, name = self.plan, demos_name(level, noise_rate)
        self.script("make_agent_demos", "--env", level, "--episodes", p.demos, "--valid-episodes", p.valid_demos,
                    "--seed", DEMO_FIRST_SEED, "--noise-rate", noise_rate, "--demos", name,  # under the work folder
                    "--workers", max(1, p.jobs), log=f"demos_{name}")

    def train_and_evaluate(self, item: tuple[str, int, str]) -> None:
        """One run from training to its kept results (skipped when they are kept already)."""
        run = item[2]
        if self.finished(run):
            logger.info(f"{run}: finished (its results are in {self.eval_dir(run)})")
            return
        self.train(item)
        os.makedirs(self.eval_dir(run), exist_ok=True)
        with open(os.path.join(self.model_dir(run), "log.csv")) as f:
            atomic_write_text(os.path.join(self.eval_dir(run), "log.csv"), f.read())
        self.evaluate(item)
        compress_episodes(self.eval_dir(run))
        write_json(os.path.join(self.eval_dir(run), FINISHED), {"run": run})

    def train(self, item: tuple[str, int, str]) -> None:
        method, seed, run = item
        spec = self.plan.methods()[method]
        logger.info(f"training {run}")
        rate = self.plan.noise_rate if spec.noise_rate is None else spec.noise_rate
        self.script("train_tc" if spec.algo == "tc" else "train_il",
                    *train_flags(self.plan, spec, seed, run, demos_name(self.plan.env, rate)), log=f"train_{run}")
        logger.info(f"trained {run}")

    def make_suite(self) -> None:
        if os.path.exists(self.suites):
            return
        p = self.plan
        self.script("make_testing_levels", "--env", p.env, "--levels-per-bin", p.levels_per_bin,
                    "--max-seeds", p.suite_max_seeds, "--out", self.suites, "--workers", max(1, p.jobs),
                    "--exclude-demos", self.demos(), log="suite")

    def evaluate(self, item: tuple[str, int, str]) -> None:
        method, _, run = item
        p, out = self.plan, self.eval_dir(run)
        thinks = self.plan.methods()[method].thinks
        common = ["--model", run, "--env", p.env, "--out-dir", out, "--workers", 0,
                  *(["--checkpoint", p.checkpoint] if p.checkpoint else [])]
        steps = [("indist", f"evaluate_{run}.json", "evaluate", ["--episodes", p.eval_episodes])]
        if not method.startswith("TC noise"):  # the noise variants answer one question: in-distribution success
            steps.append(("zeroshot", f"zeroshot_{run}.csv", "evaluate_levels",
                          ["--testing-levels-path", self.suites, "--no-plot", *(["--oracle-thoughts"] if thinks else [])]))
        if thinks:
            n = ["--episodes", p.tc_eval_episodes]
            steps += [("fads", f"fads_{run}.json", "evaluate_fads", [*n, "--testing-levels-path", self.suites]),
                      ("precrime", f"precrime_{run}.json", "evaluate_precrime", n),
                      ("steering", f"steering_{run}.json", "evaluate_steering", n)]
        for what, result, stage, args in steps:
            if os.path.exists(os.path.join(out, result)):
                continue
            seed = [] if what == "zeroshot" else ["--seed", EVAL_FIRST_SEED]
            self.script(stage, *common, *seed, *args, log=f"eval_{what}_{run}")
        logger.info(f"evaluated {run}")


    def ship_agent(self) -> str | None:
        """Copy the TC run with the best in-distribution success (ties: the better thoughts played; of those whose
        model is at hand) to
        ``<results>/<name>/agents/<level>/`` (the evaluated checkpoint without its optimizer state,
        config.json, vocab.json, agent.json): a thinking agent
        that comes with the code, loadable by every script by that path. An agent shipped before is kept."""
        dest = os.path.join(self.results, "agents", self.plan.env.removeprefix("BabyAI-").removesuffix("-v0"))
        candidates = []
        for method, seed, run in self.models():
            result = os.path.join(self.eval_dir(run), f"evaluate_{run}.json")
            if method != "TC" or not os.path.exists(os.path.join(self.model_dir(run), f"{self.plan.checkpoint or 'best'}.pt")) \
                    or not os.path.exists(result):
                continue
            with open(result) as f:
                candidates.append((json.load(f), seed, run))
        if os.path.exists(dest) or not candidates:
            return None
        from babyai.agent.loading import load_checkpoint, save_checkpoint

        def rank(c):  # success, then how often its own thoughts named the oracle's object, then the lower seed
            return c[0]["success"], (c[0].get("thoughts") or {}).get("right_object") or 0.0, -c[1]

        report, seed, run = max(candidates, key=rank)
        evaluated = f"{self.plan.checkpoint or 'best'}.pt"
        with atomic_folder(dest) as tmp:
            payload = load_checkpoint(os.path.join(self.model_dir(run), evaluated))
            payload["optimizer"] = {}  # the agent, not the run: a third of the size
            save_checkpoint(os.path.join(tmp, evaluated), payload)
            for name in ("config.json", "vocab.json"):
                shutil.copyfile(os.path.join(self.model_dir(run), name), os.path.join(tmp, name))
            write_json(os.path.join(tmp, "agent.json"), {
                "run": run, "study": self.plan.name, "level": self.plan.env, "training_seed": seed,
                "chosen_by": f"the best in-distribution success of the study's TC runs ({len(candidates)} at hand); "
                             "ties: the most steps whose own thought named the oracle's object",
                "evaluation": report})
        logger.info(f"shipped {run} as the thinking agent {dest}")
        return dest


def compress_episodes(folder: str) -> None:
    """gzip the per-episode records (``*.jsonl``) of a finished run's evaluations: a tenth of the size to
    commit; the result files the report reads stay as they are."""
    import gzip
    import shutil

    for name in sorted(os.listdir(folder)):
        if name.endswith(".jsonl"):
            path = os.path.join(folder, name)
            with open(path, "rb") as src, open(path + ".gz.tmp", "wb") as raw, \
                    gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as dst:  # the same bytes on every machine
                shutil.copyfileobj(src, dst)
            os.replace(path + ".gz.tmp", path + ".gz")
            os.remove(path)


def _die_with_parent() -> None:
    """In a stage's process (Linux): be terminated when the pipeline dies, so that a killed pipeline
    leaves no stage running on, to race the next invocation's stages on the same files."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def train_flags(p: Plan, spec: Method, seed: int, run: str, demos: str, val_episodes: int | None = None) -> list:
    """The training command's flags for one run of the plan (also used by the sweep's probes)."""
    sg = p.sg_coef if spec.sg_coef is None else spec.sg_coef
    return ["--env", p.env, "--demos", demos, "--model", run, "--seed", seed, "--epochs", p.epochs,
            "--epoch-length", p.epoch_length, "--stop-tf", p.stop_tf, "--batch-size", p.batch_size, "--lr", p.lr,
            "--recurrence", p.recurrence, "--memory-dim", p.memory_dim, "--instr-dim", p.instr_dim,
            "--image-dim", p.image_dim, "--episodes-per-lane", p.episodes_per_lane,
            "--val-episodes", p.val_episodes if val_episodes is None else val_episodes, "--val-interval", p.val_interval,
            "--val-seed", VAL_SEED, "--patience", 10**6, "--device", "cpu", *(["--sg-coef", sg] if spec.algo == "tc" else []),
            *(["--tf-until-nll", p.tf_until_nll] if spec.algo == "tc" and p.tf_until_nll else []),
            *(["--thought-history-noise", p.history_noise] if spec.algo == "tc" and p.history_noise else []),
            *(["--best-ties-by-thoughts"] if spec.algo == "tc" and p.best_ties_by_thoughts else []), *spec.flags]
