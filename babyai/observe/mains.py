"""The imitation-from-observation commands, their flags parsed (``babyai.observe.cli`` parses them and
imports this module only then, so that --help does not import torch or minigrid); the training commands take
their typed settings (``babyai.observe.constants``), as the report (``babyai.observe.report``) gives them."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict

import torch

from babyai.errors import UserError
from babyai.log import setup_logging
from babyai.demos import open_demos
from babyai.levels import make_env, resolve_level_id
from babyai.agent.loading import CheckpointError, load_checkpoint, save_checkpoint
from babyai.agent.vocab import Vocabulary
from babyai.observe.aime import AimeAgent, train_aime
from babyai.observe.constants import AIME_CHECKPOINT, AIME_WINDOW, IIDM_CHECKPOINT, AimeRun, IIDMRun, WorldModelRun
from babyai.observe.embodiment import EmbodimentSpec, check_embodiment, generate_embodiment
from babyai.observe.idm import load_transitions, train_idm
from babyai.observe.iidm import ObservationAgent, demo_transitions, train_forward_model, train_iidm_policy
from babyai.observe.nets import (RSSM, ForwardModel, IDMConfig, LatentPolicy, ObservationPolicy, PolicyConfig,
                                 WorldModelConfig)
from babyai.observe.runs import locked_run, open_demonstrations, prepare_run, success, write_json
from babyai.observe.world_model import CHECKPOINT as WM_CHECKPOINT
from babyai.observe.world_model import (action_evidence, load_world_model, save_world_model, split_episodes,
                                        train_world_model)
from babyai.storage import demos_path, model_dir, new_demos_path, storage_dir


def embodiment(args) -> int:
    """scripts/make_embodiment_data.py, its flags parsed."""
    level = resolve_level_id(args.env)
    make_env(level)  # fails early, with close matches, on an unknown level
    storage = storage_dir(args.storage_dir)
    setup_logging(None, "make_embodiment_data")
    name = args.demos or f"{level}_{args.policy}{args.episodes}"
    folder = new_demos_path(name, storage)  # written: inside the storage only
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


def idm(args) -> int:
    """scripts/train_idm.py, its flags parsed."""
    level = resolve_level_id(args.env)
    make_env(level)
    folder = model_dir(args.model, args.storage_dir)
    try:
        with locked_run(folder):
            results = train_idm(level, demos_path(args.embodiment, args.storage_dir), folder,
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


def world_model(args: WorldModelRun) -> int:
    """scripts/train_world_model.py, its flags parsed."""
    level = resolve_level_id(args.env)
    make_env(level)
    folder = model_dir(args.model, args.storage_dir)
    embodiment = demos_path(args.embodiment, args.storage_dir)
    cfg = WorldModelConfig(deter=args.deter, stoch=args.stoch)
    settings = {"level": level, "embodiment": os.path.abspath(embodiment), "episodes": args.episodes,
                "config": cfg.to_dict(), "updates": args.updates, "batch_size": args.batch_size,
                "seq_len": args.seq_len, "lr": args.lr, "seed": args.seed, "kl_balance": args.kl_balance,
                "free_nats": args.free_nats}
    with locked_run(folder):
        try:
            check_embodiment(embodiment, level)
            demos = open_demonstrations(demos_path(args.eval_demos, args.storage_dir), level) if args.eval_demos else None
            if prepare_run(folder, settings, WM_CHECKPOINT, "world-model"):
                print(f"{folder}: already trained")
                return 0
            train, held = split_episodes(open_demos(embodiment), args.episodes)
            torch.manual_seed(args.seed)
            model = RSSM(cfg)
            info = train_world_model(model, train, held, args.updates, args.batch_size, args.seq_len, args.lr,
                                     args.seed, progress=not args.quiet, kl_balance=args.kl_balance,
                                     free_nats=args.free_nats)
            if demos is not None:
                info["demos_action_evidence"] = {"demos": demos.folder, **action_evidence(
                    model, [demos[i] for i in range(len(demos))], AIME_WINDOW)}
        except ValueError as e:
            raise UserError(str(e).splitlines()[0], 1)
        write_json(os.path.join(folder, "wm_eval.json"), {"level": level, "embodiment": embodiment, **info})
        save_world_model(os.path.join(folder, WM_CHECKPOINT), model, level, info)
        print(json.dumps({k: v for k, v in info.items() if k != "history"}))
        return 0


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


def train_then_evaluate(args: AimeRun | IIDMRun, level: str, checkpoint: str, method: str, setup, load) -> int:
    """What train_aime.py and train_iidm.py share: ``setup()`` checks the inputs and returns
    ``train(path)``, called unless a finished run with the same settings exists; then the saved agent
    (``load(path)``) plays --eval-episodes fresh levels and eval.json is written. Bad input: one line."""
    folder = model_dir(args.model, args.storage_dir)
    path = os.path.join(folder, checkpoint)
    settings = {k: v for k, v in asdict(args).items() if k not in ("storage_dir", "quiet")}
    with locked_run(folder):
        try:
            train = setup()
            if not prepare_run(folder, {**settings, "level": level}, checkpoint, method):
                train(path)
            result = {"level": level, "method": method}
            if args.eval_episodes:
                result.update(success(load(path), level, args.eval_episodes, args.eval_seed))
        except ValueError as e:
            raise UserError(str(e).splitlines()[0], 1)
        write_json(os.path.join(folder, "eval.json"), result)
        print(json.dumps(result))
        return 0


def aime(args: AimeRun) -> int:
    """scripts/train_aime.py, its flags parsed."""
    level = resolve_level_id(args.env)
    make_env(level)

    def setup():
        model, wm = load_world_model(args.world_model, args.storage_dir)
        if wm["level"] != level:
            raise ValueError(f"the world model {args.world_model} was trained on level {wm['level']}, not {level}")
        reader = open_demonstrations(demos_path(args.demos, args.storage_dir), level, args.episodes)

        def train(path):
            vocab = Vocabulary.babyai()
            demos = [reader[i] for i in range(args.episodes or len(reader))]
            torch.manual_seed(args.seed)
            policy = LatentPolicy(PolicyConfig(vocab_size=vocab.size), model.feature_dim)
            info = train_aime(policy, model, demos, vocab, args.updates, args.batch_size, args.lr, args.seed,
                              args.tau, progress=not args.quiet, estimator=args.estimator)
            save_checkpoint(path, {"kind": "aime", "level": level, "vocab": vocab.to_dict(),
                                   "policy_config": policy.cfg.to_dict(), "policy": policy.state_dict(),
                                   "world_model_config": model.cfg.to_dict(), "world_model": model.state_dict(),
                                   "info": json.dumps(info)})
            write_json(os.path.join(os.path.dirname(path), "train.json"), info)
        return train

    return train_then_evaluate(args, level, AIME_CHECKPOINT, "aime", setup, load_aime)


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


def iidm(args: IIDMRun) -> int:
    """scripts/train_iidm.py, its flags parsed."""
    level = resolve_level_id(args.env)
    make_env(level)

    def setup():
        embodiment = demos_path(args.embodiment, args.storage_dir)
        check_embodiment(embodiment, level)
        reader = open_demonstrations(demos_path(args.demos, args.storage_dir), level, args.episodes)

        def train(path):
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
            write_json(os.path.join(os.path.dirname(path), "train.json"),
                       {"forward_model": fitted, "policy": trained, "diagnostic_action_agreement": diagnostic})
        return train

    return train_then_evaluate(args, level, IIDM_CHECKPOINT, "iidm", setup, load_iidm)
