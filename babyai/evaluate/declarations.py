"""What a thought declares: the object interactions a sentence announces.

The oracle's sentences (DESIGN.md section 3) announce at most one object. A declaration is a verb
family and an object (colour, or None for "a", and type):

    pickup C T ...            -> pickup (C, T)
    drop C T ...              -> drop (C, T)
    remove blocking object C T -> pickup (C, T) and drop (C, T)   (it is picked up and put aside)
    pickup C T to complete pickup mission -> pickup (C, T) and drop (C, T)
                              (the oracle says this sentence also when it drops the object it picked up
                              for a "pick up" instruction, to free its hands: see babyai.bot.thoughts)
    open|unlock|close C door  -> toggle (C, door)
    go to ..., explore ...    -> nothing (navigation)

A sentence that does not parse (a garbled decoded thought) declares nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

COLORS = ("red", "green", "blue", "purple", "yellow", "grey")
TYPES = ("ball", "box", "key", "door")
TOGGLE_WORDS = ("open", "unlock", "close")
PICKUP_MISSION = "to complete pickup mission".split()


@dataclass(frozen=True)
class Declaration:
    verb: str  # pickup, drop or toggle (the interaction verbs of babyai.agent.envs)
    color: str | None  # None: any colour ("a ball")
    type: str

    def covers(self, color: str, type_: str) -> bool:
        return self.type == type_ and (self.color is None or self.color == color)


def _object(words: list[str], at: int) -> tuple[str | None, str] | None:
    if len(words) < at + 2:
        return None
    color, type_ = words[at], words[at + 1]
    if color not in COLORS and color != "a" or type_ not in TYPES:
        return None
    return (None if color == "a" else color), type_


def normalize(thought: str | None) -> str:
    """A sentence as the model's vocabulary reads it: lowercase words ("GoTo" -> "goto"), commas as spaces."""
    return " ".join((thought or "").lower().replace(",", " ").split())


def declarations(thought: str | None) -> tuple[Declaration, ...]:
    """The interactions ``thought`` declares (empty for navigation, exploration or garbled thoughts)."""
    words = normalize(thought).split()
    if not words:
        return ()
    if words[:3] == ["remove", "blocking", "object"]:
        obj = _object(words, 3)
        return (Declaration("pickup", *obj), Declaration("drop", *obj)) if obj else ()
    if words[0] in ("pickup", "drop"):
        obj = _object(words, 1)
        if obj is None:
            return ()
        if words[0] == "pickup" and words[3:] == PICKUP_MISSION:
            return Declaration("pickup", *obj), Declaration("drop", *obj)
        return (Declaration(words[0], *obj),)
    if words[0] in TOGGLE_WORDS:
        obj = _object(words, 1)
        return (Declaration("toggle", *obj),) if obj else ()
    return ()


def declares(thought: str | None, interaction: dict) -> bool:
    """Whether ``thought`` declares ``interaction`` ({"verb", "color", "type"}): same verb family, same object."""
    return any(d.verb == interaction["verb"] and d.covers(interaction["color"], interaction["type"])
               for d in declarations(thought))


def compatible(a_color: str | None, a_type: str, b_color: str | None, b_type: str) -> bool:
    """Two object descriptions that can name the same object (None: any colour)."""
    return a_type == b_type and (a_color is None or b_color is None or a_color == b_color)
