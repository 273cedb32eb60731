#!/usr/bin/env python3
"""IIDM (AIME's baseline): a one-step forward model trained on embodiment data, then a policy trained on the
demonstrations' observations (not their actions) through the frozen forward model; then its success.

    scripts/train_iidm.py --env BabyAI-GoToLocal-v0 --embodiment gotolocal_random1k --demos gotolocal_demos \
        --model iidm_gtl

writes <storage>/models/NAME/iidm.pt and eval.json. A finished run is kept.
"""

from __future__ import annotations

import argparse
import json
import os

import torch

from babyai.cli import UserError, run
from babyai.demos import open_demos
from babyai.levels import make_env, resolve_level_id
from babyai.observe._deps import Vocabulary
from babyai.observe.embodiment import check_embodiment
from babyai.observe.idm import load_transitions
from babyai.observe.iidm import ObservationAgent, demo_transitions, train_forward_model, train_iidm_policy
from babyai.observe.nets import ForwardModel, ObservationPolicy, PolicyConfig, WorldModelConfig
from babyai.observe.runs import open_demonstrations, prepare_run, success, write_json
from babyai.storage import demos_path, model_dir
from babyai.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

CHECKPOINT = "iidm.pt"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--env", required=True, help="level")
    p.add_argument("--embodiment", required=True, help="embodiment dataset (scripts/make_embodiment_data.py)")
    p.add_argument("--demos", required=True, help="demonstrations (their actions are not used)")
    p.add_argument("--model", required=True, help="run name: <storage>/models/NAME")
    p.add_argument("--episodes", type=int, default=0, help="demonstrations to use (0: all)")
    p.add_argument("--embodiment-episodes", type=int, default=0, help="embodiment episodes to use (0: all)")
    p.add_argument("--model-epochs", type=int, default=5, help="epochs of the forward model")
    p.add_argument("--policy-epochs", type=int, default=10, help="epochs of the policy")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--tau", type=float, default=1.0, help="Gumbel-softmax temperature")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-episodes", type=int, default=200, help="levels to measure success on (0: none)")
    p.add_argument("--eval-seed", type=int, default=10**7, help="seed of the first evaluation level")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if min(args.model_epochs, args.policy_epochs, args.batch_size) < 1 or min(
            args.episodes, args.embodiment_episodes, args.eval_episodes) < 0 or args.tau <= 0:
        p.error("epochs and --batch-size must be >= 1, episode counts >= 0, --tau > 0")
    return args


def load_iidm(path: str) -> ObservationAgent:
    """The IIDM agent saved at ``path`` (an iidm.pt), ready to act."""
    ckpt = load_checkpoint(path)
    if ckpt.get("kind") != "iidm":
        raise CheckpointError(f"{path} is not an IIDM policy")
    policy = ObservationPolicy(PolicyConfig.from_dict(ckpt["policy_config"]),
                               WorldModelConfig.from_dict(ckpt["model_config"]))
    policy.load_state_dict(ckpt["policy"])
    return ObservationAgent(policy, Vocabulary.from_dict(ckpt["vocab"]), os.path.basename(os.path.dirname(path)))


@torch.no_grad()
def policy_agreement(policy, data, missions, vocab, demos, episodes: int) -> float:
    """Diagnostic only (training never reads them): the share of the demos' true actions the policy's most
    likely action matches."""
    from babyai.observe.aime import mission_tokens

    true = load_transitions(demos, episodes).actions[data.src]
    policy.eval()
    chosen = policy(torch.from_numpy(data.images[data.src]), mission_tokens(vocab, missions)).argmax(1).numpy()
    return float((chosen == true).mean())


def main(argv=None) -> int:
    args = parse_args(argv)
    level = resolve_level_id(args.env)
    make_env(level)
    folder = model_dir(args.model, args.storage_dir)
    path = os.path.join(folder, CHECKPOINT)
    embodiment = demos_path(args.embodiment, args.storage_dir)
    try:
        check_embodiment(embodiment, level)
        reader = open_demonstrations(demos_path(args.demos, args.storage_dir), level, args.episodes)
        settings = {k: v for k, v in vars(args).items() if k not in ("storage_dir", "quiet")}
        if not prepare_run(folder, {**settings, "level": level}, CHECKPOINT):
            vocab, cfg = Vocabulary.babyai(), WorldModelConfig()
            torch.manual_seed(args.seed)
            model = ForwardModel(cfg)
            fitted = train_forward_model(model, load_transitions(open_demos(embodiment), args.embodiment_episodes),
                                         args.model_epochs, args.batch_size, args.lr, args.seed, not args.quiet)
            policy = ObservationPolicy(PolicyConfig(vocab_size=vocab.size), cfg)
            policy.encoder.load_state_dict(model.encoder.state_dict())  # as AIME's IIDM
            data, missions = demo_transitions(reader, args.episodes)
            trained = train_iidm_policy(policy, model, data, missions, vocab, args.policy_epochs, args.batch_size,
                                        args.lr, args.seed, args.tau, not args.quiet)
            save_checkpoint(path, {"kind": "iidm", "level": level, "vocab": vocab.to_dict(),
                                   "model_config": cfg.to_dict(), "forward_model": model.state_dict(),
                                   "policy_config": policy.cfg.to_dict(), "policy": policy.state_dict()})
            diagnostic = policy_agreement(policy, data, missions, vocab, open_demos(reader.folder), args.episodes)
            write_json(os.path.join(folder, "train.json"), {"forward_model": fitted, "policy": trained,
                                                            "diagnostic_action_agreement": diagnostic})
        agent = load_iidm(path)
        result = {"level": level, "method": "iidm", **success(agent, level, args.eval_episodes, args.eval_seed)} \
            if args.eval_episodes else {"level": level, "method": "iidm"}
    except ValueError as e:
        raise UserError(str(e).splitlines()[0], 1)
    write_json(os.path.join(folder, "eval.json"), result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    run(main)
