"""Future Action Declaration Score (FADS): the share of the agent's object interactions (pickup, drop,
toggle) that its current thought declared beforehand, with the same verb family and the same object.

The current thought of an interaction at step t is the thought the agent spoke at step t, before it
chose that step's action (``EpisodeRecord.thoughts[t]``). See ``babyai.evaluate.declarations`` for the
verb families.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from babyai.evaluate.declarations import declares


@dataclass
class FadsResult:
    interactions: int = 0
    declared: int = 0
    episodes: int = 0
    episodes_with_interactions: int = 0
    by_verb: dict = field(default_factory=dict)  # verb -> [declared, interactions]
    undeclared: list[dict] = field(default_factory=list)  # {"seed", "step", "interaction", "thought"}

    @property
    def score(self) -> float:
        return self.declared / self.interactions if self.interactions else float("nan")

    def summary(self) -> dict:
        return {
            "fads": self.score, "interactions": self.interactions, "declared": self.declared,
            "episodes": self.episodes, "episodes_with_interactions": self.episodes_with_interactions,
            "by_verb": {v: {"declared": d, "interactions": n, "fads": d / n if n else None}
                        for v, (d, n) in sorted(self.by_verb.items())},
            "undeclared": len(self.undeclared),
        }


def interaction_name(i: dict) -> str:
    detail = f" ({i['detail']})" if i.get("detail") else ""
    return f"{i['verb']} {i['color']} {i['type']}{detail}"


def fads(records: Iterable) -> FadsResult:
    """FADS over episodes (EpisodeRecord or their dicts: ``seed``, ``thoughts``, ``interactions``)."""
    out = FadsResult()
    for rec in records:
        rec = rec if isinstance(rec, dict) else rec.to_dict()
        out.episodes += 1
        out.episodes_with_interactions += bool(rec["interactions"])
        for inter in rec["interactions"]:
            step = inter["step"]
            thought = rec["thoughts"][step] if step < len(rec["thoughts"]) else None
            ok = declares(thought, inter)
            out.interactions += 1
            out.declared += ok
            counts = out.by_verb.setdefault(inter["verb"], [0, 0])
            counts[0] += ok
            counts[1] += 1
            if not ok:
                out.undeclared.append({"seed": rec["seed"], "step": step, "interaction": interaction_name(inter),
                                       "thought": thought, "mission": rec.get("mission")})
    return out


def fads_by_bin(by_seed: dict, bins: dict[str, dict[int, list[int]]]) -> dict:
    """{diff_type: {bin: {"fads", "interactions"}}} of the episodes ``by_seed`` (seed -> record) in each
    non-empty bin of ``Suites.seed_bins``."""
    out = {}
    for t, groups in bins.items():
        out[t] = {}
        for b, seeds in groups.items():
            if seeds:
                score = fads(by_seed[s] for s in seeds)
                out[t][str(b)] = {"fads": score.score, "interactions": score.interactions}
    return out
