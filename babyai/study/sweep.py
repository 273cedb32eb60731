"""The development sweep that chooses a study's configuration, on development seeds only.

Each probe is a short training run (one development training seed, validation on the development
levels from seed 10^6 on); its score is the mean validation success of its last two validations.
The sweep goes in three rounds, one factor at a time from the base configuration:
1. the level: TC and BC on each candidate level; chosen: the largest TC - BC score (the question
   the study asks is whether thoughts help; the confirmation, with other training seeds and on levels
   no probe played, tells whether the advantage is real). With the criterion "thoughts", TC alone on
   each level, and chosen: the level where TC's own thoughts, played free, most often name the
   object the oracle's thought names (the mean validation right-object share of its last two
   validations); the later rounds then also probe TC alone and choose by that share;
2. settings both methods share (conv width, batch size): TC and BC on each alternative value;
   chosen per setting: the best mean of TC's and BC's scores (fair to both);
3. settings of TC alone (teacher-forcing stop, thought coefficient, thought-history noise): TC on each
   alternative; chosen: the best TC score.
A setting without alternatives is not probed.
The chosen configuration is written (choice.json, sweep.md) before the confirmation runs.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field, replace

from babyai.evaluate.io import atomic_write_text, write_json
from babyai.study.pipeline import Method, Pipeline, Plan, demos_name, train_flags

logger = logging.getLogger("babyai.study")

SHARED = ("image_dim", "batch_size")
TC_ONLY = ("stop_tf", "sg_coef", "history_noise")
CHOSEN = ("env", *SHARED, *TC_ONLY)  # what a sweep chooses
CRITERIA = ("success", "thoughts")


@dataclass
class SweepPlan:
    levels: list[str] = field(default_factory=lambda: ["BabyAI-GoToSeq-v0", "BabyAI-SynthSeq-v0", "BabyAI-MiniBossLevel-v0"])
    alternatives: dict = field(default_factory=lambda: {"image_dim": [64], "batch_size": [64], "stop_tf": [1000], "sg_coef": [1.0]})
    seed: int = 101  # the development training seed (the confirmation's seeds differ)
    val_episodes: int = 100
    epoch_length: int = 0  # the probes' episodes per epoch (0: the plan's); same epochs, so the same schedules
    criterion: str = "success"  # how the level is chosen: "success" (TC - BC) or "thoughts" (TC's right object)

    def __post_init__(self):
        if self.criterion not in CRITERIA:
            raise ValueError(f"unknown sweep criterion {self.criterion!r}; choose from {', '.join(CRITERIA)}")


@dataclass
class Probe:
    level: str
    method: str  # "TC" or "BC"
    plan: Plan
    base: Plan  # the sweep's starting configuration: a probe is named by how its plan departs from it

    @property
    def departures(self) -> list[tuple[str, float]]:
        return [(k, getattr(self.plan, k)) for k in SHARED + TC_ONLY if getattr(self.plan, k) != getattr(self.base, k)]

    @property
    def setting(self) -> str:
        """ "base", or the departures from it ("image_dim=64, batch_size=32")."""
        return ", ".join(f"{k}={v:g}" for k, v in self.departures) or "base"

    @property
    def run(self) -> str:
        """The probe's run name: one name per (level, plan, method), so a later round's starting point
        is the same run as the earlier round's winner (trained once, reused)."""
        short = self.level.removeprefix("BabyAI-").removesuffix("-v0")
        return f"probe_{short}_{'_'.join(f'{k}{v:g}' for k, v in self.departures) or 'base'}_{self.method}"


