#!/usr/bin/env python3
"""Batched evaluation speed: a Thought Cloning agent (small config) plays 512 BossLevel levels at once.

    python benchmarks/bench_eval.py [--levels 512] [--limit-divisor 48] [--steps 32] [--repeats 3]

Two workloads, each timed in the same run for ours (``babyai.agent.rollout.evaluate``, what every
evaluation script uses) and for the original's way (BabyAI's ``batch_evaluate`` over ``ManyEnvs``: one
process steps every level in turn and runs the network on the batch of all levels at every step).
Both use the same untrained network (same weights); the original's way computes it the plain way
(the image encoder's first convolution as a convolution, tensors in the default memory layout).

1. Whole episodes: every level is played until its episode ends. The untrained agent's episodes end
   at the level's time limit, which on BossLevel depends on the mission (576 to 3456 steps); each
   limit is divided by --limit-divisor to keep the benchmark short (12 to 72 steps at 48), which
   keeps their spread. Ours steps only the running episodes; the original's way runs the network on
   all levels until the last episode ends (a level whose episode ended is reset and played on,
   uncounted, as ManyEnvs did). Figure: evaluated episodes/s.
2. Equal work: every episode is cut after --steps steps, so both compute the same network steps
   and only the loops and the environments differ. Figure: agent steps/s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os

import gymnasium
import numpy as np
import torch
from common import median_rate, rate, repeat

from babyai.agent import envs as eval_envs
from babyai.agent import rollout
from babyai.agent.policy import ModelPolicy
from babyai.agent.rollout import choose_actions, evaluate
from babyai.levels import LegacyRandom
from babyai.model import TCConfig, ThoughtCloningAgent
from babyai.agent.vocab import Vocabulary

LEVEL = "BabyAI-BossLevel-v0"


def straightforward(model: ThoughtCloningAgent) -> ThoughtCloningAgent:
    """The same network computed the plain way: the image encoder's reference forward, contiguous tensors."""
    model.image_encoder.forward = model.image_encoder.reference_forward
    return model.to(memory_format=torch.contiguous_format)


class ScaledLimits(eval_envs.EnvHost):
    """Our in-process host, every level's own time limit divided by ``divisor``."""

    def __init__(self, cfg: eval_envs.HostConfig, divisor: int):
        super().__init__(cfg)
        self.divisor = divisor

    def reset(self, seeds: list[int]):
        reply = super().reset(seeds)
        for env in self.envs[: len(seeds)]:
            env.unwrapped.max_steps = max(1, env.unwrapped.max_steps // self.divisor)
        return reply


def ours(policy: ModelPolicy, seeds: list[int], divisor: int | None, steps: int | None) -> int:
    """Agent steps of ``evaluate`` on ``seeds``: whole episodes (limits divided by ``divisor``) or cut at ``steps``."""
    if divisor is None:
        records = evaluate(policy, LEVEL, seeds, workers=0, max_steps=steps)
    else:
        make_host, rollout.make_host = rollout.make_host, lambda cfg, workers: ScaledLimits(cfg, divisor)
        try:
            records = evaluate(policy, LEVEL, seeds, workers=0)
        finally:
            rollout.make_host = make_host
    return sum(r.length for r in records)


def original_loop(policy: ModelPolicy, seeds: list[int], limit) -> int:
    """ManyEnvs + batch_evaluate: all levels stepped in turn, the network on all of them at every step,
    until every level's first episode has ended (``limit(own limit)`` steps at most); its agent steps."""
    envs, obs = [], []
    for seed in seeds:
        env = gymnasium.make(LEVEL).unwrapped
        env.np_random = LegacyRandom(seed)
        envs.append(env)
        obs.append(_reset(env, limit))
    rngs = [np.random.default_rng([0, s]) for s in seeds]
    rows = np.arange(len(envs))
    lengths, ended = np.zeros(len(envs), np.int64), np.zeros(len(envs), bool)
    with policy.evaluating():
        policy.begin([o["mission"] for o in obs])
        while not ended.all():
            out = policy.step(rows, np.stack([o["image"] for o in obs]).astype(np.uint8), None)
            actions = choose_actions(out.logits, False, np.array([rng.random() for rng in rngs]))
            for i, (env, a) in enumerate(zip(envs, actions.tolist())):
                obs[i], _, terminated, truncated, _ = env.step(a)
                lengths[i] += not ended[i]
                if terminated or truncated:  # ManyEnvs resets a finished level at once and plays on
                    ended[i] = True
                    obs[i] = _reset(env, limit)
    return int(lengths.sum())


def _reset(env, limit) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):
        obs = env.reset()[0]
    env.max_steps = limit(env.max_steps)
    return obs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--levels", type=int, default=512)
    p.add_argument("--limit-divisor", type=int, default=48, help="whole episodes: each level's time limit divided by this")
    p.add_argument("--steps", type=int, default=32, help="equal work: steps per episode (episodes are cut there)")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    if args.levels < 1 or args.limit_divisor < 1 or args.steps < 1 or args.repeats < 1:
        p.error("--levels, --limit-divisor, --steps and --repeats must be positive")
    seeds = list(range(10**6, 10**6 + args.levels))
    torch.manual_seed(0)
    cfg = TCConfig(memory_dim=256, instr_dim=128)
    vocab = Vocabulary.babyai()
    policy = ModelPolicy(ThoughtCloningAgent(cfg), vocab, "ours")
    plain = ThoughtCloningAgent(cfg)
    plain.load_state_dict(policy.model.state_dict())
    baseline = ModelPolicy(straightforward(plain), vocab, "original")
    n, d, s, r = args.levels, args.limit_divisor, args.steps, args.repeats
    print(f"{LEVEL}, {n} levels, TC memory 256 / words 128, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cores; median (range) of {r} repeats")

    steps = {}
    t_ours = repeat(lambda: steps.__setitem__("ours", ours(policy, seeds, d, None)), r)
    t_base = repeat(lambda: steps.__setitem__("orig", original_loop(baseline, seeds, lambda m: max(1, m // d))), r)
    print(f"1. whole episodes (time limits / {d}; agent steps: ours {steps['ours']}, original {steps['orig']}), "
          "episodes/s:")
    print(f"  ours (babyai.evaluate)              {rate(n, t_ours)}")
    print(f"  original's way (ManyEnvs)           {rate(n, t_base)}")
    print(f"  ours / original's way:              {median_rate(n, t_ours) / median_rate(n, t_base):.2f}x  (target >= 1.8)")

    t_ours = repeat(lambda: steps.__setitem__("ours", ours(policy, seeds, None, s)), r)
    t_base = repeat(lambda: steps.__setitem__("orig", original_loop(baseline, seeds, lambda m: min(m, s))), r)
    print(f"2. equal work (every episode cut at {s} steps), agent steps/s:")
    print(f"  ours (babyai.evaluate)              {rate(steps['ours'], t_ours)}")
    print(f"  original's way (ManyEnvs)           {rate(steps['orig'], t_base)}")
    print(f"  ours / original's way:              "
          f"{median_rate(steps['ours'], t_ours) / median_rate(steps['orig'], t_base):.2f}x")


if __name__ == "__main__":
    main()
