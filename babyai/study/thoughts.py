"""What a study's TC agents think: whether their thoughts formed (teacher-forced NLL; how often their own
thoughts, played free, are the oracle's in the same state) and which sentences their Thought Generator emits most (from the in-distribution episodes),
so that a report whose FADS or Precrime comes out at zero also shows why."""

from __future__ import annotations

import gzip
import json
import math
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
    """{"declaring": per-seed shares, "distinct": per-seed counts, "top": [[sentence, percent of steps]]}
    over a method's runs (each with "thoughts" as ``report.collect`` gives them); None when no run has
    generated thoughts."""
    if not any(r["thoughts"] for r in runs):
        return None
    pooled: Counter = Counter()
    for r in runs:
        pooled.update(r["thoughts"])
    total = sum(pooled.values())
    return {"declaring": [declaring_share(r["thoughts"]) for r in runs],
            "distinct": [len(r["thoughts"]) for r in runs],
            "top": [[s, round(100 * n / total, 2)] for s, n in pooled.most_common(TOP)]}


def best_row(log: list[dict]) -> dict | None:
    """The log.csv row of the validation that saved best.pt (the first best success), None without validation."""
    rows = [r for r in log if r.get("validation_success_rate") not in (None, "")]
    return max(rows, key=lambda r: float(r["validation_success_rate"])) if rows else None


def _number(row: dict | None, key: str) -> float:
    value = (row or {}).get(key)
    return float(value) if value not in (None, "") else math.nan


def last_row(log: list[dict]) -> dict | None:
    """The log.csv row of the last validation (the last model's), None without validation."""
    rows = [r for r in log if r.get("validation_success_rate") not in (None, "")]
    return rows[-1] if rows else None


def formation(runs: list[dict], stat, checkpoint: str = "best") -> dict:
    """Whether a method's thoughts formed, per seed (``stat`` turns per-seed values into summary.json's
    statistics): "agreement_with_oracle" and "right_object", the shares of steps of the in-distribution
    evaluation whose own thought is the oracle's in the same state, word for word / by the object named
    (percent); "teacher_forced_nll", the validation thought NLL per frame (nats) of the evaluated model: at the
    best validation, or the last with ``checkpoint`` "last"."""
    def played(r, key):
        t = (r["eval"] or {}).get("thoughts")
        if t is not None:
            return math.nan if t.get(key) is None else t[key]
        if key == "exact" and r["steering"]:  # runs evaluated before evaluate.py measured thoughts
            return next((row["agrees_with_oracle_thought"] for row in r["steering"]["rows"] if row["agent"] == "TC"),
                        math.nan)
        return math.nan

    return {"agreement_with_oracle": stat([played(r, "exact") for r in runs]),
            "right_object": stat([played(r, "right_object") for r in runs]),
            "teacher_forced_nll": stat([_number((last_row if checkpoint == "last" else best_row)(r["log"]),
                                                "validation_thought_nll") for r in runs], scale=1)}


def formation_table(numbers: dict, pm) -> list[str]:
    """The report's table of thought formation per thinking method (summary.json's "thoughts")."""
    rows = [(m, v["thoughts"]) for m, v in numbers["methods"].items() if "teacher_forced_nll" in v.get("thoughts", {})]
    if not rows:
        return []
    def nats(s):
        return "n/a" if s["mean"] is None else f"{s['mean']:.2f} ± {s['std']:.2f}"
    lines = ["Teacher-forced: the validation thought NLL per frame (nats, the demonstrated thoughts as history) of "
             "the evaluated model (its validation). Free-running: the agent plays the in-distribution evaluation levels with its own "
             "thoughts as history, and the oracle, replanning alongside, says what it would think in the same state.",
             "", "| method | teacher-forced thought NLL (nats/frame) | free-running: thought = the oracle's (% of steps) "
             "| free-running: right object (% of steps) |", "|---|---|---|---|"]
    for method, t in rows:
        lines.append(f"| {method} | {nats(t['teacher_forced_nll'])} | {pm(t['agreement_with_oracle'])} "
                     f"| {pm(t['right_object'])} |")
    return lines


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
