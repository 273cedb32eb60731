"""How many threads torch computes with, chosen once when a command starts (``--threads``, 0: automatic).

Why it matters: torch's CPU build runs each operation's parallel region on a team of OpenMP threads
(GNU libgomp), one per core by default, whatever else runs on the machine. A team ends each region at a
barrier, and its waiting threads spin before they sleep. When several torch processes share a few cores,
each region waits for a team-mate the kernel has not scheduled while the others burn the time slice
spinning, and a small model's thousands of tiny operations per batch each pay that wait: the run slows
far more than its fair share of the cores would. One thread per process has no barrier to wait at.

The automatic count is ``min(usable, max(1, usable - other))``: ``usable`` the cores this process may run
on (``os.sched_getaffinity``), ``other`` the machine's 1-minute load average scaled to those cores
(``os.getloadavg``), rounded. An explicit choice wins: ``--threads N``, else ``$OMP_NUM_THREADS`` (then
torch is left as it is); the library itself never changes torch's setting, so a caller's own
``torch.set_num_threads`` stands.
"""

from __future__ import annotations

import os

_chosen: tuple[int, str] = (0, "")  # what use_threads chose (threads, why), for the logs


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform
        return max(1, os.cpu_count() or 1)


def auto_threads(usable: int, load: float, machine: int | None = None) -> int:
    """Threads for a process that may use ``usable`` of the ``machine``'s cores (default: all) while the
    machine runs ``load`` runnable processes (the load average) besides it."""
    machine = max(machine or usable, usable)
    other = int(max(load, 0.0) * usable / machine + 0.5)  # the others' share of our cores
    return min(usable, max(1, usable - other))


def choose_threads(requested: int = 0, environ: dict | None = None, usable: int | None = None,
                   load: float | None = None, machine: int | None = None) -> tuple[int | None, str]:
    """(threads, why): ``requested`` when positive; None (leave torch as it is) when $OMP_NUM_THREADS is
    set; else the automatic count for this process and the machine's load."""
    if requested < 0:
        raise ValueError(f"--threads must be at least 0 (0: automatic), got {requested}")
    if requested:
        return requested, "--threads"
    environ = os.environ if environ is None else environ
    if environ.get("OMP_NUM_THREADS", "").strip():
        return None, f"OMP_NUM_THREADS={environ['OMP_NUM_THREADS'].strip()}"
    usable = usable_cores() if usable is None else usable
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = 0.0
    machine = (os.cpu_count() or usable) if machine is None else machine
    return auto_threads(usable, load, machine), f"automatic: {usable} usable core(s), load {load:.1f}"


def use_threads(requested: int = 0) -> str:
    """Set torch's thread count for this command (``--threads``; 0: automatic); returns the log text.
    A negative count is a user error (one ``error:`` line)."""
    global _chosen
    from babyai.errors import UserError

    try:
        threads, why = choose_threads(requested)
    except ValueError as e:
        raise UserError(str(e)) from None
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    _chosen = (torch.get_num_threads(), why)
    return describe()


def describe() -> str:
    """The thread count torch uses now, and why (for the logs)."""
    import torch

    threads = torch.get_num_threads()
    return f"{threads} thread(s)" + (f" ({_chosen[1]})" if _chosen[0] == threads and _chosen[1] else "")


def add_threads_flag(parser) -> None:
    parser.add_argument("--threads", type=int, default=0,
                        help="threads torch computes with; 0: automatic, from the cores this process may use "
                             "and the machine's load (an explicit $OMP_NUM_THREADS is kept) (default: 0)")
