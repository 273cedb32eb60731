#!/usr/bin/env python3
"""AIME: train a policy to maximise the evidence of the demonstrations' observations (not their actions)
under a frozen world model (scripts/train_world_model.py), then measure its success.

    scripts/train_aime.py --env BabyAI-GoToLocal-v0 --demos gotolocal_demos --world-model wm_gtl --model aime_gtl

writes <storage>/models/NAME/aime.pt (policy and world model) and eval.json. A finished run is kept.
"""

from __future__ import annotations

import argparse
import json
import os

import torch

from babyai.cli import UserError, run
from babyai.levels import make_env, resolve_level_id
from babyai.observe._deps import Vocabulary
from babyai.observe.aime import AimeAgent, train_aime
from babyai.observe.nets import RSSM, LatentPolicy, PolicyConfig, WorldModelConfig
from babyai.observe.runs import open_demonstrations, prepare_run, success, write_json
from babyai.observe.world_model import load_world_model
from babyai.storage import demos_path, model_dir
from babyai.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

CHECKPOINT = "aime.pt"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level")
    p.add_argument("--demos", required=True, help="demonstrations (their actions are not used)")
    p.add_argument("--world-model", required=True, help="world-model run (scripts/train_world_model.py)")
    p.add_argument("--model", required=True, help="run name: <storage>/models/NAME")
    p.add_argument("--episodes", type=int, default=0, help="demonstrations to use (0: all)")
    p.add_argument("--updates", type=int, default=600)
    p.add_argument("--batch-size", type=int, default=32, help="demonstrations per update")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--tau", type=float, default=1.0, help="Gumbel-softmax temperature")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-episodes", type=int, default=200, help="levels to measure success on (0: none)")
    p.add_argument("--eval-seed", type=int, default=10**7, help="seed of the first evaluation level")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if min(args.updates, args.batch_size) < 1 or min(args.episodes, args.eval_episodes) < 0 or args.tau <= 0:
        p.error("--updates and --batch-size must be >= 1, --episodes and --eval-episodes >= 0, --tau > 0")
    return args


def load_aime(path: str) -> AimeAgent:
    """The AIME agent saved at ``path`` (an aime.pt), ready to act."""
    ckpt = load_checkpoint(path)
    if ckpt.get("kind") != "aime":
        raise CheckpointError(f"{path} is not an AIME policy")
    model = RSSM(WorldModelConfig.from_dict(ckpt["world_model_config"]))
    model.load_state_dict(ckpt["world_model"])
    policy = LatentPolicy(PolicyConfig.from_dict(ckpt["policy_config"]), model.feature_dim)
    policy.load_state_dict(ckpt["policy"])
    return AimeAgent(policy, model, Vocabulary.from_dict(ckpt["vocab"]), os.path.basename(os.path.dirname(path)))


def main(argv=None) -> int:
    args = parse_args(argv)
    level = resolve_level_id(args.env)
    make_env(level)
    folder = model_dir(args.model, args.storage_dir)
    path = os.path.join(folder, CHECKPOINT)
    try:
        model, wm = load_world_model(args.world_model, args.storage_dir)
        if wm["level"] != level:
            raise ValueError(f"the world model {args.world_model} was trained on level {wm['level']}, not {level}")
        reader = open_demonstrations(demos_path(args.demos, args.storage_dir), level, args.episodes)
        settings = {k: v for k, v in vars(args).items() if k not in ("storage_dir", "quiet")}
        if not prepare_run(folder, {**settings, "level": level}, CHECKPOINT):
            vocab = Vocabulary.babyai()
            demos = [reader[i] for i in range(args.episodes or len(reader))]
            torch.manual_seed(args.seed)
            policy = LatentPolicy(PolicyConfig(vocab_size=vocab.size), model.feature_dim)
            info = train_aime(policy, model, demos, vocab, args.updates, args.batch_size, args.lr, args.seed,
                              args.tau, progress=not args.quiet)
            save_checkpoint(path, {"kind": "aime", "level": level, "vocab": vocab.to_dict(),
                                   "policy_config": policy.cfg.to_dict(), "policy": policy.state_dict(),
                                   "world_model_config": model.cfg.to_dict(), "world_model": model.state_dict(),
                                   "info": json.dumps(info)})
            write_json(os.path.join(folder, "train.json"), info)
        agent = load_aime(path)
        result = {"level": level, "method": "aime", **success(agent, level, args.eval_episodes, args.eval_seed)} \
            if args.eval_episodes else {"level": level, "method": "aime"}
    except ValueError as e:
        raise UserError(str(e).splitlines()[0], 1)
    write_json(os.path.join(folder, "eval.json"), result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    run(main)
