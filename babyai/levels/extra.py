"""The nine levels BabyAI 1.1 registered that minigrid does not ship, built on minigrid's classes.

``BabyAI-PutNext-v0`` (put an object next to another, in a 3x3 maze of 8x8 rooms) and the bot
regression levels of BabyAI 1.1's ``test_levels.py`` (``BabyAI-Test*-v0``: small hand-made
layouts where an earlier bot looped or hesitated). Importing this module registers them with
gymnasium under their original ids, so ``make_env`` (and ``gymnasium.make``) accept them. In
legacy seeding a seed gives the original's level: the layouts draw from the level's generator
in the order the original did (rooms' door positions, then the objects placed at one cell with
``place_obj(obj, cell, (1, 1))``, which still draws the cell), even where the draw is then
overwritten (``place_agent`` before the agent is put at a fixed cell).
"""

from __future__ import annotations

import gymnasium
from minigrid.core.world_object import Ball, Box, Key
from minigrid.envs.babyai.core.roomgrid_level import RoomGridLevel
from minigrid.envs.babyai.core.verifier import (
    AndInstr,
    BeforeInstr,
    GoToInstr,
    ObjDesc,
    OpenInstr,
    PutNextInstr,
)

ONE_CELL = (1, 1)


class PutNextAnyRoom(RoomGridLevel):
    """``BabyAI-PutNext-v0``: put an object next to another; either may be in another room.

    3x3 rooms of size 8, all connected, 18 distractors (colours and types may repeat).
    """

    def __init__(self, **kwargs):
        super().__init__(room_size=8, num_rows=3, num_cols=3, **kwargs)

    def gen_mission(self):
        self.place_agent()
        self.connect_all()
        objs = self.add_distractors(num_distractors=18, all_unique=False)
        self.check_objs_reachable()
        moved, fixed = self._rand_subset(objs, 2)
        self.instrs = PutNextInstr(ObjDesc(moved.type, moved.color), ObjDesc(fixed.type, fixed.color))


class _OneRoom(RoomGridLevel):
    """One 9x9 room (the size of most test levels)."""

    def __init__(self, room_size=9, **kwargs):
        super().__init__(num_rows=1, num_cols=1, room_size=room_size, **kwargs)


class _TwoByTwoRooms(RoomGridLevel):
    """Four 9x9 rooms; the level adds the doors."""

    def __init__(self, **kwargs):
        super().__init__(num_rows=2, num_cols=2, room_size=9, **kwargs)

    def add_three_doors(self):
        """Red doors below the top-left room and right of the bottom-left one, a blue one above
        the bottom-right room (all unlocked, closed); their positions, in that order."""
        _, below_top_left = self.add_door(0, 0, 1, "red", False)
        _, right_of_bottom_left = self.add_door(0, 1, 0, "red", False)
        _, above_bottom_right = self.add_door(1, 1, 3, "blue", False)
        return below_top_left, right_of_bottom_left, above_bottom_right


class TestGoToBlocked(_OneRoom):
    """Go to a yellow ball in a corner, walled in by red balls."""

    def gen_mission(self):
        self.place_agent()  # drawn, then overridden, as in the original
        self.agent_pos, self.agent_dir = (3, 3), 0
        target = Ball("yellow")
        self.grid.set(1, 1, target)
        for i in (1, 2, 3):
            for j in (1, 2, 3):
                if (i, j) not in ((1, 1), (3, 3)):
                    self.place_obj(Ball("red"), (i, j), ONE_CELL)
        self.instrs = GoToInstr(ObjDesc(target.type, target.color))


class TestPutNextToBlocked(_OneRoom):
    """Put a yellow ball next to a blue ball in a corner that two red balls block."""

    def gen_mission(self):
        self.place_agent()
        self.agent_pos, self.agent_dir = (3, 3), 0
        moved, fixed = Ball("yellow"), Ball("blue")
        self.place_obj(moved, (4, 4), ONE_CELL)
        self.place_obj(fixed, (1, 1), ONE_CELL)
        self.grid.set(1, 2, Ball("red"))
        self.grid.set(2, 1, Ball("red"))
        self.instrs = PutNextInstr(ObjDesc(moved.type, moved.color), ObjDesc(fixed.type, fixed.color))


class TestPutNextToCloseToDoor1(RoomGridLevel):
    """Open the red door, then put the yellow ball next to the blue ball, which lies just behind
    that door (two 9x9 rooms, one above the other)."""

    def __init__(self, **kwargs):
        super().__init__(num_rows=2, num_cols=1, room_size=9, **kwargs)

    def gen_mission(self):
        self.agent_pos, self.agent_dir = (3, 3), 0
        door, door_pos = self.add_door(0, 0, None, "red", False)
        self.moved, self.fixed = Ball("yellow"), Ball("blue")
        self.place_obj(self.moved, (4, 4), ONE_CELL)
        self.place_obj(self.fixed, (door_pos[0], door_pos[1] + 1), ONE_CELL)
        self.instrs = BeforeInstr(OpenInstr(ObjDesc("door", door.color)), self._put_next())

    def _put_next(self):
        return PutNextInstr(ObjDesc(self.moved.type, self.moved.color),
                            ObjDesc(self.fixed.type, self.fixed.color))


