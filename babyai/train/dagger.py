"""Oracle Thought-DAgger: the agent plays, the oracle labels the states it reached with its thoughts and
actions, the labels join the training data, and training goes on (a departure from the paper, which imitates
the oracle's own demonstrations only).

Round 0 is the run as configured (``cfg.model_name``, trained on ``cfg.demos``). Round r >= 1:

1. the model of round r - 1 (its best.pt, else last.pt: the model a pretrained start reads) plays one episode
   on each of ``levels`` new levels, seeds ``seed + (r - 1) * levels`` on, with the oracle replanning alongside;
2. every step it took, up to the first the oracle could not label, becomes a frame of a relabelled episode:
   the observation the agent acted on, the oracle's thought and action there. They are written as the dataset
   ``<model>_dagger<r>`` (in the demos folder);
3. the run ``<model>_dagger<r>`` starts from round r - 1's weights and trains on the demos and every relabelled
   dataset so far, for ``epochs`` epochs (the run's own schedules, from their start).

With ``label_steps`` N, only the first N steps of each played episode are labelled, and the rounds' runs and
datasets are named ``<model>_dagger<r>_first<N>``. Each step is skipped when its output is complete, so rerunning
the command resumes. ``dagger.json`` (``dagger_first<N>.json``; in round 0's run folder) records every round: the oracle labels used so far (frames of demos and relabelled
episodes: the budget to compare other methods at), and how the agent played (success, and how often its own
thoughts were the oracle's).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import os
from dataclasses import dataclass

import numpy as np

import babyai
from babyai.checks import check_count, check_seed
from babyai.train.run import TrainConfig, run_dir

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DaggerPlan:
    rounds: int  # rounds of play, relabel and train after the first training
    levels: int = 200  # levels the agent plays per round
    seed: int = 5 * 10**8  # the first level seed played (apart from BabyAI's demo, validation and test ranges)
    epochs: int = 0  # epochs of each later round (0: the run's --epochs)
    label_steps: int = 0  # label at most the first N steps of each played episode (0: every step the oracle can)

    def __post_init__(self):
        check_count("--dagger-rounds", self.rounds, low=1)
        check_count("--dagger-levels", self.levels, low=1)
        check_count("--dagger-epochs", self.epochs)
        check_count("--dagger-label-steps", self.label_steps)
        check_seed("--dagger-seed", self.seed, count=self.rounds * self.levels)

    @property
    def suffix(self) -> str:
        """What names this plan's rounds and summary apart: "" or "_firstN"."""
        return f"_first{self.label_steps}" if self.label_steps else ""


def round_name(cfg: TrainConfig, r: int, plan: DaggerPlan) -> str:
    """The run (and relabelled dataset) of round r (rounds that label fewer steps are named apart)."""
    if r == 0:
        return cfg.model_name
    return f"{cfg.model_name}_dagger{r}{plan.suffix}"


def round_config(cfg: TrainConfig, plan: DaggerPlan, r: int) -> TrainConfig:
    """The training settings of round r: the demos and the relabelled datasets of rounds 1..r, from round r - 1."""
    if r == 0:
        return cfg
    relabelled = [round_name(cfg, k, plan) for k in range(1, r + 1)]
    return dataclasses.replace(
        cfg, model_name=round_name(cfg, r, plan), demos=[*cfg.demos, *relabelled], episodes=[*cfg.episodes, *[0] * r],
        valid_demos=cfg.valid_demos or [f"{name}_valid" for name in cfg.demos], pretrained_model=round_name(cfg, r - 1, plan),
        epochs=plan.epochs or cfg.epochs, command=f"{cfg.command} (DAgger round {r})")


def relabelled_episodes(records, seeding: str, source: str, max_steps: int = 0) -> list:
    """The agent's episodes as demonstrations of the oracle: each step it took, up to the first the oracle could
    not label (and at most ``max_steps``, when > 0), with the oracle's thought and action in that state (episodes
    without a labelled step are left out)."""
    from babyai.demos.format import Episode

    out = []
    for rec in records:
        steps = []
        for (image, direction), action, thought in zip(rec.observations, rec.oracle_actions, rec.oracle_thoughts):
            if action is None or thought is None or len(steps) == max_steps > 0:
                break
            steps.append((image, direction, action, thought))
        if not steps:
            continue
        images, directions, actions, thoughts = zip(*steps)
        out.append(Episode(level=rec.level, seed=rec.seed, mission=rec.mission, images=np.stack(images),
                           directions=np.array(directions, dtype=np.int64), actions=np.array(actions, dtype=np.int64),
                           thoughts=list(thoughts), noise=np.zeros(len(steps), dtype=bool), success=rec.success,
                           seeding=seeding, generator=f"babyai {babyai.__version__} (oracle labels of {source}'s play)"))
    return out


