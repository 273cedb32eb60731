"""BabyAI levels from minigrid, created through one factory, with the paper's seeding.

``make_env(level_id)`` builds a level; ``reset_env(env, seed)`` seeds and resets it.
Seeding ``legacy`` (the default) reproduces the levels of gym 0.9.6 + gym-minigrid 1.0.0, the
stack the paper's data and test suites were made with; ``gymnasium`` uses gymnasium's own seeding.
Legacy levels also behave as BabyAI 1.1's did where minigrid changed them (``babyai.levels.compat``).
"""

from babyai.levels.registry import (
    SEEDINGS,
    UnknownLevelError,
    level_ids,
    make_env,
    reset_env,
    resolve_level_id,
)
from babyai.levels.seeding import LegacyRandom

__all__ = ["SEEDINGS", "UnknownLevelError", "LegacyRandom", "level_ids", "make_env", "reset_env", "resolve_level_id"]
