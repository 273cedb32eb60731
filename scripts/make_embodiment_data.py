#!/usr/bin/env python3
"""Generate embodiment data: the agent's own episodes on a level, with their actions.

    scripts/make_embodiment_data.py --env BabyAI-GoToLocal-v0 --episodes 1000 --policy random \
        --seed 0 --demos gotolocal_random1k --workers 2

writes <storage>/demos/NAME in the project's dataset format (failed episodes kept). Killed? Run
the same command again: it resumes where it stopped. The same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import os
import time

from babyai.cli import UserError, run, setup_logging
from babyai.demos import open_demos
from babyai.levels import SEEDINGS, make_env, resolve_level_id
from babyai.observe.embodiment import POLICIES, EmbodimentSpec, generate_embodiment
from babyai.storage import demos_path, storage_dir


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level id (BabyAI-GoToLocal-v0, or GoToLocal)")
    p.add_argument("--episodes", type=int, default=1000, help="number of episodes")
    p.add_argument("--policy", choices=POLICIES, default="random",
                   help="random: uniform actions; noisy-oracle: the oracle with random actions mixed in")
    p.add_argument("--noise-rate", type=float, default=0.25,
                   help="noisy-oracle: probability per step of a uniform random action")
    p.add_argument("--seed", type=int, default=0, help="seed of the first episode's level")
    p.add_argument("--demos", default=None,
                   help="dataset name under <storage>/demos/ (default: ENV_POLICY_EPISODES)")
    p.add_argument("--save-interval", type=int, default=1000, help="episodes per shard")
    p.add_argument("--workers", type=int, default=1, help="processes generating episodes")
    p.add_argument("--storage-dir", default=None,
                   help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--seeding", choices=SEEDINGS, default="legacy", help="level seeding")
    args = p.parse_args(argv)
    if args.episodes < 1 or args.save_interval < 1 or args.workers < 1:
        p.error("--episodes, --save-interval and --workers must be >= 1")
    if args.seed < 0:
        p.error("--seed must be >= 0")
    if not 0.0 <= args.noise_rate <= 1.0:
        p.error("--noise-rate must be between 0 and 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    level = resolve_level_id(args.env)
    make_env(level)  # fails early, with close matches, on an unknown level
    storage = storage_dir(args.storage_dir)
    setup_logging(None, "make_embodiment_data")
    name = args.demos or f"{level}_{args.policy}{args.episodes}"
    folder = demos_path(name, storage)
    spec = EmbodimentSpec(level=level, episodes=args.episodes, first_seed=args.seed, policy=args.policy,
                          noise_rate=args.noise_rate if args.policy == "noisy-oracle" else 0.0,
                          seeding=args.seeding, shard_size=args.save_interval)
    start = time.time()
    try:
        generate_embodiment(folder, spec, workers=args.workers)
    except ValueError as error:
        raise UserError(str(error), 1)
    data = open_demos(folder)
    successes = sum(data[i].success for i in range(len(data)))
    print(f"{folder}: {len(data)} episodes ({successes} successful), {data.num_frames} frames, "
          f"{time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    run(main)
