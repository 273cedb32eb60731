"""Generate thought-annotated demonstrations with the oracle (the BabyAI bot that thinks aloud).

    python -m babyai.commands.make_agent_demos --env BabyAI-BossLevel-v0 --episodes 1000 --noise-rate 0.01

writes <storage>/demos/NAME (and NAME_valid with --valid-episodes). Killed? Run the same command
again: it resumes where it stopped. The same arguments always give byte-identical files.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

from babyai.checks import check_seed
from babyai.cli import DefaultsHelpFormatter, run
from babyai.errors import UserError
from babyai.log import setup_logging
from babyai.levels import SEEDINGS
from babyai.storage import new_demos_path, storage_dir

logger = logging.getLogger("make_agent_demos")


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0],
                                formatter_class=DefaultsHelpFormatter)
    p.add_argument("--env", default="BabyAI-BossLevel-v0",
                   help="level id (BabyAI-BossLevel-v0, or the short form BossLevel)")
    p.add_argument("--model", default="BOT", help="who demonstrates: BOT, the oracle")
    p.add_argument("--demos", default=None,
                   help="dataset name under <storage>/demos/ (default: LEVEL_agentEPISODES, "
                        "e.g. BabyAI-BossLevel-v0_agent512)")
    p.add_argument("--episodes", type=int, default=512, help="number of episodes to generate")
    p.add_argument("--valid-episodes", type=int, default=0,
                   help="validation episodes (dataset NAME_valid, seeds from 10^9)")
    p.add_argument("--seed", type=int, default=2023, help="seed of the first episode's level")
    p.add_argument("--argmax", action="store_true", help="ignored: only the oracle (--model BOT) generates demos here")
    p.add_argument("--log-interval", type=int, default=100,
                   help="episodes between progress lines in the log")
    p.add_argument("--save-interval", type=int, default=1000,
                   help="episodes per shard: work is saved every this many episodes")
    p.add_argument("--filter-steps", type=int, default=0,
                   help="drop episodes longer than this many steps (0: keep all)")
    p.add_argument("--on-exception", choices=("warn", "crash"), default="warn",
                   help="when the oracle fails: warn and try the next level, or stop")
    p.add_argument("--noise-rate", type=float, default=0.0,
                   help="probability per step of starting a noise segment (paper: 0.01)")
    p.add_argument("--print", action="store_true", help="print each episode's thoughts/actions")
    p.add_argument("--log", action="store_true", help="also write the log to <storage>/logs/")
    p.add_argument("--workers", type=int, default=1, help="processes generating episodes")
    p.add_argument("--storage-dir", default=None,
                   help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--seeding", choices=SEEDINGS, default="legacy",
                   help="legacy: the paper's levels for each seed; gymnasium: gymnasium's seeding")
    p.add_argument("--original-rng", action="store_true",
                   help="history mode: draw noise from the global random streams seeded once by "
                        "--seed, in the original program's order, and walk the levels with one env "
                        "as it did (single worker). Replays one run of the original's history: its "
                        "datasets exactly, except on Synth, SynthLoc and SynthSeq, where the "
                        "original itself differed from run to run (see the README)")
    args = p.parse_args(argv)
    for flag in ("valid_episodes", "filter_steps"):
        if getattr(args, flag) < 0:
            p.error(f"--{flag.replace('_', '-')} must be >= 0")
    if args.episodes < 1:
        p.error("--episodes must be >= 1")
    if args.save_interval < 1 or args.workers < 1 or args.log_interval < 1:
        p.error("--save-interval, --workers and --log-interval must be >= 1")
    if not 0.0 <= args.noise_rate <= 1.0:
        p.error("--noise-rate must be between 0 and 1")
    try:
        check_seed("--seed", args.seed, args.episodes)
    except ValueError as error:
        p.error(str(error))
    return args


class Progress:
    """Prints episodes (--print) and logs a line every --log-interval episodes."""

    def __init__(self, print_episodes: bool, log_interval: int):
        self.print_episodes, self.log_interval = print_episodes, log_interval
        self.count, self.since, self.t0 = 0, 0, time.time()

    def __call__(self, ep):
        if self.print_episodes:
            from babyai.demos.show import format_episode

            print(format_episode(ep, self.count), flush=True)
        self.count += 1
        self.since += 1
        if self.since == self.log_interval:
            now = time.time()
            logger.info("%d episodes, %.2f episodes/s", self.count, self.since / (now - self.t0))
            self.since, self.t0 = 0, now


def main(argv=None) -> int:
    args = parse_args(argv)
    from babyai.demos import VALID_FIRST_SEED, DemoSpec, GenerationError, generate_dataset, open_demos
    from babyai.levels import make_env, resolve_level_id

    if args.model != "BOT":
        raise UserError("only the oracle generates demos here (--model BOT); to record a trained "
                        "agent, use the evaluation scripts")
    level = resolve_level_id(args.env)
    make_env(level)  # fails early, with close matches, on an unknown level
    if args.original_rng and args.workers != 1:
        raise UserError("--original-rng replays the original's single random stream: use "
                        "--workers 1")
    storage = storage_dir(args.storage_dir)
    setup_logging(os.path.join(storage, "logs") if args.log else None, "make_agent_demos")
    name = args.demos or f"{level}_agent{args.episodes}"
    jobs = [(new_demos_path(name, storage), args.episodes, args.seed)]
    if args.valid_episodes:
        jobs.append((new_demos_path(name, storage) + "_valid", args.valid_episodes,
                     VALID_FIRST_SEED))
    for folder, episodes, seed in jobs:
        spec = DemoSpec(level=level, episodes=episodes, first_seed=seed, seeding=args.seeding,
                        noise_rate=args.noise_rate, original_rng=args.original_rng,
                        filter_steps=args.filter_steps, shard_size=args.save_interval)
        start = time.time()
        try:
            meta = generate_dataset(folder, spec, workers=args.workers,
                                    crash=args.on_exception == "crash",
                                    on_episode=Progress(args.print, args.log_interval))
        except GenerationError as error:
            raise UserError(f"{error} (partial work kept in {folder}; run again to resume)", 1)
        seconds = time.time() - start
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        demos = open_demos(folder)
        print(f"{folder}: {len(demos)} episodes, {demos.num_frames} frames "
              f"({demos.num_frames / max(len(demos), 1):.1f} per episode), "
              f"{meta['failed_attempts']} failed oracle attempts, "
              f"{size / max(demos.num_frames, 1):.1f} bytes/frame, {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    run(main)
