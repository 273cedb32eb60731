"""Figures with matplotlib (Agg backend, no display): zero-shot success vs difficulty (the paper's
Fig. 4a) and learning curves from the runs' log.csv (Fig. 3)."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence

from babyai.atomic import atomic_path
from babyai.evaluate.render import require

DIFF_LABELS = {"demo": "behavioral difficulty (oracle solution length)",
               "mission": "cognitive difficulty (distinct oracle thoughts)"}


def _pyplot():
    matplotlib = require("matplotlib")
    matplotlib.use("Agg")
    return require("matplotlib.pyplot")


def _save(fig, path: str) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")


def plot_zeroshot(results: dict[str, list[tuple[str, int, float]]], path: str, title: str = "") -> None:
    """results: model -> rows (diff_type, diff, acc); one panel per difficulty type, one line per model."""
    plt = _pyplot()
    types = [t for t in ("demo", "mission") if any(r[0] == t for rows in results.values() for r in rows)]
    fig, axes = plt.subplots(1, max(1, len(types)), figsize=(5.5 * max(1, len(types)), 4), squeeze=False)
    for ax, diff_type in zip(axes[0], types):
        for model, rows in results.items():
            points = sorted((d, a) for t, d, a in rows if t == diff_type and not math.isnan(a))
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, [100 * y for y in ys], marker="o", label=model)
        ax.set_xlabel(DIFF_LABELS[diff_type])
        ax.set_ylabel("success rate (%)")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
        ax.legend()
        ticks = sorted({d for rows in results.values() for t, d, _ in rows if t == diff_type})
        last = 425 if diff_type == "demo" else 9  # the open-ended bins
        ax.set_xticks(ticks, [f"{d}+" if d == last else str(d) for d in ticks])
    if title:
        fig.suptitle(title)
    _save(fig, path)
    plt.close(fig)


def read_log(path: str) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plot_curves(runs: dict[str, list[dict]], path: str, y: Sequence[str], x: str = "frames") -> None:
    """runs: label -> log.csv rows; one panel per column of ``y``, one line per run."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(y), figsize=(5.5 * len(y), 4), squeeze=False)
    for ax, column in zip(axes[0], y):
        for label, rows in runs.items():
            points = [(float(r[x]), float(r[column])) for r in rows if r.get(x) not in (None, "") and r.get(column) not in (None, "")]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker="." if len(points) < 30 else None, label=label)
        ax.set_xlabel(x)
        ax.set_ylabel(column)
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path)
    plt.close(fig)
