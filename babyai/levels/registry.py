"""One factory for every BabyAI level, with legacy (paper) or gymnasium seeding."""

from __future__ import annotations

import contextlib
import difflib
import importlib
import io

import gymnasium
import minigrid  # noqa: F401  (registers the BabyAI levels with gymnasium)

from babyai.levels import extra  # registers the original levels minigrid lacks
from babyai.levels.compat import (
    LEGACY_ALIASES,
    forget_locked_room,
    legacy_kwargs,
    legacy_level_class,
)
from babyai.levels.fastobs import fast_observation_class
from babyai.levels import SEEDINGS  # noqa: F401  (defined there, light, for the commands' flags)
from babyai.levels.seeding import LegacyRandom


class UnknownLevelError(ValueError):
    """A level id that minigrid does not provide."""


def level_ids() -> list[str]:
    """Every BabyAI level id minigrid registers and the original ones it lacks, sorted."""
    return sorted(
        env_id
        for env_id, spec in gymnasium.envs.registry.items()
        if env_id.startswith("BabyAI-")
        and str(spec.entry_point).startswith(("minigrid.envs.babyai", extra.__name__))
    )


def resolve_level_id(name: str) -> str:
    """The full level id: ``BossLevel`` (the original scripts' short form) means ``BabyAI-BossLevel-v0``.

    BabyAI 1.1's names of levels that minigrid renamed (``BabyAI-1RoomS8-v0``, ...) are kept.
    """
    ids = level_ids() + list(LEGACY_ALIASES)
    if name not in ids and f"BabyAI-{name}-v0" in ids:
        return f"BabyAI-{name}-v0"
    return name


def _check_level(level_id: str) -> gymnasium.envs.registration.EnvSpec:
    ids = level_ids() + list(LEGACY_ALIASES)
    if level_id not in ids:
        close = difflib.get_close_matches(level_id, ids, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see babyai.levels.level_ids()"
        raise UnknownLevelError(f"unknown level {level_id!r}{hint}")
    return gymnasium.envs.registry[LEGACY_ALIASES.get(level_id, (level_id,))[0]]


def make_env(level_id: str, seeding: str = "legacy"):
    """Create the BabyAI level ``level_id`` (unwrapped minigrid env) with the given seeding mode."""
    if seeding not in SEEDINGS:
        raise ValueError(f"unknown seeding {seeding!r}; choose one of {', '.join(SEEDINGS)}")
    level_id = resolve_level_id(level_id)
    spec = _check_level(level_id)
    module_name, class_name = spec.entry_point.split(":")
    env_class = getattr(importlib.import_module(module_name), class_name)
    kwargs = {**spec.kwargs, **LEGACY_ALIASES.get(level_id, (None, {}))[1]}
    if seeding == "legacy":  # the original levels' behaviour (see babyai.levels.compat)
        env_class = legacy_level_class(env_class)
        kwargs.update(legacy_kwargs(spec.id))
    env = fast_observation_class(env_class)(**kwargs)
    env.seeding = seeding
    env.level_id = level_id
    return env


def reset_env(env, seed: int | None = None, fresh: bool = True) -> dict:
    """Seed (unless ``seed`` is None: continue the level's random stream) and reset; the first obs.

    ``fresh`` (with a seed): generate the level as a newly made env would, so a seed always gives
    the same level. ``fresh=False`` keeps what a legacy level remembers from the levels generated
    before on this env (the Synth levels' locked room, see ``babyai.levels.compat``), as the
    original program did when it walked through seeds with one env.
    minigrid's "Sampling rejected" messages are silenced.
    """
    kwargs = {}
    if seed is not None:
        if getattr(env, "seeding", "legacy") == "legacy":
            env.np_random = LegacyRandom(seed)
            if fresh:
                forget_locked_room(env)
        else:
            kwargs["seed"] = int(seed)
    with contextlib.redirect_stdout(io.StringIO()):
        obs, _ = env.reset(**kwargs)
    return obs
