#!/usr/bin/env python3
"""Batched evaluation speed: a Thought Cloning agent (small config) on 512 BossLevel levels at once.

    python benchmarks/bench_eval.py [--levels 512] [--steps 64] [--repeats 3] [--workers N]

The agent is untrained (it would wander to BossLevel's 2304-step limit), so every episode is cut after
--steps steps and the figure is agent steps per second over all levels. Timed in the same run:
- ours: ``babyai.evaluate.rollout.evaluate`` (the function every evaluation script uses);
- the original's way: one process stepping plain minigrid envs one after the other and calling the
  same network (the same weights, computed the straightforward way: the image encoder's first
  convolution as a convolution, tensors in the default memory layout) on the batch at each step.
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

from babyai.evaluate.agent import ModelPolicy
from babyai.evaluate.rollout import choose_actions, evaluate
from babyai.levels import LegacyRandom
from babyai.model import TCConfig, ThoughtCloningAgent
from babyai.train.vocab import Vocabulary

LEVEL = "BabyAI-BossLevel-v0"


def straightforward(model: ThoughtCloningAgent) -> ThoughtCloningAgent:
    """The same network computed the plain way: the image encoder's reference forward, contiguous tensors."""
    model.image_encoder.forward = model.image_encoder.reference_forward
    return model.to(memory_format=torch.contiguous_format)


def original_loop(policy: ModelPolicy, seeds: list[int], steps: int) -> int:
    """All levels stepped in turn in this process, the model batched over the running ones."""
    envs = []
    for seed in seeds:
        env = gymnasium.make(LEVEL).unwrapped
        env.np_random = LegacyRandom(seed)
        with contextlib.redirect_stdout(io.StringIO()):
            envs.append((env, env.reset()[0]))
    obs = [o for _, o in envs]
    envs = [e for e, _ in envs]
    rngs = [np.random.default_rng([0, s]) for s in seeds]
    active, frames = np.ones(len(envs), bool), 0
    with policy.evaluating():
        policy.begin([o["mission"] for o in obs])
        for _ in range(steps):
            rows = np.flatnonzero(active)
            if len(rows) == 0:
                break
            out = policy.step(rows, np.stack([obs[i]["image"] for i in rows]).astype(np.uint8), None)
            actions = choose_actions(out.logits, False, np.array([rngs[i].random() for i in rows]))
            for i, a in zip(rows, actions):
                obs[i], _, terminated, truncated, _ = envs[i].step(int(a))
                active[i] = not (terminated or truncated)
                frames += 1
    return frames


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--levels", type=int, default=512)
    p.add_argument("--steps", type=int, default=64, help="steps per episode (episodes are cut there)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", type=int, default=None, help="evaluation workers for ours (default: automatic)")
    args = p.parse_args()
    seeds = list(range(10**6, 10**6 + args.levels))
    torch.manual_seed(0)
    cfg = TCConfig(memory_dim=256, instr_dim=128)
    vocab = Vocabulary.babyai()
    ours = ModelPolicy(ThoughtCloningAgent(cfg), vocab, "ours")
    plain = ThoughtCloningAgent(cfg)
    plain.load_state_dict(ours.model.state_dict())
    baseline = ModelPolicy(straightforward(plain), vocab, "original")
    print(f"{LEVEL}, {args.levels} levels x {args.steps} steps, TC memory 256 / words 128, {torch.get_num_threads()} "
          f"threads, {os.cpu_count()} cores; agent steps/s median (range)")
    counts = {}

    def run_ours():
        records = evaluate(ours, LEVEL, seeds, workers=args.workers, max_steps=args.steps)
        counts["ours"] = sum(r.length for r in records)

    def run_original():
        counts["original"] = original_loop(baseline, seeds, args.steps)

    t_ours = repeat(run_ours, args.repeats)
    t_base = repeat(run_original, args.repeats)
    print(f"  ours (babyai.evaluate)              {rate(counts['ours'], t_ours)}")
    print(f"  original's way (one process)        {rate(counts['original'], t_base)}")
    print(f"ours / original's way:                {median_rate(counts['ours'], t_ours) / median_rate(counts['original'], t_base):.2f}x"
          "  (target >= 1.8)")


if __name__ == "__main__":
    main()
