"""Embodiment data: the agent's own interaction with a level, with its actions.

Imitation from observation separates two datasets (as AIME does): the *demonstrations* (the
oracle's episodes, used without their actions) and the *embodiment data*, episodes the learner
played itself, from which it learns what its actions do (an inverse dynamics model, a world
model). Embodiment episodes are written in the project's dataset format by the demonstrations'
own driver (``babyai.demos.generate``: shards, resume, workers, progress); failed episodes are
kept, since success is not the point.

Players (``--policy``):
- ``random``: uniform over the 7 actions until the level ends (its step limit, or by chance a
  success); every thought is the empty string.
- ``noisy-oracle``: the oracle, whose action is replaced, with probability ``noise_rate`` at each
  step, by a uniform one of the 7 actions (the ``noise`` flag marks those steps); the oracle
  replans from the actions actually taken. The thoughts are the oracle's (its current subgoal,
  also on noisy steps). If the oracle fails (a planning error), the rest of the episode is random
  and its thoughts empty.

Episode ``k`` is played on level seed ``first_seed + k``; its random draws come from a stream of
its own seed, so the bytes do not depend on the number of workers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from babyai.bot import Bot, BotError
from babyai.demos.format import Episode, read_meta
from babyai.demos.generate import generate_dataset
from babyai.levels import make_env, reset_env
from babyai.observe.constants import POLICIES

NUM_ACTIONS = 7
EMBODIMENT_SALT = 0xE3B0D1  # separates the players' streams from anything else seeded by a level seed
KIND = "embodiment"


class EmbodimentError(ValueError):
    """Embodiment data that is missing, of another kind, or of another level."""


@dataclass(frozen=True)
class EmbodimentSpec:
    """Everything that determines an embodiment dataset (stored in its meta.json)."""

    level: str
    episodes: int
    first_seed: int
    policy: str = "random"
    noise_rate: float = 0.25  # noisy-oracle only: probability per step of a uniform random action
    seeding: str = "legacy"
    shard_size: int = 1000
    kind: str = KIND
    original_rng: bool = False  # (the demos driver's field; always False here)

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"unknown policy {self.policy!r}; choose one of {', '.join(POLICIES)}")
        if not 0.0 <= self.noise_rate <= 1.0:
            raise ValueError("--noise-rate must be between 0 and 1")


class EmbodimentMaker:
    """Plays episode indices of one EmbodimentSpec; one env per process (the driver's ``maker``)."""

    def __init__(self, spec: EmbodimentSpec, crash_on_failure: bool = False):
        self.spec = spec
        self.env = make_env(spec.level, seeding=spec.seeding)

    def make(self, index: int) -> tuple[Episode, int]:
        spec, env = self.spec, self.env
        seed = spec.first_seed + index
        rng = np.random.default_rng([seed, EMBODIMENT_SALT])
        obs = reset_env(env, seed)
        mission = env.mission
        bot = Bot(env) if spec.policy == "noisy-oracle" else None
        images, directions, actions, thoughts, noise = [], [], [], [], []
        action, reward, done = None, 0.0, False
        while not done:
            thought, noisy = "", True
            if bot is not None:
                try:
                    action, thought = bot.replan(action, obs["image"])
                    noisy = bool(rng.random() < spec.noise_rate)
                except BotError:
                    bot = None  # the rest of the episode is random
            if noisy:
                action = int(rng.integers(NUM_ACTIONS))
            images.append(obs["image"])
            directions.append(obs["direction"])
            actions.append(action)
            thoughts.append(thought)
            noise.append(noisy and spec.policy == "noisy-oracle")
            obs, reward, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        episode = Episode(level=spec.level, seed=seed, mission=mission,
                          images=np.stack(images).astype(np.uint8), directions=np.array(directions),
                          actions=np.array(actions), thoughts=thoughts, noise=np.array(noise, dtype=bool),
                          success=bool(reward > 0), seeding=spec.seeding)
        return episode, 0


def generate_embodiment(folder: str, spec: EmbodimentSpec, workers: int = 1, progress: bool = True,
                        on_episode=None) -> dict:
    """Generate (or finish, after a kill) the embodiment dataset ``spec`` in ``folder``; its meta."""
    return generate_dataset(folder, spec, workers=workers, progress=progress, on_episode=on_episode,
                            maker_class=EmbodimentMaker)


def check_embodiment(folder: str, level: str) -> dict:
    """The meta of the embodiment dataset at ``folder``; EmbodimentError unless it is one of ``level``."""
    if not os.path.isdir(folder):
        raise EmbodimentError(f"no embodiment data at {folder} (make it with scripts/make_embodiment_data.py)")
    try:
        meta = read_meta(folder)
    except ValueError as e:
        raise EmbodimentError(str(e)) from None
    if meta.get("kind") != KIND:
        raise EmbodimentError(f"{folder} holds demonstrations, not embodiment data (make it with "
                              "scripts/make_embodiment_data.py)")
    if meta.get("level") != level:
        raise EmbodimentError(f"the embodiment data {folder} is of level {meta.get('level')}, not {level}")
    if not meta.get("complete"):
        raise EmbodimentError(f"{folder} is incomplete (run its make_embodiment_data.py command again)")
    return meta
