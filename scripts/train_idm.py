#!/usr/bin/env python3
"""Train an inverse dynamics model (which action led from one observation to the next) on embodiment data.

    scripts/train_idm.py --env BabyAI-GoToLocal-v0 --embodiment gotolocal_random1k --model idm_gtl \
        --eval-demos gotolocal_demos

writes <storage>/models/NAME/idm.pt and idm_eval.json (accuracy and per-action accuracy against the
true actions of --eval-demos, the share of ambiguous transitions). A finished IDM is not retrained.
"""

from __future__ import annotations

import argparse
import json

from babyai.cli import UserError, run
from babyai.levels import make_env, resolve_level_id
from babyai.observe.idm import IDMConfig, train_idm
from babyai.storage import demos_path, model_dir


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level of the embodiment data")
    p.add_argument("--embodiment", required=True, help="embodiment dataset (scripts/make_embodiment_data.py)")
    p.add_argument("--model", required=True, help="run name: <storage>/models/NAME")
    p.add_argument("--eval-demos", default=None, help="demonstrations whose true actions score the IDM")
    p.add_argument("--episodes", type=int, default=0, help="embodiment episodes to use (0: all)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--channels", type=int, default=32, help="width of the convolutions")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or args.channels < 1 or args.episodes < 0:
        p.error("--epochs, --batch-size and --channels must be >= 1, --episodes >= 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    level = resolve_level_id(args.env)
    make_env(level)
    try:
        results = train_idm(level, demos_path(args.embodiment, args.storage_dir), model_dir(args.model, args.storage_dir),
                            eval_demos=demos_path(args.eval_demos, args.storage_dir) if args.eval_demos else None,
                            config=IDMConfig(channels=args.channels), epochs=args.epochs,
                            batch_size=args.batch_size, lr=args.lr, seed=args.seed, episodes=args.episodes,
                            progress=not args.quiet)
    except ValueError as e:
        raise UserError(str(e).splitlines()[0], 1)
    per_action = {k: v["accuracy"] for k, v in results.get("per_action", {}).items() if v["count"]}
    print(json.dumps({k: results[k] for k in ("accuracy", "ambiguous_share") if k in results}),
          json.dumps(per_action))
    return 0


if __name__ == "__main__":
    run(main)
