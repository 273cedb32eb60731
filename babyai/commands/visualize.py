"""Render episodes of an agent to GIF (or MP4) with the mission, the action and the agent's thought
written under each frame (and the oracle's thought with --oracle).

    python -m babyai.commands.visualize --model NAME --seed 3000000000 --out episode.gif

The level is the one NAME was trained on (from its run's config) unless --env names another (said on stderr).

--model BOT shows the oracle itself. --steer-oracle feeds the oracle's thoughts to the agent's Action
Generator (the thought shown is then the injected one). Several --episodes write one file per seed.
"""

from __future__ import annotations

import argparse
import os

from babyai.cli import run
from babyai.errors import UserError
from babyai.commands.common import MODEL_LEVEL_HELP, add_model_args, check_seed_and_device, note_threads, set_threads
from babyai.evaluate.io import results_dir
from babyai.evaluate.session import EVAL_FIRST_SEED, checkpoint_file, choose_level, open_policy, policy_name


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    add_model_args(p)
    p.add_argument("--env", default=None, help=MODEL_LEVEL_HELP)
    p.add_argument("--seed", type=int, default=EVAL_FIRST_SEED, help=f"level seed (default: {EVAL_FIRST_SEED})")
    p.add_argument("--episodes", type=int, default=1, help="episodes, on seeds --seed, --seed + 1, ... (default: 1)")
    p.add_argument("--out", default=None, help="output .gif or .mp4 (default: <storage>[/GROUP]/visualizations/"
                   "MODEL_ENV_SEED.gif); with several episodes _SEED is added to the name")
    p.add_argument("--oracle", action="store_true", help="also show the oracle's thought for each state")
    p.add_argument("--steer-oracle", action="store_true", help="inject the oracle's thoughts into the agent")
    p.add_argument("--argmax", action="store_true", help="take the most likely action (default: sample)")
    p.add_argument("--tile-size", type=int, default=24, help="pixels per grid cell (default: 24)")
    p.add_argument("--fps", type=float, default=3.0, help="frames per second (default: 3)")
    p.add_argument("--seeding", default="legacy", choices=["legacy", "gymnasium"],
                   help="level seeding (default: legacy, the paper's)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    set_threads(args)
    from babyai.agent.rollout import evaluate
    from babyai.evaluate.render import episode_frames, require, write_animation
    from babyai.evaluate.steering import OracleThoughts
    from babyai.levels import make_env

    if args.episodes < 1 or args.tile_size < 4 or args.fps <= 0:
        raise UserError("--episodes must be at least 1, --tile-size at least 4 and --fps positive")
    check_seed_and_device(args.seed, args.episodes, args.device)
    name = policy_name(args.model)
    path = checkpoint_file(args.model, args.storage_dir, args.expr_group_name, args.checkpoint)
    level, note = choose_level(args.env, name, path)
    make_env(level)
    require("PIL")
    if args.out and os.path.splitext(args.out)[1].lower() not in (".gif", ".mp4"):
        raise UserError(f"--out {args.out}: the output must end in .gif or .mp4")
    if args.out and args.out.lower().endswith(".mp4"):
        require("imageio")
    policy = open_policy(args.model, args.storage_dir, args.expr_group_name, args.device, args.checkpoint)
    steering = None
    if args.steer_oracle:
        if policy is None or not policy.thinks:
            raise UserError("--steer-oracle needs a Thought Cloning model")
        steering = OracleThoughts()
    note_threads(f"showing {name} on {note}")
    records = evaluate(policy, level, range(args.seed, args.seed + args.episodes), argmax=args.argmax,
                       sample_seed=args.seed, seeding=args.seeding, workers=0, steering=steering,
                       oracle=args.oracle, tile_size=args.tile_size)
    default_dir = os.path.join(results_dir(args.storage_dir, args.expr_group_name), "visualizations")
    for rec in records:
        path = args.out or os.path.join(default_dir, f"{name}_{level}_{rec.seed}.gif")
        if args.out and args.episodes > 1:
            root, ext = os.path.splitext(args.out)
            path = f"{root}_{rec.seed}{ext}"
        write_animation(episode_frames(rec, show_oracle=args.oracle), path, args.fps)
        end = "halted" if rec.halted else ("success" if rec.success else "failure")
        print(f"seed {rec.seed}: {rec.mission!r}: {end} in {rec.length} steps -> {path}")
    return 0


if __name__ == "__main__":
    run(main)