class TestPutNextToCloseToDoor2(TestPutNextToCloseToDoor1):
    """The same layout; only put the yellow ball next to the blue ball (the door is closed)."""

    def gen_mission(self):
        super().gen_mission()
        self.instrs = self._put_next()


class TestPutNextToIdentical(_OneRoom):
    """Put the blue ball next to the yellow box, then the box next to a ball (either ball will
    do: the bot must not hesitate between them)."""

    def gen_mission(self):
        self.agent_pos, self.agent_dir = (3, 3), 0
        self.place_obj(Box("yellow"), (1, 1), ONE_CELL)
        self.place_obj(Ball("blue"), (4, 4), ONE_CELL)
        self.place_obj(Ball("red"), (2, 2), ONE_CELL)
        first = PutNextInstr(ObjDesc("ball", "blue"), ObjDesc("box", "yellow"))
        then = PutNextInstr(ObjDesc("box", "yellow"), ObjDesc("ball", None))
        self.instrs = BeforeInstr(first, then)


class TestUnblockingLoop(_TwoByTwoRooms):
    """Put the blue key next to the blue door, then go to the yellow ball and the yellow box,
    with objects in the way that an earlier bot kept moving back and forth."""

    def gen_mission(self):
        self.agent_pos, self.agent_dir = (15, 4), 2
        self.add_three_doors()
        self.place_obj(Box("yellow"), (9, 1), ONE_CELL)
        self.place_obj(Ball("blue"), (5, 3), ONE_CELL)
        self.place_obj(Ball("yellow"), (6, 2), ONE_CELL)
        self.place_obj(Key("blue"), (15, 15), ONE_CELL)
        put = PutNextInstr(ObjDesc("key", "blue"), ObjDesc("door", "blue"))
        goto_ball, goto_box = GoToInstr(ObjDesc("ball", "yellow")), GoToInstr(ObjDesc("box", "yellow"))
        self.instrs = BeforeInstr(put, AndInstr(goto_ball, goto_box))


class TestPutNextCloseToDoor(_TwoByTwoRooms):
    """Put the yellow box next to a blue ball; the two blue balls stand in a column above the
    door out of the top-left room, flanked by green boxes, so the door is next to one of them."""

    def gen_mission(self):
        self.agent_pos, self.agent_dir = (5, 10), 2
        (x, y), _, _ = self.add_three_doors()
        self.place_obj(Ball("blue"), (x, y - 1), ONE_CELL)
        self.place_obj(Ball("blue"), (x, y - 2), ONE_CELL)
        if x - 1 >= 1:
            self.place_obj(Box("green"), (x - 1, y - 1), ONE_CELL)
        if x + 1 < 8:
            self.place_obj(Box("green"), (x + 1, y - 1), ONE_CELL)
        self.place_obj(Box("yellow"), (3, 15), ONE_CELL)
        self.instrs = PutNextInstr(ObjDesc("box", "yellow"), ObjDesc("ball", "blue"))


class TestLotsOfBlockers(_OneRoom):
    """Put the red ball next to the blue ball, in an 8x8 room crowded with yellow boxes."""

    def __init__(self, **kwargs):
        super().__init__(room_size=8, **kwargs)

    def gen_mission(self):
        self.agent_pos, self.agent_dir = (5, 5), 0
        for cell in ((2, 1), (2, 2), (2, 3), (3, 4), (2, 6), (1, 3)):
            self.place_obj(Box("yellow"), cell, ONE_CELL)
        self.place_obj(Ball("blue"), (1, 2), ONE_CELL)
        self.place_obj(Ball("red"), (3, 6), ONE_CELL)
        self.instrs = PutNextInstr(ObjDesc("ball", "red"), ObjDesc("ball", "blue"))


# original id -> class
LEVELS = {
    "BabyAI-PutNext-v0": PutNextAnyRoom,
    **{f"BabyAI-{cls.__name__}-v0": cls for cls in (
        TestGoToBlocked, TestLotsOfBlockers, TestPutNextCloseToDoor, TestPutNextToBlocked,
        TestPutNextToCloseToDoor1, TestPutNextToCloseToDoor2, TestPutNextToIdentical,
        TestUnblockingLoop)},
}


def register() -> None:
    """Register the levels with gymnasium under their original ids (once)."""
    for level_id, cls in LEVELS.items():
        if level_id not in gymnasium.envs.registry:
            gymnasium.register(id=level_id, entry_point=f"{__name__}:{cls.__name__}")


register()
