"""The imitation-from-observation report: every method on one level, with the same demonstrations, the same
embodiment data and the same evaluation levels, written to ``results/<name>/`` (README.md, results.json,
plots). Resumable: each run keeps its results in its own folder and a finished run is not redone.

Methods: BC on the demonstrations' true actions (the upper bound), BCO(0) (BC on IDM-labelled actions),
TC from observation (Thought Cloning on IDM-labelled actions and the demonstrations' thoughts), IIDM,
AIME (its straight-through relaxation of the discrete actions, and the action summed out exactly per frame), and a
uniformly random policy; BCO also with IDMs trained on less embodiment data.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict

import numpy as np
import torch

from babyai.errors import UserError
from babyai.demos import VALID_FIRST_SEED, DemoSpec, generate_dataset
from babyai.observe import mains
from babyai.agent.loading import load_policy
from babyai.agent.policy import StepOutput
from babyai.model.config import TCConfig
from babyai.observe.embodiment import EmbodimentSpec, generate_embodiment
from babyai.observe.constants import AIME_VARIANTS, AimeRun, IIDMRun, ReportConfig, WorldModelRun
from babyai.observe.idm import train_idm
from babyai.observe.runs import success, write_json
from babyai.storage import demos_path, model_dir


PER_RUN_NAMED = ("embodiment", "seeds", "storage", "out", "only_finished", "command")  # not budgets of a run


class RandomAgent:
    """Uniform over the 7 actions (the rollout samples from equal logits)."""

    thinks, name = False, "random"

    def evaluating(self):
        import contextlib

        return contextlib.nullcontext(self)

    def check_thought(self, sentence):
        raise ValueError("the random policy has no thoughts")

    def begin(self, missions):
        pass

    def step(self, rows, images, inject=None):
        return StepOutput(torch.zeros(len(rows), 7), [None] * len(rows))


class Report:
    def __init__(self, cfg: ReportConfig):
        self.cfg = cfg
        self.prefix = cfg.name
        self.results: dict = {}

    def path(self, *parts) -> str:
        return os.path.join(self.cfg.storage, *parts)

    def timed(self, key: str, folder: str, fn) -> dict:
        """fn() once; its result (with the wall seconds it took) kept in ``folder``/report.json."""
        done = os.path.join(folder, "report.json")
        if os.path.isfile(done):
            with open(done) as f:
                return json.load(f)
        if self.cfg.only_finished:
            return None
        start, cpu = time.time(), time.process_time()
        result = fn()  # every run is in this process, one thread: its CPU time is the machine time it took
        result = {**result, "seconds": time.time() - start, "cpu_seconds": time.process_time() - cpu}
        os.makedirs(folder, exist_ok=True)
        write_json(done, result)
        return result

    # ------------------------------------------------------------------ data
    def data(self) -> None:
        c = self.cfg
        if c.only_finished:
            return
        demos = demos_path(f"{self.prefix}_demos", c.storage)
        generate_dataset(demos, DemoSpec(c.level, c.demos, c.demo_seed))
        generate_dataset(demos + "_valid", DemoSpec(c.level, c.valid_demos, VALID_FIRST_SEED))
        generate_embodiment(self.embodiment(), EmbodimentSpec(c.level, max(c.embodiment), first_seed=0))

    def embodiment(self) -> str:
        return demos_path(f"{self.prefix}_random{max(self.cfg.embodiment)}", self.cfg.storage)

    # ------------------------------------------------------------------ methods
    def idm(self, n: int) -> dict:
        c, folder = self.cfg, model_dir(f"{self.prefix}_idm{n}", self.cfg.storage)
        return self.timed("idm", folder, lambda: train_idm(
            c.level, self.embodiment(), folder, eval_demos=demos_path(f"{self.prefix}_demos", c.storage),
            epochs=c.idm_epochs, episodes=n, progress=False))

    def imitation(self, algo: str, seed: int, idm: str | None, tag: str) -> dict:
        """BC or TC (``algo``) on the demonstrations, or (``idm``: an IDM run) on their IDM-labelled copy."""
        from babyai.observe.bco import from_observation
        from babyai.train.datasets import check_demos_exist
        from babyai.train.run import TrainConfig
        from babyai.train.trainer import train

        c = self.cfg
        name = f"{self.prefix}_{tag}_seed{seed}"
        run_cfg = TrainConfig(  # no validation: the last model is evaluated
            algo=algo, model_name=name, envs=[c.level], demos=[f"{self.prefix}_demos"], episodes=[0],
            model=TCConfig(memory_dim=c.memory_dim, instr_dim=c.instr_dim), storage=c.storage, seed=seed,
            lr=1e-3, batch_size=c.batch_size, epochs=c.epochs, sg_coef=TrainConfig.sg_coef if algo == "tc" else 0.0,
            val_episodes=0, device="cpu", command=c.command or "babyai.observe.report")

        def run():
            check_demos_exist(run_cfg)
            train(from_observation(run_cfg, idm) if idm else run_cfg)
            return success(load_policy(name, c.storage), c.level, c.eval_episodes, c.eval_seed)

        return self.timed(tag, model_dir(name, c.storage), run)

    def command(self, train, settings, result: str = "eval.json") -> dict:
        """``train(settings)``: a training command of ``babyai.observe.mains``, once; its ``result`` file."""
        folder = model_dir(settings.model, self.cfg.storage)

        def run():
            train(settings)
            with open(os.path.join(folder, result)) as f:
                return json.load(f)

        return self.timed(settings.model, folder, run)

    def check_settings(self) -> None:
        """The first run of a report keeps its budgets in the storage; a later run with other budgets would mix
        runs made with both, so it is refused (seeds and embodiment sizes may change: they only add runs)."""
        kept = {k: v for k, v in asdict(self.cfg).items() if k not in PER_RUN_NAMED}
        path = self.path(f"{self.prefix}_report_settings.json")
        if os.path.isfile(path):
            with open(path) as f:
                old = json.load(f)
            diff = ", ".join(f"{k} {old.get(k)} -> {v}" for k, v in kept.items() if old.get(k) != v)
            if diff:
                raise UserError(f"the report {self.prefix} in {self.cfg.storage} was made with other settings "
                                f"({diff}): use another --storage-dir", 2)
        elif not self.cfg.only_finished:
            os.makedirs(self.cfg.storage, exist_ok=True)
            write_json(path, kept)

    def run(self) -> dict:
        c, n = self.cfg, max(self.cfg.embodiment)
        self.check_settings()
        self.data()
        emb = f"{self.prefix}_random{n}"
        demos = f"{self.prefix}_demos"
        common = dict(storage_dir=c.storage, quiet=True)
        evals = dict(eval_episodes=c.eval_episodes, eval_seed=c.eval_seed, **common)
        r = {"idm": {k: self.idm(k) for k in c.embodiment}, "methods": {}}
        m = r["methods"]
        idm = f"{self.prefix}_idm{n}"
        m["random policy"] = [self.timed("random", self.path("models", f"{self.prefix}_random_seed{s}"),
                                         lambda s=s: random_success(c, s)) for s in c.seeds]
        m["BC (true actions)"] = [self.imitation("bc", s, None, "bc") for s in c.seeds]
        m["BCO"] = [self.imitation("bc", s, idm, "bco") for s in c.seeds]
        m["TC from observation"] = [self.imitation("tc", s, idm, "tcobs") for s in c.seeds]
        m["IIDM"] = [self.command(mains.iidm, IIDMRun(
            env=c.level, embodiment=emb, demos=demos, model=f"{self.prefix}_iidm_seed{s}",
            model_epochs=c.iidm_model_epochs, policy_epochs=c.iidm_policy_epochs, seed=s, **evals)) for s in c.seeds]
        r["bco_vs_embodiment"] = {k: self.imitation("bc", c.seeds[0], f"{self.prefix}_idm{k}", f"bco-idm{k}")
                                  for k in c.embodiment if k != n}
        wm = f"{self.prefix}_wm"
        r["world_model"] = self.command(mains.world_model, WorldModelRun(
            env=c.level, embodiment=emb, model=wm, updates=c.wm_updates, eval_demos=demos, **common), "wm_eval.json")
        for method, tag, estimator in AIME_VARIANTS:
            m[method] = [self.command(mains.aime, AimeRun(
                env=c.level, demos=demos, world_model=wm, model=f"{self.prefix}_{tag}_seed{s}",
                updates=c.aime_updates, estimator=estimator, seed=s, **evals)) for s in c.seeds]
        r["bco_vs_embodiment"][n] = m["BCO"][0]
        return finished(r)


def finished(r: dict) -> dict:
    """The results without the runs that are not done (None, with --only-finished)."""
    r["idm"] = {k: v for k, v in r["idm"].items() if v is not None}
    r["methods"] = {k: [x for x in v if x is not None] for k, v in r["methods"].items()}
    r["methods"] = {k: v for k, v in r["methods"].items() if v}
    r["bco_vs_embodiment"] = {k: v for k, v in r["bco_vs_embodiment"].items() if v is not None}
    return r


def random_success(cfg: ReportConfig, seed: int) -> dict:
    from babyai.agent.rollout import evaluate, success_rate

    records = evaluate(RandomAgent(), cfg.level, range(cfg.eval_seed, cfg.eval_seed + cfg.eval_episodes),
                       sample_seed=seed, workers=0)
    return {"success_rate": success_rate(records), "episodes": cfg.eval_episodes, "sample_seed": seed}


def make_report(cfg: ReportConfig) -> str:
    """Run (or finish) every run of the report and write ``<out>/<name>/``; the README's path."""
    from babyai.observe.report_write import write_report

    torch.set_num_threads(1)
    results = Report(cfg).run()
    if max(cfg.embodiment) not in results["idm"]:  # only with --only-finished: the first run is not done
        raise UserError(f"nothing of the report {cfg.name} is finished in {cfg.storage} yet (run it without "
                        "--only-finished)", 1)
    return write_report(cfg, results, asdict(cfg))


def summary(runs: list[dict]) -> tuple[float, float]:
    values = np.array([r["success_rate"] for r in runs], dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0
