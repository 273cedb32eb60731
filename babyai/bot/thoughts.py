"""The thought: a sentence for the subgoal on top of the oracle's stack, phrased by its reason.

A "go next to" subgoal is described by the subgoal it serves, found in its ``note`` or just below
it on the stack: going to a key in order to unlock a door is "pickup blue key to unlock the door".
The rules (and their quirks, such as a drop after a pickup mission reading "pickup ...") are those
of the original Thought Cloning data, so the sentences match it word for word.
"""

from __future__ import annotations

import numpy as np
from minigrid.core.world_object import WorldObj
from minigrid.envs.babyai.core.verifier import ObjDesc

from babyai.bot import subgoals as sg
from babyai.bot.subgoals import require

# a "go next to" subgoal without a note takes it from the subgoal it serves
NOTE_FOR_NEXT = ((sg.Pickup, "to pick it up"), (sg.Open, "to open it"), (sg.Drop, "to drop it"))


def _name(obj) -> str:
    return f"{obj.color if obj.color else 'a'} {obj.type}"


def open_sentence(owner, door) -> str:
    require(door is not None, "no door to describe")
    require(door.type == "door", "describing a non-door as a door")
    if isinstance(door, ObjDesc) or door.is_open or not door.is_locked:
        sentence = f"open {door.color if door.color else 'a'} door"
    else:
        sentence = f"unlock {door.color if door.color else 'a'} door"
    if owner.note:
        sentence = sentence + " " + owner.note
    return sentence


def drop_sentence(owner, carrying) -> str:
    require(carrying, "describing a drop while carrying nothing")
    sentence = f"drop {carrying.color} {carrying.type}"
    if owner.note:
        sentence = sentence + " " + owner.note
        if owner.note == "to place blocking object":
            return f"remove blocking object {carrying.color} {carrying.type}"
        if owner.note == "after pickup mission":
            return f"pickup {carrying.color} {carrying.type} to complete pickup mission"
    return sentence


def pickup_sentence(owner, obj, carrying) -> str:
    require(not carrying, "describing a pickup while carrying something")
    require(obj, "describing a pickup of nothing")
    sentence = f"pickup {_name(obj)}"
    if owner.note:
        sentence = sentence + " " + owner.note
        if owner.note == "to remove blocking object":
            return f"remove blocking object {obj.color} {obj.type}"
    return sentence


def _go_next_to_sentence(subgoal, bot) -> str:
    below = bot.stack[-2] if len(bot.stack) >= 2 else None
    if not subgoal.note:
        require(below is not None, "a lone 'go next to' subgoal has no reason")
        subgoal.note = next((note for kind, note in NOTE_FOR_NEXT if isinstance(below, kind)),
                            "to complete GoTo mission")
    note, datum, carrying = subgoal.note, subgoal.datum, bot.carrying
    if isinstance(note, str):
        if note == "explore":
            return "explore unseen area"
        if note == "to find a key":
            return pickup_sentence(below, datum, carrying)
        if note == "to complete GoTo mission":
            if isinstance(datum, np.ndarray):
                datum = bot.cell(datum)
            require(isinstance(datum, (WorldObj, ObjDesc)), "GoTo target is not an object")
            return f"go to {_name(datum)} to complete GoTo mission"
        if note == "to open it":
            if isinstance(datum, np.ndarray):
                datum = bot.cell(datum)
            return open_sentence(below, datum)
        if note in ("to drop it temporary", "to drop it"):
            return drop_sentence(below, carrying)
        if note == "to pick it up":
            if isinstance(datum, (WorldObj, ObjDesc)):
                return pickup_sentence(below, datum, carrying)
            if bot.fwd_cell:
                return pickup_sentence(below, bot.fwd_cell, carrying)
            require(isinstance(datum, np.ndarray), "nothing to pick up")
            return pickup_sentence(below, bot.cell(datum), carrying)
    elif isinstance(note, WorldObj):  # going back for an object put aside
        return pickup_sentence(below, note, carrying)
    raise sg.BotError(f"no sentence for a 'go next to' subgoal noted {note!r}")


def describe(bot) -> str:
    """The thought for the subgoal on top of ``bot.stack``."""
    require(bot.stack, "the plan is empty: nothing to think about")
    subgoal = bot.stack[-1]
    if isinstance(subgoal, sg.Close):
        door = bot.fwd_cell
        require(door is not None and door.type == "door" and door.is_open, "no open door to close")
        return f"close {door.color} door"
    if isinstance(subgoal, sg.Open):
        return open_sentence(subgoal, bot.fwd_cell)
    if isinstance(subgoal, sg.Drop):
        return drop_sentence(subgoal, bot.carrying)
    if isinstance(subgoal, sg.Pickup):
        return pickup_sentence(subgoal, bot.fwd_cell, bot.carrying)
    if isinstance(subgoal, sg.GoNextTo):
        return _go_next_to_sentence(subgoal, bot)
    raise sg.BotError(f"no sentence for subgoal {type(subgoal).__name__}")
