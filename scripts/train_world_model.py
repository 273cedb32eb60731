#!/usr/bin/env python3
"""Train a latent world model (an RSSM) on embodiment data, for AIME (scripts/train_aime.py).

    scripts/train_world_model.py --env BabyAI-GoToLocal-v0 --embodiment gotolocal_random1k --model wm_gtl

writes <storage>/models/NAME/world_model.pt and wm_eval.json (held-out per-frame ELBO terms). A
finished model is not retrained.
"""

from __future__ import annotations

import argparse
import json
import os

import torch

from babyai.cli import UserError, run
from babyai.demos import open_demos
from babyai.levels import make_env, resolve_level_id
from babyai.observe.embodiment import check_embodiment
from babyai.observe.nets import RSSM, WorldModelConfig
from babyai.observe.runs import prepare_run, write_json
from babyai.observe.world_model import CHECKPOINT, save_world_model, split_episodes, train_world_model
from babyai.storage import demos_path, model_dir


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level of the embodiment data")
    p.add_argument("--embodiment", required=True, help="embodiment dataset (scripts/make_embodiment_data.py)")
    p.add_argument("--model", required=True, help="run name: <storage>/models/NAME")
    p.add_argument("--episodes", type=int, default=0, help="embodiment episodes to use (0: all)")
    p.add_argument("--updates", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=16, help="windows per update")
    p.add_argument("--seq-len", type=int, default=32, help="frames per window")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--deter", type=int, default=128, help="deterministic state width")
    p.add_argument("--stoch", type=int, default=32, help="stochastic state width")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if min(args.updates, args.batch_size, args.seq_len, args.deter, args.stoch) < 1 or args.episodes < 0:
        p.error("--updates, --batch-size, --seq-len, --deter and --stoch must be >= 1, --episodes >= 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    level = resolve_level_id(args.env)
    make_env(level)
    folder = model_dir(args.model, args.storage_dir)
    embodiment = demos_path(args.embodiment, args.storage_dir)
    cfg = WorldModelConfig(deter=args.deter, stoch=args.stoch)
    settings = {"level": level, "embodiment": os.path.abspath(embodiment), "episodes": args.episodes,
                "config": cfg.to_dict(), "updates": args.updates, "batch_size": args.batch_size,
                "seq_len": args.seq_len, "lr": args.lr, "seed": args.seed}
    try:
        check_embodiment(embodiment, level)
        if prepare_run(folder, settings, CHECKPOINT):
            print(f"{folder}: already trained")
            return 0
        train, held = split_episodes(open_demos(embodiment), args.episodes)
        torch.manual_seed(args.seed)
        model = RSSM(cfg)
        info = train_world_model(model, train, held, args.updates, args.batch_size, args.seq_len, args.lr,
                                 args.seed, progress=not args.quiet)
    except ValueError as e:
        raise UserError(str(e).splitlines()[0], 1)
    write_json(os.path.join(folder, "wm_eval.json"), {"level": level, "embodiment": embodiment, **info})
    save_world_model(os.path.join(folder, CHECKPOINT), model, level, info)
    print(json.dumps({k: v for k, v in info.items() if k != "history"}))
    return 0


if __name__ == "__main__":
    run(main)
