"""The one batched rollout: an agent plays one episode on each of N levels, all advanced together.

Training's validation, every evaluation and teaching use it. At every step the model takes one batch
of all running episodes; the levels are stepped in this process or, with ``workers`` > 1, in worker
processes (``babyai.agent.envs``). Actions are the argmax or sampled. By default a sampled action is
drawn from a random stream of its own episode (seeded by ``sample_seed`` and the level's seed), so an
episode's result does not depend on the batch size, the number of workers or the other levels played
with it; with ``generator`` the actions are drawn instead from that one torch stream, batch after
batch (``torch.multinomial``), as training's validation has always drawn them.

Hooks: ``steering`` replaces the agent's thought (by a sentence or by the oracle's thought for the
current state); ``halt`` ends an episode before acting when its thought declares an unsafe plan
(Precrime Intervention). With ``policy=None`` the oracle itself plays (a calibration agent).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from babyai.agent.envs import HostConfig, make_host
from babyai.bars import progress_bar

AUTO_WORKERS_MIN_LEVELS = 64  # fewer levels than this: step them in this process


@dataclass
class EpisodeRecord:
    """One evaluated episode; ``to_dict`` gives its JSON form (frames are not saved)."""

    level: str
    seed: int
    mission: str
    requested: list = field(default_factory=list)  # [[color or None, type]]: objects the mission asks to pick up
    success: bool = False
    episode_return: float = 0.0  # the sum of the rewards (the JSON key is "return")
    length: int = 0  # actions taken
    actions: list[int] = field(default_factory=list)
    thoughts: list[str | None] = field(default_factory=list)  # per action: the thought the Action Generator read
    injected: list[int] = field(default_factory=list)  # steps whose thought was injected
    interactions: list[dict] = field(default_factory=list)  # {"step", "verb", "color", "type"[, "detail"]}
    oracle_thoughts: list[str | None] | None = None  # per action: the oracle's thought in the same state
    oracle_error: str | None = None  # why the oracle stopped following this episode
    halted: bool = False  # stopped by the halt hook before acting
    halt_step: int | None = None
    halt_thought: str | None = None
    frames: list[np.ndarray] = field(default_factory=list, repr=False)  # rendered states 0..length
    # with ``labels``: per action, the observation the agent acted on ((7, 7, 3) image and direction) and the
    # oracle's action there
    observations: list[tuple[np.ndarray, int]] | None = field(default=None, repr=False)
    oracle_actions: list[int | None] | None = None

    @property
    def reward(self) -> float:
        """The old name of ``episode_return`` (it always held the return, not the last reward)."""
        return self.episode_return

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("frames", "episode_return", "observations")
             and not (k == "oracle_actions" and v is None)}
        d["return"] = self.episode_return
        return d


class Steering:
    """Which thought the Action Generator reads: ``thought(seed, step, oracle_thought)`` returns a sentence
    to inject, or None to keep the agent's own thought."""

    needs_oracle = False

    def thought(self, seed: int, step: int, oracle_thought: str | None) -> str | None:
        return None

    def sentences(self) -> list[str]:
        """The fixed sentences this steering may inject (checked against the vocabulary up front)."""
        return []


def auto_workers(levels: int, workers: int | None) -> int:
    """``workers`` when given; else one per spare CPU core (at most 8) for many levels, 0 for few."""
    if workers is not None:
        return workers
    if levels < AUTO_WORKERS_MIN_LEVELS:
        return 0
    return max(0, min(8, (os.cpu_count() or 1) - 1))


def evaluate(
    policy,
    level: str,
    seeds: Sequence[int],
    *,
    argmax: bool = False,
    sample_seed: int = 0,
    seeding: str = "legacy",
    workers: int | None = None,
    batch_size: int = 512,
    steering: Steering | None = None,
    halt: Callable[[str, list], bool] | None = None,
    oracle: bool = False,
    tile_size: int = 0,
    progress: bool = False,
    max_steps: int | None = None,
    generator: torch.Generator | None = None,
    labels: bool = False,
) -> list[EpisodeRecord]:
    """Play one episode on each level seed with ``policy`` (a ModelPolicy, or None for the oracle).

    ``batch_size`` levels run at a time; ``oracle`` also records the oracle's thought at every step;
    ``tile_size`` > 0 renders every state into ``EpisodeRecord.frames``; ``max_steps`` cuts episodes
    shorter than the level's own limit (an episode cut so counts as failed); ``generator``: sample
    from this torch stream instead of the per-episode streams of ``sample_seed``; ``labels`` (with the oracle
    alongside) also records, per action, the observation acted on and the oracle's action in that state
    (``observations``, ``oracle_actions``: what an oracle relabelling of the agent's own states needs).
    """
    seeds = [int(s) for s in seeds]
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    if policy is not None and steering is not None:
        for sentence in steering.sentences():
            policy.check_thought(sentence)
    need_oracle = oracle or labels or policy is None or (steering is not None and steering.needs_oracle)
    host = make_host(HostConfig(level, seeding, need_oracle, tile_size, max_steps), auto_workers(len(seeds), workers))
    bar = progress_bar(total=len(seeds), unit="ep", desc=f"{level}", disable=not progress, leave=False,
                       mininterval=1)
    chooser = ActionChooser(argmax, sample_seed, generator)
    records: list[EpisodeRecord] = []
    try:
        with policy.evaluating() if policy is not None else contextlib.nullcontext():
            for start in range(0, len(seeds), batch_size):
                part = seeds[start : start + batch_size]
                records += _play(policy, host, level, part, chooser, steering, halt, need_oracle, bar, labels)
    finally:
        bar.close()
        host.close()
    return records


