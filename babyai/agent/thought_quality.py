"""How well an agent's thoughts agree with the oracle's: the thought-formation figures of validation,
evaluation and the studies (here, below training and evaluation, which both use it).

Two figures, each a share of steps where the oracle had a thought to compare with:

- exact: the agent's sentence is the oracle's, word for word (as the vocabulary reads them: lowercase, commas
  as spaces);
- right object: the agent's sentence names the object the oracle's names (its colour, or "a", and its
  type: "pickup red ball to complete pickup mission" and "remove blocking object red ball" both name
  "red ball"). A sentence that names no object compares by its kind: every exploration sentence
  ("explore unseen area") is of the kind "explore"; a sentence naming no object and no exploration
  (a garbled decoded thought, or an empty one) is never right.

Where they are measured (the same counter, ``Agreement``, in each case):
- playing: the agent plays free (its own thoughts as history) and the oracle, replanning alongside from
  the states the agent reaches, says what it would think there (``babyai.agent.rollout.evaluate`` with
  ``oracle=True``);
- on demonstrations: the model runs over recorded episodes free-running (its own thoughts as history)
  or teacher-forced (the demonstrated thoughts as history, greedy sentence per frame); see
  ``babyai.train.validation``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from babyai.agent.vocab import COLORS, OBJECT_TYPES, tokenize

EXPLORE = "explore"  # the object key of every sentence about exploring


def named_object(thought: str | None) -> str | None:
    """The object a sentence names ("red ball", "a door"), "explore" for an exploration sentence naming
    none, None for anything else (empty or garbled)."""
    words = tokenize(thought or "")
    for i in range(len(words) - 1):
        if (words[i] in COLORS or words[i] == "a") and words[i + 1] in OBJECT_TYPES:
            return f"{words[i]} {words[i + 1]}"
    return EXPLORE if EXPLORE in words else None


@dataclass
class Agreement:
    """Counts of compared steps, exact sentences and right objects (they add up across episodes and processes)."""

    steps: int = 0
    exact: int = 0
    right_object: int = 0

    def add(self, thought: str | None, oracle: str | None) -> None:
        """Count one step; a step without an oracle thought (the oracle lost track) is not compared."""
        if oracle is None:
            return
        self.steps += 1
        self.exact += tokenize(thought or "") == tokenize(oracle)
        obj = named_object(thought)
        self.right_object += obj is not None and obj == named_object(oracle)

    def add_pairs(self, pairs: Iterable[tuple[str | None, str | None]]) -> "Agreement":
        for thought, oracle in pairs:
            self.add(thought, oracle)
        return self

    def counts(self) -> list[int]:
        return [self.steps, self.exact, self.right_object]

    @classmethod
    def from_counts(cls, counts: Sequence[float]) -> "Agreement":
        return cls(*(int(c) for c in counts))

    def rates(self) -> dict:
        """{"steps", "exact", "right_object"}: shares of the compared steps (None when none was compared)."""
        n = self.steps
        return {"steps": n, "exact": self.exact / n if n else None, "right_object": self.right_object / n if n else None}


def played_agreement(records) -> Agreement:
    """The agreement of played episodes (EpisodeRecords, or their dicts, recorded with the oracle alongside):
    the thought the Action Generator read at each step against the oracle's in the same state."""
    total = Agreement()
    for r in records:
        thoughts = r["thoughts"] if isinstance(r, dict) else r.thoughts
        oracle = r.get("oracle_thoughts") if isinstance(r, dict) else r.oracle_thoughts
        total.add_pairs(zip(thoughts, oracle or []))
    return total
