"""The one check both importers (``legacy.import_original``, ``minari_io.import_minari``) make of every episode
before anything is written: each field within the level's spaces, as the trainer and the replays will read it.

    check = episode_checker(level, seeding)     # DemoFormatError for an unknown seeding
    ep = check(ep, "demo 3")                    # DemoFormatError naming the episode and the field; else ``ep``
                                                # with its arrays in the dataset's types
"""

from __future__ import annotations

import dataclasses

import numpy as np

from babyai.checks import MAX_SEED
from babyai.demos.format import DemoFormatError, Episode
from babyai.levels import SEEDINGS, make_env


def episode_checker(level: str, seeding: str):
    """check(ep, where) for episodes of ``level`` with ``seeding`` (refused here unless one of SEEDINGS)."""
    if seeding not in SEEDINGS:
        raise DemoFormatError(f"the seeding {str(seeding)[:80]!r} is not one of {', '.join(SEEDINGS)}")
    env = make_env(level, seeding=seeding)
    image, direction, actions = env.observation_space["image"], env.observation_space["direction"], env.action_space

    def check(ep: Episode, where: str) -> Episode:
        n = len(ep.actions)
        if n == 0:
            raise DemoFormatError(f"{where}: an episode without actions")
        fields = (("actions", ep.actions, actions.start, actions.start + actions.n - 1, (n,)),
                  ("directions", ep.directions, direction.start, direction.start + direction.n - 1, (n,)),
                  ("images", ep.images, int(image.low.min()), int(image.high.max()), (n, *image.shape)),
                  ("noise flags", ep.noise, 0, 1, (n,)))
        arrays = {name: _integers(where, name, values, low, high, shape) for name, values, low, high, shape in fields}
        if not _int(ep.seed) or not -1 <= ep.seed <= MAX_SEED:  # -1: no level seed recorded
            raise DemoFormatError(f"{where}: the level seed must be an integer in [0, {MAX_SEED}] (or -1 for none), "
                                  f"got {str(ep.seed)[:40]}")
        if ep.seeding != seeding:
            raise DemoFormatError(f"{where}: seeding {str(ep.seeding)[:80]!r}, not the dataset's {seeding}")
        if not isinstance(ep.mission, str) or not ep.mission.strip():
            raise DemoFormatError(f"{where}: the mission must be a non-empty string")
        if len(ep.thoughts) != n or not all(isinstance(t, str) for t in ep.thoughts):
            raise DemoFormatError(f"{where}: the thoughts must be {n} strings, one per action")
        if not _int(ep.reset_index) or ep.reset_index < 0:
            raise DemoFormatError(f"{where}: the reset index must be a non-negative integer, got {ep.reset_index}")
        return dataclasses.replace(
            ep, seed=int(ep.seed), actions=arrays["actions"].astype(np.int64),
            directions=arrays["directions"].astype(np.int64), images=arrays["images"].astype(np.uint8),
            noise=arrays["noise flags"].astype(bool), thoughts=list(ep.thoughts), success=bool(ep.success))

    return check


def _int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _integers(where: str, name: str, values, low: int, high: int, shape: tuple) -> np.ndarray:
    """``values`` as an array of the ``shape`` of integers in [low, high]; DemoFormatError naming the first that is not."""
    array = np.asarray(values)
    if array.shape != shape:
        raise DemoFormatError(f"{where}: {name} of shape {array.shape}, expected {shape}")
    if array.size and array.dtype.kind not in "iub":
        raise DemoFormatError(f"{where}: {name} must be integers, got {array.dtype}")
    bad = (array < low) | (array > high)
    if bad.any():
        raise DemoFormatError(f"{where}: {name} must be in [{low}, {high}] (the level's space), got "
                              f"{array[bad].flat[0]}")
    return array
