"""Checks of flag values that the scripts share: each raises ValueError naming the flag.

They are called where flags become settings (``TrainConfig``, the evaluation and generation
scripts), so a bad value is refused before any work starts or any file is written.
"""

from __future__ import annotations

import math

MAX_SEED = 2**63 - 1  # seeds are stored as int64 (shard indexes, arrays of level seeds)
MAX_RNG_SEED = 2**32 - 1  # seeds of random generators (torch, numpy) stay within 32 bits


def check_seed(flag: str, seed: int, count: int = 1, limit: int = MAX_SEED) -> int:
    """``seed`` .. ``seed + count - 1`` must be seeds: integers in [0, limit]."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"{flag} must be a non-negative integer, got {seed!r}")
    if seed + max(count, 1) - 1 > limit:
        what = f"{flag} {seed}" + (f" plus {count} levels" if count > 1 else "")
        raise ValueError(f"{what} goes past the largest seed, {limit}")
    return seed


def check_number(flag: str, value: float, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """A finite number in [low, high] (an open end with ``low_open``/``high_open``)."""
    ok = isinstance(value, (int, float)) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        bounds = ""
        if low is not None or high is not None:
            left = "(" if low_open else "["
            right = ")" if high_open or high is None else "]"
            bounds = f" in {left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"{flag} must be a finite number{bounds}, got {value!r}")
    return value


def check_count(flag: str, value: int, low: int = 0) -> int:
    """An integer of at least ``low``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{flag} must be an integer of at least {low}, got {value!r}")
    return value


def check_workers(flag: str, workers: int, per_core: int = 4) -> int:
    """A number of worker processes: at least 1 and at most ``per_core`` per CPU core (more only thrash)."""
    import os

    check_count(flag, workers, low=1)
    limit = per_core * (os.cpu_count() or 1)
    if workers > limit:
        raise ValueError(f"{flag} must be at most {limit} ({per_core} per CPU core), got {workers}")
    return workers


def check_device(flag: str, device: str | None) -> str | None:
    """A torch device name (cpu, cuda, cuda:N, mps, ... or a GPU index); None: the default."""
    if device is None or device.isdigit():
        return device
    import torch

    try:
        torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"{flag} {device!r} is not a device (cpu, cuda, cuda:N or a GPU index)") \
            from None
    return device


def check_imitation_numbers(lr: float, beta1: float, beta2: float, optim_eps: float, entropy_coef: float,
                            sg_coef: float) -> None:
    """The optimizer's and the imitation loss's numbers (Adam's lr, betas and epsilon; the entropy and
    thought coefficients), as every trainer of the project takes them."""
    check_number("--lr", lr, low=0, low_open=True)
    for flag, value in (("--beta1", beta1), ("--beta2", beta2)):
        check_number(flag, value, 0, 1, high_open=True)
    check_number("--optim-eps", optim_eps, low=0)
    check_number("--entropy-coef", entropy_coef)
    check_number("--sg-coef", sg_coef, low=0)
