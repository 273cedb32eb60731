"""The one way to build, save and load an agent: a checkpoint is a dict of state dicts, the model config
and the vocabulary, written atomically and read with ``torch.load(weights_only=True)`` (no pickled code
is ever executed).

    model, vocab, ckpt = load_agent("storage/models/NAME/best.pt")
    policy = load_policy("NAME")      # the same, found by run name and ready to step (ModelPolicy)
"""

from __future__ import annotations

import json
import os

import torch

from babyai.agent.policy import ModelError, ModelPolicy
from babyai.agent.vocab import Vocabulary
from babyai.atomic import atomic_write_bytes
from babyai.model import BCAgent, TCConfig, ThoughtCloningAgent
from babyai.sizes import build_fitting

FORMAT = 1
ALGOS = ("tc", "bc")  # Thought Cloning, Behavioral Cloning


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt or from another kind of run."""


def build_agent(algo: str, cfg: TCConfig) -> torch.nn.Module:
    """A fresh network: the Thought Cloning agent ("tc") or the Behavioral Cloning baseline ("bc")."""
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r} (one of {', '.join(ALGOS)})")
    make = ThoughtCloningAgent if algo == "tc" else BCAgent
    sizes = ", ".join(f"{key} {getattr(cfg, key)}" for key in ("image_dim", "memory_dim", "instr_dim", "vocab_size"))
    return build_fitting(lambda: make(cfg), sizes)  # too large for this machine: one line naming the sizes


def save_checkpoint(path: str, payload: dict) -> None:
    payload = {"format": FORMAT, **payload}
    atomic_write_bytes(path, lambda f: torch.save(payload, f))


def load_checkpoint(path: str) -> dict:
    if not os.path.exists(path):
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # any unreadable file: one clear line, not a traceback
        raise CheckpointError(f"cannot read the checkpoint {path}: {type(e).__name__}: {_first_line(e)}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of this project (format {FORMAT})")
    return payload


def load_agent(path: str, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, Vocabulary, dict]:
    """The network of a checkpoint file (best.pt or last.pt) in eval mode, its vocabulary and the checkpoint.

    Checks the vocabulary against the network, and the run folder's vocab.json (when there is one)
    against the checkpoint's; any mismatch or unreadable part is a ModelError (one line).
    """
    ckpt = load_checkpoint(path)
    try:
        config = TCConfig.from_dict(ckpt["model_config"])
        vocab = Vocabulary.from_dict(ckpt["vocab"])
        model = build_agent(ckpt["algo"], config)
        weights = ckpt["model"]
        if not isinstance(weights, dict):
            raise TypeError("its 'model' entry is not a state dict")
    except (ValueError, KeyError, TypeError) as e:
        raise ModelError(f"cannot use {path}: {_first_line(e)}") from None
    if vocab.size != config.vocab_size:
        raise ModelError(f"{path}: its vocabulary has {vocab.size} entries but the network {config.vocab_size}")
    _check_vocab_file(os.path.join(os.path.dirname(path), "vocab.json"), vocab)
    try:
        model.load_state_dict(weights)
    except RuntimeError as e:
        first = next((line.strip() for line in str(e).splitlines()[1:] if line.strip()), _first_line(e))
        raise ModelError(f"the weights in {path} do not fit its config ({first})") from None
    return model.to(device).eval(), vocab, ckpt


def find_checkpoint(model: str, storage: str | None = None, group: str = "", which: str = "best") -> str:
    """The checkpoint file of ``model``: a .pt path, a run folder, or a run name under <storage>[/GROUP]/models.

    ``which`` = best (falling back to last) or last.
    """
    from babyai.storage import group_root, model_dir

    if model.endswith(".pt") and os.path.isfile(model):
        return model
    folder = model if os.path.isdir(model) else model_dir(model, group_root(group, storage))
    order = ("best.pt", "last.pt") if which == "best" else ("last.pt",)
    for name in order:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise ModelError(f"no model {model!r}: no {' or '.join(order)} in {folder}")


def load_policy(model: str, storage: str | None = None, group: str = "", device: str = "cpu",
                which: str = "best") -> ModelPolicy:
    """A trained model by name (or path), checked against its vocabulary, ready to step."""
    path = find_checkpoint(model, storage, group, which)
    try:
        net, vocab, _ = load_agent(path)
    except (ModelError, CheckpointError) as e:
        raise ModelError(f"model {model}: {e}") from None
    return ModelPolicy(net, vocab, os.path.basename(model.rstrip("/")).removesuffix(".pt"), device)


def _check_vocab_file(path: str, vocab: Vocabulary) -> None:
    """The run folder's vocab.json, when there is one, must be the checkpoint's vocabulary."""
    if not os.path.isfile(path):
        return
    try:
        with open(path) as f:
            other = Vocabulary.from_dict(json.load(f))
    except (ValueError, KeyError, TypeError) as e:
        raise ModelError(f"unreadable vocabulary {path}: {e}") from None
    if other != vocab:
        raise ModelError(f"{path} is not the vocabulary the checkpoint was trained with")


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__
