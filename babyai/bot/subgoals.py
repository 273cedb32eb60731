"""The oracle's subgoals: each suggests an action, or changes the plan, given the bot's state.

The planning rules are those of the BabyAI bot (BabyAI 1.1, as extended by Thought Cloning with a
``note`` saying why each subgoal exists, which the thought sentences are made from). A subgoal
reads the agent's state from the bot (``bot.pos``, ``bot.fwd_cell``, ...), refreshed once per step.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from minigrid.core.actions import Actions
from minigrid.core.world_object import WorldObj
from minigrid.envs.babyai.core.verifier import ObjDesc

LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = map(int, Actions)  # plain ints: the planner compares them often
MOVES = (FORWARD, LEFT, RIGHT)


class BotError(Exception):
    """The oracle cannot go on (the original bot raised here; the episode is recorded as failed)."""


def require(condition, message: str) -> None:
    if not condition:
        raise BotError(message)


def manhattan(a, b) -> int:
    return abs(int(a[0]) - int(b[0])) + abs(int(a[1]) - int(b[1]))


def steppable(cell) -> bool:
    return cell is None or (cell.type == "door" and cell.is_open)


class Subgoal(ABC):
    """One entry of the plan stack. ``datum``: a position, an object or an ObjDesc."""

    exploratory = False

    def __init__(self, bot, datum=None, reason=None, note=None):
        self.bot = bot
        self.datum = datum
        self.reason = reason
        self.note = note

    def __repr__(self):
        return f"({type(self).__name__}: {self.datum}, reason: {self.reason}, note: {self.note})"

    @abstractmethod
    def before_action(self):
        """Suggest an action, or return None after changing the plan (push/pop subgoals)."""

    def after_action(self, action_taken) -> None:
        """Adjust the plan to the action actually taken (None: the suggested one)."""

    def push(self, *subgoals: "Subgoal") -> None:
        self.bot.stack.extend(subgoals)

    def pop(self) -> None:
        self.bot.stack.pop()

    def undo(self, action_taken) -> None:
        """Plan to undo an action that was not the suggested one."""
        bot = self.bot
        if action_taken == FORWARD:
            if not np.array_equal(bot.prev_agent_pos, bot.pos):
                self.push(GoNextTo(bot, bot.pos))
        elif action_taken == LEFT:
            self.push(GoNextTo(bot, bot.pos + bot.right_vec))
        elif action_taken == RIGHT:
            self.push(GoNextTo(bot, bot.pos - bot.right_vec))
        elif action_taken == DROP and bot.prev_carrying is not bot.carrying:
            require(bot.fwd_cell.type in ("key", "box", "ball"), "dropped onto a non-object cell")
            self.push(Pickup(bot))
        elif action_taken == PICKUP and bot.prev_carrying is not bot.carrying:
            self.push(Drop(bot))
        elif action_taken == TOGGLE:
            cell = bot.cell(bot.fwd_pos)
            if cell is not None and cell.type == "door":
                require(bot.fwd_door_was_open is not None, "toggled a door never faced before")
                if bot.fwd_door_was_open != cell.is_open:
                    self.push(Close(bot) if cell.is_open else Open(bot))


class Close(Subgoal):
    def before_action(self):
        cell = self.bot.fwd_cell
        require(cell is not None and cell.type == "door" and cell.is_open, "no open door to close")
        return TOGGLE

    def after_action(self, action_taken):
        if action_taken is None or action_taken == TOGGLE:
            self.pop()
        elif action_taken in MOVES:
            self.undo(action_taken)


class Open(Subgoal):
    """Open the door in front. reason: None, 'Unlock' (drop the key afterwards) or 'KeepKey'."""

    def before_action(self):
        bot = self.bot
        door, carrying = bot.fwd_cell, bot.carrying
        require(door is not None and door.type == "door", "no door to open in front")
        got_the_key = carrying is not None and carrying.type == "key" and carrying.color == door.color
        if door.is_locked and not got_the_key:
            key = ObjDesc("key", door.color)
            key.find_matching_objs(bot.env)
            self.pop()
            if carrying:
                drop_pos = bot.find_drop_pos()
                self.push(
                    Pickup(bot, note="to pick up previous carrying"),
                    GoNextTo(bot, drop_pos, note=carrying),
                    Open(bot, note=self.note),
                    GoNextTo(bot, door, note="to open it"),
                    Pickup(bot, note="to unlock the door"),
                    GoNextTo(bot, key, note="to find a key"),
                    Drop(bot, note="temporary to find the key"),
                    GoNextTo(bot, drop_pos, note="to drop it temporary"),
                )
            else:
                self.push(
                    Open(bot, note=self.note),
                    GoNextTo(bot, door, note="to open it"),
                    Pickup(bot, note="to unlock the door"),
                    GoNextTo(bot, key, note="to find a key"),
                )
            return None
        if door.is_open:
            self.push(Close(bot))
            return None
        if door.is_locked and self.reason is None:
            self.pop()
            self.push(Open(bot, reason="Unlock", note=self.note))
            return None
        return TOGGLE

    def after_action(self, action_taken):
        if action_taken is None or action_taken == TOGGLE:
            self.pop()
            if self.reason == "Unlock":
                # chosen only now: a spot chosen earlier may be taken by the time we get there
                drop_pos = self.bot.find_drop_pos()
                self.push(Drop(self.bot, note="after open the door"),
                          GoNextTo(self.bot, drop_pos, note="to drop it"))
        else:
            self.undo(action_taken)


class Drop(Subgoal):
    def before_action(self):
        require(self.bot.carrying, "nothing to drop")
        require(not self.bot.fwd_cell, "no room to drop in front")
        return DROP

    def after_action(self, action_taken):
        if action_taken is None or action_taken == DROP:
            self.pop()
        elif action_taken in MOVES:
            self.undo(action_taken)


class Pickup(Subgoal):
    def before_action(self):
        require(not self.bot.carrying, "already carrying something")
        return PICKUP

    def after_action(self, action_taken):
        if action_taken is None or action_taken == PICKUP:
            self.pop()
        elif action_taken in (LEFT, RIGHT):
            self.undo(action_taken)


class GoNextTo(Subgoal):
    """Go to face a position/object. reason: None, 'PutNext' (face an empty cell next to the
    object), 'Open' (a door to open: fetch its key first if locked) or 'Explore'."""

    @property
    def exploratory(self):
        return self.reason == "Explore"

    def before_action(self):
        bot = self.bot
        target_obj = None
        if isinstance(self.datum, ObjDesc):
            target_obj, target_pos = bot.find_obj_pos(self.datum, self.reason == "PutNext")
            if not target_pos:
                self.push(Explore(bot))
                return None
        elif isinstance(self.datum, WorldObj):
            target_obj = self.datum
            target_pos = target_obj.cur_pos
        else:
            target_pos = tuple(self.datum)

        # Heading for a locked door without carrying anything: fetch its key first.
        if (self.reason == "Open" and target_obj and target_obj.type == "door"
                and target_obj.is_locked):
            key = ObjDesc("key", target_obj.color)
            key.find_matching_objs(bot.env)
            if not bot.carrying:
                self.pop()
                self.push(GoNextTo(bot, target_obj, reason="Open", note="to open it"),
                          Pickup(bot, note="to unlock the door"),
                          GoNextTo(bot, key, note="to find a key"))
                return None

        # Standing on the cell to go next to: step away from it.
        if manhattan(target_pos, bot.pos) == (1 if self.reason == "PutNext" else 0):
            if steppable(bot.fwd_cell):
                return FORWARD
            if steppable(bot.cell(bot.pos + bot.right_vec)):
                return RIGHT
            if steppable(bot.cell(bot.pos - bot.right_vec)):
                return LEFT
            return LEFT

        # Facing the target: done.
        if self.reason == "PutNext":
            if manhattan(target_pos, bot.fwd_pos) == 1:
                if bot.fwd_cell is None:
                    self.pop()
                    return None
                if bot.fwd_cell.type == "door" and bot.fwd_cell.is_open:
                    # cannot drop in a doorway: go one cell further
                    self.push(GoNextTo(bot, bot.fwd_pos + 2 * bot.dir_vec, note="to drop it"))
                    return None
        elif (target_pos[0], target_pos[1]) == bot.fwd_xy:
            self.pop()
            return None

        target = (int(target_pos[0]), int(target_pos[1]))
        path, _, _ = bot.shortest_path(None, target=target)
        if not path:
            path, _, _ = bot.shortest_path(None, try_with_blockers=True, target=target)
        if not path:
            self.push(Explore(bot))
            return None

        next_cell = path[0]
        if next_cell == bot.fwd_xy:
            return self._step_into_front()
        step = (next_cell[0] - bot.xy[0], next_cell[1] - bot.xy[1])
        if step == bot.right_xy:
            return RIGHT
        if step == (-bot.right_xy[0], -bot.right_xy[1]):
            return LEFT
        # The next cell is behind: turn towards the side whose wall or door is further away.
        if bot.distance_to_wall(-bot.right_vec) > bot.distance_to_wall(bot.right_vec):
            return LEFT
        return RIGHT

    def _step_into_front(self):
        """The path continues through the cell in front: walk, open the door or clear the way."""
        bot = self.bot
        front = bot.fwd_cell
        if not front:
            return FORWARD
        if front.type == "door":
            require(not front.is_locked, "path through a locked door")
            if not front.is_open:
                self.push(Open(bot))
                return None
            return FORWARD
        if bot.carrying:
            drop_pos = bot.find_drop_pos()
            drop_blocker_pos = bot.find_drop_pos(drop_pos)
            self.push(
                Pickup(bot, note="resume previous carrying"),
                GoNextTo(bot, drop_pos, note=bot.carrying),
                Drop(bot, note="to place blocking object"),
                GoNextTo(bot, drop_blocker_pos, note="to drop it"),
                Pickup(bot, note="to remove blocking object"),
                GoNextTo(bot, bot.fwd_pos, note=front),
                Drop(bot, note="temporary to remove blocking object"),
                GoNextTo(bot, drop_pos, note="to drop it temporary"),
            )
        else:
            drop_pos = bot.find_drop_pos()
            self.push(Drop(bot, note="to place blocking object"),
                      GoNextTo(bot, drop_pos, note="to drop it"),
                      Pickup(bot, note="to remove blocking object"))
        return None

    def after_action(self, action_taken):
        if action_taken in (PICKUP, DROP, TOGGLE):
            self.undo(action_taken)


class Explore(Subgoal):
    exploratory = True

    def before_action(self):
        bot = self.bot
        _, unseen_pos, _ = bot.shortest_path(lambda pos, cell: not bot.vis_mask[pos],
                                             try_with_blockers=True)
        if unseen_pos:
            self.push(GoNextTo(bot, unseen_pos, reason="Explore", note="explore"))
            return None

        # Prefer an unlocked door: opening a locked one to explore could loop forever.
        def closed_unlocked_door(pos, cell):
            return cell and cell.type == "door" and not cell.is_locked and not cell.is_open

        def closed_door(pos, cell):
            return cell and cell.type == "door" and not cell.is_open

        _, door_pos, _ = bot.shortest_path(closed_unlocked_door, try_with_blockers=True)
        if not door_pos:
            _, door_pos, _ = bot.shortest_path(closed_door, try_with_blockers=True)
        require(door_pos, "nothing left to explore")
        door = bot.cell(door_pos)
        carrying = bot.carrying
        got_the_key = carrying and carrying.type == "key" and carrying.color == door.color
        self.pop()
        self.push(Open(bot, reason="KeepKey" if door.is_locked and got_the_key else None,
                       note="to explore"),
                  GoNextTo(bot, door, reason="Open", note="to open it"))
        return None
