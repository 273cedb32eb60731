"""Batched rollouts of an agent on freshly generated levels (the validation success rate)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from babyai.train.vocab import Vocabulary


def make_level(level: str, seeding: str = "legacy"):
    """A BabyAI level and the function that seeds and resets it (babyai.levels, the paper's seeding)."""
    from babyai.levels import make_env, reset_env

    return make_env(level, seeding=seeding), reset_env


@dataclass
class RolloutResult:
    seeds: list[int]
    returns: list[float]
    successes: list[bool]
    lengths: list[int]
    thoughts: list[list[str]] = field(default_factory=list)  # per episode, the thought of every step (TC)


@torch.no_grad()
def rollout(
    model: torch.nn.Module,
    level: str,
    seeds: Sequence[int],
    vocab: Vocabulary,
    device: torch.device,
    generator: torch.Generator | None = None,
    argmax: bool = False,
    seeding: str = "legacy",
    chunk: int = 256,
    keep_thoughts: bool = False,
    autocast_dtype: torch.dtype | None = None,
) -> RolloutResult:
    """Play one episode per seed with the model (in eval mode), ``chunk`` levels at a time.

    Actions are sampled from the policy (``argmax=False``, as the original validation) with
    ``generator``; success is a positive reward at the end of the episode.
    """
    was_training = model.training
    model.eval()
    result = RolloutResult([], [], [], [])
    try:
        for start in range(0, len(seeds), chunk):
            part = _rollout_chunk(
                model, level, list(seeds[start : start + chunk]), vocab, device, generator, argmax, seeding,
                keep_thoughts, autocast_dtype,
            )
            for name in ("seeds", "returns", "successes", "lengths", "thoughts"):
                getattr(result, name).extend(getattr(part, name))
    finally:
        model.train(was_training)
    return result


def _rollout_chunk(model, level, seeds, vocab, device, generator, argmax, seeding, keep_thoughts, autocast_dtype):
    envs, obs = [], []
    for seed in seeds:
        env, reset = make_level(level, seeding)
        envs.append(env)
        obs.append(reset(env, int(seed)))
    n = len(envs)
    missions = [vocab.encode(o["mission"]) for o in obs]
    width = max(len(m) for m in missions)
    mission = torch.zeros(n, width, dtype=torch.long)
    for i, m in enumerate(missions):
        mission[i, : len(m)] = torch.from_numpy(m)
    mission_lengths = (mission != 0).sum(1)
    mission, mission_lengths = mission.to(device), mission_lengths.to(device)
    memory = model.initial_memory(n, device)
    returns, lengths = np.zeros(n), np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    thoughts = [[] for _ in range(n)]
    while not done.all():
        active = np.flatnonzero(~done)
        rows = torch.from_numpy(active).to(device)
        images = torch.from_numpy(np.stack([obs[i]["image"] for i in active])).to(device)
        with torch.autocast(device.type, dtype=autocast_dtype or torch.bfloat16, enabled=autocast_dtype is not None):
            out = model(images, [len(active)], mission[rows], mission_lengths[rows], tuple(m[rows] for m in memory),
                        teacher_forcing=False)
        for m, new in zip(memory, out.memory):
            m[rows] = new.to(m.dtype)
        logits = out.action_logits.float().cpu()
        if argmax:
            actions = logits.argmax(1)
        else:
            actions = torch.multinomial(logits.softmax(1), 1, generator=generator).squeeze(1)
        if keep_thoughts and out.thought_tokens is not None:
            for i, tokens in zip(active, out.thought_tokens.tolist()):
                thoughts[i].append(vocab.decode(tokens))
        for i, a in zip(active, actions.tolist()):
            obs[i], reward, terminated, truncated, _ = envs[i].step(a)
            returns[i] += reward
            lengths[i] += 1
            if terminated or truncated:
                done[i] = True
    return RolloutResult(list(seeds), returns.tolist(), (returns > 0).tolist(), lengths.tolist(),
                         thoughts if keep_thoughts else [])
