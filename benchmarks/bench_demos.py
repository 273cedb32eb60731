#!/usr/bin/env python3
"""Demo generation speed on BossLevel (no noise): ours (1 and 2 workers) vs minigrid's BabyAIBot.

    python benchmarks/bench_demos.py [--episodes 200] [--repeats 3] [--loops-only]

Prints episodes/s (median and range over the repeats) for: minigrid's own BabyAIBot stepping a
plain minigrid env on the same levels (the baseline), our oracle + env loop in one process, and
the full generator (oracle, thoughts, encoding, writing shards) with 1 and 2 workers; then the
ratios and the bytes per frame on disk. The original program measured 5.2-6.1 episodes/s on this
machine (reference README). ``--loops-only`` times the two loops and prints their ratio only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile

import gymnasium
from common import median_rate, rate, repeat
from minigrid.utils.baby_ai_bot import BabyAIBot

from babyai.demos import DemoSpec, generate_dataset
from babyai.demos.generate import EpisodeMaker
from babyai.levels import LegacyRandom

LEVEL = "BabyAI-BossLevel-v0"


def minigrid_loop(seeds) -> int:
    """minigrid's bot on a plain minigrid env, the same levels (legacy seeding)."""
    env, frames = gymnasium.make(LEVEL).unwrapped, 0
    for seed in seeds:
        env.np_random = LegacyRandom(seed)
        with contextlib.redirect_stdout(io.StringIO()):
            env.reset()
        bot, action, done = BabyAIBot(env), None, False
        while not done:
            action = bot.replan(action)
            _, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            frames += 1
    return frames


def our_loop(seeds) -> int:
    maker = EpisodeMaker(DemoSpec(LEVEL, len(seeds), seeds[0]))
    return sum(len(maker.make(i)[0]) for i in range(len(seeds)))


def generator(episodes: int, first_seed: int, workers: int, folder: str) -> None:
    generate_dataset(folder, DemoSpec(LEVEL, episodes, first_seed, shard_size=100),
                     workers=workers, progress=False)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--first-seed", type=int, default=10**6)
    p.add_argument("--loops-only", action="store_true",
                   help="time the two oracle + env loops only (skip the demo generator)")
    args = p.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.episodes))
    n, r = args.episodes, args.repeats
    print(f"{LEVEL}, {n} episodes, {r} repeats, {os.cpu_count()} cores; episodes/s median (range)")
    base = repeat(lambda: minigrid_loop(seeds), r)
    print(f"  minigrid BabyAIBot + env loop   {rate(n, base)}")
    ours = repeat(lambda: our_loop(seeds), r)
    print(f"  our oracle + env loop           {rate(n, ours)}")
    ratio = median_rate(n, ours) / median_rate(n, base)
    loop_ratio = f"ours / minigrid (loop):           {ratio:.2f}x  (target >= 4.5)"
    if args.loops_only:
        print(loop_ratio)
        return
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for workers in (1, 2):
            folders = iter(os.path.join(tmp, f"w{workers}_{k}") for k in range(r))
            runs[workers] = repeat(lambda: generator(n, seeds[0], workers, next(folders)), r)
            print(f"  make demos, {workers} worker(s)            {rate(n, runs[workers])}")
        folder = os.path.join(tmp, "w1_0")
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        frames = our_loop(seeds[:n])
    print(loop_ratio)
    print(f"ours / original (5.2-6.1 ep/s):   {median_rate(n, runs[1]) / 6.1:.2f}x-"
          f"{median_rate(n, runs[1]) / 5.2:.2f}x  (make demos, 1 worker; target >= 5)")
    print(f"2 workers / 1 worker:             {median_rate(n, runs[2]) / median_rate(n, runs[1]):.2f}x"
          "  (target >= 1.8)")
    print(f"bytes per frame on disk:          {size / frames:.1f}  (original pickle: ~64)")


if __name__ == "__main__":
    sys.exit(main())