class Sweep:
    def __init__(self, pipeline: Pipeline, sweep: SweepPlan):
        self.pipeline, self.sweep, self.base = pipeline, sweep, pipeline.plan
        self.results: list[dict] = []

    def run(self) -> Plan:
        """Run the three rounds (finished probes are kept) and return the chosen plan; a choice.json of the
        same sweep already in the results folder is the choice (the probes' models may be gone)."""
        kept = self.kept_choice()
        if kept is not None:
            logger.info(f"sweep: finished before ({os.path.join(self.pipeline.results, 'choice.json')})")
            return with_choice(self.base, kept)
        level = self.round_levels()
        plan = replace(self.base, env=level)
        for name in SHARED:
            plan = self.round_setting(plan, name, self.methods, lambda s: sum(s.values()) / len(s))
        for name in TC_ONLY:
            plan = self.round_setting(plan, name, ("TC",), lambda s: s["TC"])
        chosen = {k: getattr(plan, k) for k in CHOSEN}
        self.write(chosen)
        return with_choice(plan, chosen)

    def kept_choice(self) -> dict | None:
        path = os.path.join(self.pipeline.results, "choice.json")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            saved = json.load(f)
        saved["sweep"] = {"criterion": "success", **saved.get("sweep", {})}  # sweeps saved before the criterion
        same = lambda key, value: saved.get(key, value) == json.loads(json.dumps(value))  # noqa: E731
        if not (same("sweep", asdict(self.sweep)) and same("base", self.base_settings())):
            return None  # another sweep: run this one (it rewrites choice.json)
        return saved["chosen"]

    def base_settings(self) -> dict:
        """The base plan's settings that shape the probes (not the confirmation's seeds or evaluations)."""
        skip = ("name", "seeds", "noise_variants", "noise_seeds", "eval_episodes", "tc_eval_episodes", "levels_per_bin",
                "suite_max_seeds", "chosen_by", "jobs",
                "best_ties_by_thoughts")  # which checkpoint is best.pt: no probe's score (read from log.csv) depends on it
        return {k: v for k, v in asdict(self.base).items() if k not in skip}

    def round_levels(self) -> str:
        plans = [replace(self.base, env=level) for level in self.sweep.levels]
        scores = dict(zip(self.sweep.levels, self.probe_pairs(plans, self.methods)))
        if self.thoughts:
            return max(scores, key=lambda lv: scores[lv]["TC"])
        return max(scores, key=lambda lv: (scores[lv]["TC"] - scores[lv]["BC"], scores[lv]["TC"]))

    @property
    def thoughts(self) -> bool:
        """Whether the sweep chooses by TC's thoughts (TC probes only, scored by the right-object share)."""
        return self.sweep.criterion == "thoughts"

    @property
    def methods(self) -> tuple:
        return ("TC",) if self.thoughts else ("TC", "BC")

    def round_setting(self, plan: Plan, name: str, methods: tuple, criterion) -> Plan:
        if not self.sweep.alternatives.get(name):
            return plan
        candidates = {getattr(plan, name): self.probe_pair(plan, methods)}
        for value in self.sweep.alternatives.get(name, []):
            candidates[value] = self.probe_pair(replace(plan, **{name: value}), methods)
        best = max(candidates, key=lambda v: criterion(candidates[v]))
        return replace(plan, **{name: best})

    def probe_pair(self, plan: Plan, methods: tuple) -> dict[str, float]:
        return self.probe_pairs([plan], methods)[0]

    def probe_pairs(self, plans: list[Plan], methods: tuple) -> list[dict[str, float]]:
        """Train the probes of every plan and method (all at once, --jobs at a time); each plan's scores."""
        probes = [Probe(plan.env, m, plan, self.base) for plan in plans for m in methods]
        for plan in plans:
            self.pipeline.make_demos_for(plan.env, plan.noise_rate)
        self.pipeline.parallel(probes, self.train)
        for p in probes:
            row = {"level": p.level, "setting": p.setting, "method": p.method, "score": score(self.pipeline.model_dir(p.run)), "run": p.run,
                   "right_object": _right_object(self.pipeline.model_dir(p.run)) if p.method == "TC" else None,
                   **{k: getattr(p.plan, k) for k in (*SHARED, *TC_ONLY)}}
            if row not in self.results:
                self.results.append(row)
        return [{p.method: self.score(p) for p in probes if p.plan is plan} for plan in plans]

    def score(self, probe: Probe) -> float:
        """A probe's score: TC's right-object share with the thoughts criterion, else the validation success."""
        run_dir = self.pipeline.model_dir(probe.run)
        return thought_score(run_dir) if self.thoughts and probe.method == "TC" else score(run_dir)

    def train(self, probe: Probe) -> None:
        spec = Method(probe.method, "tc" if probe.method == "TC" else "bc")
        plan = replace(probe.plan, epoch_length=self.sweep.epoch_length or probe.plan.epoch_length)
        flags = train_flags(plan, spec, self.sweep.seed, probe.run, demos_name(probe.level, probe.plan.noise_rate),
                            val_episodes=self.sweep.val_episodes)
        self.pipeline.script("train_tc" if spec.algo == "tc" else "train_il", *flags, log=f"train_{probe.run}")

    def write(self, chosen: dict) -> None:
        os.makedirs(self.pipeline.results, exist_ok=True)
        write_json(os.path.join(self.pipeline.results, "choice.json"),
                   {"chosen": chosen, "rule": __doc__.split("\n\n")[1], "sweep": asdict(self.sweep),
                    "base": self.base_settings(), "probes": self.results})
        atomic_write_text(os.path.join(self.pipeline.results, "sweep.md"), "\n".join(sweep_table(self.results, chosen)) + "\n")


