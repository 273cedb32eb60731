"""The random states of a training process, saved in its checkpoints (the checkpoint file itself:
``babyai.agent.loading``)."""

from __future__ import annotations

import json
import random

import numpy as np
import torch


def rng_state() -> dict:
    """The state of every random generator this process uses (torch CPU and CUDA, numpy, random)."""
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": json.dumps(np.random.get_state(legacy=False), default=_np_default),
        "python": json.dumps(random.getstate()),
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    np_state = json.loads(state["numpy"])
    np.random.set_state(np_state)
    py = json.loads(state["python"])
    random.setstate((py[0], tuple(py[1]), py[2]))


def _np_default(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.integer):
        return int(x)
    raise TypeError(type(x))
