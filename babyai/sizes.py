"""A network too large for this machine is refused before it is allocated: one line naming what sized it
(a flag, a checkpoint), not an allocator's traceback or a machine swapping to a halt.

    model = build_fitting(lambda: Net(cfg), "--channels 100000000")
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

BYTES_PER_PARAMETER = 4  # float32


def memory_bytes() -> int:
    """This machine's physical memory."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def parameter_count(build: Callable[[], torch.nn.Module]) -> int:
    """The parameters ``build()`` makes, counted on the meta device (nothing is allocated)."""
    with torch.device("meta"):
        return sum(p.numel() for p in build().parameters())


def _allocation_failure(error: BaseException) -> bool:
    return isinstance(error, (MemoryError, torch.OutOfMemoryError)) or "allocate" in str(error)


def check_fits(build: Callable[[], torch.nn.Module], what: str) -> int:
    """The parameter count of ``build()``'s network; ValueError naming ``what`` when they would not fit in memory."""
    count, memory = parameter_count(build), memory_bytes()
    need = count * BYTES_PER_PARAMETER
    if need > memory:
        raise ValueError(f"{what} makes a network of {count:,} parameters ({need / 2**30:,.0f} GiB), more than "
                         f"this machine's memory ({memory / 2**30:,.0f} GiB)")
    return count


def build_fitting(build: Callable[[], torch.nn.Module], what: str) -> torch.nn.Module:
    """``build()``, once its parameters are known to fit in memory; ValueError naming ``what`` otherwise (also
    when the allocation itself fails)."""
    count = check_fits(build, what)
    try:
        return build()
    except (MemoryError, RuntimeError) as error:
        if not _allocation_failure(error):
            raise
        raise ValueError(f"{what} makes a network of {count:,} parameters, which could not be allocated") from None
