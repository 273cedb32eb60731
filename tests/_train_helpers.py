"""Helpers of the model and training tests: synthetic episodes, tiny datasets, tiny run configs."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from babyai.demos import DemoSpec, Episode, generate_dataset
from babyai.model import TCConfig
from babyai.train.run import TrainConfig

LEVEL = "BabyAI-GoToLocal-v0"
TINY = TCConfig(memory_dim=32, instr_dim=32)

THOUGHTS = ["go to red ball to complete GoTo mission", "explore unseen area", "open blue door to explore"]
MISSIONS = ["go to the red ball", "pick up a blue key, then open the green door"]


def synthetic_episode(length: int, seed: int, rng: np.random.Generator) -> Episode:
    """An episode with random observations, actions and thoughts from the oracle's phrases."""
    images = np.stack([rng.integers(0, 11, (7, 7)), rng.integers(0, 6, (7, 7)), rng.integers(0, 3, (7, 7))], -1)
    images = np.repeat(images[None], length, 0).astype(np.uint8)
    images[:, 3, 6, 0] = rng.integers(0, 11, length)  # frames differ
    thoughts = [THOUGHTS[(t * 3 // max(length, 1) + seed) % len(THOUGHTS)] for t in range(length)]
    return Episode(
        level=LEVEL, seed=seed, mission=MISSIONS[seed % len(MISSIONS)], images=images,
        directions=rng.integers(0, 4, length), actions=rng.integers(0, 7, length), thoughts=thoughts,
        noise=np.zeros(length, dtype=bool),
    )


def make_demos(storage, name: str, episodes: int, first_seed: int, level: str = LEVEL) -> str:
    """A real dataset made by the oracle, in <storage>/demos/NAME."""
    folder = os.path.join(str(storage), "demos", name)
    generate_dataset(folder, DemoSpec(level=level, episodes=episodes, first_seed=first_seed), progress=False)
    return folder


def tiny_config(storage, name: str, **overrides) -> TrainConfig:
    """A run of a tiny model on the tiny GoToLocal demos, validated on a few levels."""
    settings = dict(
        algo="tc", model_name=name, envs=[LEVEL], demos=["tiny"], episodes=[0], model=TINY, storage=str(storage),
        batch_size=8, recurrence=3, epochs=2, epoch_length=16, val_episodes=4, val_seed=10**6, lr=1e-3,
        checkpoint_minutes=1e9,
    )
    settings.update(overrides)
    return TrainConfig(**settings)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest, and reproducibly, on one thread (and do not suffer from a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