def play_and_relabel(cfg: TrainConfig, plan: DaggerPlan, r: int) -> dict:
    """Round r's relabelled dataset (written unless it exists); how the agent played and what was labelled."""
    from babyai.agent.loading import load_policy
    from babyai.agent.rollout import evaluate, success_rate
    from babyai.agent.thought_quality import played_agreement
    from babyai.demos.format import open_demos, write_dataset
    from babyai.storage import demos_path, storage_dir

    folder = demos_path(round_name(cfg, r, plan), storage_dir(cfg.storage))
    if not os.path.exists(os.path.join(folder, "meta.json")):
        source = round_name(cfg, r - 1, plan)
        policy = load_policy(source, cfg.storage, cfg.group)
        seeds = range(plan.seed + (r - 1) * plan.levels, plan.seed + r * plan.levels)
        logger.info(f"DAgger round {r}: {source} plays {plan.levels} levels (seeds {seeds[0]}..{seeds[-1]}), "
                    "the oracle labels its states")
        records = evaluate(policy, cfg.envs[0], seeds, seeding=cfg.seeding, sample_seed=r, labels=True, oracle=True,
                           progress=True)
        played = {"success": success_rate(records), "thoughts": played_agreement(records).rates(),
                  "agent_steps": sum(rec.length for rec in records)}
        write_dataset(folder, relabelled_episodes(records, cfg.seeding, source, plan.label_steps),
                      {"level": cfg.envs[0], "first_seed": seeds[0], "seeding": cfg.seeding, "relabelled_from": source,
                       "played": played})
    reader = open_demos(folder)
    return {**reader.meta["played"], "relabelled_episodes": len(reader), "relabelled_frames": reader.num_frames}


def demo_frames(cfg: TrainConfig) -> int:
    """The frames of the oracle demonstrations a run trains on (its --episodes of each)."""
    from babyai.demos.format import open_demos
    from babyai.storage import demos_path, storage_dir

    total = 0
    for name, episodes in zip(cfg.demos, cfg.episodes):
        lengths = open_demos(demos_path(name, storage_dir(cfg.storage))).lengths
        total += int(lengths[:episodes].sum() if episodes else lengths.sum())
    return total


def last_validation(folder: str) -> dict:
    """The validation figures of a run's last log row (success, thoughts), as numbers."""
    with open(os.path.join(folder, "log.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    keys = ("validation_success_rate", "validation_thought_exact", "validation_right_object", "validation_thought_nll",
            "optimizer_steps")
    return {k: float(rows[-1][k]) for k in keys if rows and rows[-1].get(k) not in (None, "")}


def run_dagger(cfg: TrainConfig, plan: DaggerPlan) -> dict:
    """Round 0, then ``plan.rounds`` rounds of play, relabel and train; the summary written to <model>_dagger.json."""
    from babyai.atomic import atomic_write_text
    from babyai.train.trainer import train

    if cfg.algo != "tc" or len(cfg.envs) != 1:
        raise ValueError("DAgger rounds train a Thought Cloning agent on one level (--env)")
    labels = demo_frames(cfg)
    summary = {"model": cfg.model_name, "level": cfg.envs[0], "plan": dataclasses.asdict(plan), "rounds": []}
    path = os.path.join(run_dir(cfg), f"dagger{plan.suffix}.json")
    for r in range(plan.rounds + 1):
        entry = {"round": r, "run": round_name(cfg, r, plan)}
        if r > 0:
            entry.update(play_and_relabel(cfg, plan, r))
            labels += entry["relabelled_frames"]
        entry["oracle_labels"] = labels
        result = train(round_config(cfg, plan, r))
        entry["training"] = {k: result[k] for k in ("finished", "epoch", "best_success")}
        entry["last_validation"] = last_validation(result["run_dir"])
        summary["rounds"].append(entry)
        atomic_write_text(path, json.dumps(summary, indent=1) + "\n")
        logger.info(f"DAgger round {r} done: {entry['run']}, {labels:,} oracle labels so far")
    return summary
