"""Untrained small agents for the evaluation tests: a policy, or a run folder as training writes it."""

from __future__ import annotations

import os

import torch

from babyai.agent.loading import build_agent, save_checkpoint
from babyai.agent.policy import ModelPolicy
from babyai.agent.vocab import Vocabulary
from babyai.atomic import atomic_write_text
from babyai.model import TCConfig


def untrained_policy(kind: str = "tc", memory_dim: int = 32, instr_dim: int = 32, seed: int = 0) -> ModelPolicy:
    """A freshly initialised small network with the project's vocabulary."""
    torch.manual_seed(seed)
    cfg = TCConfig(memory_dim=memory_dim, instr_dim=instr_dim)
    return ModelPolicy(build_agent(kind, cfg), Vocabulary.babyai(cfg.vocab_size), f"untrained-{kind}")


def save_untrained(folder: str, kind: str = "tc", memory_dim: int = 32, instr_dim: int = 32, seed: int = 0) -> str:
    """An untrained small model as a run folder (best.pt + vocab.json)."""
    policy = untrained_policy(kind, memory_dim, instr_dim, seed)
    os.makedirs(folder, exist_ok=True)
    save_checkpoint(os.path.join(folder, "best.pt"), {
        "algo": kind, "model_config": policy.model.cfg.to_dict(), "vocab": policy.vocab.to_dict(),
        "model": policy.model.state_dict(), "seed": seed,
    })
    atomic_write_text(os.path.join(folder, "vocab.json"), policy.vocab.to_json() + "\n")
    return folder