def choose_actions(logits: torch.Tensor, argmax: bool, uniforms: np.ndarray | None) -> np.ndarray:
    """Argmax actions, or actions sampled by inverse CDF with one uniform number per row."""
    if argmax:
        return logits.argmax(1).numpy()
    cdf = torch.softmax(logits.double(), 1).cumsum(1).numpy()  # (n, A)
    return np.minimum((uniforms[:, None] >= cdf).sum(1), cdf.shape[1] - 1)


class ActionChooser:
    """Actions from logits: argmax, sampled from one torch ``generator``, or sampled from per-episode streams."""

    def __init__(self, argmax: bool, sample_seed: int, generator: torch.Generator | None):
        self.argmax, self.sample_seed, self.generator = argmax, sample_seed, generator
        self.rngs: list[np.random.Generator] = []

    def begin(self, seeds: list[int]) -> None:
        self.rngs = [np.random.default_rng([self.sample_seed, s]) for s in seeds]

    def __call__(self, logits: torch.Tensor, rows: np.ndarray) -> np.ndarray:  # logits: (n, A) for the episodes rows
        if self.generator is not None and not self.argmax:
            return torch.multinomial(logits.softmax(1), 1, generator=self.generator).squeeze(1).numpy()
        uniforms = None if self.argmax else np.array([self.rngs[i].random() for i in rows])
        return choose_actions(logits, self.argmax, uniforms)


def _play(policy, host, level, seeds, chooser: ActionChooser, steering, halt, oracle, bar,
          labels: bool = False) -> list[EpisodeRecord]:
    n = len(seeds)
    reply = host.reset(seeds)
    recs = [EpisodeRecord(level, s, m, requested=r, oracle_thoughts=[] if oracle else None,
                          observations=[] if labels else None, oracle_actions=[] if labels else None)
            for s, m, r in zip(seeds, reply.missions, reply.requested)]
    if policy is not None:
        policy.begin(reply.missions)
    chooser.begin(seeds)
    images, directions = reply.images.copy(), reply.directions.copy()
    oracle_actions = list(reply.oracle_actions) if oracle else [None] * n
    oracle_thoughts = list(reply.oracle_thoughts) if oracle else [None] * n
    for rec, frame in zip(recs, reply.frames):
        rec.frames.append(frame)
    active = np.ones(n, dtype=bool)
    while active.any():
        rows = np.flatnonzero(active)
        inject = None
        if steering is not None:
            inject = [steering.thought(recs[i].seed, recs[i].length, oracle_thoughts[i]) for i in rows]
        if policy is None:  # the oracle plays; None where it failed
            actions = np.array([-1 if oracle_actions[i] is None else oracle_actions[i] for i in rows])
            thoughts = [oracle_thoughts[i] for i in rows]
        else:
            out = policy.step(rows, images[rows], inject)
            actions, thoughts = chooser(out.logits, rows), out.thoughts
        go = []
        for j, i in enumerate(rows):
            rec, thought = recs[i], thoughts[j]
            if halt is not None and thought is not None and halt(thought, rec.requested):
                rec.halted, rec.halt_step, rec.halt_thought = True, rec.length, thought
                active[i] = False
                bar.update(1)
                continue
            if actions[j] < 0:  # the oracle could not go on
                rec.oracle_error = rec.oracle_error or "the oracle failed"
                active[i] = False
                bar.update(1)
                continue
            rec.actions.append(int(actions[j]))
            rec.thoughts.append(thought)
            if oracle:
                rec.oracle_thoughts.append(oracle_thoughts[i])
            if labels:
                rec.observations.append((images[i].copy(), int(directions[i])))
                rec.oracle_actions.append(None if oracle_actions[i] is None else int(oracle_actions[i]))
            if inject is not None and inject[j] is not None:
                rec.injected.append(rec.length)
            go.append(j)
        if not go:
            continue
        stepped = rows[go]
        reply = host.step(stepped, actions[go].astype(np.int64))
        images[stepped], directions[stepped] = reply.images, reply.directions
        for j, i in enumerate(stepped):
            rec = recs[i]
            if reply.interactions[j] is not None:
                rec.interactions.append({"step": rec.length, **reply.interactions[j]})
            rec.length += 1
            rec.episode_return += float(reply.rewards[j])
            if oracle:
                oracle_actions[i], oracle_thoughts[i] = reply.oracle_actions[j], reply.oracle_thoughts[j]
                rec.oracle_error = reply.oracle_errors[j]
            if reply.frames:
                rec.frames.append(reply.frames[j])
            if reply.dones[j]:
                rec.success = rec.episode_return > 0
                active[i] = False
                bar.update(1)
    return recs


def success_rate(records: Sequence[EpisodeRecord]) -> float:
    return float(np.mean([r.success for r in records])) if records else float("nan")


def episode_summary(records: Sequence[EpisodeRecord]) -> dict:
    """Success rate, and mean and spread over episodes of the return and of the episode length."""
    returns = np.array([r.episode_return for r in records])
    lengths = np.array([r.length for r in records])
    return {"success": success_rate(records), "return_mean": float(returns.mean()), "return_std": float(returns.std()),
            "length_mean": float(lengths.mean()), "length_std": float(lengths.std())}
