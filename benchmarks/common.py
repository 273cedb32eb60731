"""Helpers shared by the benchmark scripts: repeated timing with medians and spread."""

from __future__ import annotations

import statistics
import time


def repeat(fn, repeats: int) -> list:
    """Wall-clock seconds of ``fn()`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def rate(count: float, seconds: list) -> str:
    """'median (min-max) per second' of ``count`` items done in each of ``seconds``."""
    rates = sorted(count / s for s in seconds)
    return f"{statistics.median(rates):8.1f}  ({rates[0]:.1f}-{rates[-1]:.1f})"


def median_rate(count: float, seconds: list) -> float:
    return statistics.median(count / s for s in seconds)
