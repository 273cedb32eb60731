"""Where minigrid 3.2's BabyAI levels behave differently from BabyAI 1.1's, and the fixes.

``make_env(level, seeding='legacy')`` builds its levels through :func:`legacy_level_class` and
:func:`legacy_kwargs`, so that a seed gives the level, mission and step limit the paper's
program (BabyAI 1.1 levels on gym-minigrid 1.0.0) gave. Seeding ``gymnasium`` stays plain
minigrid. The differences, each checked against the original level code:

1. **The locked room outlives the episode.** BabyAI 1.1's ``LevelGen`` set ``self.locked_room``
   only when it added a locked room and never cleared it, so a level that adds none (about half
   of them) still sees the locked room of the last level generated on the same env object: of
   a rejected attempt in the same reset, or of the previous episode. With
   ``implicit_unlock=False`` (Synth, SynthLoc, SynthSeq, SynthS5R2) ``rand_obj`` then refuses
   object descriptions whose matches all lie inside that room's area, which changes the random
   stream and so the mission and grid. minigrid resets it to None at the start of every
   ``gen_mission``. We keep the old value instead. Consequence, as in the original: on these
   levels a seed's level depends on what that env object generated before (the original
   scripts used one env per level and walked the seeds in order); a new env starts with no
   locked room.
   **The original program is itself not deterministic on these levels.** Its env constructor
   generated one throw-away level from an unseeded generator, and that level's locked room
   changes the seeded level that follows on a few % of seeds (measured: SynthLoc seed 3000067
   gave "open the green door" in 3 of 5 fresh runs of the original, "open a yellow door" in 2).
   No replay can match every run of it. So by default ``reset_env(env, seed)`` forgets the
   remembered room first (:func:`forget_locked_room`): a seed always gives one level, the one a
   freshly made env whose throw-away level had no locked room gives. ``reset_env(...,
   fresh=False)``, used by ``--original-rng`` (history mode), keeps the room and so replays one
   run of the original's history (the one whose throw-away level had no locked room), not all.
2. **The step limit is always recomputed.** BabyAI 1.1's ``RoomGridLevel.reset`` always set
   ``max_steps = room_size**2 * num_rows * num_cols * (navigations the instruction needs)``,
   whatever the level passed to the constructor. minigrid keeps a constructor's ``max_steps``
   fixed (``fixed_max_steps``), which changes the limit of BlockedUnlockPickup, FindObjS5/6/7,
   KeyCorridor*, MoveTwoAcross*, OpenDoorsOrder*, OpenTwoDoors, OpenRedBlueDoors*,
   PickupAbove, PutNextS*N* and UnlockToUnlock (e.g. KeyCorridorS3R3: 270 instead of 81).
3. **SynthS5R2's layout.** BabyAI 1.1 registered it as 5x5 rooms in 2 rows x 2 columns with 7
   distractors; minigrid registers 2 rows x 3 columns with the default 18.
4. **Renamed levels.** BabyAI 1.1's ``1RoomS8/12/16/20`` are minigrid's ``OneRoomS*``; its
   ``GoToObjS6-v0`` is minigrid's ``GoToObjS6-v1``; ``OpenTwoDoorsDebug`` is ``OpenTwoDoors``
   with ``strict=True``.
5. **Levels minigrid lacks.** BabyAI 1.1's ``BabyAI-PutNext-v0`` and its ``Test*`` bot regression
   levels have no minigrid counterpart: ``babyai.levels.extra`` builds them.
"""

from __future__ import annotations

import functools

import minigrid.envs.babyai as minigrid_levels
from minigrid.envs.babyai.core.levelgen import LevelGen
from minigrid.envs.babyai.core.roomgrid_level import RoomGridLevel

from babyai.levels import extra

# Original level id -> (minigrid level id, constructor arguments to add).
LEGACY_ALIASES = {
    "BabyAI-1RoomS8-v0": ("BabyAI-OneRoomS8-v0", {}),
    "BabyAI-1RoomS12-v0": ("BabyAI-OneRoomS12-v0", {}),
    "BabyAI-1RoomS16-v0": ("BabyAI-OneRoomS16-v0", {}),
    "BabyAI-1RoomS20-v0": ("BabyAI-OneRoomS20-v0", {}),
    "BabyAI-GoToObjS6-v0": ("BabyAI-GoToObjS6-v1", {}),
    "BabyAI-OpenTwoDoorsDebug-v0": ("BabyAI-OpenTwoDoors-v0", {"strict": True}),
}

# minigrid level id -> constructor arguments that make it the BabyAI 1.1 level of that name.
_LEGACY_KWARGS = {
    "BabyAI-SynthS5R2-v0": {"num_cols": 2, "num_dists": 7},
}


def legacy_kwargs(level_id: str) -> dict:
    """Constructor arguments to add to minigrid's registered ones for the original level."""
    return dict(_LEGACY_KWARGS.get(level_id, {}))


class _RecomputedMaxSteps:
    """BabyAI 1.1 recomputed max_steps in every reset; minigrid fixes a constructor's value."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_max_steps = False


class _KeptLockedRoom:
    """BabyAI 1.1 never cleared ``locked_room``; minigrid's ``gen_mission`` sets it to None first.

    Only minigrid's clearing assigns None after construction, so ignoring those assignments keeps
    the last locked room, as the original did.
    """

    @property
    def locked_room(self):
        return self.__dict__.get("_legacy_locked_room")

    @locked_room.setter
    def locked_room(self, room):
        if room is not None:
            self.__dict__["_legacy_locked_room"] = room


@functools.cache
def legacy_level_class(env_class: type) -> type:
    """``env_class`` (a minigrid BabyAI level) behaving as BabyAI 1.1's level did."""
    if not issubclass(env_class, RoomGridLevel):
        return env_class
    bases = (_RecomputedMaxSteps,)
    if issubclass(env_class, LevelGen):
        bases += (_KeptLockedRoom,)
    name = f"Legacy{env_class.__name__}"
    return type(name, bases + (env_class,), {"__module__": __name__, "__qualname__": name})


def level_class(name: str) -> type | None:
    """The level class called ``name``: minigrid's, or one of ``babyai.levels.extra``'s."""
    found = getattr(minigrid_levels, name, None) or getattr(extra, name, None)
    return found if isinstance(found, type) else None


def __getattr__(name: str):
    # Lets pickle find the generated classes (``babyai.levels.compat.Legacy<Level>``).
    if name.startswith("Legacy") and level_class(name[6:]) is not None:
        return legacy_level_class(level_class(name[6:]))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def forget_locked_room(env) -> None:
    """Drop the locked room a legacy level remembers from earlier levels (see point 1 above).

    Afterwards the env generates as a freshly made one; the original program had no such step.
    """
    env.__dict__.pop("_legacy_locked_room", None)
