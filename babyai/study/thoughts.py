"""What a study's TC agents think: how often their own thoughts are the oracle's (from the steering
evaluation) and which sentences their Thought Generator emits most (from the in-distribution episodes),
so that a report whose FADS or Precrime comes out at zero also shows why."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter

from babyai.evaluate.declarations import declarations, normalize

TOP = 3  # sentences listed per report


def episodes_path(eval_dir: str, run: str) -> str:
    return os.path.join(eval_dir, f"evaluate_{run}_episodes.jsonl.gz")


def thought_counts(path: str) -> Counter:
    """The generated thought of every step of the kept in-distribution episodes, counted (empty when the
    file is missing or the agent has no thoughts)."""
    counts: Counter = Counter()
    if not os.path.exists(path):
        return counts
    with gzip.open(path, "rt") as f:
        for line in f:
            counts.update(normalize(t) for t in (json.loads(line).get("thoughts") or []) if t is not None)
    return counts


def declaring_share(counts: Counter) -> float | None:
    """The share of steps whose thought declares an object interaction (what FADS and Precrime read)."""
    total = sum(counts.values())
    return sum(n for s, n in counts.items() if declarations(s)) / total if total else None


def profile(runs: list[dict]) -> dict | None:
    """{"agreement_with_oracle", "declaring": per-seed shares, "distinct": per-seed counts, "top": [[sentence, percent of steps]]}
    over a method's runs (each with "steering" and "thoughts" as ``report.collect`` gives them); None
    when no run has generated thoughts."""
    if not any(r["thoughts"] for r in runs):
        return None
    pooled: Counter = Counter()
    for r in runs:
        pooled.update(r["thoughts"])
    total = sum(pooled.values())
    agreement = [next((row["agrees_with_oracle_thought"] for row in r["steering"]["rows"] if row["agent"] == "TC"),
                      None) if r["steering"] else None for r in runs]
    return {"agreement_with_oracle": agreement,
            "declaring": [declaring_share(r["thoughts"]) for r in runs],
            "distinct": [len(r["thoughts"]) for r in runs],
            "top": [[s, round(100 * n / total, 2)] for s, n in pooled.most_common(TOP)]}


def line(numbers: dict | None, pm) -> list[str]:
    """The report's sentence on TC's thoughts: ``numbers`` is summary.json's "thoughts" of TC (its
    agreement as a percent statistic that ``pm`` formats, its "top" shares in percent)."""
    if not numbers or "agreement_with_oracle" not in numbers:
        return []
    top = ", ".join(f"'{s}' ({share:.0f}%)" for s, share in numbers["top"])
    distinct = [d for d in numbers["distinct"] if d]
    return [f"- What TC's Thought Generator says (in distribution): its thought is the oracle's at "
            f"{pm(numbers['agreement_with_oracle'])} of steps and declares an object interaction at "
            f"{pm(numbers['declaring'])}; {min(distinct)}-{max(distinct)} distinct sentences "
            f"per run; the commonest, share of all steps: {top}."]