def score(run_dir: str, column: str = "validation_success_rate") -> float:
    """The mean of a validation column (by default the success) over a run's last two validations (its log.csv)."""
    path = os.path.join(run_dir, "log.csv")
    with open(path, newline="") as f:
        values = [float(r[column]) for r in csv.DictReader(f) if r.get(column)]
    if not values:
        raise ValueError(f"{path} has no validation of {column}")
    return sum(values[-2:]) / len(values[-2:])


def thought_score(run_dir: str) -> float:
    """How often a TC run's own thoughts, played free, named the oracle's object (last two validations)."""
    return score(run_dir, "validation_right_object")


def _right_object(run_dir: str) -> float | None:
    """thought_score, or None for a run whose log does not measure it (logged before thoughts were measured)."""
    try:
        return thought_score(run_dir)
    except ValueError:
        return None


def with_choice(plan: Plan, chosen: dict) -> Plan:
    """The plan with a sweep's chosen level and settings, recorded as how it was chosen."""
    chosen = {k: chosen.get(k, getattr(plan, k)) for k in CHOSEN}  # choices saved before a setting existed
    return replace(plan, **chosen, chosen_by=describe(chosen))


def describe(chosen: dict) -> str:
    return "development sweep (sweep.md): " + ", ".join(f"{k}={v}" for k, v in chosen.items())


def sweep_table(rows: list[dict], chosen: dict) -> list[str]:
    lines = ["# Development sweep", "", __doc__.split("\n\n")[1], "",
             "Scores: validation success (%) on development levels (seeds from 10^6), mean of the last two "
             "validations, one development training seed; TC right object: the share of steps whose own thought, "
             "played free, names the oracle's object (likewise).", "",
             "| level | setting | " + " | ".join(SHARED + TC_ONLY) + " | TC | BC | TC - BC | TC right object |",
             "|---" * (len(SHARED + TC_ONLY) + 6) + "|"]
    seen: dict[tuple, dict] = {}
    for r in rows:
        entry = seen.setdefault((r["level"], r["setting"]), {**r, "scores": {}})
        entry["scores"][r["method"]] = r["score"]
        if r["method"] == "TC":
            entry["object"] = r.get("right_object")
    for (level, setting), r in seen.items():
        tc, bc = r["scores"].get("TC", math.nan), r["scores"].get("BC", math.nan)
        obj = math.nan if r.get("object") is None else r["object"]
        cells = [f"{100 * x:.1f}" if not math.isnan(x) else "" for x in (tc, bc, tc - bc, obj)]
        values = ["" if r.get(k) is None else f"{r[k]:g}" for k in SHARED + TC_ONLY]
        lines.append(f"| {level} | {setting} | " + " | ".join(values) + " | " + " | ".join(cells) + " |")
    lines += ["", f"Chosen: {json.dumps(chosen)}"]
    return lines
