"""Steering: replace the Thought Cloning agent's thought by a given sentence or by the oracle's thought.

Pass one of these as ``steering=`` to ``babyai.agent.evaluate``; the Action Generator (and the
thought history) then read the injected sentence instead of the agent's decoded thought at the
chosen steps. For a single injection outside a rollout, ``ModelPolicy.step(rows, images, inject)``
takes one sentence (or None) per row.

    evaluate(policy, level, seeds, steering=OracleThoughts())            # oracle thoughts, every step
    evaluate(policy, level, seeds, steering=FixedThought("pickup red ball", steps={0}))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from babyai.agent.rollout import EpisodeRecord, Steering, success_rate
from babyai.evaluate.declarations import normalize


class OracleThoughts(Steering):
    """The oracle's thought for the current state (the oracle follows the agent's actions), at ``steps``
    (None: every step). Where the oracle cannot follow the episode, the agent keeps its own thought."""

    needs_oracle = True

    def __init__(self, steps: Iterable[int] | None = None):
        self.steps = None if steps is None else set(steps)

    def thought(self, seed: int, step: int, oracle_thought: str | None) -> str | None:
        return oracle_thought if self.steps is None or step in self.steps else None


class FixedThought(Steering):
    """One sentence, at ``steps`` (None: every step), for every episode or only those of ``seeds``."""

    def __init__(self, sentence: str, steps: Iterable[int] | None = None, seeds: Iterable[int] | None = None):
        self.sentence = " ".join(sentence.split())
        if not self.sentence:
            raise ValueError("the thought to inject is empty")
        self.steps = None if steps is None else set(steps)
        self.seeds = None if seeds is None else set(seeds)

    def thought(self, seed: int, step: int, oracle_thought: str | None) -> str | None:
        if self.seeds is not None and seed not in self.seeds:
            return None
        return self.sentence if self.steps is None or step in self.steps else None

    def sentences(self) -> list[str]:
        return [self.sentence]


def steering_row(agent: str, records: Sequence[EpisodeRecord]) -> dict:
    """One row of the steering table: success, the share of steps whose thought was injected, the share of
    episodes the oracle lost track of, and the share of steps the thought read was the oracle's."""
    steps = sum(r.length for r in records)
    agrees = sum(normalize(t) == normalize(o) for r in records for t, o in zip(r.thoughts, r.oracle_thoughts or [])
                 if o is not None)
    return {
        "agent": agent, "episodes": len(records), "success": success_rate(records),
        "injected_steps": sum(len(r.injected) for r in records) / max(steps, 1),
        "oracle_lost": sum(r.oracle_error is not None for r in records) / len(records),
        "agrees_with_oracle_thought": agrees / max(steps, 1),
    }
