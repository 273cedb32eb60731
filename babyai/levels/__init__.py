"""BabyAI levels from minigrid, created through one factory, with the paper's seeding.

``make_env(level_id)`` builds a level; ``reset_env(env, seed)`` seeds and resets it.
Seeding ``legacy`` (the default) reproduces the levels of gym 0.9.6 + gym-minigrid 1.0.0, the
stack the paper's data and test suites were made with; ``gymnasium`` uses gymnasium's own seeding.
Legacy levels also behave as BabyAI 1.1's did where minigrid changed them (``babyai.levels.compat``).
(The names are imported when first used: importing the package does not import minigrid.)
"""

from babyai.lazy import lazy_exports

__all__ = ["SEEDINGS", "UnknownLevelError", "LegacyRandom", "level_ids", "make_env", "reset_env", "resolve_level_id"]
SEEDINGS = ("legacy", "gymnasium")  # --seeding: the paper's levels for each seed, or gymnasium's own seeding
__getattr__, __dir__ = lazy_exports(__name__, {
    "babyai.levels.registry": ["UnknownLevelError", "level_ids", "make_env", "reset_env",
                               "resolve_level_id"],
    "babyai.levels.seeding": ["LegacyRandom"],
})
